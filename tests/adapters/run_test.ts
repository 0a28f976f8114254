/**
 * `baton run` with real processes, git and worktrees (issue 16): a backlog
 * run to completion while a human approves gates through the CLI, commits on
 * the right branches, one agent per worktree, max_concurrent across two
 * supervisors, agents that are killed, exit early, time out or stall, a
 * killed supervisor restarted, and a parallel group merged back (a conflict
 * becoming rework).
 */
import assert from "node:assert/strict";
import { type Engine, openEngine } from "../../mod.ts";
import { approveGatesUntil, git, runRepo, startRun } from "../helpers/run_repo.ts";
import { baton } from "../helpers/cli.ts";
import { skipHeavy } from "../helpers/heavy.ts";
import { processStart } from "../../src/processes.ts";

/** Spawn and exit times of each agent, from the supervisor's output: never two in one worktree at once. */
function worktreeOccupancy(out: string): Map<string, [number, number][]> {
  const spawned = new Map<string, { dir: string; at: number }>();
  const byDir = new Map<string, [number, number][]>();
  let i = 0;
  for (const line of out.split("\n")) {
    i++;
    const s = /spawned (\S+) for \S+ in (\S+) \(pid/.exec(line);
    if (s) spawned.set(s[1], { dir: s[2], at: i });
    const e = /^\S+ (\S+) \([^)]*\)(?: exited \d+)?: /.exec(line);
    if (e && spawned.has(e[1])) {
      const { dir, at } = spawned.get(e[1])!;
      byDir.set(dir, [...(byDir.get(dir) ?? []), [at, i]]);
      spawned.delete(e[1]);
    }
  }
  assert.equal(spawned.size, 0, `agents with no exit in the log: ${[...spawned.keys()].join(", ")}`);
  return byDir;
}

/** No phase is ever held by two agents: in the audit, its claims and their ends alternate. */
function assertNeverHeldTwice(e: Engine): void {
  const held = new Map<string, number>();
  const ends = ["phase.complete", "phase.fail", "phase.release", "phase.stale", "phase.request_review"];
  for (const a of e.audit({ limit: 1_000_000 })) {
    if (a.entityType !== "phase") continue;
    if (a.action === "phase.claim") {
      held.set(a.entityId, (held.get(a.entityId) ?? 0) + 1);
      assert.ok(held.get(a.entityId)! <= 1, `phase ${a.entityId} claimed while held`);
    } else if (ends.includes(a.action)) held.set(a.entityId, 0);
  }
}

/** Never two agents in one worktree at once, from the supervisor's log. */
function assertOneAgentPerWorktree(out: string): void {
  for (const [dir, spans] of worktreeOccupancy(out)) {
    const sorted = spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i][0] > sorted[i - 1][1], `two agents in ${dir}`);
  }
}

Deno.test({
  name: "run: a backlog of 5 tickets to completion, gates approved through the CLI while it runs",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(
      Array.from({ length: 5 }, (_, i) => ({
        id: `000${i + 1}`,
        title: `Feature ${i + 1}`,
        metadata: { needs_docs: i % 2 === 0, security_sensitive: i === 1 },
      })),
      { perType: { implementer: "max_concurrent: 2" } },
    );
    const run = startRun(repo);
    const approvals = approveGatesUntil(repo, run.done);
    const r = await run.done;
    assert.equal(r.code, 0, r.out + r.err);
    assert.ok((await approvals) >= 10, "two gates per ticket");
    const e = await openEngine(repo);
    assert.deepEqual(e.listTickets().map((t) => t.status), Array(5).fill("completed"));
    // Every agent phase's commit is on its ticket's branch (group phases merged into it).
    for (const t of e.listTickets()) {
      const log = git(repo, "log", "--format=%s", `baton/${t.id}`);
      for (const p of e.ticket(t.id).phases.filter((x) => x.agentType && x.status === "completed")) {
        assert.match(log, new RegExp(`^${t.id} ${p.name}: `, "m"), `${t.id}/${p.name} on baton/${t.id}`);
      }
    }
    assertNeverHeldTwice(e);
    e.close();
    assertOneAgentPerWorktree(r.out);
    // Finished tickets' worktrees are gone, their branches kept; main is untouched.
    assert.deepEqual(git(repo, "worktree", "list").split("\n").length, 1);
    assert.match(git(repo, "branch", "--list", "baton/*"), /baton\/0005/);
    assert.equal(git(repo, "log", "--format=%s", "main").split("\n").length, 1);
    // A parallel group of one (Security Review skipped: not security-sensitive) works on the ticket branch: no
    // branch of its own, no merge commit. Ticket 0002 ran both members, each on its own branch, merged back.
    for (const id of ["0001", "0003", "0004", "0005"]) {
      assert.equal(git(repo, "log", "--merges", "--format=%s", `baton/${id}`), "", `${id}: no merge commit`);
    }
    assert.match(git(repo, "log", "--merges", "--format=%s", "baton/0002"), /Merge Security Review of 0002/);
    // Merged phase branches are deleted (their ticket branch has every commit); ticket branches stay.
    assert.equal(git(repo, "branch", "--list", "baton/*--*"), "");
    assert.equal(git(repo, "branch", "--list", "baton/*").split("\n").length, 5);
  },
});

