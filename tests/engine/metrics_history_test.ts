/**
 * Metrics that read history (issue 25, "150 tickets read well"): claim
 * contention counts races lost to another agent, not polls that found
 * nothing; work in progress over time counts the phases held, however
 * short the run; throughput leaves out what an import found done.
 */
import assert from "node:assert/strict";
import { BatonError } from "../../mod.ts";
import { metricsData } from "../../src/serve/api.ts";
import { coreOf } from "../../src/engine/api/base.ts";
import { holdChanges } from "../../src/engine/sql/metrics.ts";
import { engineFor } from "../helpers/repo.ts";

const PHASES = "phases:\n  - {name: Build, agent_type: builder}\n  - {name: Review, agent_type: null}\n" +
  "  - {name: Docs, agent_type: writer}\n";
const MIN = 60_000;
const dana = { kind: "human" as const, name: "dana" };

Deno.test("contention: a supervisor polling for work that is not there is not contention; a race lost is", async () => {
  const { engine } = await engineFor({
    phases: PHASES,
    config: "agents:\n  registry:\n    builder: { max_concurrent: 1 }\n",
  });
  engine.upsertTicket({ id: "A", title: "a" });
  engine.upsertTicket({ id: "B", title: "b" });
  // A supervisor polls with fresh agent ids, as baton run does, for types with nothing to do: 500 empty claims.
  for (let i = 0; i < 500; i++) {
    assert.equal(engine.claimNext({ agentId: `writer-${i}`, capabilities: ["writer"] }), null);
  }
  assert.deepEqual(engine.metrics().contention, { lost: 0, byType: [] });
  // Two agents saw A's Build available; alice got it, bob asked for it after her: bob lost a race.
  const a = engine.ticket("A").phases[0].id;
  const c = engine.claim(a, { agentId: "alice", capabilities: ["builder"] });
  assert.throws(
    () => engine.claim(a, { agentId: "bob", capabilities: ["builder"] }),
    (e: unknown) => e instanceof BatonError && e.code === "claim_conflict",
  );
  // Asking again for one's own claim, or being refused for max_concurrent, is no race lost to another agent.
  assert.throws(() => engine.claim(a, { agentId: "alice", capabilities: ["builder"] }), BatonError);
  const b = engine.ticket("B").phases[0].id;
  assert.throws(
    () => engine.claim(b, { agentId: "carol", capabilities: ["builder"] }),
    (e: unknown) => e instanceof BatonError && e.code === "claim_conflict",
  );
  assert.deepEqual(engine.metrics().contention, { lost: 1, byType: [{ agentType: "builder", lost: 1 }] });
  engine.release(a, { agentId: "alice", token: c.token });
  engine.close();
});

Deno.test("work in progress over time: claims held and ended within the hour still show, and now is counted", async () => {
  const { engine, clock } = await engineFor({ phases: PHASES });
  for (const id of ["A", "B", "C", "D", "E"]) engine.upsertTicket({ id, title: id });
  clock.advance(5 * MIN);
  // Five agents work for half an hour, then stop, well before the hour ends.
  const claims = ["A", "B", "C", "D", "E"].map((id, i) =>
    engine.claim(engine.ticket(id).phases[0].id, { agentId: `agent-${i}`, capabilities: ["builder"] })
  );
  clock.advance(30 * MIN);
  claims.forEach((c, i) => engine.complete(c.phase.id, { agentId: `agent-${i}`, token: c.token }));
  clock.advance(50 * MIN);
  let series = engine.metrics().workInProgressOverTime;
  assert.ok(series.length >= 2, `${series.length} points`);
  assert.equal(Math.max(...series.map((p) => p.peak)), 5, "five held at once, then none");
  assert.equal(series.at(-1)!.held, 0);
  assert.equal(series.at(-1)!.at, engine.now());
  // The dashboard draws the engine's series.
  assert.deepEqual(metricsData(engine).wip, series);
  // Three held now: the last point says so, whatever the bucket.
  for (const id of ["A", "B", "C"]) {
    const gate = engine.gates({ ticketId: id })[0];
    engine.approveGate(gate.id, { actor: dana });
    engine.claim(engine.ticket(id).phases[2].id, { agentId: `writer-${id}`, capabilities: ["writer"] });
  }
  series = engine.metrics().workInProgressOverTime;
  assert.equal(series.at(-1)!.held, 3);
  assert.equal(engine.metrics().workInProgress.claimed, 3);
  // A window that starts after the burst sees only what is held since.
  const late = engine.metrics({ since: engine.now() - 10 * MIN }).workInProgressOverTime;
  assert.equal(Math.max(...late.map((p) => p.peak)), 3);
  assert.ok(late.every((p) => p.held <= 3));
  // The whole trail is read in table order, a window through the time index: the same changes, in the same order.
  const db = coreOf(engine).db;
  for (const since of [0, engine.now() - 90 * MIN, engine.now() - 40 * MIN, engine.now() - 10 * MIN, engine.now()]) {
    const changes = holdChanges(db, since, false);
    assert.deepEqual(holdChanges(db, since, true), changes);
    if (since === 0) assert.equal(changes.length, 5 + 5 + 3, "5 claims, 5 completions, 3 claims");
  }
  engine.close();
});

Deno.test("throughput: tickets an import found finished are history, not throughput", async () => {
  const { engine } = await engineFor({ phases: PHASES });
  // Imported finished (every phase done before Baton), and imported part-way then placed further by a re-import.
  engine.upsertTicket({ id: "OLD", title: "old", completedPhases: ["Docs"] });
  engine.upsertTicket({ id: "MID", title: "mid", completedPhases: ["Build"] });
  engine.upsertTicket({ id: "MID", title: "mid", completedPhases: ["Docs"] });
  assert.equal(engine.ticket("OLD").status, "completed");
  assert.equal(engine.ticket("MID").status, "completed");
  // One ticket done in Baton: Build by an agent, Review by a human, Docs by an agent.
  engine.upsertTicket({ id: "NEW", title: "new" });
  const build = engine.claimNext({ agentId: "b", capabilities: ["builder"] })!;
  engine.complete(build.phase.id, { agentId: "b", token: build.token });
  engine.approveGate(engine.gates({ ticketId: "NEW" })[0].id, { actor: dana });
  const docs = engine.claimNext({ agentId: "w", capabilities: ["writer"] })!;
  engine.complete(docs.phase.id, { agentId: "w", token: docs.token });
  const t = engine.metrics().throughput;
  assert.equal(t.reduce((n, d) => n + d.tickets, 0), 1, JSON.stringify(t));
  assert.equal(t.reduce((n, d) => n + d.phases, 0), 3, "Build, Review and Docs of NEW; none of the imported ones");
  engine.close();
});
