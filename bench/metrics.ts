/**
 * Metrics at scale: 10,000 tickets (70,000 phases, a third of them worked
 * through) and 1,000,000 audit rows; times `metrics()`, `stalled()`, an
 * `events()` page and the other reads of the trail, each also as a ratio to
 * one read of the whole trail in the same run (raw SQL: every row's page).
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
  console.log(`${label}: median ${median.toFixed(1)} ms (of ${runs})${ratio}`);
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
engine.close();
raw.close();
