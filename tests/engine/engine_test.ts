import assert from "node:assert/strict";
import { type Claim, type Engine, openEngine, type TicketDetail } from "../../mod.ts";

/** Every phase of the ticket is done (completed or skipped). */
const ticketDone = (t: TicketDetail) => t.phases.every((p) => p.status === "completed" || p.status === "skipped");
import { engineFor, EXAMPLE_PHASES, tempRepo } from "../helpers/repo.ts";

const human = { kind: "human" as const, name: "dana" };
const ALL = ["designer", "implementer", "test-writer", "security-reviewer", "docs-writer"];

function statuses(e: Engine, id: string): Record<string, string> {
  return Object.fromEntries(e.ticket(id).phases.map((p) => [p.name, p.status]));
}

/** Claims and completes the next phase for `agent`; returns the claim. */
function work(e: Engine, agent: string, caps = ALL, summary = "done"): Claim {
  const c = e.claimNext({ agentId: agent, capabilities: caps });
  assert.ok(c, `${agent} found nothing to claim`);
  e.start(c.phase.id, { agentId: agent, token: c.token });
  e.complete(c.phase.id, { agentId: agent, token: c.token, summary, artifacts: [`docs/${c.phase.name}.md`] });
  return c;
}

Deno.test("seeding: conditions skip phases, the first phase is available, the rest wait", async () => {
  const { engine } = await engineFor();
  engine.upsertTicket({ id: "0083", title: "Orchestration", metadata: { priority: "High", needs_docs: "No" } });
  assert.deepEqual(statuses(engine, "0083"), {
    "Design": "available",
    "Design Review": "pending",
    "Implementation": "pending",
    "Tests": "pending",
    "Security Review": "skipped",
    "Code Review": "pending",
    "Documentation": "skipped",
  });
  engine.close();
});

Deno.test("seeding respects a ticket's position: done phases are not reopened", async () => {
  const { engine } = await engineFor();
  const t = engine.upsertTicket({ id: "0050", title: "Old", completedPhases: ["Implementation"] });
  const s = Object.fromEntries(t.phases.map((p) => [p.name, p.status]));
  assert.equal(s["Design"], "completed");
  assert.equal(s["Design Review"], "completed");
  assert.equal(s["Implementation"], "completed");
  assert.equal(s["Tests"], "available");
  const merged = engine.upsertTicket({
    id: "0001",
    title: "Merged long ago",
    completedPhases: ["Documentation"],
    metadata: { needs_docs: true },
  });
  assert.equal(merged.status, "completed");
  assert.ok(ticketDone(merged));
  assert.equal(engine.claimNext({ agentId: "a", capabilities: ["designer"] })?.ticket.id, undefined);
  engine.close();
});

Deno.test("gate: approval lets the ticket continue to the end", async () => {
  const { engine } = await engineFor();
  engine.upsertTicket({ id: "0001", title: "T", metadata: { needs_docs: "yes" } });
  work(engine, "a1");
  assert.equal(statuses(engine, "0001")["Design Review"], "awaiting_review");
  assert.equal(engine.claimNext({ agentId: "a1", capabilities: ALL }), null, "nothing past an open gate");
  const [gate] = engine.gates();
  assert.equal(gate.phaseName, "Design Review");
  engine.approveGate(gate.id, { actor: human, notes: "looks good" });
  work(engine, "a1"); // Implementation
  work(engine, "a1"); // Tests
  const cr = engine.gates()[0];
  assert.equal(cr.phaseName, "Code Review");
  engine.approveGate(cr.id, { actor: human });
  work(engine, "a1"); // Documentation
  const t = engine.ticket("0001");
  assert.equal(t.status, "completed");
  assert.ok(ticketDone(t));
  engine.close();
});

