/**
 * `baton hooks`: real git repositories, the hooks installed by the CLI as a
 * process, commits made by `git commit` with the claim (made through the
 * engine) in the committer's environment.
 */
import assert from "node:assert/strict";
import { type Claim, openEngine } from "../../mod.ts";
import { tempRepo } from "../../src/testing.ts";
import { baton } from "../helpers/cli.ts";
import { installHooks } from "../../src/cli/hooks.ts";
import { startGuardServer } from "../../src/run/guard_server.ts";
import { runRepo, startRun } from "../helpers/run_repo.ts";
import {
  agentEnv,
  claimOf,
  commit,
  commitsRecorded,
  countingHooks,
  envWith,
  git,
  head,
  hookRepo,
  ok,
  PHASES,
  withIdleServer,
} from "../helpers/hook_repo.ts";

Deno.test("hooks: blocking mode refuses an agent's commit of a file another live claim declared, naming it", async () => {
  const { repo, engine } = await hookRepo("file_conflicts:\n  mode: blocking\n");
  try {
    const a = claimOf(engine, "0042", "implementer-9");
    engine.declareFiles(a.phase.id, { agentId: "implementer-9", token: a.token, paths: ["src/db.ts"] });
    const b = claimOf(engine, "0043", "implementer-2");
    const before = await head(repo);
    const r = await commit(repo, "src/db.ts", agentEnv("implementer-2", b));
    assert.notEqual(r.code, 0, "the commit is refused");
    assert.match(
      r.stderr,
      /commit refused: src\/db\.ts is claimed by ticket 0042, phase Implementation, agent implementer-9/,
    );
    assert.equal(await head(repo), before, "nothing was committed");
    assert.equal(engine.audit({ action: "commit.refused" }).length, 1);
    // Not declared for the refused claim.
    assert.deepEqual(engine.declarations().filter((d) => d.agentId === "implementer-2"), []);

    // A human committing the same file is warned, and the commit is made.
    await ok(repo, ["reset", "-q"]);
    const h = await commit(repo, "src/db.ts", envWith());
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stderr, /warning: src\/db\.ts is claimed by ticket 0042, phase Implementation, agent implementer-9/);
    assert.notEqual(await head(repo), before);
    assert.doesNotMatch(await ok(repo, ["log", "-1", "--format=%B"]), /Baton-/, "no trailers on a human's commit");
  } finally {
    engine.close();
  }
});

Deno.test("hooks: with hooks.block_humans a human's overlapping commit is refused too", async () => {
  const { repo, engine } = await hookRepo("hooks:\n  block_humans: true\n");
  try {
    const a = claimOf(engine, "0042", "implementer-9");
    engine.declareFiles(a.phase.id, { agentId: "implementer-9", token: a.token, paths: ["src/**"] });
    const h = await commit(repo, "src/db.ts", envWith());
    assert.notEqual(h.code, 0);
    assert.match(h.stderr, /src\/db\.ts \(declared as src\/\*\*\) is claimed by ticket 0042, phase Implementation/);
    assert.match(h.stderr, /block_humans/);
  } finally {
    engine.close();
  }
});

Deno.test("hooks: a human's commit goes through when Baton cannot read its config (a newer Baton's key, a phases.yaml mid-edit); an agent's is refused", async () => {
  const { repo, engine } = await hookRepo();
  const a = claimOf(engine, "0042", "implementer-9");
  engine.close();
  const config = `${repo}/.workflow/config.yaml`;
  const phases = `${repo}/.workflow/phases.yaml`;
  const good = { config: await Deno.readTextFile(config), phases: await Deno.readTextFile(phases) };
  assert.match(good.config, /^hooks:$/m);
  for (
    const [file, broken] of [[config, good.config.replace("hooks:\n", "hooks:\n  new_feature_flag: true\n")], [
      phases,
      "phases:\n  - name: [\n",
    ]]
  ) {
    await Deno.writeTextFile(file, broken);
    const h = await commit(repo, "docs/notes.md", envWith());
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stderr, /baton: could not check this commit \(.+\); committing anyway/);
    const agent = await commit(repo, "src/db.ts", agentEnv("implementer-9", a));
    assert.notEqual(agent.code, 0, "an agent's commit is not let through unchecked");
    await Deno.writeTextFile(file, file === config ? good.config : good.phases);
  }
});

Deno.test("hooks: advisory mode warns; the staged files are declared; trailers once, even after an amend; the commit is in the audit", async () => {
  const { repo, engine } = await hookRepo();
  try {
    const a = claimOf(engine, "0042", "implementer-9");
    engine.declareFiles(a.phase.id, { agentId: "implementer-9", token: a.token, paths: ["src/db.ts"] });
    const b = claimOf(engine, "0043", "implementer-2");
    const env = agentEnv("implementer-2", b);
    const r = await commit(repo, "src/db.ts", env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: src\/db\.ts is claimed by ticket 0042, phase Implementation, agent implementer-9/);
    assert.deepEqual(
      engine.declarations().filter((d) => d.agentId === "implementer-2").map((d) => d.pattern),
      ["src/db.ts"],
      "the staged file is declared for the claim",
    );
    const msg = await ok(repo, ["log", "-1", "--format=%B"]);
    assert.match(msg, /\n\nBaton-Ticket: 0043\nBaton-Phase: Implementation\nBaton-Agent: implementer-2$/);
    const sha = await head(repo);
    const rows = await commitsRecorded(engine, 1);
    assert.equal(rows.length, 1);
    assert.equal((rows[0].details as Record<string, unknown>).sha, sha);
    assert.equal(rows[0].ticketId, "0043");

    // Amending keeps one of each trailer.
    await Deno.writeTextFile(`${repo}/src/db.ts`, "amended\n");
    await ok(repo, ["add", "src/db.ts"]);
    const am = await git(repo, ["commit", "--amend", "--no-edit"], env);
    assert.equal(am.code, 0, am.stderr);
    const amended = await ok(repo, ["log", "-1", "--format=%B"]);
    for (const t of ["Baton-Ticket: 0043", "Baton-Phase: Implementation", "Baton-Agent: implementer-2"]) {
      assert.equal(amended.split(t).length - 1, 1, `${t} once in:\n${amended}`);
    }
  } finally {
    engine.close();
  }
});

