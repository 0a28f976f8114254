/**
 * The CLI as a real process: stdout, stderr and exit codes of every command.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { HELP } from "../../src/cli/main.ts";
import { EXAMPLE_PHASES, tempRepo } from "../helpers/repo.ts";
import { baton, CLI } from "../helpers/cli.ts";

const PHASES = `phases:
  - {name: Design, agent_type: designer}
  - {name: Design Review, agent_type: null}
  - {name: Implementation, agent_type: implementer}
`;

async function seededRepo(): Promise<string> {
  const repo = await tempRepo({ phases: PHASES });
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "First", metadata: { priority: "High" } });
  e.upsertTicket({ id: "0002", title: "Second" });
  e.close();
  return repo;
}

Deno.test("cli: --help matches the snapshot and the README", async () => {
  const out = await baton(["--help"]);
  assert.equal(out.code, 0);
  const snapshot = await Deno.readTextFile(new URL("../snapshots/help.txt", import.meta.url));
  assert.equal(out.stdout, snapshot, "update tests/snapshots/help.txt when the help changes on purpose");
  assert.equal(out.stdout.trimEnd(), HELP.trimEnd());
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const block = /## CLI[\s\S]*?```text\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, "README has a ## CLI section with the help in a ```text block");
  assert.equal(block.trimEnd(), HELP.trimEnd(), "the README's CLI section matches `baton --help`");
  const none = await baton([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: baton <command>/);
  const sub = await baton(["approve", "--help"]);
  assert.equal(sub.code, 0);
  assert.match(sub.stdout, /approve GATE/);
});

Deno.test("cli: a missing .workflow/ is an error with a hint", async () => {
  const dir = await Deno.makeTempDir();
  for (const cmd of [["status"], ["list"], ["gates"], ["claim", "--agent", "a", "--capabilities", "x"]]) {
    const out = await baton(cmd, { cwd: dir });
    assert.equal(out.code, 1, cmd.join(" "));
    assert.match(out.stderr, /^error: No \.workflow\/ directory found/m);
    assert.match(out.stderr, /run 'baton init'/);
  }
  const doc = await baton(["doctor"], { cwd: dir });
  assert.equal(doc.code, 1);
  assert.match(doc.stdout, /FAIL\s+config: No \.workflow\/ directory found/);
});

Deno.test("cli: bad arguments exit 2 with a message", async () => {
  const repo = await seededRepo();
  const cases: [string[], RegExp][] = [
    [["bogus"], /unknown command "bogus"/],
    [["list", "--nope"], /unknown option "--nope"/],
    [["queue"], /expected 1 argument/],
    [["retry"], /Name one phase \(baton retry PHASE\) or which failed phases to retry/],
    [["retry", "x"], /PHASE must be an integer/],
    [["reject", "1"], /needs --notes/],
    [["claim"], /needs --agent/],
    [["claim", "--agent", "a"], /needs --capabilities/],
    [["complete", "1", "--agent", "a"], /needs --agent and --token/],
    [["list", "--status", "sideways"], /--status must be active or completed/],
    [["metrics", "--since", "yesterday-ish"], /--since must be a duration/],
    [["dep", "add", "0001"], /expected 2 argument/],
    [["dep", "frob"], /dep needs add, rm or list/],
    [["dep", "add", "0001", "0002", "--type", "soon"], /--type must be/],
    [["ready", "--parallel", "0"], /--parallel must be an integer ≥ 1/],
    [["watch", "--after", "x"], /--after must be an integer ≥ 0/],
  ];
  for (const [args, message] of cases) {
    const out = await baton(["--repo", repo, ...args]);
    assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
    assert.match(out.stderr, message, args.join(" "));
    assert.match(out.stderr, /^error: /);
    assert.equal(out.stdout, "");
  }
});

Deno.test("cli: init scaffolds .workflow/, never overwrites, and ignores the database", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/.gitignore`, "node_modules/");
  const first = await baton(["init"], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /created \.workflow\/config\.yaml/);
  assert.match(first.stdout, /"baton-mcp"/);
  assert.equal(
    await Deno.readTextFile(`${dir}/.gitignore`),
    "node_modules/\n# Baton: its database and helper files, agent logs, agent worktrees\n" +
      "/.workflow/baton.db*\n/.workflow/logs/\n/.workflow/worktrees/\n",
  );
  await Deno.writeTextFile(`${dir}/.workflow/phases.yaml`, PHASES);
  const again = await baton(["init", "--json"], { cwd: dir });
  const r = JSON.parse(again.stdout);
  assert.deepEqual(r.created, []);
  assert.ok(r.skipped.includes(".workflow/phases.yaml"));
  assert.equal(r.gitignore, null);
  assert.equal(await Deno.readTextFile(`${dir}/.workflow/phases.yaml`), PHASES, "kept the user's file");
  const bad = await baton(["init", "--example", "nope"], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Unknown example "nope"/);
  // A repository that keeps its own workflow gets no README describing the example's phases.
  const own = await Deno.makeTempDir();
  await Deno.mkdir(`${own}/.workflow`);
  await Deno.writeTextFile(`${own}/.workflow/phases.yaml`, PHASES);
  const mine = JSON.parse((await baton(["init", "--json"], { cwd: own })).stdout);
  assert.ok(mine.skipped.includes(".workflow/README.md"), JSON.stringify(mine));
  assert.throws(() => Deno.statSync(`${own}/.workflow/README.md`), Deno.errors.NotFound);
});

Deno.test("cli: an agent's whole loop from a shell, gates, and the read-only views", async (t) => {
  const repo = await seededRepo();
  await Deno.mkdir(`${repo}/src/deep`, { recursive: true });
  const cwd = `${repo}/src/deep`; // works from any subdirectory
  await t.step("claim, start, heartbeat, complete, with the fencing token checked", async () => {
    const claim = await baton(["claim", "--agent", "sh-1", "--capabilities", "designer", "--json"], { cwd });
    assert.equal(claim.code, 0, claim.stderr);
    const c = JSON.parse(claim.stdout);
    assert.equal(c.ticket.id, "0001", "High priority first");
    assert.match(c.leaseExpiresAt, /^\d{4}-\d\d-\d\dT/, "ISO dates in JSON");
    const id = String(c.phase.id);
    assert.equal((await baton(["start", id, "--agent", "sh-1", "--token", c.token], { cwd })).code, 0);
    const hb = await baton(["heartbeat", "sh-1", "--progress", "halfway"], { cwd });
    assert.equal(hb.code, 0);
    const wrong = await baton(["complete", id, "--agent", "sh-1", "--token", "forged"], { cwd });
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /claim token/);
    const done = await baton([
      "complete",
      id,
      "--agent",
      "sh-1",
      "--token",
      c.token,
      "--summary",
      "designed",
      "--artifact",
      "docs/d.md",
    ], { cwd });
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /is completed/);
    // A retry of the same completion (its answer was lost) is the same success; a different one is refused.
    const again = await baton(
      ["complete", id, "--agent", "sh-1", "--token", c.token, "--summary", "designed", "--artifact", "docs/d.md"],
      { cwd },
    );
    assert.equal(again.code, 0, again.stderr);
    const twice = await baton(["complete", id, "--agent", "sh-1", "--token", c.token], { cwd });
    assert.equal(twice.code, 3);
    assert.match(twice.stderr, /completed already, with another summary/);
  });
  await t.step("a human approves the gate; deciding twice or an unknown gate is refused", async () => {
    const gates = JSON.parse((await baton(["gates", "--json"], { cwd })).stdout);
    assert.equal(gates.length, 1);
    const gate = String(gates[0].id);
    const approve = await baton(["approve", gate, "--by", "dana", "--notes", "ok"], { cwd });
    assert.equal(approve.code, 0, approve.stderr);
    assert.match(approve.stdout, /approved by dana/);
    const again = await baton(["approve", gate, "--by", "dana"], { cwd });
    assert.equal(again.code, 3);
    assert.match(again.stderr, /already approved/);
    const unknown = await baton(["approve", "999", "--by", "dana"], { cwd });
    assert.equal(unknown.code, 4);
  });
  await t.step(
    "the read-only views: status, list, queue, agents, audit, ready, context, metrics, blocked",
    async () => {
      const status = await baton(["status", "0001"], { cwd });
      assert.equal(status.code, 0);
      assert.match(status.stdout, /Design Review\s+completed/);
      assert.match(status.stdout, /Implementation\s+available/);
      assert.match(status.stdout, /phase\.complete/);
      const missing = await baton(["status", "9999"], { cwd });
      assert.equal(missing.code, 4);
      assert.match(missing.stderr, /^error: Ticket 9999 does not exist/);
      const dash = await baton(["status"], { cwd });
      assert.match(dash.stdout, /Tickets\s+2 active/);
      assert.match(dash.stdout, /sh-1/);
      assert.deepEqual(
        JSON.parse((await baton(["list", "--json", "--priority", "high"], { cwd })).stdout).map((t: { id: string }) =>
          t.id
        ),
        ["0001"],
      );
      assert.match((await baton(["queue", "implementer"], { cwd })).stdout, /0001\s+Implementation/);
      const agents = await baton(["agents"], { cwd });
      assert.match(agents.stdout, /sh-1\s+active\s+designer/);
      assert.match(agents.stdout, /implementer\s+0\s+-\s+1\s+-/, "agent types with held/max/available/command");
      assert.match((await baton(["audit", "--ticket", "0001", "--limit", "3"], { cwd })).stdout, /ACTION/);
      const ready = JSON.parse((await baton(["ready", "--parallel", "5", "--json"], { cwd })).stdout);
      assert.deepEqual(ready.map((p: { ticketId: string; name: string }) => `${p.ticketId}/${p.name}`), [
        "0001/Implementation",
        "0002/Design",
      ]);
      const ctx = JSON.parse((await baton(["context", String(ready[0].id), "--json"], { cwd })).stdout);
      assert.equal(ctx.phase.name, "Implementation");
      assert.equal(ctx.previousPhases[0].summary, "designed");
      const metrics = await baton(["metrics", "--since", "1d"], { cwd });
      assert.equal(metrics.code, 0);
      assert.match(metrics.stdout, /Design\s+1/);
      const blocked = await baton(["blocked", "--json"], { cwd });
      assert.deepEqual(JSON.parse(blocked.stdout), []);
      const nothing = await baton(["claim", "--agent", "sh-2", "--capabilities", "tester"], { cwd });
      assert.equal(nothing.code, 3);
      assert.match(nothing.stderr, /Nothing to claim/);
    },
  );
});

Deno.test("cli: reject sends work back; dependencies; sweep; doctor", async () => {
  const repo = await seededRepo();
  const opts = { cwd: repo };
  const c = JSON.parse((await baton(["claim", "--agent", "a", "--capabilities", "designer", "--json"], opts)).stdout);
  await baton(["complete", String(c.phase.id), "--agent", "a", "--token", c.token], opts);
  const gate = JSON.parse((await baton(["gates", "--json"], opts)).stdout)[0];
  const rej = await baton(["reject", String(gate.id), "--notes", "needs a diagram", "--changes", "--by", "dana"], opts);
  assert.equal(rej.code, 0, rej.stderr);
  assert.match(rej.stdout, /rejected by dana/);
  const again = JSON.parse(
    (await baton(["claim", "--agent", "b", "--capabilities", "designer", "--json"], opts)).stdout,
  );
  assert.equal(again.reworkNotes, "needs a diagram");

  assert.equal((await baton(["dep", "add", "0002", "0001", "--type", "design"], opts)).code, 0);
  const cycle = await baton(["dep", "add", "0001", "0002"], opts);
  assert.equal(cycle.code, 3);
  assert.match(cycle.stderr, /cycle 0001 -> 0002 -> 0001/);
  assert.match((await baton(["dep", "list"], opts)).stdout, /0002\s+0001\s+design\s+waiting/);
  assert.match((await baton(["blocked"], opts)).stdout, /0002\s+-\s+dependency/);
  assert.equal((await baton(["dep", "rm", "0002", "0001"], opts)).code, 0);
  assert.equal((await baton(["dep", "rm", "0002", "0001"], opts)).code, 4);

  const sweep = await baton(["sweep", "--json"], opts);
  assert.deepEqual(JSON.parse(sweep.stdout), {
    released: 0,
    pruned: { idempotencyKeys: 0, claimMissDays: 0, agents: 0, declarations: 0, auditRows: 0 },
  });
  const doc = await baton(["doctor"], opts);
  assert.equal(doc.code, 0, doc.stdout + doc.stderr);
  assert.match(doc.stdout, /ok\s+integrity: ok/);
});

Deno.test("cli: two processes claiming at once get different phases", async () => {
  const repo = await seededRepo();
  const [a, b] = await Promise.all([
    baton(["claim", "--agent", "p1", "--capabilities", "designer", "--json"], { cwd: repo }),
    baton(["claim", "--agent", "p2", "--capabilities", "designer", "--json"], { cwd: repo }),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const ids = [JSON.parse(a.stdout).phase.id, JSON.parse(b.stdout).phase.id];
  assert.notEqual(ids[0], ids[1]);
  const third = await baton(["claim", "--agent", "p3", "--capabilities", "designer"], { cwd: repo });
  assert.equal(third.code, 3);
});

Deno.test("cli: backup while a writer works, restore refused while in use, then restored", async () => {
  const repo = await seededRepo();
  const backupFile = `${await Deno.makeTempDir()}/b.db`;
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0003", title: "Third" });
  const out = await baton(["backup", backupFile], { cwd: repo });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /backed up to/);
  assert.equal((await baton(["backup", backupFile], { cwd: repo })).code, 2, "never overwrites");
  e.upsertTicket({ id: "0004", title: "Fourth, after the backup" });
  const busy = await baton(["restore", backupFile], { cwd: repo });
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /other processes have it open/);
  e.close();
  const ok = await baton(["restore", backupFile], { cwd: repo });
  assert.equal(ok.code, 0, ok.stderr);
  const after = await openEngine(repo);
  assert.deepEqual(after.listTickets().map((t) => t.id), ["0001", "0002", "0003"]);
  after.close();
});

Deno.test("cli: import, new and sync", async () => {
  const repo = await tempRepo({
    phases: PHASES +
      "ticket_metadata:\n  - {field: priority, type: enum, values: [High, Low], markdown_key: Priority}\n",
  });
  await Deno.mkdir(`${repo}/tickets`);
  await Deno.writeTextFile(
    `${repo}/tickets/0007_cache.md`,
    "# Ticket 0007: Cache\n\n**Priority**: High\n\n## Status\n- [x] Draft\n- [ ] Design Complete\n\n## Workflow Log\n",
  );
  await Deno.writeTextFile(`${repo}/tickets/0008_broken.md`, "no title here\n");
  const imp = await baton(["import"], { cwd: repo });
  assert.equal(imp.code, 1, "a file error makes the exit non-zero");
  assert.match(imp.stdout, /imported 1, updated 0, unchanged 0, skipped 0, errors 1/);
  assert.match(imp.stdout, /error: tickets\/0008_broken\.md/);
  await Deno.remove(`${repo}/tickets/0008_broken.md`);
  const again = JSON.parse((await baton(["import", "--json"], { cwd: repo })).stdout);
  assert.deepEqual(again.unchanged, ["0007"]);
  const created = await baton(["new", "Faster imports", "--priority", "Low"], { cwd: repo });
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /created ticket 0008: tickets\/0008_faster_imports\.md/);
  const c = JSON.parse(
    (await baton(["claim", "--agent", "a", "--capabilities", "designer", "--json"], { cwd: repo })).stdout,
  );
  assert.equal(c.ticket.id, "0007");
  await baton(["complete", String(c.phase.id), "--agent", "a", "--token", c.token, "--summary", "cache designed"], {
    cwd: repo,
  });
  const sync = await baton(["sync"], { cwd: repo });
  assert.equal(sync.code, 0, sync.stderr);
  assert.match(sync.stdout, /written 1/);
  const text = await Deno.readTextFile(`${repo}/tickets/0007_cache.md`);
  assert.match(text, /- \[x\] Design Complete/);
  assert.match(text, /cache designed/);
});

Deno.test("cli: watch follows events written by another process", async () => {
  const repo = await seededRepo();
  const child = new Deno.Command(Deno.execPath(), {
    // --after 0 replays the import first: its events say the watcher is running.
    args: ["run", "-A", CLI, "watch", "--json", "--after", "0"],
    cwd: repo,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let pending: Promise<ReadableStreamReadResult<string>> | undefined;
  // Reads until `pred` holds; false at EOF or after 30 s (a hang guard: events arrive within a poll interval).
  const readUntil = async (pred: (s: string) => boolean) => {
    const deadline = Date.now() + 30_000;
    while (!pred(buf)) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      pending ??= reader.read();
      const r = await Promise.race([
        pending,
        new Promise<null>((res) => timer = setTimeout(() => res(null), Math.max(0, deadline - Date.now()))),
      ]);
      clearTimeout(timer);
      if (r === null || r.done) return false;
      pending = undefined;
      buf += r.value;
    }
    return true;
  };
  assert.ok(await readUntil((s) => s.includes("\n")), `the watcher replayed nothing: ${buf}`);
  assert.ok(!buf.includes("phase.claim"));
  const claim = await baton(["claim", "--agent", "w1", "--capabilities", "designer"], { cwd: repo });
  assert.equal(claim.code, 0, claim.stderr);
  assert.ok(await readUntil((s) => s.includes("phase.claim")), `the watcher did not see the claim: ${buf}`);
  child.kill("SIGINT");
  await child.status;
  const event = JSON.parse(buf.split("\n").find((l) => l.includes("phase.claim"))!);
  assert.equal(event.actor, "w1");
  assert.match(event.at, /^\d{4}-\d\d-\d\dT/);
});

Deno.test("cli: status --watch redraws the dashboard when another process claims, and Ctrl-C ends it", async () => {
  const repo = await tempRepo({ phases: EXAMPLE_PHASES });
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "Watched" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "status", "--watch"],
    cwd: repo,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const until = async (re: RegExp) => {
    const deadline = Date.now() + 20_000;
    while (!re.test(out)) {
      const { value, done } = await reader.read();
      if (done || Date.now() > deadline) throw new Error(`no ${re} in: ${out}`);
      out += value;
    }
  };
  await until(/Ctrl-C ends\)/);
  assert.doesNotMatch(out, /watcher-1/);
  const frames = out.split("\x1b[2J").length;
  const c = e.claimNext({ agentId: "watcher-1", capabilities: ["designer"] })!;
  await until(/watcher-1/);
  assert.ok(out.split("\x1b[2J").length > frames, "a new frame, not an appended line");
  child.kill("SIGINT");
  const status = await child.status;
  void reader.cancel();
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  e.release(c.phase.id, { agentId: "watcher-1", token: c.token, reason: "test" });
  e.close();
});

Deno.test("cli: the storage demo proves no duplicate claims", async () => {
  const out = await baton(["demo", "--storage", "--agents", "3", "--items", "60"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /60 claims in \d+ ms across 3 processes; duplicates 0; unclaimed 0; integrity ok/);
});

Deno.test("cli: the demo (README's first command) runs the main job and checks its own end state", async () => {
  const out = await baton(["demo", "--keep"], { timeoutMs: 300_000 });
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /demo repository .*: 8 tickets imported from markdown/);
  assert.match(out.stdout, /baton run: spawned designer-\S+ for 0001\/Design in .*\.workflow\/worktrees\/0001/);
  assert.match(out.stdout, /human: rejects the design of 0003 with notes/);
  assert.match(out.stdout, /Tickets\s+0 active, 8 completed/);
  assert.match(out.stdout, /- \[x\] Merged \/ Complete/, "the ticket's markdown is synced");
  assert.match(out.stdout, /Merge Security Review of 0002/);
  assert.match(out.stdout, /merge: 0007 breaks sh check\.sh: sent back for rework/);
  assert.match(
    out.stdout,
    /All 8 tickets landed on main, where the check passes; .* no phase was ever held by two agents\./,
  );
  // The kept repository holds what the demo says, checked through the library and git.
  const repo = /kept the repository: (\S+)/.exec(out.stdout)![1];
  const e = await openEngine(repo);
  assert.deepEqual(e.listTickets().map((t) => t.status), Array(8).fill("completed"));
  const claims = e.audit({ action: "phase.claim", limit: 100_000 });
  assert.ok(claims.length >= 30);
  const reworked = e.audit({ ticketId: "0003", action: "phase.rework" }).filter((a) => a.details?.phase === "Design");
  assert.equal(reworked.length, 1);
  // Landed: main holds every ticket's work, the check passes there, and main moved only to checked candidates.
  const m = e.mergeMetrics(0);
  assert.equal(m.landed, 8);
  assert.equal(m.culprits, 1);
  const files = new TextDecoder().decode(
    new Deno.Command("git", { args: ["ls-tree", "--name-only", "main"], cwd: repo, stdout: "piped" }).outputSync()
      .stdout,
  );
  for (let i = 1; i <= 8; i++) assert.match(files, new RegExp(`^000${i}-implementation\\.md$`, "m"));
  assert.ok(new Deno.Command("sh", { args: ["check.sh"], cwd: repo, stdout: "null" }).outputSync().success);
  e.close();
  await Deno.remove(repo, { recursive: true });
});

Deno.test("cli: fail retries later, release gives the phase back", async () => {
  const repo = await tempRepo({ phases: PHASES, config: "retry:\n  max_attempts: 2\n  backoff_seconds: 3600\n" });
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "One" });
  e.upsertTicket({ id: "0002", title: "Two" });
  e.close();
  const opts = { cwd: repo };
  const a = JSON.parse((await baton(["claim", "--agent", "x", "--capabilities", "designer", "--json"], opts)).stdout);
  const failed = await baton([
    "fail",
    String(a.phase.id),
    "--agent",
    "x",
    "--token",
    a.token,
    "--error",
    "tool crashed",
  ], opts);
  assert.equal(failed.code, 0, failed.stderr);
  assert.match(failed.stdout, /is waiting retry/);
  assert.match((await baton(["blocked"], opts)).stdout, /0001\s+Design\s+retry_backoff/);
  const b = JSON.parse((await baton(["claim", "--agent", "y", "--capabilities", "designer", "--json"], opts)).stdout);
  assert.equal(b.ticket.id, "0002", "0001 backs off");
  const released = await baton([
    "release",
    String(b.phase.id),
    "--agent",
    "y",
    "--token",
    b.token,
    "--reason",
    "wrong agent",
  ], opts);
  assert.equal(released.code, 0, released.stderr);
  assert.match(released.stdout, /is available/);
  const noError = await baton(["fail", String(b.phase.id), "--agent", "y", "--token", b.token], opts);
  assert.equal(noError.code, 2);
  assert.match(noError.stderr, /fail needs --error/);
});

Deno.test("cli: status shows a group phase completed on a branch not merged yet, and why what follows waits", async () => {
  const repo = await tempRepo({
    phases: `phases:
  - {name: Design, agent_type: designer}
  - {name: Review, agent_type: reviewer}
parallel_groups:
  impl:
    after: Design
    before: Review
    phases:
      - {name: Implement API, agent_type: api}
      - {name: Implement UI, agent_type: ui}
`,
  });
  const e = await openEngine(repo);
  try {
    e.upsertTicket({ id: "0001", title: "First" });
    for (const type of ["designer", "api", "ui"]) {
      const c = e.claimNext({ agentId: `${type}-1`, capabilities: [type] })!;
      if (type !== "designer") {
        e.recordPhaseBranch(c.phase.id, { agentId: `${type}-1`, token: c.token, branch: `baton/0001--${type}` });
      }
      e.complete(c.phase.id, { agentId: `${type}-1`, token: c.token });
    }
  } finally {
    e.close();
  }
  const status = await baton(["status", "0001"], { cwd: repo });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /Implement API\s+completed, not merged yet \(baton\/0001--api\)/);
  assert.match(status.stdout, /Implement UI\s+completed, not merged yet \(baton\/0001--ui\)/);
  assert.match(status.stdout, /Design\s+completed\s/, "a phase outside the group is only completed");
  assert.match(status.stdout, /Review\s+pending/);
  const blocked = await baton(["blocked"], { cwd: repo });
  assert.equal(blocked.code, 0, blocked.stderr);
  assert.match(blocked.stdout, /0001.*Implement API.*unmerged.*baton\/0001--api is not merged/);
});

Deno.test("cli: a number or a time out of range is a usage error, never SQLite's nor an internal one", async () => {
  const cwd = await seededRepo();
  for (
    const args of [["audit", "--limit", "99999999999999999999"], ["audit", "--limit", "1e3"], [
      "audit",
      "--limit",
      "0x10",
    ]]
  ) {
    const r = await baton(args, { cwd });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /--limit must be an integer ≥ 1/);
  }
  const since = await baton(["metrics", "--since", "99999999999d"], { cwd });
  assert.equal(since.code, 2, since.stderr);
  assert.match(since.stderr, /since must be a duration like 2h, 3d, 30m or a date within the years a date can hold/);
  assert.doesNotMatch(since.stderr, /Invalid time value/);
});

Deno.test("cli: with --json a failure is JSON on stdout too, with its code; a tickets.directory that is missing or a file is said, not a silent empty import", async () => {
  const cwd = await seededRepo();
  const missing = await baton(["status", "9999", "--json"], { cwd });
  assert.equal(missing.code, 4);
  assert.deepEqual(JSON.parse(missing.stdout), {
    error: { code: "not_found", message: "Ticket 9999 does not exist" },
  });
  assert.match(missing.stderr, /^error: Ticket 9999 does not exist/, "people still read it on stderr");
  // The tickets have files; then tickets.directory is misspelt.
  await Deno.mkdir(`${cwd}/tickets`);
  await Deno.writeTextFile(`${cwd}/tickets/0003_third.md`, "# Ticket 0003: Third\n");
  assert.equal((await baton(["import"], { cwd })).code, 0);
  const config = `${cwd}/.workflow/config.yaml`;
  await Deno.writeTextFile(config, "tickets:\n  directory: tckets\n", { append: true });
  const imported = await baton(["import"], { cwd });
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(
    imported.stdout + imported.stderr,
    /tickets\.directory "tckets" does not exist: no ticket file was read/,
  );
  const doctor = await baton(["doctor"], { cwd });
  assert.match(
    doctor.stdout,
    /FAIL\s+ticket files: tickets\.directory "tckets" does not exist, though Baton has tickets/,
  );
  await Deno.writeTextFile(`${cwd}/tckets`, "a file\n");
  const file = await baton(["import", "--json"], { cwd });
  assert.notEqual(file.code, 0);
  assert.equal(JSON.parse(file.stdout).error.code, "config_invalid");
  assert.match((await baton(["doctor"], { cwd })).stdout, /FAIL\s+ticket files: tickets\.directory "tckets" is a file/);
});