Deno.test("gate: a rejection sends the work back with its notes; the second approval finishes", async () => {
  const { engine } = await engineFor();
  engine.upsertTicket({ id: "0002", title: "T", metadata: { needs_docs: false } });
  work(engine, "a1");
  const g1 = engine.gates()[0];
  engine.rejectGate(g1.id, { actor: human, notes: "cover the failure modes" });
  assert.equal(statuses(engine, "0002")["Design"], "available");
  assert.equal(statuses(engine, "0002")["Design Review"], "pending");
  const again = engine.claimNext({ agentId: "a2", capabilities: ["designer"] })!;
  assert.equal(again.phase.name, "Design");
  assert.equal(again.reworkNotes, "cover the failure modes");
  engine.complete(again.phase.id, { agentId: "a2", token: again.token });
  const g2 = engine.gates()[0];
  assert.notEqual(g2.id, g1.id);
  assert.equal(g2.revision, 1);
  engine.approveGate(g2.id, { actor: human });
  work(engine, "a2");
  work(engine, "a2");
  // Code review rejects: implementation and tests both go back.
  const cr = engine.gates()[0];
  engine.rejectGate(cr.id, { actor: human, notes: "tests miss the edge case" });
  const s = statuses(engine, "0002");
  assert.equal(s["Implementation"], "available");
  assert.equal(s["Tests"], "pending");
  assert.equal(s["Design"], "completed", "work before the reviewed phases stays done");
  work(engine, "a3");
  work(engine, "a3");
  engine.approveGate(engine.gates()[0].id, { actor: human });
  assert.equal(engine.ticket("0002").status, "completed");
  engine.close();
});

Deno.test("gate: the revision cap escalates to a human", async () => {
  const { engine } = await engineFor({ config: "gates:\n  max_revisions: 1\n" });
  engine.upsertTicket({ id: "0003", title: "T" });
  work(engine, "a");
  engine.rejectGate(engine.gates()[0].id, { actor: human, notes: "again" });
  work(engine, "a");
  const g = engine.rejectGate(engine.gates()[0].id, { actor: human, notes: "still wrong" });
  assert.equal(g.status, "escalated");
  assert.equal(statuses(engine, "0003")["Design Review"], "failed");
  assert.ok(engine.blocked().some((b) => b.reason === "failed" && b.phaseName === "Design Review"));
  engine.close();
});

Deno.test("gate: only humans decide; deciding twice is refused", async () => {
  const { engine } = await engineFor();
  engine.upsertTicket({ id: "0004", title: "T" });
  work(engine, "a");
  const g = engine.gates()[0];
  assert.throws(() => engine.approveGate(g.id, { actor: "agent-7" }), { code: "forbidden" });
  assert.throws(() => engine.approveGate(g.id, { actor: { kind: "agent", id: "agent-7" } }), { code: "forbidden" });
  assert.throws(() => engine.rejectGate(g.id, { actor: human, notes: " " }), { code: "invalid_argument" });
  engine.approveGate(g.id, { actor: human });
  assert.throws(() => engine.approveGate(g.id, { actor: human }), {
    code: "invalid_transition",
    message: /already approved/,
  });
  assert.throws(() => engine.approveGate(9999, { actor: human }), { code: "not_found" });
  engine.close();
});

Deno.test("requestReview blocks downstream until a human decides", async () => {
  const { engine } = await engineFor();
  engine.upsertTicket({ id: "0005", title: "T", completedPhases: ["Design Review"] });
  const c = engine.claimNext({ agentId: "impl", capabilities: ["implementer"] })!;
  assert.equal(c.phase.name, "Implementation");
  const gate = engine.requestReview(c.phase.id, { agentId: "impl", token: c.token, summary: "risky change" });
  assert.equal(gate.kind, "review");
  assert.equal(statuses(engine, "0005")["Implementation"], "awaiting_review");
  assert.equal(engine.claimNext({ agentId: "t", capabilities: ["test-writer"] }), null);
  engine.rejectGate(gate.id, { actor: human, notes: "split the migration" });
  const again = engine.claimNext({ agentId: "impl2", capabilities: ["implementer"] })!;
  assert.equal(again.reworkNotes, "split the migration");
  const g2 = engine.requestReview(again.phase.id, { agentId: "impl2", token: again.token });
  engine.approveGate(g2.id, { actor: human });
  assert.equal(engine.claimNext({ agentId: "t", capabilities: ["test-writer"] })?.phase.name, "Tests");
  engine.close();
});