Deno.test("hooks: a fenced-out agent's commit is refused (released; taken over)", async () => {
  const { repo, engine } = await hookRepo();
  try {
    const a = claimOf(engine, "0042", "implementer-1");
    engine.release(a.phase.id, { agentId: "implementer-1", token: a.token, reason: "giving up" });
    const before = await head(repo);
    let r = await commit(repo, "src/a.ts", agentEnv("implementer-1", a));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /claim of phase Implementation of 0042 is no longer yours \(released \d+ s ago; now available\)/,
    );
    assert.equal(await head(repo), before);

    claimOf(engine, "0042", "implementer-9");
    r = await git(repo, ["commit", "-m", "again"], agentEnv("implementer-1", a));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /claim of phase Implementation of 0042 is no longer yours \(released \d+ s ago; now held by implementer-9\)/,
    );
    assert.equal(await head(repo), before);
  } finally {
    engine.close();
  }
});

Deno.test("hooks: an agent whose lease ran out (not yet taken back) is refused", async () => {
  // Claimed 20 minutes ago with 10-minute leases; the hook's process may judge expiry by its own clock.
  const { repo, engine } = await hookRepo(
    "leases:\n  default_minutes: 10\nagents:\n  clock_tolerance_seconds: 3600\n",
    {
      clock: () => Date.now() - 20 * 60_000,
    },
  );
  let c: Claim;
  try {
    c = claimOf(engine, "0043", "implementer-3");
  } finally {
    engine.close();
  }
  const r = await commit(repo, "src/a.ts", agentEnv("implementer-3", c));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /claim of phase Implementation of 0043 is no longer yours \(lease expired 10 min ago\)/);
});

Deno.test("hooks: an agent whose lease expired and whose phase another agent took is refused, naming both", async () => {
  // Claimed 20 minutes ago with 10-minute leases: taken back by the sweep, then claimed by implementer-9.
  const { repo, engine } = await hookRepo(
    "leases:\n  default_minutes: 10\nagents:\n  clock_tolerance_seconds: 3600\n",
    {
      clock: () => Date.now() - 20 * 60_000,
    },
  );
  let c: Claim;
  try {
    c = claimOf(engine, "0042", "implementer-3");
  } finally {
    engine.close();
  }
  const e = await openEngine(repo);
  try {
    assert.equal(e.sweepStale(), 1);
    claimOf(e, "0042", "implementer-9");
    const r = await commit(repo, "src/a.ts", agentEnv("implementer-3", c));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /commit refused: claim of phase Implementation of 0042 is no longer yours \(lease expired 10 min ago; now held by implementer-9\)/,
    );
    assert.equal(e.audit({ action: "commit.refused" }).length, 1);
  } finally {
    e.close();
  }
});

Deno.test("hooks: post-commit records progress: the stall clock restarts", async () => {
  // Claimed an hour ago, silent since: stalled.
  const { repo, engine } = await hookRepo("leases:\n  default_minutes: 600\nstall_timeout_minutes: 30\n", {
    clock: () => Date.now() - 60 * 60_000,
  });
  let c: Claim;
  try {
    c = claimOf(engine, "0042", "implementer-9");
  } finally {
    engine.close();
  }
  const e = await openEngine(repo);
  try {
    const stalled = e.stalled().find((s) => s.phaseId === c.phase.id);
    assert.ok(stalled, "stalled before the commit");
    const t0 = Date.now();
    const r = await commit(repo, "src/a.ts", agentEnv("implementer-9", c));
    assert.equal(r.code, 0, r.stderr);
    const rows = await commitsRecorded(e, 1);
    assert.equal(e.stalled().find((s) => s.phaseId === c.phase.id), undefined, "not stalled after it");
    assert.equal((rows[0].details as Record<string, unknown>).sha, await head(repo));
    assert.ok(rows[0].at >= t0);
  } finally {
    e.close();
  }
});

const OLD_HOOK = `#!/bin/sh
# the project's own pre-commit
echo ran >> "$(git rev-parse --git-dir)/old-hook-ran"
if [ -f FAIL ]; then echo "lint failed" >&2; exit 1; fi
`;

Deno.test("hooks: an existing hook still runs and its failure blocks; uninstall restores it byte for byte", async () => {
  let hookPath = "";
  const { repo, engine } = await hookRepo("", {
    before: async (repo) => {
      hookPath = `${repo}/.git/hooks/pre-commit`;
      await Deno.writeTextFile(hookPath, OLD_HOOK);
      await Deno.chmod(hookPath, 0o750);
    },
  });
  try {
    const a = claimOf(engine, "0042", "implementer-9");
    const env = agentEnv("implementer-9", a);
    let r = await commit(repo, "src/a.ts", env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await Deno.readTextFile(`${repo}/.git/old-hook-ran`), "ran\n");
    assert.match(await ok(repo, ["log", "-1", "--format=%B"]), /Baton-Ticket: 0042/);

    await Deno.writeTextFile(`${repo}/FAIL`, "");
    const before = await head(repo);
    r = await commit(repo, "src/b.ts", env);
    assert.notEqual(r.code, 0, "the old hook's failure blocks");
    assert.match(r.stderr, /lint failed/);
    assert.equal(await head(repo), before);

    const u = await baton(["hooks", "uninstall"], { cwd: repo });
    assert.equal(u.code, 0, u.stderr);
    assert.equal(await Deno.readTextFile(hookPath), OLD_HOOK);
    assert.equal((await Deno.stat(hookPath)).mode! & 0o777, 0o750);
    const left = [...Deno.readDirSync(`${repo}/.git/hooks`)].map((d) => d.name).filter((n) => !n.endsWith(".sample"));
    assert.deepEqual(left, ["pre-commit"], "only what was there");
    // Installing twice changes nothing more; uninstalling then restores the same.
    assert.equal((await baton(["hooks", "install"], { cwd: repo })).code, 0);
    assert.equal((await baton(["hooks", "install"], { cwd: repo })).code, 0);
    assert.equal((await baton(["hooks", "uninstall"], { cwd: repo })).code, 0);
    assert.equal(await Deno.readTextFile(hookPath), OLD_HOOK);
  } finally {
    engine.close();
  }
});