Deno.test({
  name: "run: max_concurrent holds across two supervisors on one repository",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(
      Array.from(
        { length: 4 },
        (_, i) => ({ id: `000${i + 1}`, title: `T${i + 1}`, metadata: { scripted: "slow:1@Design" } }),
      ),
      { perType: { designer: "max_concurrent: 1" } },
    );
    const a = startRun(repo, ["--until-idle", "--types", "designer"]);
    const b = startRun(repo, ["--until-idle", "--types", "designer"]);
    const approvals = approveGatesUntil(repo, Promise.all([a.done, b.done]));
    const [ra, rb] = await Promise.all([a.done, b.done]);
    await approvals;
    assert.equal(ra.code, 0, ra.out + ra.err);
    assert.equal(rb.code, 0, rb.out + rb.err);
    const e = await openEngine(repo);
    // Held designer phases over time, from the audit: never more than one.
    const events = e.audit({ limit: 100_000 }).filter((x) =>
      x.details?.phase === "Design" &&
      ["phase.claim", "phase.complete", "phase.fail", "phase.release"].includes(x.action)
    );
    let held = 0, max = 0;
    for (const ev of events) {
      held += ev.action === "phase.claim" ? 1 : -1;
      max = Math.max(max, held);
    }
    assert.equal(max, 1);
    assert.equal(events.filter((x) => x.action === "phase.claim").length, 4);
    assert.match(ra.out + rb.out, /spawned designer-/);
    e.close();
  },
});

Deno.test({
  name: "run: a killed agent fails its attempt with its stderr tail; the retry succeeds",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo([{ id: "0001", title: "Flaky", metadata: { scripted: "hang-once@Design" } }]);
    const run = startRun(repo, ["--until-idle", "--types", "designer"]);
    const m = await run.waitFor(/spawned (designer-\S+) for 0001\/Design .*\(pid (\d+)\)/);
    // Wait for the agent to say it is working, then kill it as the OOM killer would.
    const e = await openEngine(repo);
    const phase = e.ticket("0001").phases[0];
    for (let i = 0; i < 200 && !/this attempt will hang/.test(logOf(repo)); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    Deno.kill(Number(m[2]), "SIGKILL");
    await run.waitFor(/spawned designer-\S+ for 0001\/Design/);
    const approvals = approveGatesUntil(repo, run.done);
    const r = await run.done;
    await approvals;
    assert.equal(r.code, 0, r.out + r.err);
    const p = e.ticket("0001").phases.find((x) => x.id === phase.id)!;
    assert.equal(p.status, "completed");
    assert.equal(p.attempts, 2);
    const failed = e.audit({ ticketId: "0001", action: "phase.fail" })[0];
    assert.match(String(failed.details?.error), /^agent exited with code \d+ \(SIGKILL\) without completing/);
    assert.match(String(failed.details?.error), /the last lines of its stderr[\s\S]*this attempt will hang/);
    e.close();
  },
});

function logOf(repo: string): string {
  try {
    return [...Deno.readDirSync(`${repo}/.workflow/logs`)].filter((f) => f.name.endsWith(".log"))
      .map((f) => Deno.readTextFileSync(`${repo}/.workflow/logs/${f.name}`)).join("\n");
  } catch {
    return "";
  }
}

Deno.test({
  name: "run: an agent that exits 0 without completing fails its phase; one over its time limit is ended and fails",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo([
      { id: "0001", title: "Early", metadata: { scripted: "exit-early@Design" } },
      { id: "0002", title: "Forever", metadata: { scripted: "hang@Design" } },
      // A limit of 9 s: the agent that leaves early must start and leave within it even with the other core busy
      // (at 1.8 s, a loaded machine's deno start alone could pass it).
    ], { perType: { designer: "max_runtime_minutes: 0.15" }, config: "" });
    await Deno.writeTextFile(
      `${repo}/.workflow/config.yaml`,
      (await Deno.readTextFile(`${repo}/.workflow/config.yaml`)).replace("max_attempts: 3", "max_attempts: 1") +
        "run:\n  grace_seconds: 0.5\n",
    );
    const r = await startRun(repo, ["--until-idle", "--types", "designer"]).done;
    assert.equal(r.code, 1, r.out + r.err); // work failed for good (issue 22)
    const e = await openEngine(repo);
    const early = e.ticket("0001").phases[0], late = e.ticket("0002").phases[0];
    assert.equal(early.status, "failed");
    assert.match(early.error ?? "", /^agent exited with code 0 without completing/);
    assert.match(early.error ?? "", /leaving without completing/);
    assert.equal(late.status, "failed");
    assert.match(late.error ?? "", /^timed out after 0\.15 min/);
    e.close();
  },
});

