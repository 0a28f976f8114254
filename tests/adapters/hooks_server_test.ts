/**
 * The guard server without `baton run` (`baton guard serve`): the first
 * hook that has to start `baton guard` starts it, and the next commits are
 * answered by it, with no Baton process of their own. Real git, real hooks,
 * the server a real background process.
 *
 * The hooks' `baton` is a wrapper that counts how often a hook had to start
 * Baton; the server itself is started by that Baton process (its own
 * command), so it is not counted.
 */
import assert from "node:assert/strict";
import type { Engine } from "../../mod.ts";
import { guardServerAnswers, startGuardServer } from "../../src/run/guard_server.ts";
import { baton } from "../helpers/cli.ts";
import {
  agentEnv,
  claimOf,
  commit,
  commitsRecorded,
  countingHooks,
  envWith,
  hookRepo,
  ok,
  withIdleServer,
} from "../helpers/hook_repo.ts";

const socketOf = async (repo: string) => `${await ok(repo, ["rev-parse", "--absolute-git-dir"])}/baton/guard.sock`;

/** What `GET /guard/status` says (curl, as the hooks talk to it). */
async function status(sock: string): Promise<{ pid: number; kind: string; answered: number }> {
  const o = await new Deno.Command("curl", { args: ["-s", "--unix-socket", sock, "http://baton/guard/status"] })
    .output();
  return JSON.parse(new TextDecoder().decode(o.stdout));
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether process `pid` still runs (a zombie does not). */
function alive(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1][0] !== "Z";
  } catch {
    return false;
  }
}

async function withServerRepo(
  config: string,
  fn: (repo: string, engine: Engine, starts: () => Promise<number>) => Promise<void>,
): Promise<void> {
  const { repo, engine } = await hookRepo(config, { install: false });
  const starts = await countingHooks(repo);
  let pid = 0;
  try {
    await fn(repo, engine, starts);
  } finally {
    engine.close();
    const sock = await socketOf(repo);
    if (await guardServerAnswers(sock)) pid = (await status(sock)).pid;
    if (pid) Deno.kill(pid, "SIGTERM");
  }
}

Deno.test("guard serve: the first hook starts it, the next commits start no Baton process, it stops when idle", async () => {
  await withServerRepo(withIdleServer("", 0.05), async (repo, engine, starts) => {
    const sock = await socketOf(repo);
    const a = claimOf(engine, "0042", "implementer-9");
    // The first commit: no server answers, so pre-commit starts baton guard, which starts the server.
    let r = await commit(repo, "src/cache.ts", agentEnv("implementer-9", a));
    assert.equal(r.code, 0, r.stderr);
    await until(() => guardServerAnswers(sock), "the guard server answers");
    const s = await status(sock);
    assert.equal(s.kind, "baton guard serve");
    await commitsRecorded(engine, 1);
    const before = await starts();
    assert.ok(before >= 1, "the first commit started Baton");
    // The next commits, an agent's and a human's, are answered by the server alone.
    for (let i = 0; i < 3; i++) {
      r = await commit(repo, `src/cache_${i}.ts`, agentEnv("implementer-9", a));
      assert.equal(r.code, 0, r.stderr);
      assert.match(await ok(repo, ["log", "-1", "--format=%B"]), /Baton-Ticket: 0042/);
    }
    assert.equal((await commitsRecorded(engine, 4)).length, 4, "each commit recorded as the claim's progress");
    assert.deepEqual(
      engine.declarations().map((d) => d.pattern).sort(),
      ["src/cache.ts", "src/cache_0.ts", "src/cache_1.ts", "src/cache_2.ts"],
    );
    assert.equal(await starts(), before, "no hook started Baton once the server answered");
    assert.ok((await status(sock)).answered >= 6, "the server answered pre-commit and post-commit of each");
    // No request for 3 s (hooks.server_idle_minutes: 0.05): it stops, and its socket goes.
    await until(() => !alive(s.pid), "the idle server has stopped");
    assert.equal(await guardServerAnswers(sock), false);
    await assert.rejects(Deno.stat(sock), "its socket is removed");
  });
});