Deno.test("claims: holder and token are checked; a retried completion is the same success, a different one is refused", async () => {
  const { engine } = await engineFor();
  engine.upsertTicket({ id: "0083", title: "T" });
  const c = engine.claimNext({ agentId: "agent-1", capabilities: ["designer"] })!;
  assert.throws(() => engine.claim(c.phase.id, { agentId: "agent-7", capabilities: ["designer"] }), {
    code: "claim_conflict",
    message: 'Cannot claim phase "Design" of ticket 0083: held by agent-1',
  });
  assert.throws(() => engine.start(c.phase.id, { agentId: "agent-7", token: c.token }), { code: "claim_conflict" });
  assert.throws(() => engine.start(c.phase.id, { agentId: "agent-1", token: "forged" }), { code: "stale_token" });
  engine.start(c.phase.id, { agentId: "agent-1", token: c.token });
  const done = engine.complete(c.phase.id, { agentId: "agent-1", token: c.token });
  const before = engine.audit({ ticketId: "0083" }).length;
  // Retrying the identical request (a lost answer) gives the same success and changes nothing.
  assert.deepEqual(engine.complete(c.phase.id, { agentId: "agent-1", token: c.token }), done);
  assert.throws(() => engine.complete(c.phase.id, { agentId: "agent-1", token: c.token, summary: "other" }), {
    code: "invalid_transition",
    message: /completed already, with another summary/,
  });
  assert.throws(() => engine.complete(c.phase.id, { agentId: "agent-2", token: c.token }), {
    code: "invalid_transition",
    message: /it is completed/,
  });
  assert.throws(() => engine.fail(c.phase.id, { agentId: "agent-1", token: c.token, error: "x" }), {
    code: "invalid_transition",
  });
  assert.equal(engine.audit({ ticketId: "0083" }).length, before, "refused calls change nothing");
  assert.throws(() => engine.start(424242, { agentId: "agent-1", token: "t" }), { code: "not_found" });
  engine.close();
});

Deno.test("claims: priority order, then ticket, then phase order; idempotency keys; max_concurrent", async () => {
  const { engine } = await engineFor({ config: "agents:\n  registry:\n    designer: {max_concurrent: 2}\n" });
  engine.upsertTicket({ id: "0010", title: "low", metadata: { priority: "Low" } });
  engine.upsertTicket({ id: "0020", title: "critical", metadata: { priority: "Critical" } });
  engine.upsertTicket({ id: "0005", title: "medium", metadata: { priority: "Medium" } });
  engine.upsertTicket({ id: "0004", title: "medium too", metadata: { priority: "medium" } });
  assert.deepEqual(engine.queue("designer").map((p) => p.ticketId), ["0020", "0004", "0005", "0010"]);
  const a = engine.claimNext({ agentId: "a", capabilities: ["designer"], idempotencyKey: "req-1" })!;
  assert.equal(a.ticket.id, "0020");
  const replay = engine.claimNext({ agentId: "a", capabilities: ["designer"], idempotencyKey: "req-1" })!;
  assert.equal(replay.phase.id, a.phase.id);
  assert.equal(replay.token, a.token);
  assert.throws(() => engine.claimNext({ agentId: "b", capabilities: ["designer"], idempotencyKey: "req-1" }), {
    code: "invalid_argument",
  });
  assert.equal(engine.claimNext({ agentId: "b", capabilities: ["designer"] })!.ticket.id, "0004");
  assert.equal(engine.claimNext({ agentId: "c", capabilities: ["designer"] }), null, "max_concurrent 2 reached");
  engine.close();
});

Deno.test("leases: a stale claim comes back after the timeout (injected clock), lazily and by sweep", async () => {
  const { engine, clock } = await engineFor({ config: "agents:\n  stale_timeout_minutes: 10\n" });
  engine.upsertTicket({ id: "0001", title: "a" });
  engine.upsertTicket({ id: "0002", title: "b" });
  const c1 = engine.claimNext({ agentId: "sleepy", capabilities: ["designer"] })!;
  const c2 = engine.claimNext({ agentId: "sleepy2", capabilities: ["designer"] })!;
  clock.advance(9 * 60_000);
  engine.heartbeat("sleepy2");
  clock.advance(2 * 60_000);
  // Lazily, at the next claim: sleepy's lease expired, sleepy2 heartbeated.
  const next = engine.claimNext({ agentId: "fresh", capabilities: ["designer"] })!;
  assert.equal(next.phase.id, c1.phase.id);
  assert.equal(engine.ticket("0002").phases[0].claimedBy, "sleepy2");
  assert.throws(() => engine.complete(c1.phase.id, { agentId: "sleepy", token: c1.token }), { code: "claim_conflict" });
  const staleRows = engine.audit({ ticketId: "0001" }).filter((a) => a.action === "phase.stale");
  assert.equal(staleRows.length, 1);
  clock.advance(11 * 60_000);
  assert.equal(engine.sweepStale(), 2);
  assert.equal(engine.ticket("0002").phases[0].status, "available");
  assert.throws(() => engine.complete(c2.phase.id, { agentId: "sleepy2", token: c2.token }), {
    code: "invalid_transition",
  });
  engine.close();
});