Deno.test({
  name: "run: a stall becomes an escalation with the agent's last output; a human clears it",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo([{ id: "0001", title: "Quiet", metadata: { scripted: "stall@Design" } }], {
      config: "stall_timeout_minutes: 0.05\n",
    });
    const run = startRun(repo, ["--types", "designer"]);
    await run.waitFor(/escalation: 0001\/Design \(designer-\S+\) made no progress/, 60_000);
    const st = await baton(["escalations"], { cwd: repo });
    assert.match(st.stdout, /0001\s+\d+ Design\s+designer-\S+.*no progress for 0 min/);
    assert.match(st.stdout, /started, and now silent/);
    const status = await baton(["status"], { cwd: repo });
    assert.match(status.stdout, /Escalations\s+1/);
    const phaseId = await openEngine(repo).then((e) => {
      const id = e.ticket("0001").phases[0].id;
      e.close();
      return id;
    });
    const rel = await baton(
      ["release", String(phaseId), "--by", "dana", "--reason", "the agent is stuck; start over"],
      {
        cwd: repo,
      },
    );
    assert.equal(rel.code, 0, rel.stderr);
    const e = await openEngine(repo);
    assert.deepEqual(e.escalations(), []);
    assert.equal(e.escalations({ all: true })[0].resolution, "released");
    e.close();
    run.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill("SIGINT"); // the second Ctrl-C ends the agents
    const r = await run.done;
    assert.equal(r.code, 0, r.out + r.err);
  },
});

Deno.test({
  name: "run: a killed supervisor, restarted, finishes the backlog",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(
      Array.from({ length: 3 }, (_, i) => ({ id: `000${i + 1}`, title: `T${i + 1}`, metadata: { needs_docs: false } })),
    );
    const first = startRun(repo, []);
    const early = approveGatesUntil(repo, first.done);
    await first.waitFor(/spawned implementer-/, 60_000);
    first.child.kill("SIGKILL"); // its agents go on, or their leases expire
    await first.done;
    await early;
    const second = startRun(repo);
    const approvals = approveGatesUntil(repo, second.done);
    const r = await second.done;
    await approvals;
    assert.equal(r.code, 0, r.out + r.err);
    const e = await openEngine(repo);
    assert.deepEqual(e.listTickets().map((t) => t.status), ["completed", "completed", "completed"]);
    e.close();
  },
});

/**
 * A repository whose one Design phase's agent hangs on its first attempt, run by a supervisor (designers only), with
 * leases of an hour (only a restarted supervisor's check can bring the phase back within a test); resolves once the
 * agent says it hangs, with the supervisor and the spawn line (agent id, pid).
 */
async function hangingDesign() {
  const repo = await runRepo([{ id: "0001", title: "Orphaned", metadata: { scripted: "hang-once@Design" } }]);
  const cfg = `${repo}/.workflow/config.yaml`;
  await Deno.writeTextFile(
    cfg,
    (await Deno.readTextFile(cfg)).replace("stale_timeout_minutes: 1", "stale_timeout_minutes: 60"),
  );
  const first = startRun(repo, ["--types", "designer"]);
  const m = await first.waitFor(/spawned (designer-\S+) for 0001\/Design .*\(pid (\d+)\)/);
  for (let i = 0; i < 400 && !/this attempt will hang/.test(logOf(repo)); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return { repo, first, m };
}

Deno.test({
  name: "run: an agent left running by a killed supervisor is ended by the next one, its phase released at once; " +
    "never two agents in one worktree",
  ignore: skipHeavy,
  fn: async () => {
    const { repo, first, m } = await hangingDesign();
    first.child.kill("SIGKILL"); // the supervisor alone: its agent (a session of its own) goes on
    await first.done;
    const orphan = Number(m[2]);
    assert.notEqual(processStart(orphan), null, "the agent outlived its supervisor");
    const second = startRun(repo, ["--until-idle", "--types", "designer"]);
    const approvals = approveGatesUntil(repo, second.done);
    const r = await second.done;
    await approvals;
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(
      r.out,
      new RegExp(
        `${m[1]}: its supervisor \\(pid \\d+\\) was killed; the agent it left running \\(pid ${orphan}\\) was ended`,
      ),
    );
    assert.equal(processStart(orphan), null, "the orphaned agent still runs");
    const e = await openEngine(repo);
    const p = e.ticket("0001").phases[0];
    assert.equal(p.status, "completed", r.out);
    assert.equal(p.attempts, 2);
    e.close();
    assertOneAgentPerWorktree(r.out);
  },
});

Deno.test({
  name: "run: a supervisor killed with its agent, restarted, releases the dead agent's phase at once (no lease wait)",
  ignore: skipHeavy,
  fn: async () => {
    const { repo, first, m } = await hangingDesign();
    first.child.kill("SIGKILL");
    Deno.kill(Number(m[2]), "SIGKILL"); // the machine rebooted, or the OOM killer took both
    await first.done;
    const second = startRun(repo, ["--until-idle", "--types", "designer"]);
    const approvals = approveGatesUntil(repo, second.done);
    const r = await second.done;
    await approvals;
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, new RegExp(`released 0001/Design of ${m[1]}: its process \\(pid ${m[2]} on .*\\) is gone`));
    const e = await openEngine(repo);
    const p = e.ticket("0001").phases[0];
    assert.equal(p.status, "completed", r.out);
    assert.equal(p.attempts, 2);
    const stale = e.audit({ ticketId: "0001", action: "phase.stale" })[0];
    assert.equal(stale.actor, "baton-run");
    e.close();
  },
});