/** A project hook that notes it ran (in the worktree it ran in) and fails while FAIL exists there. */
const PROJECT_HOOK = `#!/bin/sh
echo "$(basename "$0")" >> "$(git rev-parse --git-dir)/project-hook-ran"
if [ -f FAIL ]; then echo "project check failed" >&2; exit 1; fi
`;

const ran = (dir: string) => Deno.readTextFile(`${dir}/project-hook-ran`).catch(() => "");

Deno.test("hooks: a relative core.hooksPath (tracked .githooks) still runs, from the main worktree and a linked one; uninstall sets it back", async () => {
  const { repo, engine } = await hookRepo("", {
    before: async (repo) => {
      await Deno.mkdir(`${repo}/.githooks`);
      await Deno.writeTextFile(`${repo}/.githooks/pre-commit`, PROJECT_HOOK);
      await Deno.chmod(`${repo}/.githooks/pre-commit`, 0o755);
      await ok(repo, ["add", ".githooks"]);
      await ok(repo, ["commit", "-q", "-m", "project hooks"]);
      await ok(repo, ["config", "core.hooksPath", ".githooks"]);
    },
  });
  try {
    const configured = await ok(repo, ["config", "core.hooksPath"]);
    assert.match(configured, /\/\.git\/baton\/hooks$/, "git runs Baton's hooks");
    const wt = `${repo}-wt`;
    await ok(repo, ["worktree", "add", "-q", "-b", "baton/0042", wt]);
    const a = claimOf(engine, "0042", "implementer-9");
    // As baton run starts an agent: both names of the token.
    const env = { ...agentEnv("implementer-9", a), BATON_CLAIM_TOKEN: a.token };
    const r = await commit(wt, "src/a.ts", env);
    assert.equal(r.code, 0, r.stderr);
    const wtGit = await ok(wt, ["rev-parse", "--absolute-git-dir"]);
    assert.equal(await ran(wtGit), "pre-commit\n", "the project's hook ran in the worktree");
    assert.match(await ok(wt, ["log", "-1", "--format=%B"]), /Baton-Agent: implementer-9/);
    const rows = await commitsRecorded(engine, 1);
    assert.equal((rows[0].details as Record<string, unknown>).sha, await head(wt));
    assert.deepEqual(engine.declarations().map((d) => d.pattern), ["src/a.ts"]);

    // The project's hook still blocks, in the main worktree too.
    await Deno.writeTextFile(`${repo}/FAIL`, "");
    const h = await commit(repo, "b.txt", envWith());
    assert.notEqual(h.code, 0);
    assert.match(h.stderr, /project check failed/);

    const u = await baton(["hooks", "uninstall"], { cwd: wt });
    assert.equal(u.code, 0, u.stderr);
    assert.equal(await ok(repo, ["config", "core.hooksPath"]), ".githooks");
    assert.throws(() => Deno.statSync(`${repo}/.git/baton`), "Baton's directory is gone");
  } finally {
    engine.close();
  }
});

/** Like husky 9's `_/h`: finds the user's script by the name and place the stub was started as ($0). */
const HUSKY_H = `#!/usr/bin/env sh
n=$(basename "$0")
s=$(dirname "$(dirname "$0")")/$n
[ -f "$s" ] || exit 0
sh -e "$s" "$@"
c=$?
[ $c != 0 ] && echo "husky - $n script failed (code $c)"
exit $c
`;

Deno.test("hooks: husky's hooks (core.hooksPath .husky/_, found through $0) still run and block; uninstall gives husky its path back", async () => {
  const { repo, engine } = await hookRepo("", {
    before: async (repo) => {
      await Deno.mkdir(`${repo}/.husky/_`, { recursive: true });
      await Deno.writeTextFile(`${repo}/.husky/_/h`, HUSKY_H);
      for (const n of ["pre-commit", "commit-msg", "pre-push"]) {
        await Deno.writeTextFile(`${repo}/.husky/_/${n}`, `#!/usr/bin/env sh\n. "$(dirname "$0")/h"\n`);
        await Deno.chmod(`${repo}/.husky/_/${n}`, 0o755);
      }
      await Deno.writeTextFile(`${repo}/.husky/pre-commit`, PROJECT_HOOK);
      await ok(repo, ["config", "core.hooksPath", ".husky/_"]);
    },
  });
  try {
    const a = claimOf(engine, "0042", "implementer-9");
    const r = await commit(repo, "src/a.ts", agentEnv("implementer-9", a));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await ran(`${repo}/.git`), "pre-commit\n", "husky's pre-commit ran the user's .husky/pre-commit");
    assert.match(await ok(repo, ["log", "-1", "--format=%B"]), /Baton-Ticket: 0042/);

    await Deno.writeTextFile(`${repo}/FAIL`, "");
    const before = await head(repo);
    const f = await commit(repo, "src/b.ts", agentEnv("implementer-9", a));
    assert.notEqual(f.code, 0);
    assert.match(f.stderr, /project check failed/);
    assert.equal(await head(repo), before);

    const st = await baton(["hooks", "status", "--json"], { cwd: repo });
    assert.equal(st.code, 0, st.stderr);
    const status = JSON.parse(st.stdout);
    assert.equal(status.state, "installed");
    assert.equal(status.chain, ".husky/_");
    assert.ok(status.hooks.includes("pre-push"), "husky's pre-push passes through");
    assert.ok(status.notes.some((n: string) => /husky/.test(n)));

    assert.equal((await baton(["hooks", "uninstall"], { cwd: repo })).code, 0);
    assert.equal(await ok(repo, ["config", "core.hooksPath"]), ".husky/_");
  } finally {
    engine.close();
  }
});

