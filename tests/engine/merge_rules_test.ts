/**
 * The merge queue's rules in the engine (issue 23), with real SQLite: the
 * landing phase every ticket gets, who may claim it, the worker's lease and
 * fencing, batches and their outcomes, and the configuration's checks.
 */
import assert from "node:assert/strict";
import { BatonError, loadWorkflowConfig } from "../../mod.ts";
import { engineFor, tempRepo } from "../helpers/repo.ts";

const PHASES = "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Build, agent_type: builder}\n";
const MERGE = 'merge:\n  check: "npm test"\n  batch_size: 2\n  batch_wait_seconds: 30\n  lease_minutes: 1\n';

function done(e: Awaited<ReturnType<typeof engineFor>>["engine"], id: string) {
  e.upsertTicket({ id, title: `T ${id}` });
  for (const [i, type] of ["designer", "builder"].entries()) {
    const phase = e.ticket(id).phases[i];
    const c = e.claim(phase.id, { agentId: `${type}-${id}`, capabilities: [type] });
    e.complete(c.phase.id, { agentId: `${type}-${id}`, token: c.token, summary: "done" });
  }
}

Deno.test("merge rules: every ticket ends with the landing phase; completed only once landed; dependents wait for it", async () => {
  const { engine: e } = await engineFor({ phases: PHASES, config: MERGE });
  e.createTickets([{ id: "0001", title: "A" }, { id: "0002", title: "B", dependencies: [{ on: "0001" }] }]);
  assert.deepEqual(e.ticket("0001").phases.map((p) => p.name), ["Design", "Build", "Merge"]);
  done(e, "0001");
  assert.equal(e.ticket("0001").status, "active", "not completed before it lands");
  assert.equal(e.ticket("0002").phases[0].status, "blocked", "a dependent waits for the landing");
  const lease = e.acquireMergeWorker("w")!;
  const b = e.startMergeBatch(lease, { baseSha: "base", now: true })!;
  e.recordMergeCandidate(lease, b.id, { candidateSha: "cand", shas: { 0: "cand" }, builds: 1, checkMs: 10 });
  e.landMergeBatch(lease, b.id);
  assert.equal(e.ticket("0001").status, "completed");
  assert.match(e.ticket("0001").phases[2].resultSummary ?? "", /Landed on main as cand/);
  assert.equal(e.ticket("0002").phases[0].status, "available", "the dependent goes on once landed");
  e.close();
});

Deno.test("merge rules: no agent claims a landing phase, by type or by id", async () => {
  const { engine: e } = await engineFor({ phases: PHASES, config: MERGE });
  done(e, "0001");
  const landing = e.ticket("0001").phases[2];
  assert.throws(() => e.claimNext({ agentId: "x", capabilities: ["merge-queue"] }), { code: "forbidden" });
  e.registerAgent("x", ["builder"]);
  assert.throws(() => e.claim(landing.id, { agentId: "x", capabilities: ["builder"] }), { code: "forbidden" });
  assert.equal(e.ticket("0001").phases[2].status, "available");
  e.close();
});

Deno.test("merge rules: one worker at a time; a silent worker's lease ends and its stale token is refused", async () => {
  const { engine: e, clock } = await engineFor({ phases: PHASES, config: MERGE });
  done(e, "0001");
  const a = e.acquireMergeWorker("a")!;
  assert.equal(e.acquireMergeWorker("b"), null);
  clock.advance(30_000);
  e.renewMergeWorker(a);
  clock.advance(45_000);
  assert.equal(e.acquireMergeWorker("b"), null, "renewed: still a's");
  clock.advance(20_000);
  const b = e.acquireMergeWorker("b")!;
  assert.ok(b, "a's lease ended");
  assert.throws(() => e.renewMergeWorker(a), { code: "stale_token" });
  assert.throws(() => e.startMergeBatch(a, { baseSha: "x", now: true }), { code: "stale_token" });
  assert.ok(e.startMergeBatch(b, { baseSha: "x", now: true }));
  e.close();
});

Deno.test("merge rules: a batch waits to fill (batch_size or batch_wait_seconds); requeued tickets keep their place", async () => {
  const { engine: e, clock } = await engineFor({ phases: PHASES, config: MERGE });
  done(e, "0001");
  clock.advance(1000);
  done(e, "0002");
  clock.advance(1000);
  done(e, "0003");
  const lease = e.acquireMergeWorker("w")!;
  const b = e.startMergeBatch(lease, { baseSha: "x" })!;
  assert.deepEqual(b.items.map((i) => i.ticketId), ["0001", "0002"], "two waiting fill a batch of two");
  assert.equal(e.startMergeBatch(lease, { baseSha: "x" }), null, "one alone waits");
  clock.advance(31_000);
  e.requeueMerge(lease, b.id, [0, 1], "the target moved");
  assert.deepEqual(e.mergeQueue().map((q) => q.ticketId), ["0001", "0002", "0003"], "back in their place");
  e.close();
});

