/**
 * `baton run` as found on real repositories (issue 22), with real processes,
 * git and worktrees: a registry whose command fails at once (circuit
 * breaker), sessions that never reach Baton (no attempt counted), a usage
 * limit handing the phase to the fallback entry, work that fails for good
 * (`--until-idle` exits 1, an escalation), Ctrl-C sent to the supervisor's
 * process group as a terminal does, slots freed when the phase ends, one log
 * line per kept worktree, `--dry-run` within `max_concurrent`, runs
 * restricted to some tickets, and `run.require_commit`.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { baton, CLI } from "../helpers/cli.ts";
import { approveGatesUntil, git, ONE_PHASE, runRepo, scriptedAgent, startRun, tickets } from "../helpers/run_repo.ts";
import { skipHeavy } from "../helpers/heavy.ts";
import { migrateAsNewerBaton } from "../helpers/repo.ts";

const TYPES = ["designer", "implementer", "test-writer", "security-reviewer", "docs-writer"];

/** Rewrites the repository's config.yaml: a registry (type → YAML flow mapping) and more sections. */
async function writeConfig(repo: string, registry: Record<string, string>, more = ""): Promise<void> {
  const lines = Object.entries(registry).map(([t, spec]) => `    ${t}: ${spec}`).join("\n");
  await Deno.writeTextFile(
    `${repo}/.workflow/config.yaml`,
    `agents:\n  stale_timeout_minutes: 1\n  registry:\n${lines}\nretry:\n  max_attempts: 3\n  backoff_seconds: 0\n${more}`,
  );
}

/** `baton run ARGS…` to its end, approving gates through the CLI meanwhile (Design Review would hold --until-idle). */
async function runApproving(repo: string, args: string[]) {
  const run = startRun(repo, args);
  const approvals = approveGatesUntil(repo, run.done);
  const r = await run.done;
  await approvals;
  return r;
}

/** A registry entry running `sh -c SCRIPT`. */
const sh = (script: string, extra = "") =>
  `{ command: sh, args: ["-c", ${JSON.stringify(script)}]${extra ? `, ${extra}` : ""} }`;

/** Three one-phase tickets of a second's work each, for one implementer at a time (runs that edit .workflow/ midway). */
const oneAtATime = () =>
  runRepo(tickets(3, { scripted: "slow:1" }), { phases: ONE_PHASE, perType: { implementer: "max_concurrent: 1" } });
const count = (text: string, re: RegExp) => [...text.matchAll(new RegExp(re, "g"))].length;

Deno.test({
  name: "run: a registry whose command exits 1 at once trips the circuit breaker: a handful of spawns, one " +
    "escalation, no attempts used, exit 1",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(8));
    const broken = sh("echo 'Error: invalid x-api-key (run claude /login)' >&2; exit 1");
    await writeConfig(repo, Object.fromEntries(TYPES.map((t) => [t, broken])));
    const r = await startRun(repo, ["--until-idle"]).done;
    assert.equal(r.code, 1, r.out + r.err);
    const spawns = count(r.out, /spawned designer-/);
    assert.ok(spawns >= 3 && spawns <= 5, `${spawns} spawns:\n${r.out}`);
    assert.match(r.out, /circuit breaker: 3 designer agents in a row ended within 30 s without reaching Baton/);
    assert.match(r.err, /not run: designer: circuit breaker/);
    const e = await openEngine(repo);
    const esc = e.escalations();
    assert.equal(esc.length, 1, JSON.stringify(esc));
    assert.match(esc[0].reason, /circuit breaker/);
    assert.match(esc[0].lastOutput ?? "", /invalid x-api-key/);
    for (const t of e.listTickets()) {
      const design = e.ticket(t.id).phases[0];
      assert.equal(design.attempts, 0, `${t.id}: ${design.attempts} attempts`);
      assert.equal(design.status, "available");
    }
    e.close();
  },
});

Deno.test({
  name: "run: agent ids that claimed for a session that never started (a command that cannot run) show as gone, " +
    "not as agents at work",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(2));
    await writeConfig(repo, Object.fromEntries(TYPES.map((t) => [t, "{ command: /no/such/agent-cli }"])));
    const r = await startRun(repo, ["--until-idle"]).done;
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /the agent could not be started/);
    const e = await openEngine(repo);
    const agents = e.agents();
    assert.ok(agents.length >= 1, "sessions were tried");
    assert.deepEqual(agents.filter((a) => a.status !== "gone").map((a) => a.id), [], "none shows at work");
    e.close();
  },
});