Deno.test("hooks: hooks another Baton wrote (an older one, at another path) show in hooks status and doctor until installed again", async () => {
  const { repo, engine } = await hookRepo("");
  engine.close();
  // A Baton at another path installed them (a source checkout of an older version, a versioned install directory):
  // after this one migrated the database, that one refuses it, and every agent commit with it.
  installHooks(repo, ["/opt/baton-1.0/baton"]);
  const st = await baton(["hooks", "status"], { cwd: repo });
  assert.equal(st.code, 1, st.stdout);
  assert.match(
    st.stdout,
    /written by another Baton \(they run '\/opt\/baton-1\.0\/baton', not .*cli\.ts'\).*run 'baton hooks install' again/,
  );
  const doc = await baton(["doctor"], { cwd: repo });
  assert.notEqual(doc.code, 0);
  assert.match(doc.stdout, /git hooks: installed, but .*written by another Baton/);
  assert.equal((await baton(["hooks", "install"], { cwd: repo })).code, 0);
  const again = await baton(["hooks", "status", "--json"], { cwd: repo });
  assert.equal(again.code, 0, again.stdout);
  assert.deepEqual(JSON.parse(again.stdout).outdated, []);
  assert.match((await baton(["doctor"], { cwd: repo })).stdout, /git hooks: installed; the hooks of/);
  // The same Baton reached by another path (a link to its checkout) is no other Baton.
  const link = `${await Deno.makeTempDir()}/baton-link`;
  await Deno.symlink(new URL("../..", import.meta.url).pathname, link);
  const viaLink = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${link}/cli.ts`, "hooks", "install"],
    cwd: repo,
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(viaLink.code, 0, new TextDecoder().decode(viaLink.stderr));
  assert.match(await Deno.readTextFile(`${repo}/.git/baton/hooks/pre-commit`), /baton-link\/cli\.ts/);
  const same = await baton(["hooks", "status"], { cwd: repo });
  assert.equal(same.code, 0, same.stdout);
});

Deno.test("hooks: git's other hooks pass through (post-checkout); a tool resetting core.hooksPath shows in hooks status", async () => {
  const { repo, engine } = await hookRepo("", {
    before: async (repo) => {
      await Deno.writeTextFile(`${repo}/.git/hooks/post-checkout`, PROJECT_HOOK);
      await Deno.chmod(`${repo}/.git/hooks/post-checkout`, 0o755);
    },
  });
  try {
    await ok(repo, ["checkout", "-q", "-b", "feature"]);
    assert.equal(await ran(`${repo}/.git`), "post-checkout\n");
    await ok(repo, ["config", "core.hooksPath", ".husky/_"]);
    const st = await baton(["hooks", "status"], { cwd: repo });
    assert.equal(st.code, 1);
    assert.match(st.stdout, /git does not run them/);
    const doc = await baton(["doctor"], { cwd: repo });
    assert.match(doc.stdout, /git hooks: installed, but git does not run them: core\.hooksPath is "\.husky\/_"/);
    // Installing again takes over from the new path; uninstalling then leaves it.
    assert.equal((await baton(["hooks", "install"], { cwd: repo })).code, 0);
    assert.equal((await baton(["hooks", "uninstall"], { cwd: repo })).code, 0);
    assert.equal(await ok(repo, ["config", "core.hooksPath"]), ".husky/_");
  } finally {
    engine.close();
  }
});

Deno.test("guard paths: an agent CLI's pre-tool hook asks about files (absolute or relative); refused with its code, declared otherwise", async () => {
  const { repo, engine } = await hookRepo("hooks:\n  mode: blocking\n", { install: false });
  try {
    const a = claimOf(engine, "0042", "implementer-9");
    engine.declareFiles(a.phase.id, { agentId: "implementer-9", token: a.token, paths: ["src/db.ts"] });
    const b = claimOf(engine, "0043", "implementer-2");
    const env = agentEnv("implementer-2", b);
    let r = await baton(["guard", "paths", `${repo}/src/db.ts`, "--refuse-code", "2"], {
      cwd: repo,
      env,
      clearEnv: true,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /change refused: src\/db\.ts is claimed by ticket 0042, phase Implementation, agent implementer-9/,
    );

    r = await baton(["guard", "paths", "--no-declare", "src/other.ts"], { cwd: repo, env, clearEnv: true });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(engine.declarations().filter((d) => d.agentId === "implementer-2"), []);
    r = await baton(["guard", "paths", "--json", "other.ts"], { cwd: `${repo}/.workflow`, env, clearEnv: true });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).declared, [".workflow/other.ts"]);

    // A partial claim is an agent set up wrong, not a human: refused.
    r = await baton(["guard", "paths", "x.ts"], {
      cwd: repo,
      env: envWith({ BATON_AGENT_ID: "implementer-2" }),
      clearEnv: true,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /BATON_PHASE_ID/);
  } finally {
    engine.close();
  }
});

Deno.test("guard server: while baton run runs, the hooks ask it over its socket and start no baton process", async () => {
  const { repo, engine } = await hookRepo("hooks:\n  mode: blocking\n", { install: false });
  // Hooks whose 'baton' is /bin/false: anything not answered by the server fails (pre-commit) or records nothing.
  installHooks(repo, ["/bin/false"]);
  const server = await startGuardServer(engine);
  assert.ok(server, "the server started");
  try {
    const a = claimOf(engine, "0042", "implementer-9");
    engine.declareFiles(a.phase.id, { agentId: "implementer-9", token: a.token, paths: ["src/db.ts"] });
    const b = claimOf(engine, "0043", "implementer-2");
    const env = agentEnv("implementer-2", b);
    const refused = await commit(repo, "src/db.ts", env);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /baton: commit refused: src\/db\.ts is claimed by ticket 0042, phase Implementation/);
    await ok(repo, ["reset", "-q"]);

    const r = await commit(repo, "src/cache.ts", env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await ok(repo, ["log", "-1", "--format=%B"]), /Baton-Ticket: 0043\nBaton-Phase: Implementation\n/);
    // post-commit asked the server in the background, with the commit's time and subject.
    const rows = await commitsRecorded(engine, 1);
    assert.equal(rows.length, 1);
    assert.equal((rows[0].details as Record<string, unknown>).sha, await head(repo));
    assert.equal((rows[0].details as Record<string, unknown>).subject, "change src/cache.ts");
    assert.equal(server.answered, 3, "pre-commit twice, post-commit once");

    // A human is warned through it too.
    const h = await commit(repo, "src/db.ts", envWith());
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stderr, /baton: warning: src\/db\.ts is claimed by ticket 0042/);
    assert.equal(server.answered, 4);

    // From a linked worktree: the trailers file goes to the worktree's git directory.
    const wt = `${repo}-wt`;
    await ok(repo, ["worktree", "add", "-q", "-b", "baton/0043", wt]);
    const w = await commit(wt, "src/export.ts", env);
    assert.equal(w.code, 0, w.stderr);
    assert.match(await ok(wt, ["log", "-1", "--format=%B"]), /Baton-Agent: implementer-2$/);
    assert.equal((await commitsRecorded(engine, 2)).length, 2);
    assert.equal(server.answered, 6);
  } finally {
    await server.close();
    engine.close();
  }
  assert.throws(() => Deno.statSync(server.path), "the socket is removed");
});

/** A git repository with nothing of Baton's yet. */
async function bareProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "baton-init-" });
  await ok(dir, ["init", "-q", "-b", "main"]);
  return dir;
}

Deno.test("init offers the hooks: --hooks installs them, a script gets a hint, --no-hooks says nothing", async () => {
  const a = await bareProject();
  const r = await baton(["init", "--hooks"], { cwd: a });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /git hooks: installed in .*\/\.git\/baton\/hooks/);
  assert.match(await ok(a, ["config", "core.hooksPath"]), /\/\.git\/baton\/hooks$/);
  // init again, from a script: the hooks are there, and said so (new-user helper #6: "not installed").
  const again = await baton(["init"], { cwd: a });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /git hooks: installed in .*\/\.git\/baton\/hooks \(baton hooks status says more\)/);
  assert.doesNotMatch(again.stdout, /not installed/);

  const b = await bareProject();
  const s = await baton(["init"], { cwd: b });
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /git hooks: not installed \('baton hooks install' installs them\)/);
  assert.equal((await git(b, ["config", "core.hooksPath"])).code, 1, "nothing installed");

  const c = await bareProject();
  const n = await baton(["init", "--no-hooks", "--json"], { cwd: c });
  assert.equal(n.code, 0, n.stderr);
  assert.equal(JSON.parse(n.stdout).hooks.installed, false);
});

const hasScript = (() => {
  try {
    return new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "init in a terminal asks about the hooks: Enter installs them, n does not",
  ignore: !hasScript,
  fn: async () => {
    const cli = new URL("../../cli.ts", import.meta.url).pathname;
    for (const [answer, installed] of [["\n", true], ["n\n", false]] as const) {
      const dir = await bareProject();
      // script(1) gives init a terminal; the answer arrives on it.
      const child = new Deno.Command("script", {
        args: ["-qec", `'${Deno.execPath()}' run -A '${cli}' init`, "/dev/null"],
        cwd: dir,
        env: envWith(),
        clearEnv: true,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(answer));
      await w.close();
      const o = await child.output();
      const out = new TextDecoder().decode(o.stdout);
      assert.equal(o.code, 0, out);
      assert.match(out, /Install Baton's git hooks .*\? \[Y\/n\]/);
      assert.equal((await git(dir, ["config", "core.hooksPath"])).code === 0, installed, out);
    }
  },
});

Deno.test("sync: the ticket's workflow log lists the commits its agent made under the claim", async () => {
  const repo = await tempRepo({
    phases: PHASES,
    files: {
      ".gitignore": ".workflow/baton.db*\n",
      "tickets/0042_cache.md": "# Ticket 0042: Cache\n\n## Workflow Log\n\n### Implementation Phase\n- **Started**:\n",
    },
  });
  await ok(repo, ["init", "-q", "-b", "main"]);
  await ok(repo, ["config", "user.email", "dev@example.com"]);
  await ok(repo, ["config", "user.name", "Dev"]);
  await ok(repo, ["add", "-A"]);
  await ok(repo, ["commit", "-q", "-m", "a project"]);
  assert.equal((await baton(["hooks", "install"], { cwd: repo })).code, 0);
  assert.equal((await baton(["import"], { cwd: repo })).code, 0);
  const engine = await openEngine(repo);
  try {
    const c = claimOf(engine, "0042", "implementer-9");
    const shas: string[] = [];
    for (const f of ["src/a.ts", "src/b.ts"]) {
      const r = await commit(repo, f, agentEnv("implementer-9", c));
      assert.equal(r.code, 0, r.stderr);
      shas.push(await head(repo));
    }
    // A commit of the file by a human is not the phase's.
    assert.equal((await commit(repo, "src/c.ts", envWith())).code, 0);
    await commitsRecorded(engine, 2);
    assert.deepEqual(engine.commits({ ticketId: "0042" }).map((x) => x.sha), shas);

    const s = await baton(["sync"], { cwd: repo });
    assert.equal(s.code, 0, s.stderr);
    const text = await Deno.readTextFile(`${repo}/tickets/0042_cache.md`);
    const block = text.slice(text.indexOf("### Implementation Phase"));
    assert.match(
      block,
      new RegExp(`- \\*\\*Commits\\*\\*:\\n  - \`${shas[0].slice(0, 12)}\`\\n  - \`${shas[1].slice(0, 12)}\``),
    );
    const again = await baton(["sync"], { cwd: repo });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await Deno.readTextFile(`${repo}/tickets/0042_cache.md`), text, "a second sync writes nothing");
  } finally {
    engine.close();
  }
});

