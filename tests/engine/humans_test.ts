/**
 * Humans can get work moving again, and stalls and abandoned claims are real
 * (issue 13, parts 6–7): retry of a failed phase, gates by ticket, review
 * bookkeeping that keeps the worker, heartbeats that are liveness and not
 * progress, and `agents.max_held`.
 */
import assert from "node:assert/strict";
import { engineFor, holdWriteLock } from "../helpers/repo.ts";

const PHASES = `phases:
  - {name: Design, agent_type: designer}
  - {name: Design Review, agent_type: null}
  - {name: Implementation, agent_type: implementer}
  - {name: Code Review, agent_type: null}
`;
const dana = { kind: "human" as const, name: "dana" };
const MIN = 60_000;

Deno.test("retry: a phase that failed its last attempt is reopened by a human, with notes for the next claimant", async () => {
  const { engine } = await engineFor({ phases: PHASES, config: "retry:\n  max_attempts: 1\n" });
  engine.upsertTicket({ id: "0001", title: "Flaky" });
  const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.fail(c.phase.id, { agentId: "d1", token: c.token, error: "the test server was down" });
  assert.equal(engine.ticket("0001").phases[0].status, "failed");
  assert.throws(() => engine.claim(c.phase.id, { agentId: "d2", capabilities: ["designer"] }), /failed/);
  // Agents may not; humans may.
  assert.throws(() => engine.retryPhase(c.phase.id, { actor: "d1" }), { code: "forbidden" });
  const p = engine.retryPhase(c.phase.id, { actor: dana, notes: "The server is back; rerun." });
  assert.equal(p.status, "available");
  assert.equal(p.attempts, 0, "fresh attempts");
  const again = engine.claimNext({ agentId: "d2", capabilities: ["designer"] })!;
  assert.equal(again.phase.id, c.phase.id);
  assert.equal(again.reworkNotes, "The server is back; rerun.");
  const audit = engine.audit({ ticketId: "0001" }).find((a) => a.action === "phase.reset")!;
  assert.equal(audit.actor, "human:dana");
  assert.equal(audit.details?.notes, "The server is back; rerun.");
  // Only a failed phase (or an escalated gate) can be retried.
  assert.throws(() => engine.retryPhase(c.phase.id, { actor: dana }), { code: "invalid_transition" });
  engine.close();
});

Deno.test("gates by ticket: TICKET or TICKET/PHASE when exactly one gate is open there, never another ticket's", async () => {
  const { engine } = await engineFor({ phases: PHASES });
  for (let i = 1; i <= 6; i++) engine.upsertTicket({ id: String(i).padStart(4, "0"), title: `T${i}` });
  for (let i = 0; i < 6; i++) {
    const c = engine.claimNext({ agentId: `d${i}`, capabilities: ["designer"] })!;
    engine.complete(c.phase.id, { agentId: `d${i}`, token: c.token });
  }
  const g6 = engine.findGate("0006");
  assert.equal(g6.ticketId, "0006", "not gate 6, which belongs to another ticket");
  assert.equal(engine.findGate("0006/Design Review").id, g6.id);
  assert.equal(engine.findGate(String(g6.id)).id, g6.id, "a numeric id is a gate id");
  assert.throws(() => engine.findGate("0006/Code Review"), { code: "not_found" });
  assert.throws(() => engine.findGate("0099"), { code: "not_found" });
  engine.close();
});

Deno.test("review bookkeeping keeps the worker: metrics count the work, and the worker cannot decide it", async () => {
  const { engine } = await engineFor({ phases: PHASES, config: "gates:\n  allow_agents: true\n" });
  engine.upsertTicket({ id: "0001", title: "Reviewed" });
  const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.start(c.phase.id, { agentId: "d1", token: c.token });
  const g = engine.requestReview(c.phase.id, { agentId: "d1", token: c.token, summary: "please look" });
  // The worker cannot approve its own work, even where agents may decide gates.
  assert.throws(() => engine.approveGate(g.id, { actor: "d1" }), { code: "forbidden" });
  engine.rejectGate(g.id, { actor: dana, notes: "more detail" });
  assert.equal(engine.ticket("0001").phases[0].claimedBy, "d1", "a rejected review keeps who worked on it");
  const c2 = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.start(c2.phase.id, { agentId: "d1", token: c2.token });
  const g2 = engine.requestReview(c2.phase.id, { agentId: "d1", token: c2.token });
  engine.approveGate(g2.id, { actor: dana });
  const design = engine.ticket("0001").phases[0];
  assert.equal(design.status, "completed");
  assert.equal(design.claimedBy, "d1", "an approved review keeps who worked on it");
  const m = engine.metrics();
  assert.ok(
    m.phases.some((p) => p.phase === "Design" && p.completed === 1 && p.claimToComplete.count === 1),
    JSON.stringify(m.phases),
  );
  engine.close();
});

