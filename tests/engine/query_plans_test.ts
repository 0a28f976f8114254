/**
 * What an agent's every step runs (a ticket's upsert and resolve, a claim,
 * a completion) must not read whole tables: each statement it prepares is
 * asked for its plan (`EXPLAIN QUERY PLAN`), and none may scan `tickets` or
 * `phases`, the tables that grow with the backlog. (Resolving a ticket once
 * scanned every ticket for its open children: an import of 100,000 tickets
 * took ~7 ms per ticket.)
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { coreOf } from "../../src/engine/api/base.ts";
import { EXAMPLE_PHASES, tempRepo } from "../helpers/repo.ts";

Deno.test("an agent's steps read no table whole: upsert and resolve, claim, start, complete", async () => {
  const repo = await tempRepo({ phases: EXAMPLE_PHASES });
  const engine = await openEngine(repo);
  try {
    engine.upsertTicket({ id: "0001", title: "Parent" });
    for (let i = 2; i <= 40; i++) {
      engine.upsertTicket({
        id: String(i).padStart(4, "0"),
        title: `t${i}`,
        parentId: i % 5 === 0 ? "0001" : undefined,
      });
    }
    const db = coreOf(engine).db;
    const seen = new Set<string>();
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      seen.add(sql);
      return prepare(sql);
    }) as typeof db.prepare;
    try {
      engine.upsertTicket({ id: "0010", title: "t10 renamed", parentId: "0001" });
      const c = engine.claimNext({ agentId: "a1", capabilities: ["designer"] })!;
      engine.start(c.phase.id, { agentId: "a1", token: c.token });
      engine.complete(c.phase.id, { agentId: "a1", token: c.token });
    } finally {
      db.prepare = prepare;
    }
    const scans: string[] = [];
    for (const sql of seen) {
      if (!/^\s*(SELECT|UPDATE|DELETE|INSERT|WITH)/i.test(sql)) continue;
      for (const row of db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)) {
        if (/^SCAN (tickets|phases)\b/.test(row.detail)) scans.push(`${row.detail}: ${sql.replace(/\s+/g, " ")}`);
      }
    }
    assert.ok(seen.size > 10, `statements were seen (${seen.size})`);
    assert.deepEqual(scans, []);
  } finally {
    engine.close();
  }
});

Deno.test("an agent's steps never make SQLite compile a statement again: 60 agents claim, start, complete, read", async () => {
  // SQLite 3.54 recompiled every statement with an ORDER BY and an equality on a parameter at each new value
  // (decision 045): ten of a claim + complete, 20-40 µs each.
  const repo = await tempRepo({ phases: EXAMPLE_PHASES });
  const engine = await openEngine(repo);
  try {
    for (let i = 1; i <= 60; i++) {
      engine.upsertTicket({
        id: String(i).padStart(4, "0"),
        title: `t${i}`,
        parentId: i > 1 && i % 7 === 0 ? "0001" : undefined,
        dependencies: i > 2 && i % 5 === 0 ? [{ on: String(i - 1).padStart(4, "0") }] : undefined,
      });
    }
    const db = coreOf(engine).db;
    for (let i = 0; i < 60; i++) {
      const agentId = `agent-${i}`;
      const c = engine.claimNext({ agentId, capabilities: ["designer"] });
      if (!c) break;
      engine.start(c.phase.id, { agentId, token: c.token });
      engine.heartbeat(agentId);
      engine.context({ agentId });
      engine.complete(c.phase.id, { agentId, token: c.token, summary: "done" });
      engine.ticket(c.ticket.id);
    }
    engine.listTickets({});
    assert.ok(db.cachedStatements > 20, `statements cached: ${db.cachedStatements}`);
    assert.equal(db.statementRecompiles, 0);
  } finally {
    engine.close();
  }
});

Deno.test("the metrics and the status pages' reads look up by index what they look up row by row", async () => {
  // metrics' tickets-per-day asked, for each completion, whether an import placed phases done in the same request,
  // among every audit row of its time and action: 33 s over the 1,000,000 rows of bench:metrics, where one request
  // (an import, a scripted batch) had written many. Correlated lookups must name the request (correlation_id).
  const repo = await tempRepo({ phases: EXAMPLE_PHASES });
  const engine = await openEngine(repo);
  try {
    for (let i = 1; i <= 12; i++) engine.upsertTicket({ id: String(i).padStart(4, "0"), title: `t${i}` });
    const c = engine.claimNext({ agentId: "a1", capabilities: ["designer"] })!;
    engine.complete(c.phase.id, { agentId: "a1", token: c.token });
    const db = coreOf(engine).db;
    const seen = new Set<string>();
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      seen.add(sql);
      return prepare(sql);
    }) as typeof db.prepare;
    try {
      engine.metrics();
      engine.summary();
      engine.blocked();
      engine.agentTypes();
      engine.agents();
    } finally {
      db.prepare = prepare;
    }
    const bad: string[] = [];
    for (const sql of seen) {
      if (!/^\s*(SELECT|WITH)/i.test(sql)) continue;
      const plan = db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).map((r) => r.detail);
      plan.forEach((detail, i) => {
        const correlated = plan.slice(0, i).some((d) => d.startsWith("CORRELATED"));
        if (correlated && /^SEARCH \w+ USING INDEX audit_\w+ \(/.test(detail) && !detail.includes("correlation_id=?")) {
          bad.push(`${detail}: ${sql.replace(/\s+/g, " ")}`);
        }
        // Held, available, waiting or failed phases are read through their partial indexes, not the whole table.
        if (
          /^SCAN (phases|p)$/.test(detail) &&
          /status IN \('claimed', 'running'\)|status = 'available'|'failed'/.test(sql)
        ) {
          bad.push(`${detail}: ${sql.replace(/\s+/g, " ")}`);
        }
      });
    }
    assert.ok(seen.size > 20, `statements were seen (${seen.size})`);
    assert.deepEqual(bad, []);
  } finally {
    engine.close();
  }
});