Deno.test("retries: a failure waits out its backoff, then the last attempt fails for a human", async () => {
  const { engine, clock } = await engineFor({ config: "retry:\n  max_attempts: 2\n  backoff_seconds: 30\n" });
  engine.upsertTicket({ id: "0001", title: "a" });
  const c = engine.claimNext({ agentId: "x", capabilities: ["designer"] })!;
  const p = engine.fail(c.phase.id, { agentId: "x", token: c.token, error: "compiler crashed" });
  assert.equal(p.status, "waiting_retry");
  assert.equal(engine.claimNext({ agentId: "y", capabilities: ["designer"] }), null, "still backing off");
  assert.equal(engine.blocked()[0].reason, "retry_backoff");
  clock.advance(31_000);
  const c2 = engine.claimNext({ agentId: "y", capabilities: ["designer"] })!;
  assert.equal(c2.phase.attempts, 2);
  assert.equal(engine.fail(c2.phase.id, { agentId: "y", token: c2.token, error: "again" }).status, "failed");
  assert.equal(engine.blocked()[0].reason, "failed");
  engine.close();
});

Deno.test("dependencies: blocked until the milestone, then released automatically; cycles refused", async () => {
  const { engine } = await engineFor();
  engine.upsertTicket({ id: "A", title: "a" });
  engine.upsertTicket({ id: "B", title: "b", dependencies: [{ on: "A", type: "design" }] });
  engine.upsertTicket({ id: "C", title: "c", dependencies: [{ on: "B" }] });
  assert.equal(statuses(engine, "B")["Design"], "blocked");
  assert.ok(engine.blocked().some((b) => b.ticketId === "B" && b.reason === "dependency"));
  assert.throws(() => engine.addDependency("A", "C"), {
    code: "dependency_cycle",
    message: /A -> C -> B -> A/,
  });
  assert.throws(() => engine.addDependency("A", "A"), { code: "dependency_cycle" });
  work(engine, "d", ["designer"]); // A: Design
  assert.equal(statuses(engine, "B")["Design"], "blocked", "design milestone includes its review");
  engine.approveGate(engine.gates()[0].id, { actor: human });
  assert.equal(statuses(engine, "B")["Design"], "available", "A reached its design milestone");
  assert.equal(statuses(engine, "C")["Design"], "blocked");
  engine.removeDependency("C", "B");
  assert.equal(statuses(engine, "C")["Design"], "available");
  assert.throws(() => engine.removeDependency("C", "B"), { code: "not_found" });
  engine.close();
});

Deno.test("audit: every change is recorded with actor, states and one correlation id per request", async () => {
  const { engine, clock } = await engineFor();
  engine.upsertTicket({ id: "0009", title: "t" });
  const c = engine.claimNext({ agentId: "ag", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "ag", token: c.token });
  const rows = engine.audit({ ticketId: "0009" });
  const complete = rows.find((r) => r.action === "phase.complete")!;
  assert.equal(complete.actor, "ag");
  assert.equal(complete.oldState, "running", "completing without start_phase starts it implicitly");
  assert.equal(complete.newState, "completed");
  assert.equal(complete.at, clock.t);
  const sameRequest = rows.filter((r) => r.correlationId === complete.correlationId);
  assert.deepEqual(sameRequest.map((r) => r.action), ["phase.start", "phase.complete", "phase.resolve", "gate.opened"]);
  assert.equal(sameRequest[0].details?.implicit, true);
  assert.ok(engine.audit({ agentId: "ag" }).length >= 2);
  assert.equal(engine.audit({ since: clock.t + 1 }).length, 0);
  engine.close();
});

Deno.test("openEngine: invalid config opens nothing and writes nothing", async () => {
  const repo = await tempRepo({ phases: EXAMPLE_PHASES, config: "agents:\n  stale_timeout_minutes: soon\n" });
  await assert.rejects(openEngine(repo), (e: unknown) => {
    const err = e as { code: string; location: { file: string; line: number; field: string } };
    assert.equal(err.code, "config_invalid");
    assert.equal(err.location.line, 2);
    assert.equal(err.location.field, "agents.stale_timeout_minutes");
    return true;
  });
  assert.deepEqual([...Deno.readDirSync(`${repo}/.workflow`)].map((e) => e.name).sort(), [
    "config.yaml",
    "phases.yaml",
  ]);
});

