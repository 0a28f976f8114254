/**
 * Parallel groups keep the workflow's human gates (issue 25, part 2), on
 * `tests/fixtures/progressrepo`: the language groups (`tests` after
 * "Integration Review", `impl` after "C++ Test Writing", both before
 * "Quality Gate") stand in for the sequential "Test Writing" and
 * "Implementation", which are listed after Python Design, its human review,
 * Frontend Design and its human review. A group starts only after every
 * applicable phase listed before what it replaces; a Python-only ticket does
 * no C++ test writing or implementation; one, two and three languages.
 */
import assert from "node:assert/strict";
import { type Engine, importTickets, openEngine } from "../../mod.ts";
import { fixtureRepo } from "../helpers/realrepo.ts";

const dana = { kind: "human" as const, name: "dana" };

function statusOf(engine: Engine, id: string): Record<string, string> {
  return Object.fromEntries(engine.ticket(id).phases.map((p) => [p.name, p.status]));
}

/** The phases offered now: available to an agent, or a gate waiting for a human. */
function offered(engine: Engine, id: string): string[] {
  return engine.ticket(id).phases.filter((p) => p.status === "available" || p.status === "awaiting_review")
    .map((p) => p.name);
}

function work(engine: Engine, id: string, phase: string): void {
  const p = engine.ticket(id).phases.find((x) => x.name === phase)!;
  assert.equal(p.status, "available", `${id}/${phase} is ${p.status}`);
  const agent = `${p.agentType}-1`;
  const c = engine.claim(p.id, { agentId: agent, capabilities: [p.agentType!] });
  engine.complete(c.phase.id, { agentId: agent, token: c.token, summary: `${phase} done` });
}

function approve(engine: Engine, id: string, phase: string): void {
  const g = engine.gates({ ticketId: id }).find((x) => x.phaseName === phase);
  assert.ok(g, `${id}: no open gate on ${phase} (open: ${offered(engine, id)})`);
  engine.approveGate(g.id, { actor: dana });
}

Deno.test("groups: a Python-only ticket waits for Python Design and its human review, and does no C++ work", async () => {
  const repo = await fixtureRepo("progressrepo");
  const engine = await openEngine(repo);
  importTickets(engine);
  const s = statusOf(engine, "0106");
  for (const p of ["Test Writing", "Implementation", "C++ Test Writing", "C++ Implementation"]) {
    assert.equal(s[p], "skipped", `${p} on a Python-only ticket`);
  }
  assert.deepEqual(offered(engine, "0106"), ["Python Design"]);
  assert.ok(!engine.queue("python-implementer").some((q) => q.ticketId === "0106"));
  work(engine, "0106", "Python Design");
  // The gate opens, and nothing of the group runs past it.
  assert.deepEqual(offered(engine, "0106"), ["Python Design Review"]);
  approve(engine, "0106", "Python Design Review");
  assert.deepEqual(offered(engine, "0106"), ["Python Test Writing"]);
  work(engine, "0106", "Python Test Writing");
  assert.deepEqual(offered(engine, "0106"), ["Python Implementation"]);
  work(engine, "0106", "Python Implementation");
  assert.deepEqual(offered(engine, "0106"), ["Quality Gate"]);
  engine.close();
});

Deno.test("groups: three languages: Frontend Implementation never before Frontend Design and its review", async () => {
  const repo = await fixtureRepo("progressrepo");
  const engine = await openEngine(repo);
  importTickets(engine);
  assert.equal(statusOf(engine, "0107")["Test Writing"], "skipped");
  assert.equal(statusOf(engine, "0107")["Implementation"], "skipped");
  assert.deepEqual(offered(engine, "0107"), ["Python Design"]);
  work(engine, "0107", "Python Design");
  approve(engine, "0107", "Python Design Review");
  assert.deepEqual(offered(engine, "0107"), ["Frontend Design"]);
  work(engine, "0107", "Frontend Design");
  assert.deepEqual(offered(engine, "0107"), ["Frontend Design Review"]);
  approve(engine, "0107", "Frontend Design Review");
  assert.deepEqual(offered(engine, "0107"), ["C++ Test Writing", "Python Test Writing"]);
  work(engine, "0107", "C++ Test Writing");
  work(engine, "0107", "Python Test Writing");
  assert.deepEqual(offered(engine, "0107"), ["C++ Implementation", "Python Implementation", "Frontend Implementation"]);
  engine.close();
});

Deno.test("groups: two languages: the tests wait for Python Design Review; Frontend phases do not apply", async () => {
  const repo = await fixtureRepo("progressrepo");
  const engine = await openEngine(repo);
  importTickets(engine);
  const s = statusOf(engine, "0108");
  for (const p of ["Frontend Design", "Frontend Design Review", "Frontend Implementation", "Test Writing"]) {
    assert.equal(s[p], "skipped", p);
  }
  assert.deepEqual(offered(engine, "0108"), ["Python Design"]);
  work(engine, "0108", "Python Design");
  assert.deepEqual(offered(engine, "0108"), ["Python Design Review"]);
  approve(engine, "0108", "Python Design Review");
  assert.deepEqual(offered(engine, "0108"), ["C++ Test Writing", "Python Test Writing"]);
  engine.close();
});

Deno.test("groups: one language (C++): the group follows Integration Review directly; a ticket of no member keeps the sequential phases", async () => {
  const repo = await fixtureRepo("progressrepo");
  const engine = await openEngine(repo);
  importTickets(engine);
  assert.deepEqual(offered(engine, "0113"), ["C++ Test Writing"]);
  // No language at all: no member applies, the sequential phases stay.
  engine.upsertTicket({
    id: "0200",
    title: "Untagged",
    metadata: { languages: [] },
    completedPhases: ["Integration Review"],
  });
  const s = statusOf(engine, "0200");
  assert.deepEqual([s["Test Writing"], s["Implementation"]], ["available", "pending"]);
  engine.close();
});

Deno.test("groups: doctor says how Baton reads the groups, phase by phase, for a sample of tickets", async () => {
  const { baton } = await import("../helpers/cli.ts");
  const repo = await fixtureRepo("progressrepo");
  assert.equal((await baton(["import"], { cwd: repo })).code, 0);
  const out = await baton(["doctor"], { cwd: repo });
  const reading = out.stdout.slice(out.stdout.indexOf("workflow as read:"));
  assert.match(
    reading,
    /0108: Design → Design Review → Integration Review \(human\) → Python Design → Python Design Review \(human\) → C\+\+ Test Writing \[group tests/,
  );
  assert.match(reading, /stood in for: Test Writing \(by group\), Implementation \(by group\)/);
});