Deno.test("baton run serves the hooks: its guard server answers on the socket while it runs, and the socket goes with it", async () => {
  const { repo, engine } = await hookRepo('agents:\n  registry:\n    reviewer:\n      command: "true"\n');
  engine.close();
  const sock = `${repo}/.git/baton/guard.sock`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../cli.ts", import.meta.url).pathname, "run", "--types", "reviewer"],
    cwd: repo,
    env: envWith(),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    for (let i = 0; i < 600 && !(await Deno.lstat(sock).then((s) => s.isSocket, () => false)); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(await Deno.lstat(sock).then((s) => s.isSocket, () => false), "the socket is there");
    assert.equal((await Deno.stat(sock)).mode! & 0o777, 0o600);
    // A human's commit is checked by it (no Baton process started: the hooks' baton would be /bin/false).
    installHooks(repo, ["/bin/false"]);
    const r = await commit(repo, "notes.txt", envWith());
    assert.equal(r.code, 0, r.stderr);
  } finally {
    child.kill("SIGTERM");
    const o = await child.output();
    assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
  }
  assert.equal(await Deno.lstat(sock).then(() => true, () => false), false, "the socket is removed");
});

Deno.test("hooks install puts back the hooks Baton's first version moved aside (HOOK.baton-chained)", async () => {
  const { repo, engine } = await hookRepo("", {
    install: false,
    before: async (repo) => {
      // What the first version left: its script in place of the project's hook, the project's hook moved aside.
      const h = `${repo}/.git/hooks`;
      await Deno.writeTextFile(`${h}/pre-commit.baton-chained`, PROJECT_HOOK);
      await Deno.chmod(`${h}/pre-commit.baton-chained`, 0o755);
      await Deno.writeTextFile(
        `${h}/pre-commit`,
        "#!/bin/sh\n# baton-hook: pre-commit (installed by 'baton hooks install')\nexit 1\n",
      );
      await Deno.chmod(`${h}/pre-commit`, 0o755);
      await Deno.writeTextFile(
        `${h}/post-commit`,
        "#!/bin/sh\n# baton-hook: post-commit (installed by 'baton hooks install')\n",
      );
      await Deno.chmod(`${h}/post-commit`, 0o755);
    },
  });
  try {
    assert.equal((await baton(["hooks", "install"], { cwd: repo })).code, 0);
    assert.equal(await Deno.readTextFile(`${repo}/.git/hooks/pre-commit`), PROJECT_HOOK);
    assert.throws(() => Deno.statSync(`${repo}/.git/hooks/pre-commit.baton-chained`));
    assert.throws(() => Deno.statSync(`${repo}/.git/hooks/post-commit`));
    const r = await commit(repo, "a.txt", envWith());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await ran(`${repo}/.git`), "pre-commit\n", "the project's hook ran, once");
  } finally {
    engine.close();
  }
});