Deno.test({
  name: "run: worktrees git cannot make are an environment failure: no loop of claims, the breaker stops the type " +
    "with git's error, no attempt used, exit 1",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(4), { config: "run:\n  worktree_dir: blocked\n" });
    // A file where the worktrees' directory should be: every `git worktree add` fails.
    await Deno.writeTextFile(`${repo}/blocked`, "not a directory\n");
    const run = startRun(repo, ["--until-idle", "--types", "designer"]);
    // Before, the supervisor claimed and released the same phase in a loop within one round, forever.
    const deadline = new Promise<null>((r) => setTimeout(() => r(null), 120_000));
    const r = await Promise.race([run.done, deadline]);
    if (!r) {
      run.child.kill("SIGKILL");
      await run.done;
      assert.fail(`baton run did not stop in 120 s:\n${run.out().slice(-2000)}`);
    }
    assert.equal(r.code, 1, r.out + r.err);
    const refusals = count(r.out, /cannot prepare a worktree for/);
    assert.ok(refusals >= 3 && refusals <= 5, `${refusals} refusals:\n${r.out}`);
    assert.match(r.out, /circuit breaker: 3 designer agents in a row/);
    const e = await openEngine(repo);
    const esc = e.escalations();
    assert.equal(esc.length, 1, JSON.stringify(esc));
    assert.match(esc[0].lastOutput ?? "", /cannot prepare a worktree for 000\d\/Design/);
    const claims = e.audit({ limit: 100_000 }).filter((a) => a.action === "phase.claim").length;
    assert.ok(claims <= 5, `${claims} claims`);
    for (const t of e.listTickets()) assert.equal(e.ticket(t.id).phases[0].attempts, 0, t.id);
    e.close();
  },
});

Deno.test({
  name: "run: a session that never reaches Baton costs no attempt and is retried at once; the log says why",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1));
    const marks = await Deno.makeTempDir();
    // The first session of each phase ends without a single call (a CLI that started without Baton's tools).
    const script = `m=${marks}/$BATON_PHASE_ID; if [ ! -e "$m" ]; then touch "$m"; echo "no MCP tools"; exit 0; fi; ` +
      `exec ${JSON.stringify(Deno.execPath())} run -A ${
        JSON.stringify(new URL("../../src/agents/scripted_agent.ts", import.meta.url).pathname)
      } --mcp-config "$BATON_MCP_CONFIG"`;
    await writeConfig(repo, { designer: sh(script) });
    const r = await runApproving(repo, ["--until-idle", "--types", "designer"]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(
      r.out,
      /exited with code 0 without ever calling Baton; a failure of the environment, not of the work: released without counting an attempt, retrying at once \(1 of 3\)/,
    );
    const e = await openEngine(repo);
    const design = e.ticket("0001").phases[0];
    assert.equal(design.status, "completed", r.out);
    assert.equal(design.attempts, 1);
    assert.deepEqual(e.audit({ ticketId: "0001", action: "phase.fail" }), []);
    e.close();
  },
});

Deno.test({
  name: "run: an agent that dies printing a line longer than the engine takes (70 KB of stderr) still fails its " +
    "phase, with the line's start; nothing stays held",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1));
    // It reaches Baton (starts its phase with the CLI), then crashes printing one long line: a minified bundle.
    const script = `${JSON.stringify(Deno.execPath())} run -A ${JSON.stringify(CLI)} start "$BATON_PHASE_ID" ` +
      `--agent "$BATON_AGENT_ID" --token "$BATON_CLAIM" >/dev/null || exit 9; ` +
      `printf 'TypeError at bundle.js:1 ' >&2; head -c 70000 /dev/zero | tr '\\0' x >&2; echo >&2; exit 1`;
    await writeConfig(repo, { designer: sh(script) });
    const cfg = `${repo}/.workflow/config.yaml`;
    await Deno.writeTextFile(cfg, (await Deno.readTextFile(cfg)).replace("max_attempts: 3", "max_attempts: 1"));
    const r = await startRun(repo, ["--until-idle", "--types", "designer"]).done;
    assert.doesNotMatch(r.out + r.err, /could not record its exit/);
    assert.equal(r.code, 1, r.out + r.err); // failed for good: an escalation
    const e = await openEngine(repo);
    const design = e.ticket("0001").phases[0];
    assert.equal(design.status, "failed", r.out);
    assert.match(
      design.error ?? "",
      /agent exited with code 1 without completing[\s\S]*TypeError at bundle\.js:1 x+ \[…\]/,
    );
    assert.ok(new TextEncoder().encode(design.error!).length < 20_000, `${design.error!.length} characters kept`);
    e.close();
  },
});

Deno.test({
  name: "run: sessions that never reach Baton count once run.environment_retries are spent; a phase failed for " +
    "good opens an escalation and --until-idle exits 1",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1));
    await writeConfig(
      repo,
      { designer: sh("echo 'starting without tools'; exit 0") },
      "run:\n  environment_retries: 2\n  breaker_seconds: 0\n",
    );
    const cfg = `${repo}/.workflow/config.yaml`;
    await Deno.writeTextFile(cfg, (await Deno.readTextFile(cfg)).replace("max_attempts: 3", "max_attempts: 1"));
    const r = await startRun(repo, ["--until-idle", "--types", "designer"]).done;
    assert.equal(r.code, 1, r.out + r.err);
    assert.equal(count(r.out, /spawned designer-/), 3, r.out);
    assert.match(r.err, /failed for good: 0001\/Design/);
    const e = await openEngine(repo);
    const design = e.ticket("0001").phases[0];
    assert.equal(design.status, "failed");
    assert.match(design.error ?? "", /without ever calling Baton, in 3 sessions in a row/);
    const esc = e.escalations();
    assert.equal(esc.length, 1);
    assert.match(esc[0].reason, /^failed for good after 1 attempt\(s\)/);
    e.close();
  },
});