Deno.test({
  name: "run: a parallel group is merged back into the ticket branch; a conflict sends the later phase back as rework",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo([
      { id: "0001", title: "Clean group", metadata: { security_sensitive: true, needs_docs: false } },
      {
        id: "0002",
        title: "Conflicting group",
        metadata: { security_sensitive: true, needs_docs: false, scripted: "conflict" },
      },
    ]);
    const run = startRun(repo);
    const approvals = approveGatesUntil(repo, run.done);
    const r = await run.done;
    await approvals;
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /merge conflict: 0002\/(Tests|Security Review) \(shared-notes\.md\) goes back for rework/);
    const e = await openEngine(repo);
    assert.deepEqual(e.listTickets().map((t) => t.status), ["completed", "completed"], r.out);
    assertNeverHeldTwice(e);
    assertOneAgentPerWorktree(r.out);
    const reworked = e.audit({ ticketId: "0002", action: "phase.rework" }).filter((a) => a.details?.returned);
    assert.ok(reworked.length >= 1);
    const phase = e.ticket("0002").phases.find((p) => p.name === String(reworked[0].details?.returned))!;
    assert.ok(phase.attempts >= 2 || phase.status === "completed");
    e.close();
    for (const t of ["0001", "0002"]) {
      const merges = git(repo, "log", "--merges", "--format=%s", `baton/${t}`);
      assert.match(merges, new RegExp(`Merge Tests of ${t}`));
      assert.match(merges, new RegExp(`Merge Security Review of ${t}`));
    }
    // The group's branches are gone once merged: their commits are on the ticket branches; no worktree is left.
    assert.equal(git(repo, "branch", "--list", "baton/*--*"), "");
    assert.equal(git(repo, "worktree", "list").split("\n").length, 1);
  },
});

Deno.test({
  name: "run: a parallel group that ends the workflow lands all of its work: the merge queue waits until the " +
    "group's branches are merged into the ticket branch, even while their agents linger",
  ignore: skipHeavy,
  fn: async () => {
    const phases = `phases:
  - name: Implementation
    agent_type: implementer
parallel_groups:
  finish:
    after: Implementation
    phases:
      - name: Tests
        agent_type: test-writer
      - name: Docs
        agent_type: docs-writer
`;
    // Each agent stays a while after completing (a CLI's last model turn): the group's merge waits for them.
    const repo = await runRepo([{ id: "0001", title: "Checkout page", metadata: { scripted: "linger:3" } }], {
      phases,
      config: 'merge:\n  check: "true"\n  batch_wait_seconds: 0\n',
    });
    const r = await startRun(repo, ["--until-idle"]).done;
    assert.equal(r.code, 0, r.out + r.err);
    const files = git(repo, "ls-tree", "--name-only", "main").split("\n");
    for (const f of ["0001-implementation.md", "0001-tests.md", "0001-docs.md"]) {
      assert.ok(files.includes(f), `main lacks ${f}: ${files.join(", ")}\n${r.out}`);
    }
    const e = await openEngine(repo);
    try {
      assert.equal(e.ticket("0001").status, "completed");
      assert.deepEqual(e.unmergedBranches(), []);
      // The landing phase became available only after the group's branches were said to be merged.
      const audit = e.audit({ ticketId: "0001", limit: 10_000 }).toSorted((a, b) => a.id - b.id);
      const merged = audit.filter((a) => a.action === "phase.branch_merged").map((a) => a.id);
      const landing = audit.find((a) => a.action === "phase.resolve" && a.details?.phase === "Merge")!;
      assert.equal(merged.length, 2, JSON.stringify(audit.map((a) => a.action)));
      assert.ok(merged.every((id) => id < landing.id), "Merge became available before the group was merged");
    } finally {
      e.close();
    }
  },
});