/** Like the pre-commit framework's .git/hooks/pre-commit: finds pre-commit.legacy beside itself ($0), then its hooks. */
const PRE_COMMIT_FRAMEWORK = `#!/usr/bin/env sh
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ -x "$HERE/pre-commit.legacy" ]; then "$HERE/pre-commit.legacy" "$@" || exit $?; fi
echo "framework" >> "$(git rev-parse --git-dir)/project-hook-ran"
if [ -f FAIL ]; then echo "pre-commit framework: trailing-whitespace failed" >&2; exit 1; fi
`;

Deno.test("hooks: the pre-commit framework's hook (and the legacy hook it finds beside itself) still runs and blocks", async () => {
  const { repo, engine } = await hookRepo("", {
    before: async (repo) => {
      const h = `${repo}/.git/hooks`;
      await Deno.writeTextFile(`${h}/pre-commit`, PRE_COMMIT_FRAMEWORK);
      await Deno.writeTextFile(`${h}/pre-commit.legacy`, PROJECT_HOOK);
      for (const f of ["pre-commit", "pre-commit.legacy"]) await Deno.chmod(`${h}/${f}`, 0o755);
      await Deno.writeTextFile(`${repo}/.pre-commit-config.yaml`, "repos: []\n");
    },
  });
  try {
    const a = claimOf(engine, "0042", "implementer-9");
    const r = await commit(repo, "src/a.ts", agentEnv("implementer-9", a));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await ran(`${repo}/.git`), "pre-commit.legacy\nframework\n");
    await Deno.writeTextFile(`${repo}/FAIL`, "");
    const f = await commit(repo, "src/b.ts", agentEnv("implementer-9", a));
    assert.notEqual(f.code, 0);
    assert.match(f.stderr, /project check failed/);
    const st = JSON.parse((await baton(["hooks", "status", "--json"], { cwd: repo })).stdout);
    assert.ok(st.notes.some((n: string) => /pre-commit install' refuses/.test(n)));
  } finally {
    engine.close();
  }
});

Deno.test("baton-guard paths: an agent CLI's pre-tool hook asks baton run's guard server (no Baton process), else baton guard", async () => {
  const { repo, engine } = await hookRepo("hooks:\n  mode: blocking\n", { install: false });
  const a = claimOf(engine, "0042", "implementer-9");
  engine.declareFiles(a.phase.id, { agentId: "implementer-9", token: a.token, paths: ["src/db.ts"] });
  const b = claimOf(engine, "0043", "implementer-2");
  const env = agentEnv("implementer-2", b);
  const client = `${repo}/.git/baton/hooks/baton-guard`;
  const ask = async (args: string[], cwd = repo) => {
    const o = await new Deno.Command(client, { args, cwd, env, clearEnv: true, stdout: "piped", stderr: "piped" })
      .output();
    return { code: o.code, stderr: new TextDecoder().decode(o.stderr) };
  };
  // Its 'baton' is /bin/false: only the server can answer.
  installHooks(repo, ["/bin/false"]);
  const server = (await startGuardServer(engine))!;
  try {
    let r = await ask(["paths", "--refuse-code", "2", `${repo}/src/db.ts`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /baton: change refused: src\/db\.ts is claimed by ticket 0042, phase Implementation/);
    r = await ask(["paths", "--no-declare", "other.ts"], `${repo}/.workflow`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(engine.declarations().filter((d) => d.agentId === "implementer-2"), []);
    r = await ask(["paths", "other.ts"], `${repo}/.workflow`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(engine.declarations().filter((d) => d.agentId === "implementer-2").map((d) => d.pattern), [
      ".workflow/other.ts",
    ]);
    assert.equal(server.answered, 3);
  } finally {
    await server.close();
  }
  try {
    // No server: the real baton guard answers the same.
    installHooks(repo);
    const r = await ask(["paths", "--refuse-code", "2", "src/db.ts"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /change refused: src\/db\.ts is claimed by ticket 0042/);
  } finally {
    engine.close();
  }
});

Deno.test("baton run end to end: its agents' commits go through the guard server (no Baton process), with trailers, recorded", async () => {
  const repo = await runRepo([{ id: "0001", title: "Cache" }], {
    phases: "phases:\n  - {name: Implementation, agent_type: implementer}\n",
    config: withIdleServer(""),
  });
  // Hooks whose 'baton' counts its starts: pre-commit is answered by the server while the run runs. (post-commit
  // records in the background: when the run has already stopped, by starting baton guard.)
  const starts = await countingHooks(repo);
  const run = startRun(repo, ["--until-idle", "--types", "implementer"], envWith());
  const done = await run.done;
  assert.equal(done.code, 0, done.out + done.err);
  assert.equal(await starts("guard pre-commit"), 0, "no pre-commit started Baton");
  const sha = await ok(repo, ["log", "--all", "-1", "--format=%H", "--grep", "^0001 Implementation"]);
  const msg = await ok(repo, ["log", "-1", "--format=%B", sha]);
  assert.match(msg, /Baton-Ticket: 0001\nBaton-Phase: Implementation\nBaton-Agent: implementer-\S+$/);
  const e = await openEngine(repo);
  try {
    const rows = await commitsRecorded(e, 1);
    assert.equal((rows[0].details as Record<string, unknown>).sha, sha);
    assert.notEqual((rows[0].details as Record<string, unknown>).claim, "lost");
    assert.equal(e.ticket("0001").phases[0].status, "completed");
  } finally {
    e.close();
  }
});

Deno.test("post-commit: an agent's commit in a worktree removed right after it (as baton run removes a finished ticket's) is still recorded", async () => {
  const { repo, engine } = await hookRepo("hooks:\n  server: off\n", { install: false });
  const cli = new URL("../../cli.ts", import.meta.url).pathname;
  // The hooks' baton: for post-commit it waits until the test has removed the worktree, then starts the real one
  // and writes down its exit code. Everything else starts at once.
  const gate = `${repo}-go`, done = `${repo}-post-commit-exit`, wrapper = `${repo}-baton`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh
if [ "$1 $2" = "guard post-commit" ]; then
  n=0; while [ ! -e '${gate}' ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done
  '${Deno.execPath()}' run -A '${cli}' "$@"; echo $? > '${done}'; exit 0
fi
exec '${Deno.execPath()}' run -A '${cli}' "$@"
`,
  );
  await Deno.chmod(wrapper, 0o755);
  installHooks(repo, [wrapper]);
  const wt = `${repo}-wt`;
  try {
    await ok(repo, ["worktree", "add", "-q", "-b", "baton/0042", wt]);
    const c = claimOf(engine, "0042", "implementer-1");
    const r = await commit(wt, "src/cache.ts", agentEnv("implementer-1", c), "0042 Implementation: cache");
    assert.equal(r.code, 0, r.stderr);
    const sha = await head(wt);
    // The agent completes, and baton run removes the worktree, before the recording has started Baton.
    engine.complete(c.phase.id, { agentId: "implementer-1", token: c.token });
    await ok(repo, ["worktree", "remove", "--force", wt]);
    await Deno.writeTextFile(gate, "");
    for (let i = 0; i < 1200 && !(await Deno.stat(done).then(() => true, () => false)); i++) {
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal((await Deno.readTextFile(done)).trim(), "0", "baton guard post-commit succeeded");
    const rows = engine.audit({ action: "phase.commit" });
    assert.deepEqual(rows.map((x) => (x.details as Record<string, unknown>).sha), [sha]);
    // Judged by the commit's time (read from git after the worktree went): made under the claim, which has ended since.
    assert.deepEqual(
      { subject: rows[0].details?.subject, claim: rows[0].details?.claim },
      { subject: "0042 Implementation: cache", claim: "ended" },
    );
    // What the recording said is kept in the main repository's git directory, which outlives the worktree.
    assert.ok((await Deno.stat(`${repo}/.git/baton-hooks.log`)).isFile);
  } finally {
    await Deno.writeTextFile(gate, "");
    engine.close();
  }
});

Deno.test("hooks install never chains to its own scripts (its state file lost), and uninstall then leaves core.hooksPath unset", async () => {
  const { repo, engine } = await hookRepo();
  engine.close();
  await Deno.remove(`${repo}/.git/baton/hooks/baton-hooks.json`);
  assert.equal((await baton(["hooks", "install"], { cwd: repo })).code, 0);
  const r = await git(repo, ["commit", "--allow-empty", "-m", "empty"], envWith());
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await baton(["hooks", "uninstall"], { cwd: repo })).code, 0);
  assert.equal((await git(repo, ["config", "core.hooksPath"])).code, 1, "unset");
});

Deno.test("guard server: a commit made through a symlinked path to the repository gets its trailers too", async () => {
  const { repo, engine } = await hookRepo("", { install: false });
  installHooks(repo, ["/bin/false"]);
  const server = (await startGuardServer(engine))!;
  const link = `${repo}-link`;
  await Deno.symlink(repo, link);
  try {
    const c = claimOf(engine, "0042", "implementer-9");
    // git's own paths resolve the link; the hook's $PWD keeps it.
    const r = await commit(link, "src/a.ts", agentEnv("implementer-9", c));
    assert.equal(r.code, 0, r.stderr);
    assert.match(await ok(repo, ["log", "-1", "--format=%B"]), /Baton-Ticket: 0042/);
  } finally {
    await server.close();
    engine.close();
  }
});

Deno.test("post-commit: what the hook reports of a commit is read the same from git, old hooks and new", async () => {
  const { COMMIT_META_FORMAT, parseCommitMeta } = await import("../../src/repo/git.ts");
  const repo = await tempRepo({ phases: PHASES });
  await ok(repo, ["init", "-q", "-b", "main"]);
  await ok(repo, ["config", "user.email", "dev@example.com"]);
  await ok(repo, ["config", "user.name", "Dev"]);
  await ok(repo, ["commit", "-q", "--allow-empty", "-m", "root commit"]);
  await ok(repo, ["commit", "-q", "--allow-empty", "-m", "second: with  two spaces"]);
  const root = (await ok(repo, ["rev-parse", "HEAD~1"])).trim();
  const meta = (rev: string) => ok(repo, ["log", "-1", `--format=${COMMIT_META_FORMAT}`, rev]);
  const second = parseCommitMeta(await meta("HEAD"));
  assert.deepEqual(second.parents, [root]);
  assert.equal(second.subject, "second: with  two spaces");
  assert.ok(second.committedAt! > Date.UTC(2020, 0, 1) && second.committedAt! % 1000 === 0);
  assert.deepEqual(parseCommitMeta(await meta("HEAD~1")).parents, [], "a root commit has no parent");
  // What hooks installed by an earlier Baton send: `%ct %s`, one line.
  assert.deepEqual(parseCommitMeta("1764921600 fix: the cache\n"), {
    committedAt: 1764921600000,
    parents: [],
    subject: "fix: the cache",
  });
  assert.deepEqual(parseCommitMeta(""), { committedAt: undefined, parents: [], subject: "" });
});

Deno.test("hooks: an agent whose claim a human released is told so, by whom (ops helper d9: it was told 'it was never yours')", async () => {
  const { repo, engine } = await hookRepo();
  try {
    const a = claimOf(engine, "0042", "implementer-1");
    engine.forceRelease(a.phase.id, { actor: { kind: "human", name: "dana" }, notes: "reassigning" });
    const before = await head(repo);
    const r = await commit(repo, "src/a.ts", agentEnv("implementer-1", a));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /claim of phase Implementation of 0042 is no longer yours \(released by human:dana \d+ s ago; now available\)/,
    );
    assert.equal(await head(repo), before);
  } finally {
    engine.close();
  }
});

Deno.test("hooks: an agent's commit on the merge queue's target, or on another ticket's branch, is refused; its own branch is fine (run helper #6: main moved to untested work)", async () => {
  const { repo, engine } = await hookRepo('merge:\n  target: main\n  check: "true"\n');
  try {
    const a = claimOf(engine, "0042", "implementer-1");
    const env = agentEnv("implementer-1", a);
    const before = await head(repo);
    let r = await commit(repo, "src/a.ts", env);
    assert.notEqual(r.code, 0, "on main");
    assert.match(r.stderr, /commit refused: this is main, the merge queue's target .*not baton\/0042/);
    assert.equal(await head(repo), before);
    await ok(repo, ["switch", "-q", "-c", "baton/0043"]);
    r = await commit(repo, "src/a.ts", env);
    assert.notEqual(r.code, 0, "on another ticket's branch");
    assert.match(r.stderr, /this is branch baton\/0043, ticket 0043's, not baton\/0042/);
    await ok(repo, ["switch", "-q", "-c", "baton/0042"]);
    r = await commit(repo, "src/a.ts", env);
    assert.equal(r.code, 0, r.stderr);
    // The same through the guard server that baton run starts (hooks whose 'baton' cannot answer).
    installHooks(repo, ["/bin/false"]);
    const server = (await startGuardServer(engine))!;
    try {
      await ok(repo, ["switch", "-q", "main"]);
      r = await commit(repo, "src/b.ts", env);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /commit refused: this is main, the merge queue's target/);
      await ok(repo, ["reset", "-q"]);
      await ok(repo, ["switch", "-q", "baton/0042"]);
      r = await commit(repo, "src/b.ts", env);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await server.close();
    }
  } finally {
    engine.close();
  }
});