Deno.test({
  name: "run: an agent that fails its phase for good through MCP opens an escalation; --until-idle exits 1",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo([{ id: "0001", title: "Doomed", metadata: { scripted: "fail@Design" } }]);
    const cfg = `${repo}/.workflow/config.yaml`;
    await Deno.writeTextFile(cfg, (await Deno.readTextFile(cfg)).replace("max_attempts: 3", "max_attempts: 2"));
    const r = await startRun(repo, ["--until-idle", "--types", "designer"]).done;
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /0001\/Design failed for good after 2 attempt\(s\): an escalation waits for a human/);
    const e = await openEngine(repo);
    const esc = e.escalations();
    assert.equal(esc.length, 1);
    assert.match(esc[0].reason, /failed for good after 2 attempt\(s\): scripted failure of Design/);
    // Nothing moves the ticket on until a human retries it: its worktree is removed, its branch stays.
    assert.match(r.out, /removed \S+: ticket 0001 failed for good \(baton\/0001 keeps its commits\)/);
    assert.equal(git(repo, "worktree", "list").split("\n").length, 1);
    assert.match(git(repo, "branch", "--list", "baton/0001"), /baton\/0001/);
    // A human's retry: the next run makes the worktree again from the branch, and the phase runs there.
    const retry = await baton([
      "retry",
      String(e.ticket("0001").phases[0].id),
      "--by",
      "dana",
      "--notes",
      "try again",
    ], { cwd: repo });
    assert.equal(retry.code, 0, retry.stderr);
    const again = await startRun(repo, ["--until-idle", "--types", "designer"]).done;
    assert.match(again.out, /spawned designer-\S+ for 0001\/Design/, again.out);
    assert.doesNotMatch(again.out, /cannot prepare a worktree/);
    e.close();
  },
});

Deno.test({
  name: "run: an agent that stops on a usage limit releases its phase without an attempt; the fallback entry runs next",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1));
    await writeConfig(repo, {
      designer: sh(
        "echo 'Claude AI usage limit reached|1767225600'; exit 1",
        "fallback: designer-codex",
      ),
      "designer-codex": scriptedAgent(),
    });
    const r = await runApproving(repo, ["--until-idle", "--types", "designer"]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(
      r.out,
      /designer exited with code 1 on a usage or rate limit \(Claude AI usage limit reached\|1767225600\): released without counting an attempt; the next designer sessions run designer-codex/,
    );
    assert.match(r.out, /spawned designer-\S+ for 0001\/Design .* running designer-codex/);
    const e = await openEngine(repo);
    const design = e.ticket("0001").phases[0];
    assert.equal(design.status, "completed", r.out);
    assert.equal(design.attempts, 1);
    assert.match(git(repo, "log", "--format=%s", "baton/0001"), /^0001 Design: /m);
    e.close();
  },
});