Deno.test("lifecycle: three tickets — two languages with a parallel group, a rejected gate, a blocked one — to the end", async (t) => {
  const phases = `
preamble:
  - {name: Plan, agent_type: planner}
language_pipelines:
  condition_field: languages
  steps:
    - {step: Design, role: designer}
    - {step: Review, role: null}
    - {step: Implementation, role: implementer}
  languages:
    - {name: Python, slug: py}
    - {name: Rust, slug: rs}
integration:
  - {name: Integration, agent_type: integrator}
postamble:
  - {name: Merge, agent_type: null}
ticket_metadata:
  - {field: languages, type: list, markdown_key: Languages}
`;
  const { engine } = await engineFor({ phases });
  const caps = ["planner", "py-designer", "py-implementer", "rs-designer", "rs-implementer", "integrator"];
  let rejected = false;
  const parallelSeen = new Set<string>();
  await t.step("seed: conditions skip the other language, a dependency blocks T3", () => {
    engine.upsertTicket({ id: "T1", title: "both languages", metadata: { languages: ["Python", "Rust"] } });
    engine.upsertTicket({ id: "T2", title: "python only, rejected once", metadata: { languages: "Python" } });
    engine.upsertTicket({
      id: "T3",
      title: "waits for T2",
      metadata: { languages: ["Rust"] },
      dependencies: [{ on: "T2" }],
    });
    assert.equal(statuses(engine, "T2")["Rust Design"], "skipped");
    assert.equal(statuses(engine, "T3")["Plan"], "blocked");
  });
  await t.step("agents claim and complete, a human decides every gate (one rejection) until nothing is left", () => {
    for (let step = 0; step < 200; step++) {
      const available = ["T1", "T2", "T3"].flatMap((id) =>
        engine.ticket(id).phases.filter((p) => p.status === "available")
      );
      const t1Designs = available.filter((p) => p.ticketId === "T1" && p.name.endsWith("Design")).map((p) => p.name);
      if (t1Designs.length === 2) t1Designs.forEach((n) => parallelSeen.add(n));
      const c = engine.claimNext({ agentId: `agent-${step % 3}`, capabilities: caps });
      if (c) {
        engine.start(c.phase.id, { agentId: c.phase.claimedBy!, token: c.token });
        engine.complete(c.phase.id, { agentId: c.phase.claimedBy!, token: c.token, summary: `did ${c.phase.name}` });
        continue;
      }
      const gate = engine.gates()[0];
      if (!gate) break;
      if (gate.ticketId === "T2" && !rejected) {
        engine.rejectGate(gate.id, { actor: human, notes: "please reconsider" });
        rejected = true;
      } else {
        engine.approveGate(gate.id, { actor: human });
      }
    }
  });
  await t.step(
    "every ticket completed; the parallel pipelines, the rework and the dependency show in the audit",
    () => {
      assert.ok(rejected);
      assert.deepEqual(
        [...parallelSeen].sort(),
        ["Python Design", "Rust Design"],
        "both languages were available together",
      );
      for (const id of ["T1", "T2", "T3"]) {
        const t = engine.ticket(id);
        assert.equal(t.status, "completed", `${id}: ${JSON.stringify(statuses(engine, id))}`);
      }
      const t2Design = engine.audit({ ticketId: "T2" }).filter((a) =>
        a.action === "phase.complete" && a.details?.phase === "Python Design"
      );
      assert.equal(t2Design.length, 2, "T2's design was done twice");
      const t3First = engine.audit({ ticketId: "T3" }).find((a) => a.action === "phase.claim")!;
      const t2Done = engine.audit({ ticketId: "T2" }).find((a) => a.action === "ticket.completed")!;
      assert.ok(t3First.id > t2Done.id, "T3 started only after T2 completed");
    },
  );
  engine.close();
});

