/**
 * Metrics at scale: 10,000 tickets (70,000 phases, a third of them worked
 * through), 1,000,000 audit rows, 20,000 decided gates and 25,000 released
 * declarations; times `metrics()`, `stalled()`, an `events()` page, the
 * other reads of the trail, and reads of one ticket and of what is active,
 * each also as a ratio to one read of the whole trail in the same run (raw
 * SQL: every row's page).
 * Checks that the metrics count every completion of the setup.
 * `deno task bench:metrics`
 */
import { openEngine } from "../mod.ts";
import { Database } from "../storage.ts";
import { EXAMPLE_PHASES, tempRepo } from "../tests/helpers/repo.ts";

const repo = await tempRepo({ phases: EXAMPLE_PHASES });
let t = Date.UTC(2026, 10, 1);
const engine = await openEngine(repo, { clock: () => t });
const caps = ["designer", "implementer", "test-writer", "security-reviewer", "docs-writer"];
const human = { kind: "human" as const, name: "bench" };
const t0 = performance.now();
let completed = 0;
engine.transaction(() => {
  for (let i = 0; i < 10_000; i++) {
    engine.upsertTicket({
      id: String(i).padStart(5, "0"),
      title: `ticket ${i}`,
      metadata: { priority: ["Critical", "High", "Medium", "Low"][i % 4], needs_docs: i % 3 === 0 },
    });
  }
});
// Work a third of the tickets through some phases, with gates decided.
engine.transaction(() => {
  for (let i = 0; i < 3_000; i++) {
    t += 60_000;
    const c = engine.claimNext({ agentId: `agent-${i % 12}`, capabilities: caps });
    if (!c) break;
    t += 5 * 60_000;
    engine.complete(c.phase.id, { agentId: c.phase.claimedBy!, token: c.token });
    completed++;
    const g = engine.gates()[0];
    if (g && i % 2 === 0) engine.approveGate(g.id, { actor: human });
  }
});
// Fill the audit trail to 1,000,000 rows.
// Raw SQL through a second connection to the same file (the engine owns its statements; this is a benchmark fixture).
const raw = await Database.open(engine.storageInfo().path);
const have = raw.get<{ n: number }>("SELECT count(*) AS n FROM audit")!.n;
raw.transaction(() => {
  raw.run(
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
     INSERT INTO audit(at, actor, action, entity_type, entity_id, ticket_id, old_state, new_state, details, correlation_id)
     SELECT ? + i * 1000, 'agent-' || (i % 12), 'agent.progress', 'agent', 'agent-' || (i % 12), printf('%05d', i % 10000),
            NULL, NULL, '{"progress":"working"}', 'bench-' || i FROM s`,
    [1_000_000 - have, Date.UTC(2026, 9, 1)],
  );
});
// History kept for good beside it: 20,000 decided gates (a review each), 25,000 declarations released in the last
// month, and 20,000 dependencies met long ago (each ticket on two earlier ones), spread over the tickets.
const phaseRows = raw.all<{ id: number; ticket_id: string }>("SELECT id, ticket_id FROM phases WHERE seq = 1");
raw.transaction(() => {
  for (let i = 0; i < 20_000; i++) {
    const p = phaseRows[i % phaseRows.length];
    raw.run(
      `INSERT INTO gates(phase_id, ticket_id, kind, status, requested_by, summary, opened_at, decided_at, decided_by)
       VALUES (?, ?, 'review', 'approved', 'agent-1', 'a review', ?, ?, 'human:bench')`,
      [p.id, p.ticket_id, t - 86_400_000 + i, t - 86_400_000 + i + 1],
    );
  }
  for (let i = 0; i < 25_000; i++) {
    raw.run(
      `INSERT INTO file_declarations(phase_id, agent_id, pattern, declared_at, released_at) VALUES (?, ?, ?, ?, ?)`,
      [phaseRows[i % phaseRows.length].id, `agent-${i % 12}`, `src/module_${i}.ts`, t - 7_200_000, t - 3_600_000],
    );
  }
  for (let i = 2; i < 10_000; i++) {
    for (const back of [1, 2]) {
      raw.run(
        "INSERT INTO ticket_deps(ticket_id, depends_on, type, created_at, satisfied_at) VALUES (?, ?, 'completion', ?, ?)",
        [String(i).padStart(5, "0"), String(i - back).padStart(5, "0"), t - 86_400_000, t - 86_000_000],
      );
    }
  }
});
console.log(
  `setup: ${((performance.now() - t0) / 1000).toFixed(1)} s; audit rows: ${
    raw.get<{ n: number }>("SELECT count(*) AS n FROM audit")!.n.toLocaleString("en")
  }`,
);

const counted = engine.metrics().agents.reduce((n, a) => n + a.completed, 0);
if (counted !== completed) {
  throw new Error(`invariant: metrics count ${counted} completions, the setup made ${completed}`);
}

let baseline = 0;
function time(label: string, fn: () => unknown, runs = 5): number {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    fn();
    xs.push(performance.now() - s);
  }
  xs.sort((a, b) => a - b);
  const median = xs[Math.floor(runs / 2)];
  const ratio = baseline ? `, ${(median / baseline).toPrecision(2)}× the baseline` : "";
  console.log(`${label}: median ${median.toFixed(median < 10 ? 3 : 1)} ms (of ${runs})${ratio}`);
  return median;
}
baseline = time(
  "baseline: one read of the whole trail (raw SQL)",
  () => raw.get("SELECT count(*) AS n, sum(length(details)) AS b FROM audit NOT INDEXED"),
);
time("metrics() over all time", () => engine.metrics());
time("metrics() for the last day", () => engine.metrics({ since: t - 86_400_000 }));
time("stalled()", () => engine.stalled());
time("events() page of 500 from the middle", () => engine.events({ since: 500_000, limit: 500 }));
// By one action (no index on action since migration 14): a frequent one, and one no row has (the whole trail is read).
time(
  "audit() of one action, newest 50 (frequent)",
  () => engine.audit({ action: "phase.claim", limit: 50, latest: true }),
);
time("audit() of an action no row has", () => engine.audit({ action: "gate.withdrawn", limit: 50 }));
time("commits() of every ticket", () => engine.commits());
time("listTickets({status: 'active'})", () => engine.listTickets({ status: "active" }));
time("blocked()", () => engine.blocked());
// Reads of one ticket, and of what is active, beside the history above.
time("ticket() of one ticket (20,000 decided gates in all)", () => engine.ticket("04242"), 21);
time("declarations() (25,000 released ones beside them)", () => engine.declarations(), 21);
time("dependencies() of one ticket (20,000 in all)", () => engine.dependencies("04242"), 21);
engine.close();
raw.close();