/** `baton run` as the leader of its own process group, as a shell starts a foreground job. */
function startRunAsJob(repo: string, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", ...args],
    cwd: repo,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  let out = "";
  const pumps = Promise.all([
    (async () => {
      for await (const c of child.stdout.pipeThrough(new TextDecoderStream())) out += c;
    })(),
    new Response(child.stderr).text(),
  ]);
  const done = (async () => {
    const s = await child.status;
    const [, err] = await pumps;
    return { code: s.code, out, err };
  })();
  return {
    child,
    done,
    out: () => out,
    async waitFor(re: RegExp, ms = 60_000) {
      for (const end = Date.now() + ms; Date.now() < end;) {
        const m = re.exec(out);
        if (m) return m;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${re} in:\n${out}`);
    },
  };
}

/** Whether a process group still has a member. */
function groupAlive(pgid: number): boolean {
  try {
    Deno.kill(-pgid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "run: a run that has said nothing for run.status_seconds while an agent works says what it waits for: " +
    "the agent, its ticket and phase, its pid, how long it has been quiet",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo([{ id: "0001", title: "Slow", metadata: { scripted: "slow:30@Design" } }]);
    const cfg = `${repo}/.workflow/config.yaml`;
    await Deno.writeTextFile(cfg, (await Deno.readTextFile(cfg)) + "run:\n  grace_seconds: 1\n  status_seconds: 1\n");
    const run = startRun(repo, ["--types", "designer"]);
    try {
      const spawned = await run.waitFor(/spawned (designer-\S+) for 0001\/Design .*\(pid (\d+)\)/);
      const m = await run.waitFor(
        /still at work: 1 agent\(s\) running: (designer-\S+) \(0001\/Design, pid (\d+), its phase held, quiet for (\d+) s\)/,
      );
      assert.equal(m[1], spawned[1]);
      assert.equal(m[2], spawned[2], "the agent's own process");
      assert.ok(Number.isInteger(Number(m[3])), m[0]); // since its last output (it may have just printed)
    } finally {
      run.child.kill("SIGKILL");
      await run.done;
      try {
        Deno.kill(-Number(/\(pid (\d+)\)/.exec(run.out())?.[1] ?? 0), "SIGKILL"); // its agent's group
      } catch { /* gone */ }
    }
  },
});

Deno.test({
  name: "run: Ctrl-C at the terminal (SIGINT to the supervisor's process group) does not reach the agents: the " +
    "first waits for them to finish, a second ends them and releases their phases",
  ignore: skipHeavy,
  fn: async () => {
    const oneSlow = async (seconds: number) => {
      const repo = await runRepo([{ id: "0001", title: "Slow", metadata: { scripted: `slow:${seconds}@Design` } }]);
      const cfg = `${repo}/.workflow/config.yaml`;
      await Deno.writeTextFile(cfg, (await Deno.readTextFile(cfg)) + "run:\n  grace_seconds: 1\n");
      return repo;
    };
    const repo = await oneSlow(4), repo2 = await oneSlow(30);
    // First: one Ctrl-C; the agent finishes its phase and the supervisor exits 0.
    const e = await openEngine(repo);
    const first = startRunAsJob(repo, ["--types", "designer"]);
    await first.waitFor(/spawned designer-\S+ for 0001\/Design/);
    for (let i = 0; i < 400 && e.ticket("0001").phases[0].status !== "running"; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    Deno.kill(-first.child.pid, "SIGINT"); // the whole foreground job, as the terminal does
    const r1 = await first.done;
    assert.equal(r1.code, 0, r1.out + r1.err);
    assert.match(r1.err, /stopping: no new agents; waiting for the running ones/);
    const done = e.ticket("0001").phases[0];
    assert.equal(done.status, "completed", r1.out);
    assert.equal(done.attempts, 1);
    e.close();
    // Then: two Ctrl-Cs; the agent's whole process group is ended and its phase released.
    const e2 = await openEngine(repo2);
    const second = startRunAsJob(repo2, ["--types", "designer"]);
    const m = await second.waitFor(/spawned designer-\S+ for 0001\/Design .*\(pid (\d+)\)/);
    for (let i = 0; i < 400 && e2.ticket("0001").phases[0].status !== "running"; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    Deno.kill(-second.child.pid, "SIGINT");
    await second.waitFor(/./); // (its output so far)
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(e2.ticket("0001").phases[0].status, "running", "the first Ctrl-C does not reach the agent");
    try {
      Deno.kill(-second.child.pid, "SIGINT");
    } catch (err) {
      const r = await second.done;
      throw new Error(`the supervisor is gone (${(err as Error).message}): ${r.code}\n${r.out}\n${r.err}`);
    }
    const r2 = await second.done;
    assert.equal(r2.code, 0, r2.out + r2.err);
    const p = e2.ticket("0001").phases[0];
    assert.equal(p.status, "available", r2.out);
    assert.equal(p.attempts, 0);
    for (let i = 0; i < 40 && groupAlive(Number(m[1])); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(groupAlive(Number(m[1])), false, "the agent's group (its baton-mcp too) is gone");
    e2.close();
  },
});

Deno.test({
  name: "run: a slot is free as soon as its agent's phase ends; an agent that lingers is ended",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(2, { scripted: "linger:60@Design" }), {
      perType: { designer: "max_concurrent: 1" },
      config: "run:\n  linger_seconds: 1\n  grace_seconds: 1\n",
    });
    const started = Date.now();
    const r = await runApproving(repo, ["--until-idle", "--types", "designer"]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.ok(Date.now() - started < 50_000, "no wait for the lingering agents");
    const lines = r.out.split("\n");
    const spawn2 = lines.findIndex((l) => /spawned designer-\S+ for 0002\/Design/.test(l));
    const exit1 = lines.findIndex((l) => /designer-\S+ \(0001\/Design\) exited/.test(l));
    assert.ok(spawn2 >= 0 && exit1 >= 0, r.out);
    assert.ok(spawn2 < exit1, `0002 was spawned only after 0001's agent exited:\n${r.out}`);
    assert.match(r.out, /\(0001\/Design\) still runs 1 s after its phase ended: ending it/);
    const e = await openEngine(repo);
    assert.deepEqual(e.listTickets().map((t) => e.ticket(t.id).phases[0].status), ["completed", "completed"]);
    // Their processes have exited: the agents show as gone, not active.
    const designers = e.agents().filter((a) => a.id.startsWith("designer-"));
    assert.equal(designers.length, 2);
    assert.deepEqual(designers.map((a) => a.status), ["gone", "gone"]);
    const listed = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "agents"],
      cwd: repo,
      env: { NO_COLOR: "1" },
      stdout: "piped",
    }).output();
    assert.match(new TextDecoder().decode(listed.stdout), /designer-\S+\s+gone/);
    e.close();
  },
});

