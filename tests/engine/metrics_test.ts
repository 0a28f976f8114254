import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { engineFor } from "../helpers/repo.ts";

const human = { kind: "human" as const, name: "dana" };
const PHASES = "phases:\n  - {name: Build, agent_type: builder}\n  - {name: Review, agent_type: null}\n";
const MIN = 60_000;

Deno.test("metrics: a seeded history gives the known answers", async () => {
  const { engine, clock } = await engineFor({
    phases: PHASES,
    config: "retry:\n  max_attempts: 3\n  backoff_seconds: 0\nstall_timeout_minutes: 30\n",
  });
  const day0 = clock.t;
  // Three tickets. Build durations (claim→complete): 10, 20, 40 minutes; waits 0, 5, 15.
  for (const id of ["A", "B", "C"]) engine.upsertTicket({ id, title: id });
  const a = engine.claimNext({ agentId: "alice", capabilities: ["builder"] })!; // A, wait 0
  clock.advance(5 * MIN);
  const b = engine.claimNext({ agentId: "bob", capabilities: ["builder"] })!; // B, wait 5
  clock.advance(5 * MIN);
  engine.start(a.phase.id, { agentId: "alice", token: a.token });
  engine.complete(a.phase.id, { agentId: "alice", token: a.token }); // A: 10 min
  clock.advance(5 * MIN);
  // C is claimed after 15 min, fails once, then is reclaimed and done.
  const c1 = engine.claimNext({ agentId: "alice", capabilities: ["builder"] })!;
  assert.equal(c1.ticket.id, "C");
  engine.fail(c1.phase.id, { agentId: "alice", token: c1.token, error: "flaky" });
  const c2 = engine.claimNext({ agentId: "alice", capabilities: ["builder"] })!;
  engine.start(b.phase.id, { agentId: "bob", token: b.token });
  clock.advance(10 * MIN);
  engine.complete(b.phase.id, { agentId: "bob", token: b.token }); // B: 5 → 25 = 20 min
  clock.advance(30 * MIN);
  engine.complete(c2.phase.id, { agentId: "alice", token: c2.token }); // C: 15 → 55 = 40 min
  // Gates: A's is rejected (rework), B's approved.
  clock.advance(20 * MIN);
  const gates = engine.gates();
  engine.rejectGate(gates.find((g) => g.ticketId === "A")!.id, { actor: human, notes: "again" });
  clock.advance(40 * MIN);
  engine.approveGate(gates.find((g) => g.ticketId === "B")!.id, { actor: human });
  // Nothing to claim for "tester" (A's Build is available again, for builders): an idle poll, not contention.
  assert.equal(engine.claimNext({ agentId: "carol", capabilities: ["tester"] }), null);

  const m = engine.metrics();
  const build = m.phases.find((p) => p.phase === "Build")!;
  assert.equal(build.completed, 2, "A's Build was reopened by the rejection, B and C stay completed");
  assert.deepEqual(
    { n: build.claimToComplete.count, p50: build.claimToComplete.p50, max: build.claimToComplete.max },
    { n: 2, p50: 20 * MIN, max: 40 * MIN },
  );
  assert.equal(build.failureRate, 1 / 4, "4 claims, 1 failure");
  assert.equal(build.rework, 1);
  // Waits of the claims that stand: A 0, B 5 min, C 0 (its retry was claimed at once). A is open again.
  assert.deepEqual([build.wait.count, build.wait.max], [2, 5 * MIN]);
  const review = m.phases.find((p) => p.phase === "Review")!;
  assert.equal(review.completed, 1);
  assert.equal(m.gateDecision.count, 2);
  // A's gate opened at +10 min and was rejected at +75; B's opened at +25 and was approved at +115.
  assert.deepEqual([m.gateDecision.p50, m.gateDecision.max], [65 * MIN, 90 * MIN]);
  assert.deepEqual(m.agents.map((x) => [x.agentId, x.completed]), [["alice", 1], ["bob", 1]]);
  assert.equal(m.contention.lost, 0, "a claim that found nothing is not contention");
  assert.deepEqual(m.workInProgress, { claimed: 0, running: 0 });
  assert.equal(m.oldestWaiting?.ticketId, "A");
  assert.equal(m.bottleneck?.phase, "Build");
  const today = new Date(day0).toISOString().slice(0, 10);
  assert.deepEqual(m.throughput.map((d) => d.day), [today]);
  assert.equal(m.throughput[0].tickets, 1, "B completed");
  // A window after everything: nothing completed in it.
  assert.equal(engine.metrics({ since: clock.t + 1 }).phases.find((p) => p.phase === "Build")!.completed, 0);
  engine.close();
});