Deno.test("createTickets: an atomic batch with refs and generated ids; a failure on the fifth leaves nothing", async () => {
  const { engine } = await engineFor();
  engine.upsertTicket({ id: "0083", title: "existing" });
  const made = engine.createTickets([
    { ref: "api", title: "API" },
    { ref: "ui", title: "UI", dependencies: [{ on: "api", type: "design" }] },
    { id: "X1", title: "explicit id", dependencies: [{ on: "0083" }] },
  ], { kind: "agent", id: "planner-1" });
  assert.deepEqual(made.map((t) => t.id), ["0084", "0085", "X1"]);
  assert.deepEqual(made[1].dependencies.map((d) => [d.dependsOn, d.type]), [["0084", "design"]]);
  const before = engine.listTickets().length;
  const auditBefore = engine.audit().length;
  const bad = [
    { title: "one" },
    { title: "two" },
    { title: "three" },
    { title: "four" },
    { ref: "five", title: "five", dependencies: [{ on: "five" }] },
  ];
  assert.throws(() => engine.createTickets(bad), { code: "dependency_cycle" });
  assert.throws(
    () => engine.createTickets([{ title: "a" }, { title: "b" }, { title: "c" }, { title: "d" }, { title: " " }]),
    {
      code: "invalid_argument",
      message: /#5/,
    },
  );
  assert.throws(() => engine.createTickets([{ id: "0083", title: "dup" }]), {
    code: "invalid_argument",
    message: /exists/,
  });
  assert.equal(engine.listTickets().length, before, "nothing of a failed batch remains");
  assert.equal(engine.audit().length, auditBefore);
  // A cycle across the batch and the existing tickets is refused with its path.
  assert.throws(
    () =>
      engine.createTickets([{ ref: "a", title: "a", dependencies: [{ on: "b" }] }, {
        ref: "b",
        title: "b",
        dependencies: [{ on: "a" }],
      }]),
    { code: "dependency_cycle", message: /->/ },
  );
  engine.close();
});

Deno.test("agent types: the registry's command, args and max_concurrent, with the work of each type", async () => {
  const { engine } = await engineFor({
    config: "agents:\n  registry:\n    designer: {command: claude, args: [--agent, designer], max_concurrent: 2}\n",
  });
  engine.upsertTicket({ id: "1", title: "one" });
  engine.claimNext({ agentId: "d1", capabilities: ["designer"] });
  const t = engine.agentTypes().find((x) => x.type === "designer")!;
  assert.deepEqual(t, {
    type: "designer",
    command: "claude",
    args: ["--agent", "designer"],
    maxConcurrent: 2,
    held: 1,
    available: 0,
  });
  assert.ok(engine.agentTypes().some((x) => x.type === "implementer" && x.command === null));
  engine.close();
});

Deno.test("tickets: an id that cannot name a branch and a directory is refused, coded, and nothing is written", async () => {
  const { engine } = await engineFor();
  try {
    for (
      const id of ["../../etc", "a/b", "A1.lock", "B..2", "0001--tests", "-rf", ".hidden", "two words", "end.", ""]
    ) {
      assert.throws(() => engine.upsertTicket({ id, title: "Refused" }), (e: Error & { code?: string }) => {
        assert.equal(e.code, "invalid_argument", `${JSON.stringify(id)}: ${e.message}`);
        return true;
      });
      assert.throws(
        () => engine.createTickets([{ id, title: "Refused" }]),
        /invalid_argument|cannot be a ticket id|title|id/,
      );
    }
    assert.deepEqual(engine.listTickets(), []);
    for (const id of ["0001", "PROJ-12", "v1.2_fix", "T-1"]) engine.upsertTicket({ id, title: "Kept" });
    assert.equal(engine.listTickets().length, 4);
  } finally {
    engine.close();
  }
});

Deno.test("branches: a group's work on unmerged branches reaches no milestone, gate or ticket end until merged", async () => {
  const { engine: e } = await engineFor({
    phases: `phases:
  - name: Design
    agent_type: designer
  - name: Review
    agent_type: reviewer
parallel_groups:
  impl:
    after: Design
    before: Review
    phases:
      - name: Implement API
        agent_type: api
      - name: Implement UI
        agent_type: ui
`,
  });
  try {
    e.createTickets([{ id: "0001", title: "A" }, { id: "0002", title: "B" }]);
    e.addDependency("0002", "0001", "implementation");
    const run = (type: string, branch?: string) => {
      const c = e.claimNext({ agentId: `${type}-1`, capabilities: [type] })!;
      if (branch) e.recordPhaseBranch(c.phase.id, { agentId: `${type}-1`, token: c.token, branch });
      e.complete(c.phase.id, { agentId: `${type}-1`, token: c.token });
      return c.phase.id;
    };
    run("designer");
    const api = run("api", "baton/0001--implement-api");
    const ui = run("ui", "baton/0001--implement-ui");
    const review = () => e.ticket("0001").phases.find((p) => p.name === "Review")!.status;
    assert.equal(review(), "pending");
    assert.equal(e.ticket("0002").phases[0].status, "blocked", "the implementation milestone waits for the merge");
    assert.equal(e.phase(api).unmergedBranch, "baton/0001--implement-api", "what it waits for is shown");
    e.phaseBranchMerged(api, "baton-run");
    assert.equal(e.phase(api).unmergedBranch, null);
    assert.equal(review(), "pending", "one branch of two merged");
    e.phaseBranchMerged(ui, "baton-run");
    assert.equal(review(), "available");
    assert.equal(e.ticket("0002").phases[0].status, "available");
  } finally {
    e.close();
  }
});