Deno.test({
  name: "run: a finished ticket's worktree kept for uncommitted changes is reported once per change, not every round",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1));
    const e = await openEngine(repo);
    // Finish the ticket by hand (every agent phase completed, every gate approved).
    for (let i = 0; i < 20 && e.ticket("0001").status !== "completed"; i++) {
      for (const g of e.gates()) e.approveGate(g.id, { actor: { kind: "human", name: "dana" } });
      for (const p of e.ticket("0001").phases.filter((x) => x.status === "available" && x.agentType)) {
        const c = e.claim(p.id, { agentId: `a-${p.id}`, capabilities: [p.agentType!] });
        e.complete(p.id, { agentId: `a-${p.id}`, token: c.token });
      }
    }
    assert.equal(e.ticket("0001").status, "completed");
    e.close();
    const wt = `${repo}/.workflow/worktrees/0001`;
    git(repo, "worktree", "add", "-q", "-b", "baton/0001", wt);
    await Deno.writeTextFile(`${wt}/notes.md`, "left behind\n");
    const run = startRun(repo, ["--types", "designer"]);
    await run.waitFor(/kept .*0001: ticket 0001 is finished/);
    await new Promise((r) => setTimeout(r, 2500));
    await Deno.writeTextFile(`${wt}/more.md`, "and more\n"); // a new state: reported again
    await new Promise((r) => setTimeout(r, 3000));
    run.child.kill("SIGINT");
    const r = await run.done;
    assert.equal(count(r.out, /kept \S+: ticket 0001 is finished/), 2, r.out);
  },
});

Deno.test({
  name: "run: --dry-run prints each phase once, within max_concurrent and --max-agents",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(4), { perType: { designer: "max_concurrent: 1" } });
    const r = await startRun(repo, ["--dry-run"]).done;
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(count(r.out, /would spawn designer for 0001\/Design/), 1, r.out);
    assert.equal(count(r.out, /would spawn /), 1, r.out);
    const unlimited = await runRepo(tickets(4));
    const all = await startRun(unlimited, ["--dry-run", "--max-agents", "3"]).done;
    assert.equal(count(all.out, /would spawn designer for/), 3, all.out);
  },
});

Deno.test({
  name: "run: --tickets, --priority and --label restrict a run to some tickets",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo([
      { id: "0001", title: "One", metadata: { labels: ["backend"] } },
      { id: "0002", title: "Two", metadata: { priority: "High" } },
      { id: "0003", title: "Three", metadata: { labels: "ui, backend" } },
      { id: "0004", title: "Four" },
    ]);
    const designStatus = async () => {
      const e = await openEngine(repo);
      const s = e.listTickets().map((t) => `${t.id}:${e.ticket(t.id).phases[0].status}`).sort();
      e.close();
      return s;
    };
    const a = await runApproving(repo, ["--until-idle", "--types", "designer", "--tickets", "0002"]);
    assert.equal(a.code, 0, a.out + a.err);
    assert.deepEqual(await designStatus(), ["0001:available", "0002:completed", "0003:available", "0004:available"]);
    const b = await runApproving(repo, ["--until-idle", "--types", "designer", "--label", "ui"]);
    assert.equal(b.code, 0, b.out + b.err);
    assert.deepEqual(await designStatus(), ["0001:available", "0002:completed", "0003:completed", "0004:available"]);
    const dry = await startRun(repo, ["--dry-run", "--types", "designer", "--priority", "medium"]).done;
    assert.match(dry.out, /would spawn designer for 0001\/Design/);
    assert.match(dry.out, /would spawn designer for 0004\/Design/);
    assert.doesNotMatch(dry.out, /0002|0003/);
    // No ticket with labels and none read by the workflow: --label would leave every ticket out without a word
    // (new-user helper #2).
    const bare = await runRepo([{ id: "0001", title: "One" }], {
      phases: "phases:\n  - {name: Design, agent_type: designer}\n",
    });
    const none = await startRun(bare, ["--dry-run", "--label", "infra"]).done;
    assert.equal(none.code, 2, none.out + none.err);
    assert.match(none.err, /Tickets have no labels to match: \.workflow\/phases\.yaml reads none/);
  },
});