Deno.test("guard serve: started by an agent's commit, it holds no claim: a human's commit through it is a human's", async () => {
  await withServerRepo("file_conflicts:\n  mode: blocking\n", async (repo, engine, starts) => {
    const sock = await socketOf(repo);
    const a = claimOf(engine, "0042", "implementer-9");
    engine.declareFiles(a.phase.id, { agentId: "implementer-9", token: a.token, paths: ["src/db.ts"] });
    assert.equal((await commit(repo, "src/cache.ts", agentEnv("implementer-9", a))).code, 0);
    await until(() => guardServerAnswers(sock), "the guard server answers");
    await commitsRecorded(engine, 1);
    const n = await starts();
    // A human commits the file the agent declared: warned (a human is not blocked), not declared, no trailers.
    const h = await commit(repo, "src/db.ts", envWith());
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stderr, /warning: src\/db\.ts is claimed by ticket 0042, phase Implementation, agent implementer-9/);
    assert.doesNotMatch(await ok(repo, ["log", "-1", "--format=%B"]), /Baton-/);
    assert.equal(await starts(), n, "answered by the server");
    // Another agent's commit of it through the same server is refused, naming the holder.
    const b = claimOf(engine, "0043", "implementer-2");
    const r = await commit(repo, "src/db.ts", agentEnv("implementer-2", b));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /commit refused: src\/db\.ts is claimed by ticket 0042/);
    assert.equal(await starts(), n, "answered by the server");
  });
});

Deno.test("guard serve: a change to .workflow/ retires it; the next hook reads the new configuration", async () => {
  await withServerRepo("", async (repo, engine, starts) => {
    const sock = await socketOf(repo);
    const a = claimOf(engine, "0042", "implementer-9");
    engine.declareFiles(a.phase.id, { agentId: "implementer-9", token: a.token, paths: ["src/db.ts"] });
    const b = claimOf(engine, "0043", "implementer-2");
    assert.equal((await commit(repo, "src/cache.ts", agentEnv("implementer-2", b))).code, 0);
    await until(() => guardServerAnswers(sock), "the guard server answers");
    const first = (await status(sock)).pid;
    await commitsRecorded(engine, 1);
    // Advisory (the default): the overlap is a warning.
    let r = await commit(repo, "src/db.ts", agentEnv("implementer-2", b));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: src\/db\.ts is claimed by ticket 0042/);
    // The human makes it blocking: the very next commit is judged by the new configuration.
    const cfg = `${repo}/.workflow/config.yaml`;
    await Deno.writeTextFile(cfg, (await Deno.readTextFile(cfg)) + "file_conflicts:\n  mode: blocking\n");
    await commitsRecorded(engine, 2);
    const n = await starts();
    r = await commit(repo, "src/db.ts", agentEnv("implementer-2", b));
    assert.notEqual(r.code, 0, "refused under the new configuration");
    assert.match(r.stderr, /commit refused: src\/db\.ts is claimed by ticket 0042/);
    assert.equal(await starts(), n + 1, "the retired server sent the hook to baton guard");
    await until(() => !alive(first), "the retired server has stopped");
  });
});

Deno.test("guard serve: baton run's server takes the socket over, and uninstalling the hooks stops it", async () => {
  await withServerRepo("", async (repo, engine) => {
    const sock = await socketOf(repo);
    const a = claimOf(engine, "0042", "implementer-9");
    assert.equal((await commit(repo, "src/a.ts", agentEnv("implementer-9", a))).code, 0);
    await until(() => guardServerAnswers(sock), "the guard server answers");
    const idle = (await status(sock)).pid;
    // baton run starts: its server replaces the socket; the idle one stops.
    const run = (await startGuardServer(engine))!;
    try {
      await until(() => !alive(idle), "the idle server has stopped");
      assert.equal((await commit(repo, "src/b.ts", agentEnv("implementer-9", a))).code, 0);
      assert.ok(run.answered >= 1, "baton run's server answered the commit");
    } finally {
      await run.close();
    }
    // Started again by the next commit, then stopped by uninstall.
    assert.equal((await commit(repo, "src/c.ts", agentEnv("implementer-9", a))).code, 0);
    await until(() => guardServerAnswers(sock), "a guard server answers again");
    const again = (await status(sock)).pid;
    assert.equal((await baton(["hooks", "uninstall"], { cwd: repo })).code, 0);
    await until(() => !alive(again), "uninstalling stopped it");
  });
});

Deno.test("guard serve: hooks.server off starts none; every hook starts baton guard", async () => {
  await withServerRepo("hooks:\n  server: off\n", async (repo, engine, starts) => {
    const a = claimOf(engine, "0042", "implementer-9");
    for (let i = 0; i < 2; i++) {
      assert.equal((await commit(repo, `src/f${i}.ts`, agentEnv("implementer-9", a))).code, 0);
    }
    await commitsRecorded(engine, 2);
    assert.equal(await guardServerAnswers(await socketOf(repo)), false);
    assert.ok(await starts() >= 2, "each pre-commit started Baton");
  });
});