Deno.test("agents: what a supervisor recorded (its own process) outlives the agent registering again, and cannot be forged", async () => {
  const { engine: e } = await engineFor();
  try {
    e.registerAgent("a", ["designer"]);
    const supervisor = { host: "h", pid: 77, pidStart: "1" };
    e.recordAgentProcess("a", { host: "h", pid: 78, pidStart: "2", supervisor });
    e.registerAgent("a", ["designer"], { supervisor: { host: "h", pid: 1, pidStart: "0" }, note: "mine" });
    assert.deepEqual(e.agents()[0].process?.supervisor, supervisor);
  } finally {
    e.close();
  }
});

Deno.test("branches: a group phase still at work is not listed as waiting to be merged; once completed it is", async () => {
  const { engine: e } = await engineFor({
    phases: "phases:\n  - name: Build\n    agent_type: builder\n  - name: Docs\n    agent_type: writer\n",
  });
  try {
    e.upsertTicket({ id: "0001", title: "A" });
    const c = e.claimNext({ agentId: "b", capabilities: ["builder"] })!;
    e.recordPhaseBranch(c.phase.id, { agentId: "b", token: c.token, branch: "baton/0001--build" });
    assert.deepEqual(e.unmergedBranches(), [], "another supervisor's agent at work is not 'not merged'");
    e.complete(c.phase.id, { agentId: "b", token: c.token });
    assert.deepEqual(e.unmergedBranches().map((u) => u.branch), ["baton/0001--build"]);
  } finally {
    e.close();
  }
});

Deno.test("a ticket file that records work done past a phase an agent holds moves nothing past it: the gate after the held work is not passed, and opens when the work completes (ops helper, d2)", async () => {
  for (const through of ["Design Review", "Implementation"]) {
    const repo = await tempRepo({
      phases: "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Design Review, agent_type: null}\n" +
        "  - {name: Implementation, agent_type: implementer}\n",
    });
    const engine = await openEngine(repo);
    try {
      engine.upsertTicket({ id: "0001", title: "Cache" });
      const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
      // A human checks "Design Approved" (and more) in the file while the designer works; the file is imported.
      engine.upsertTicket({ id: "0001", title: "Cache", completedPhases: [through] });
      assert.deepEqual(Object.fromEntries(engine.ticket("0001").phases.map((p) => [p.name, p.status])), {
        Design: "claimed",
        "Design Review": "pending",
        Implementation: "pending",
      }, through);
      assert.equal(engine.claimNext({ agentId: "i1", capabilities: ["implementer"] }), null);
      engine.complete(c.phase.id, { agentId: "d1", token: c.token, summary: "a hash map" });
      assert.deepEqual(engine.gates().map((g) => g.phaseName), ["Design Review"], "the design is reviewed");
    } finally {
      engine.close();
    }
  }
});

Deno.test("a ticket file that records a gate done while the phase before it is held under a name the workflow renamed since: nothing passes it (review of stop 48)", async () => {
  const three = "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Design Review, agent_type: null}\n" +
    "  - {name: Implementation, agent_type: implementer}\n";
  const repo = await tempRepo({ phases: three });
  let engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "Cache" });
  engine.claimNext({ agentId: "d1", capabilities: ["designer"] });
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, three.replace("{name: Design,", "{name: Architecture,"));
  engine = await openEngine(repo);
  try {
    engine.seedNewPhases();
    engine.upsertTicket({ id: "0001", title: "Cache", completedPhases: ["Design Review"] });
    assert.equal(engine.ticket("0001").phases.find((p) => p.name === "Design Review")!.status, "pending");
    assert.equal(engine.claimNext({ agentId: "i1", capabilities: ["implementer"] }), null);
  } finally {
    engine.close();
  }
});