Deno.test({
  name:
    "run: --until-idle with --tickets exits once its own tickets wait on nothing, whatever gate waits on another ticket",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo([{ id: "0001", title: "One" }, { id: "0002", title: "Two" }]);
    const e = await openEngine(repo);
    try {
      // 0001 waits on a human (its Design Review); 0002 is past its gate, at work of no type this run runs.
      for (const id of ["0001", "0002"]) {
        const c = e.claim(e.ticket(id).phases[0].id, { agentId: "designer-x", capabilities: ["designer"] });
        e.complete(c.phase.id, { agentId: "designer-x", token: c.token });
      }
      e.approveGate(e.gates({ ticketId: "0002" })[0].id, { actor: { kind: "human", name: "dana" } });
      assert.equal(e.gates().length, 1, "0001's gate waits");
    } finally {
      e.close();
    }
    const run = startRun(repo, ["--until-idle", "--types", "designer", "--tickets", "0002"]);
    const bound = setTimeout(() => run.child.kill("SIGKILL"), 60_000);
    const r = await run.done;
    clearTimeout(bound);
    assert.equal(r.code, 0, `killed after 60 s waiting: ${r.out}${r.err}`);
    assert.doesNotMatch(r.out, /waiting on .*gate/, "another ticket's gate is not this run's to show");
  },
});

Deno.test({
  name: "run: with run.require_commit a completion with uncommitted work is refused (commit_required); committed, " +
    "it is accepted",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo([{ id: "0001", title: "Careful", metadata: { scripted: "commit-late@Design" } }], {
      config: "run:\n  require_commit: true\n",
    });
    const r = await runApproving(repo, ["--until-idle", "--types", "designer"]);
    assert.equal(r.code, 0, r.out + r.err);
    const logs = [...Deno.readDirSync(`${repo}/.workflow/logs`)].filter((f) => f.name.endsWith(".log"))
      .map((f) => Deno.readTextFileSync(`${repo}/.workflow/logs/${f.name}`)).join("\n");
    assert.match(logs, /refused: .*commit_required.*uncommitted changes \(0001-design\.md\)/);
    assert.doesNotMatch(logs, /completed without committing/);
    const e = await openEngine(repo);
    const design = e.ticket("0001").phases[0];
    assert.equal(design.status, "completed");
    assert.equal(design.attempts, 1);
    e.close();
  },
});

Deno.test({
  name: "run: a shell-script agent whose 'baton complete' is refused (commit_required) reached Baton: its session " +
    "counts an attempt, and is not retried as one that never called Baton",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1), { config: "run:\n  require_commit: true\n" });
    // Edits a file, never commits, completes through the CLI (refused), exits 1.
    const script = `echo work > work.txt; "${Deno.execPath()}" run -A "${CLI}" complete "$BATON_PHASE_ID" ` +
      `--agent "$BATON_AGENT_ID" --token "$BATON_CLAIM" --summary done; exit 1`;
    await writeConfig(repo, { designer: sh(script) }, "run:\n  require_commit: true\n");
    const r = await startRun(repo, ["--until-idle", "--types", "designer"]).done;
    assert.equal(r.code, 1, r.out + r.err); // failed for good: an escalation waits
    assert.doesNotMatch(r.out, /without ever calling Baton/, r.out);
    assert.match(r.out, /agent exited with 1 without completing|0001\/Design failed for good after 3 attempt/);
    assert.equal(count(r.out, /spawned designer-/), 3, r.out);
    const e = await openEngine(repo);
    const design = e.ticket("0001").phases[0];
    assert.equal(design.status, "failed");
    assert.equal(design.attempts, 3);
    assert.match(design.error ?? "", /exited with code 1 without completing[^]*uncommitted changes \(work.txt\)/);
    e.close();
  },
});

Deno.test({
  name: "run: commits no git hook recorded (hooks not installed, switched off by the agent's CLI, or their " +
    "background recording killed) are recorded from the worktree when the phase ends",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1), {
      phases: "phases:\n  - name: Implementation\n    agent_type: implementer\n",
    });
    const r = await startRun(repo, ["--until-idle"]).done; // no 'baton hooks install': no hook records anything
    assert.equal(r.code, 0, r.out + r.err);
    const tip = git(repo, "rev-parse", "baton/0001");
    const e = await openEngine(repo);
    const commits = e.commits({ ticketId: "0001" });
    assert.deepEqual(commits.map((c) => [c.sha, c.phase, c.underClaim]), [[tip, "Implementation", true]]);
    assert.match(commits[0].subject ?? "", /0001 Implementation/);
    e.close();
  },
});

Deno.test({
  name: "run: ticket branches start on the merge target, not on the branch the user has checked out (their " +
    "work in progress never lands)",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1), {
      phases: ONE_PHASE,
      config: 'merge:\n  check: "true"\n  batch_wait_seconds: 0\n',
    });
    const mainBefore = git(repo, "rev-parse", "main");
    // The user is trying something out on a branch of their own, with a commit not meant for main.
    git(repo, "switch", "-q", "-c", "wip-experiment");
    await Deno.writeTextFile(`${repo}/experiment.txt`, "not for main\n");
    git(repo, "add", "experiment.txt");
    git(repo, "-c", "user.name=Dana", "-c", "user.email=d@example.com", "commit", "-qm", "WIP: experiment");
    const wip = git(repo, "rev-parse", "HEAD");
    const r = await startRun(repo, ["--until-idle"]).done;
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(git(repo, "merge-base", "baton/0001", mainBefore), mainBefore, "forked from main");
    assert.notEqual(git(repo, "rev-parse", "main"), mainBefore, "the ticket landed");
    for (const ref of ["main", "baton/0001"]) {
      const has = new Deno.Command("git", { args: ["merge-base", "--is-ancestor", wip, ref], cwd: repo }).outputSync();
      assert.equal(has.success, false, `the user's work in progress is on ${ref}`);
    }
    assert.equal(git(repo, "rev-parse", "HEAD"), wip, "the user's branch is as it was");
  },
});