Deno.test("merge rules: a culprit returns to its rework phase with the notes; a conflict too; a revert reopens the ticket", async () => {
  const { engine: e } = await engineFor({ phases: PHASES, config: MERGE + "  rework_phase: Build\n" });
  done(e, "0001");
  done(e, "0002");
  const lease = e.acquireMergeWorker("w")!;
  const b = e.startMergeBatch(lease, { baseSha: "x", now: true })!;
  e.sendBackFromMerge(lease, b.id, 0, { outcome: "culprit", notes: "npm test: 3 failing" });
  e.sendBackFromMerge(lease, b.id, 1, { outcome: "conflict", notes: "conflicted in: src/a.ts" });
  for (const [id, notes] of [["0001", "3 failing"], ["0002", "src/a.ts"]]) {
    const t = e.ticket(id);
    assert.equal(t.phases[0].status, "completed", "Design stays done");
    assert.equal(t.phases[1].status, "available");
    assert.match(t.phases[1].reworkNotes ?? "", new RegExp(notes));
    assert.equal(t.phases[2].status, "pending", "the landing waits for the rework");
  }
  // A landed ticket reverted: the ticket reopens at Build, a revert is queued with its commit.
  done(e, "0003");
  const b2 = e.startMergeBatch(lease, { baseSha: "y", now: true })!;
  e.landMergeBatch(lease, b2.id, { shas: { 0: "landed-sha" } });
  e.revertMerge("0003", { actor: { kind: "human", name: "dana" }, notes: "breaks the export" });
  assert.equal(e.ticket("0003").phases[1].status, "available");
  assert.match(e.ticket("0003").phases[1].reworkNotes ?? "", /Reverted from main: breaks the export/);
  const rb = e.startMergeBatch(lease, { baseSha: "z" })!;
  assert.equal(rb.items[0].kind, "revert");
  assert.deepEqual(e.mergeRevert(rb.items[0].revertId!).shas, ["landed-sha"]);
  e.close();
});

Deno.test("merge rules: the configuration is checked: a reserved type, a clash of names, an unknown rework phase", async () => {
  const bad = [
    ["phases:\n  - {name: Build, agent_type: merge-queue}\n", "", /reserved for the merge queue/],
    [
      "phases:\n  - {name: Build, agent_type: builder}\n  - {name: Merge, agent_type: builder}\n",
      MERGE,
      /a phase named "Merge" exists already/,
    ],
    [PHASES, MERGE + "  rework_phase: Nope\n", /rework phase "Nope" is not an agent phase/],
    [PHASES, "merge:\n  target: main\n", /check/],
  ] as const;
  for (const [phases, config, re] of bad) {
    const repo = await tempRepo({ phases, config });
    assert.throws(
      () => loadWorkflowConfig(repo),
      (e) =>
        e instanceof BatonError && e.code === "config_invalid" &&
        re.test(JSON.stringify(e.details ?? e.message) + e.message),
    );
  }
});

Deno.test("merge rules: a culprit goes back to the group phase that replaced its rework phase on the ticket, not to the last phase", async () => {
  const { engine: e } = await engineFor({
    phases: `phases:
  - {name: Design, agent_type: designer}
  - {name: Implementation, agent_type: implementer}
  - {name: Docs, agent_type: writer}
parallel_groups:
  impl:
    after: Design
    before: Docs
    phases:
      - {name: C++ Implementation, agent_type: implementer, condition: {field: languages, contains: C++}}
`,
    config: MERGE + "  rework_phase: Implementation\n",
  });
  e.upsertTicket({ id: "0001", title: "A", metadata: { languages: ["C++"] } });
  const names = e.ticket("0001").phases.map((p) => `${p.name}:${p.status}`);
  assert.ok(names.includes("Implementation:skipped"), names.join());
  for (const type of ["designer", "implementer", "writer"]) {
    const c = e.claimNext({ agentId: `${type}-1`, capabilities: [type] })!;
    e.complete(c.phase.id, { agentId: `${type}-1`, token: c.token });
  }
  const lease = e.acquireMergeWorker("w")!;
  const b = e.startMergeBatch(lease, { baseSha: "x", now: true })!;
  e.sendBackFromMerge(lease, b.id, 0, { outcome: "culprit", notes: "make check: 2 failing" });
  const phase = (name: string) => e.ticket("0001").phases.find((p) => p.name === name)!;
  assert.equal(phase("C++ Implementation").status, "available", "the implementer's phase does the rework");
  assert.match(phase("C++ Implementation").reworkNotes ?? "", /2 failing/);
  assert.equal(phase("Docs").status, "pending", "not the docs writer's");
  e.close();
});

Deno.test("merge worker: one found gone takes the queue over only once the holder missed its renewals for half a lease (a live holder the caller cannot see keeps it)", async () => {
  const { openEngine } = await import("../../mod.ts");
  const repo = await tempRepo({ config: 'merge:\n  check: "true"\n  lease_minutes: 4\n' });
  let t = Date.now();
  const machineClock = () => ({ boot: "host boot-1", ms: t }); // the machine's clock runs with the wall clock
  const a = await openEngine(repo, { clock: () => t, machineClock });
  const b = await openEngine(repo, { clock: () => t, machineClock });
  const lease = a.acquireMergeWorker("merge@host:1:aaaa")!;
  t += 60_000; // a quarter lease: it renews, as a live worker does
  a.renewMergeWorker(lease);
  t += 90_000; // 1.5 min since its renewal: under half a lease
  assert.equal(b.acquireMergeWorker("merge@host:2:bbbb", { holderGone: "merge@host:1:aaaa" }), null);
  t += 35_000; // over half a lease without a renewal (and its lease not over): gone, it is replaced
  const taken = b.acquireMergeWorker("merge@host:2:bbbb", { holderGone: "merge@host:1:aaaa" });
  assert.ok(taken, "taken over");
  assert.equal(b.mergeStatus({ recent: 0 }).worker?.id, "merge@host:2:bbbb");
  assert.equal(b.acquireMergeWorker("merge@host:3:cccc", { holderGone: "merge@host:1:aaaa" }), null, "only from it");
  a.close();
  b.close();
});