Deno.test("stalls: heartbeats without progress do not reset the stall clock; progress does", async () => {
  const { engine, clock } = await engineFor({
    phases: PHASES,
    config: "stall_timeout_minutes: 30\nagents:\n  stale_timeout_minutes: 10\n",
  });
  engine.upsertTicket({ id: "0001", title: "Slow" });
  const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.start(c.phase.id, { agentId: "d1", token: c.token });
  for (let m = 0; m < 60; m += 5) {
    clock.advance(5 * MIN);
    engine.heartbeat("d1"); // alive, nothing done
  }
  const stalled = engine.stalled();
  assert.deepEqual(stalled.map((s) => s.phaseId), [c.phase.id], "60 minutes of heartbeats without progress is a stall");
  assert.equal(engine.ticket("0001").phases[0].status, "running", "but the lease held: it is alive");
  engine.heartbeat("d1", { progress: "wrote the failure-mode section" });
  assert.deepEqual(engine.stalled(), []);
  engine.close();
});

Deno.test("max_held: one phase per agent by default; a second claim is refused with already_holding", async () => {
  const { engine } = await engineFor({ phases: PHASES });
  engine.upsertTicket({ id: "0001", title: "A" });
  engine.upsertTicket({ id: "0002", title: "B" });
  const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  assert.throws(() => engine.claimNext({ agentId: "d1", capabilities: ["designer"] }), {
    code: "already_holding",
    message: /d1 already holds phase "Design" of ticket 0001/,
  });
  engine.complete(c.phase.id, { agentId: "d1", token: c.token });
  assert.ok(engine.claimNext({ agentId: "d1", capabilities: ["designer"] }), "free again once done");
  engine.close();
});

Deno.test("abandoned claims expire: acting on one phase does not keep another's lease alive", async () => {
  const { engine, clock } = await engineFor({
    phases: PHASES,
    config: "agents:\n  max_held: 2\n  stale_timeout_minutes: 10\n",
  });
  engine.upsertTicket({ id: "0001", title: "Abandoned" });
  engine.upsertTicket({ id: "0002", title: "Worked" });
  const abandoned = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  const worked = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.start(worked.phase.id, { agentId: "d1", token: worked.token });
  for (let m = 0; m < 30; m += 4) {
    clock.advance(4 * MIN);
    engine.heartbeat("d1", { phaseIds: [worked.phase.id], progress: "still on 0002" });
  }
  engine.sweepStale();
  const t1 = engine.ticket(abandoned.ticket.id).phases[0];
  const t2 = engine.ticket(worked.ticket.id).phases[0];
  assert.equal(t1.status, "available", "the abandoned claim came back");
  assert.equal(t1.claimedBy, null);
  assert.equal(t2.status, "running", "the phase being worked keeps its lease");
  engine.close();
});