Deno.test({
  name: "run: a ticket branch checked out in the user's own working tree is never worked in there: that phase " +
    "fails saying why, the user's edits stay uncommitted, other tickets go on",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(2), { phases: ONE_PHASE });
    const cfg = `${repo}/.workflow/config.yaml`;
    await Deno.writeTextFile(cfg, (await Deno.readTextFile(cfg)).replace("max_attempts: 3", "max_attempts: 1"));
    git(repo, "commit", "-qam", "one attempt");
    git(repo, "branch", "baton/0001");
    git(repo, "switch", "-q", "baton/0001"); // the user looks at the ticket's branch…
    await Deno.writeTextFile(`${repo}/README.md`, "# A project\n\nthe user's unsaved notes\n"); // …and edits
    const r = await startRun(repo, ["--until-idle"]).done;
    assert.equal(r.code, 1, `0001 failed for good: ${r.out}${r.err}`);
    assert.match(r.out, /baton\/0001 is checked out in the repository's own working tree/);
    assert.doesNotMatch(
      r.out,
      new RegExp(`spawned \\S+ for 0001/\\S+ in ${repo}(\\s|$)`),
      "an agent ran in the user's tree",
    );
    assert.doesNotMatch(r.out, /circuit breaker/);
    assert.equal(git(repo, "status", "--porcelain"), "M README.md", "the user's edit is still theirs, uncommitted");
    const e = await openEngine(repo);
    try {
      assert.equal(e.ticket("0002").status, "completed", r.out);
      const p = e.ticket("0001").phases[0];
      assert.equal(p.status, "failed");
      assert.match(p.error ?? "", /switch it to another branch/);
    } finally {
      e.close();
    }
  },
});

Deno.test({
  name: "run: a ticket worktree deleted by hand (still registered with git) is made again; the ticket goes on",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1), {
      phases:
        "phases:\n  - name: Design\n    agent_type: designer\n  - name: Implementation\n    agent_type: implementer\n",
    });
    const first = await startRun(repo, ["--until-idle", "--types", "designer"]).done;
    assert.equal(first.code, 0, first.out + first.err);
    const wt = `${repo}/.workflow/worktrees/0001`;
    assert.ok((await Deno.stat(wt)).isDirectory, "the ticket's worktree stays for its next phase");
    await Deno.remove(wt, { recursive: true }); // the user cleans up by hand, without git worktree remove
    const r = await startRun(repo, ["--until-idle"]).done;
    assert.equal(r.code, 0, r.out + r.err);
    assert.doesNotMatch(r.out, /circuit breaker|cannot prepare/);
    const e = await openEngine(repo);
    assert.equal(e.ticket("0001").status, "completed", r.out);
    e.close();
    assert.match(git(repo, "log", "--format=%s", "baton/0001"), /Implementation/);
  },
});

Deno.test({
  name: "run: a registry entry for the merge queue's landing type (an older agents use wrote one) is never served",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1), {
      phases: ONE_PHASE,
      config: 'merge:\n  check: "true"\n  batch_wait_seconds: 0\n',
    });
    const cfg = `${repo}/.workflow/config.yaml`;
    const text = await Deno.readTextFile(cfg);
    await Deno.writeTextFile(cfg, text.replace("  registry:\n", `  registry:\n    merge-queue: ${sh("exit 0")}\n`));
    const r = await startRun(repo, ["--until-idle"]).done;
    assert.equal(r.code, 0, r.out + r.err);
    assert.doesNotMatch(r.out + r.err, /merge-queue/);
    const e = await openEngine(repo);
    assert.equal(e.ticket("0001").status, "completed", r.out);
    e.close();
  },
});

Deno.test({
  name: "run: a repository with no commit yet is refused at once, saying to commit, with a coded error (no breaker)",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1), { phases: ONE_PHASE });
    // The same repository as never committed: a fresh .git.
    await Deno.remove(`${repo}/.git`, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    const r = await startRun(repo, ["--until-idle"]).done;
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.err, /has no commit yet: each agent's worktree starts from one/);
    assert.doesNotMatch(r.out, /spawned|circuit breaker/);
  },
});