Deno.test("stalled: a held phase silent for longer than the stall timeout, apart from stale leases", async () => {
  const { engine, clock } = await engineFor({
    phases: PHASES,
    config: "agents:\n  stale_timeout_minutes: 120\nstall_timeout_minutes: 30\n",
  });
  engine.upsertTicket({ id: "S", title: "s" });
  const c = engine.claimNext({ agentId: "quiet", capabilities: ["builder"] })!;
  engine.start(c.phase.id, { agentId: "quiet", token: c.token });
  clock.advance(29 * MIN);
  assert.deepEqual(engine.stalled(), []);
  clock.advance(2 * MIN);
  const [s] = engine.stalled();
  assert.equal(s.phaseId, c.phase.id);
  assert.equal(s.silentMs, 31 * MIN);
  engine.heartbeat("quiet", { progress: "still compiling" });
  assert.deepEqual(engine.stalled(), []);
  assert.equal(engine.metrics().stalled.length, 0);
  engine.close();
});

Deno.test("events: a watcher in another process receives an event written here within a second", async () => {
  const { engine, repo } = await engineFor({ phases: PHASES });
  engine.upsertTicket({ id: "W", title: "w" });
  const cursor = engine.events({ since: 0 }).at(-1)!.id;
  assert.ok(engine.events({ since: 0, ticketId: "W" }).length > 0);
  const script = `
    import { openEngine } from ${JSON.stringify(new URL("../../mod.ts", import.meta.url).href)};
    const engine = await openEngine(${JSON.stringify(repo)});
    console.log("ready");
    for await (const e of engine.watch({ since: ${cursor}, pollMs: 20 })) {
      if (e.action === "phase.claim") { console.log(JSON.stringify(e)); break; }
    }
    engine.close();
  `;
  const child = new Deno.Command(Deno.execPath(), { args: ["eval", script], stdout: "piped", stderr: "piped" }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("ready\n")) buf += (await reader.read()).value ?? "";
  const t0 = performance.now();
  const claim = engine.claimNext({ agentId: "agent-x", capabilities: ["builder"] })!;
  while (!buf.includes("phase.claim")) {
    const r = await reader.read();
    if (r.done) break;
    buf += r.value;
  }
  const ms = performance.now() - t0;
  const event = JSON.parse(buf.split("\n").find((l) => l.includes("phase.claim"))!);
  assert.equal(event.entityId, String(claim.phase.id));
  assert.equal(event.actor, "agent-x");
  // Not a speed assertion (pollMs is 20): only a guard that it was seen while following, not at some later rescan.
  assert.ok(ms < 15_000, `the watcher saw the event after ${ms.toFixed(0)} ms`);
  await child.status;
  engine.close();
  // Same process, abort signal ends the iteration.
  const e2 = await openEngine(repo);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  let n = 0;
  for await (const _ of e2.watch({ since: 0, signal: ac.signal, pollMs: 10 })) n++;
  assert.ok(n > 0);
  e2.close();
});

Deno.test("events: a watcher sees this engine's own writes too (a dashboard's decision), with no other process writing", async () => {
  const { engine } = await engineFor({ phases: PHASES });
  engine.upsertTicket({ id: "W", title: "w" });
  const cursor = engine.events({ since: 0 }).at(-1)!.id;
  const ac = new AbortController();
  const seen: string[] = [];
  const watching = (async () => {
    for await (const e of engine.watch({ since: cursor, signal: ac.signal, pollMs: 10 })) {
      seen.push(e.action);
      if (e.action === "phase.claim") ac.abort();
    }
  })();
  await new Promise((r) => setTimeout(r, 30)); // it has looked once: nothing new
  engine.claimNext({ agentId: "agent-x", capabilities: ["builder"] });
  const deadline = setTimeout(() => ac.abort(), 10_000); // a guard, not a speed assertion
  await watching;
  clearTimeout(deadline);
  assert.deepEqual(seen.filter((a) => a === "phase.claim"), ["phase.claim"], `seen: ${seen.join(", ")}`);
  engine.close();
});