Deno.test("a gate rejected past gates.max_revisions opens an escalation a human sees; retry sends the work back with the notes, its rejections counted afresh (ops helper d7)", async () => {
  const { engine } = await engineFor({ phases: PHASES, config: "gates:\n  max_revisions: 2\n" });
  try {
    engine.upsertTicket({ id: "0001", title: "Cache" });
    const design = () => {
      const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
      assert.equal(c.phase.name, "Design");
      engine.complete(c.phase.id, { agentId: "d1", token: c.token, summary: "a design" });
      return c;
    };
    for (let i = 1; i <= 3; i++) {
      design();
      const g = engine.rejectGate(engine.gates()[0].id, { actor: dana, notes: `round ${i}: not yet` });
      assert.equal(g.status, i < 3 ? "rejected" : "escalated");
    }
    const [esc, ...more] = engine.escalations();
    assert.equal(more.length, 0);
    assert.equal(esc.phaseName, "Design Review");
    assert.match(esc.reason, /rejected 3 times \(gates\.max_revisions: 2\): round 3: not yet/);
    assert.equal(engine.claimNext({ agentId: "d1", capabilities: ["designer"] }), null, "nothing until a human acts");
    // The lead gives it one more round, with their own notes: the design goes back with them.
    engine.retryPhase(esc.phaseId, { actor: dana, notes: "split the cache per tenant, then it passes" });
    assert.deepEqual(engine.escalations(), []);
    const c = design();
    assert.equal(c.phase.reworkNotes, "split the cache per tenant, then it passes");
    assert.equal(engine.gates()[0].phaseName, "Design Review");
    assert.equal(engine.rejectGate(engine.gates()[0].id, { actor: dana, notes: "again" }).status, "rejected");
  } finally {
    engine.close();
  }
});

Deno.test("queue and available work show what a claim would take: a phase whose lease ran out, a retry whose backoff passed, in claim order (ops helper d8)", async () => {
  const { engine, clock, repo } = await engineFor({ phases: PHASES });
  try {
    for (const id of ["0001", "0002", "0003"]) engine.upsertTicket({ id, title: `T${id}` });
    engine.claimNext({ agentId: "gone", capabilities: ["designer"] }); // 0001's Design; the agent dies
    const c = engine.claimNext({ agentId: "flaky", capabilities: ["designer"] })!; // 0002's
    engine.fail(c.phase.id, { agentId: "flaky", token: c.token, error: "network" });
    assert.deepEqual(engine.queue("designer").map((p) => p.ticketId), ["0003"]);
    clock.advance(24 * 60 * MIN);
    // Reads only (review of stop 48: a write here blocked a read-only MCP tool while another process wrote).
    const audit = engine.audit().length;
    const lock = await holdWriteLock(repo);
    let listed: string[][];
    try {
      listed = engine.queue("designer").map((p) => [p.ticketId, p.status]);
      assert.equal(engine.availableWork(["designer"], 10).phases.length, 3);
    } finally {
      lock.release();
    }
    assert.equal(engine.audit().length, audit, "nothing written");
    assert.deepEqual(listed, [["0001", "available"], ["0002", "available"], ["0003", "available"]]);
    assert.deepEqual(
      engine.availableWork(["designer"], 10).phases.map((w) => w.ticketId),
      ["0001", "0002", "0003"],
    );
    assert.equal(engine.claimNext({ agentId: "d2", capabilities: ["designer"] })!.ticket.id, listed[0][0]);
  } finally {
    engine.close();
  }
});

Deno.test("a review rejected past gates.max_revisions while the phase has an open escalation (a stall): the gate still escalates, one escalation says why; retried, the work goes back with the last rejection's notes and its rejections counted afresh (review of stop 48)", async () => {
  const { engine } = await engineFor({ phases: PHASES, config: "gates:\n  max_revisions: 1\n" });
  try {
    engine.upsertTicket({ id: "0001", title: "Cache" });
    let c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
    engine.escalate(c.phase.id, { reason: "no progress for 20 min", agentId: "d1", actor: "baton-run" });
    for (let round = 1; round <= 2; round++) {
      if (round > 1) c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
      const g = engine.requestReview(c.phase.id, { agentId: "d1", token: c.token, summary: `design v${round}` });
      const r = engine.rejectGate(g.id, { actor: dana, notes: `round ${round}: not yet` });
      assert.equal(r.status, round < 2 ? "rejected" : "escalated");
    }
    const open = engine.escalations();
    assert.equal(open.length, 1);
    assert.match(open[0].reason, /rejected 2 times \(gates\.max_revisions: 1\): round 2: not yet/);
    engine.retryPhase(c.phase.id, { actor: dana });
    assert.deepEqual(engine.escalations(), []);
    c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
    assert.equal(c.phase.reworkNotes, "round 2: not yet");
    const g = engine.requestReview(c.phase.id, { agentId: "d1", token: c.token, summary: "design v3" });
    assert.equal(engine.rejectGate(g.id, { actor: dana, notes: "closer" }).status, "rejected", "counted afresh");
  } finally {
    engine.close();
  }
});