Deno.test("a newer Baton migrating the database under 'baton run': it stops spawning, says why once, and exits with database_newer", async () => {
  const repo = await runRepo([
    { id: "0001", title: "A", metadata: { scripted: "slow:4" } },
    { id: "0002", title: "B", metadata: { scripted: "slow:4" } },
    { id: "0003", title: "C" },
  ]);
  const run = startRun(repo, ["--until-idle"]);
  try {
    await run.waitFor(/spawned \S+ for/, 60_000);
    await migrateAsNewerBaton(`${repo}/.workflow/baton.db`); // the newer Baton's first command
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      run.done,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error(`still running:\n${run.out()}`)), 90_000)
      ),
    ]).finally(() => clearTimeout(timer));
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.err, /upgraded to schema version \d+ by a newer Baton while this process ran/);
    assert.equal(r.out.match(/stopping: .*newer Baton/g)?.length, 1, r.out);
    assert.doesNotMatch(r.out, /cannot claim for/, "no round of refused claims");
  } finally {
    try {
      run.child.kill("SIGKILL");
    } catch { /* it has exited */ }
    await run.done;
  }
});

Deno.test({
  name: "run: phases.yaml saved broken while agents work: no agent starts until it loads again, no breaker trips, " +
    "no attempt is spent, and the run finishes once it is fixed",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await oneAtATime();
    const run = startRun(repo, ["--until-idle"]);
    const ended = run.done.then((r) => {
      throw new Error(`the run ended (exit ${r.code}):\n${r.out}\n${r.err}`);
    });
    await Promise.race([run.waitFor(/spawned implementer-/), ended]);
    await Deno.writeTextFile(
      `${repo}/.workflow/phases.yaml`,
      "phases:\n  - name: Implementation\n    agent_type: [x\n",
    );
    await Promise.race([run.waitFor(/no agent runs now: waiting for \.workflow\/ to load/, 30_000), ended]);
    assert.match(run.out(), /not starting agents: \.workflow\/ does not load \(\.workflow\/phases\.yaml/);
    assert.equal(count(run.out(), /spawned implementer-/), 1, run.out());
    await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, ONE_PHASE);
    const r = await run.done;
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /\.workflow\/ loads again: starting agents/);
    assert.doesNotMatch(r.out, /circuit breaker/);
    const e = await openEngine(repo);
    try {
      assert.deepEqual(e.escalations(), []);
      for (const t of e.listTickets()) {
        const p = e.ticket(t.id).phases[0];
        assert.equal(p.status, "completed", `${t.id}: ${p.status}`);
        assert.equal(p.attempts, 1, `${t.id}: ${p.attempts} attempts`);
      }
    } finally {
      e.close();
    }
  },
});

Deno.test({
  name: "run: a stall timeout lowered in config.yaml while the run works applies to it (no restart)",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo([{ id: "0001", title: "Quiet", metadata: { scripted: "stall@Design" } }], {
      config: "stall_timeout_minutes: 30\n",
    });
    const run = startRun(repo, ["--types", "designer"]);
    try {
      await run.waitFor(/spawned designer-/);
      const cfg = await Deno.readTextFile(`${repo}/.workflow/config.yaml`);
      await Deno.writeTextFile(
        `${repo}/.workflow/config.yaml`,
        cfg.replace("stall_timeout_minutes: 30", "stall_timeout_minutes: 0.05"),
      );
      await run.waitFor(/escalation: 0001\/Design \(designer-\S+\) made no progress/, 30_000);
    } finally {
      run.child.kill("SIGINT");
      await run.waitFor(/stopping/, 10_000).catch(() => {});
      try {
        run.child.kill("SIGINT"); // the second Ctrl-C ends the agents
      } catch { /* ended */ }
      await run.done;
    }
  },
});

Deno.test({
  name: "run: a phase renamed in phases.yaml while the run works: tickets not there yet run it under the new name, " +
    "once, without a restart",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await oneAtATime();
    const run = startRun(repo, ["--until-idle"]);
    await run.waitFor(/spawned implementer-\S+ for 0001\/Implementation/);
    await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, ONE_PHASE.replace("Implementation", "Build"));
    const r = await run.done;
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /open tickets follow the workflow's edits/);
    const e = await openEngine(repo);
    try {
      const byTicket = Object.fromEntries(
        e.listTickets().map((t) => [t.id, e.ticket(t.id).phases.map((p) => `${p.name}:${p.status}`).sort().join(" ")]),
      );
      assert.equal(byTicket["0001"], "Build:skipped Implementation:completed");
      assert.equal(byTicket["0003"], "Build:completed Implementation:skipped");
    } finally {
      e.close();
    }
  },
});

Deno.test({
  name: "run: an edit of .workflow/ it cannot follow without a restart (merge:) is said, once (second review)",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await oneAtATime();
    const run = startRun(repo, ["--until-idle"]);
    await run.waitFor(/spawned implementer-/);
    const cfg = await Deno.readTextFile(`${repo}/.workflow/config.yaml`);
    await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, `${cfg}merge:\n  check: 'true'\n`);
    await run.waitFor(/not following an edit of \.workflow\/: merge changed while this process ran/, 30_000);
    const r = await run.done;
    assert.equal(count(r.out, /not following an edit of \.workflow\//), 1, r.out);
  },
});
