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
import { HELD_SQL } from "../../src/engine/sql/rows.ts";
import type { Database } from "../../src/storage/sqlite.ts";
import { engineFor, EXAMPLE_PHASES, tempRepo } from "../helpers/repo.ts";

/** The SQL of every statement `fn` has the connection prepare. */
function statementsPrepared(db: Database, fn: () => void): Set<string> {
  const seen = new Set<string>();
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    seen.add(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  try {
    fn();
  } finally {
    db.prepare = prepare;
  }
  return seen;
}

/** Words that follow a table name in a `FROM` or `JOIN` clause and are not its alias. */
const NOT_ALIASES = new Set(
  [
    "JOIN",
    "LEFT",
    "INNER",
    "CROSS",
    "NATURAL",
    "ON",
    "USING",
    "WHERE",
    "INDEXED",
    "NOT",
    "GROUP",
    "ORDER",
    "LIMIT",
    "SET",
  ]
    .concat(["UNION", "EXCEPT", "INTERSECT", "WINDOW", "RETURNING", "VALUES", "DEFAULT"]),
);

/**
 * The table a plan line scans (`SCAN t`, `SCAN tickets USING INDEX …`), its alias resolved through the statement's
 * `FROM`, `JOIN` and `UPDATE` clauses; undefined for other lines, a constant row, `json_each` and common table
 * expressions.
 * Throws when the name cannot be resolved or an alias names two tables, so that a scan is never passed over unseen.
 */
function scannedTable(db: Database, detail: string, sql: string): string | undefined {
  const m = /^SCAN (\w+)/.exec(detail);
  if (!m || detail === "SCAN CONSTANT ROW") return undefined;
  const name = m[1];
  if (name === "json_each" || new RegExp(`\\b${name}\\s+AS\\s*\\(`, "i").test(sql)) return undefined;
  const bound = new Set<string>();
  // The alias is looked ahead at, not consumed: in `FROM phases JOIN tickets t`, `JOIN` starts the next match.
  for (const [, table, alias] of sql.matchAll(/\b(?:FROM|JOIN|UPDATE)\s+(\w+)(?=(?:\s+(?:AS\s+)?(\w+))?)/gi)) {
    if (table === name || (alias === name && !NOT_ALIASES.has(alias.toUpperCase()))) bound.add(table);
  }
  if (bound.size > 1) throw new Error(`${name} names ${[...bound].join(" and ")} in: ${sql}`);
  if (bound.size === 1) return [...bound][0];
  const known = db.get<{ n: number }>("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name = ?", [
    name,
  ])!.n;
  if (known) return name;
  throw new Error(`cannot tell which table "${detail}" scans in: ${sql}`);
}

/**
 * The plan lines, among the statements of the kinds asked for, that scan one of `tables` (their parameters unbound:
 * a plan does not depend on their values), each with its statement.
 */
function scansOf(db: Database, statements: Iterable<string>, tables: string[], kinds: RegExp): string[] {
  const scans: string[] = [];
  for (const sql of statements) {
    if (!kinds.test(sql)) continue;
    for (const row of db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)) {
      const table = scannedTable(db, row.detail, sql);
      if (table && tables.includes(table)) scans.push(`${row.detail}: ${sql.replace(/\s+/g, " ")}`);
    }
  }
  return scans;
}

Deno.test("an agent's steps read no table whole: upsert and resolve, claim, start, complete, a ticket's page", async () => {
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
    // A gate of each kind on the way: a review asked for, the human gate after it decided.
    const r = engine.claimNext({ agentId: "a0", capabilities: ["designer"] })!;
    engine.requestReview(r.phase.id, { agentId: "a0", token: r.token, summary: "look" });
    engine.approveGate(engine.gates({ status: "open" })[0].id, { actor: { kind: "human", name: "dana" } });
    const db = coreOf(engine).db;
    const seen = statementsPrepared(db, () => {
      engine.upsertTicket({ id: "0010", title: "t10 renamed", parentId: "0001" });
      const c = engine.claimNext({ agentId: "a1", capabilities: ["designer"] })!;
      engine.start(c.phase.id, { agentId: "a1", token: c.token });
      engine.context({ agentId: "a1" });
      engine.complete(c.phase.id, { agentId: "a1", token: c.token });
      engine.ticket(c.ticket.id);
      engine.ticket(r.ticket.id);
      engine.dependencies("0010");
    });
    const scans = scansOf(
      db,
      seen,
      ["tickets", "phases", "gates", "ticket_deps"],
      /^\s*(SELECT|UPDATE|DELETE|INSERT|WITH)/i,
    );
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

/** One row of `EXPLAIN QUERY PLAN`. */
interface PlanRow {
  id: number;
  parent: number;
  detail: string;
}

/**
 * Plan lines that read more than they need:
 * - under a correlated subquery (run once per outer row): a scan, or a search of the audit by anything but the
 *   request (`correlation_id`): time and action alone match every row one request (an import, a batch) wrote;
 * - in a read of held, available, waiting or failed phases: a scan through no index or a full one (a partial index
 *   holds only those phases); the same for active file declarations (released ones stay for a month);
 * - in a read of the audit from a time on: a scan of the whole trail (the metrics of the last day read 1,000,000 rows),
 *   unless the statement says it reads the whole trail (`NOT INDEXED`).
 */
function overReads(db: Database, sql: string): string[] {
  const rows = db.all<PlanRow>(`EXPLAIN QUERY PLAN ${sql}`);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const partial = new Set(
    db.all<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql LIKE '% WHERE %'").map((r) =>
      r.name
    ),
  );
  const underCorrelated = (r: PlanRow) => {
    for (let p = byId.get(r.parent); p; p = byId.get(p.parent)) if (p.detail.startsWith("CORRELATED")) return true;
    return false;
  };
  const byStatus = /status IN \('claimed', 'running'\)|status = 'available'|status = 'failed'|'waiting_retry'/.test(
    sql,
  );
  const bad: string[] = [];
  for (const r of rows) {
    const scan = /^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?$/.exec(r.detail);
    if (underCorrelated(r)) {
      if (scan) bad.push(r.detail);
      if (/^SEARCH \w+ USING (COVERING )?INDEX audit_/.test(r.detail) && !r.detail.includes("correlation_id=?")) {
        bad.push(r.detail);
      }
    } else if (scan && byStatus && !(scan[2] && partial.has(scan[2])) && /\bFROM phases\b/.test(sql)) {
      bad.push(r.detail);
    } else if (
      scan && !(scan[2] && partial.has(scan[2])) && scannedTable(db, r.detail, sql) === "file_declarations" &&
      /released_at IS NULL/.test(sql)
    ) {
      bad.push(r.detail);
    } else if (scan && !scan[2] && /\bFROM audit\b(?! NOT INDEXED)/.test(sql) && /\bat >= \?/.test(sql)) {
      bad.push(r.detail);
    }
  }
  return bad.map((d) => `${d}: ${sql.replace(/\s+/g, " ")}`);
}

Deno.test("the metrics and the status pages read by index what they look up row by row or by status", async () => {
  // metrics' tickets-per-day asked, for each completion, whether an import placed phases done in the same request,
  // among every audit row of its time and action: 33 s over the 1,000,000 rows of bench:metrics, where one batch
  // request had written many. Since migration 14 only available phases are in phases_queue: the reads of held,
  // waiting or failed phases go through their own partial indexes.
  const repo = await tempRepo({ phases: EXAMPLE_PHASES });
  const engine = await openEngine(repo);
  try {
    for (let i = 1; i <= 12; i++) engine.upsertTicket({ id: String(i).padStart(4, "0"), title: `t${i}` });
    const c = engine.claimNext({ agentId: "a1", capabilities: ["designer"] })!;
    engine.complete(c.phase.id, { agentId: "a1", token: c.token });
    const db = coreOf(engine).db;
    const seen = statementsPrepared(db, () => {
      const d = engine.claimNext({ agentId: "a2", capabilities: ["designer"] })!;
      engine.declareFiles(d.phase.id, { agentId: "a2", token: d.token, paths: ["src/**"] });
      engine.heartbeat("a2");
      engine.metrics();
      engine.metrics({ since: Date.now() - 86_400_000 });
      engine.summary();
      engine.blocked();
      engine.agentTypes();
      engine.agents();
      engine.declarations();
      engine.retryFailed({ all: true }, { actor: { kind: "human", name: "dana" } });
      engine.audit({ since: Date.now() - 3_600_000, limit: 50 });
      engine.audit({ since: Date.now() - 3_600_000, limit: 50, latest: true });
    });
    const bad = [...seen].filter((sql) => /^\s*(SELECT|WITH)/i.test(sql)).flatMap((sql) => overReads(db, sql));
    assert.ok(seen.size > 20, `statements were seen (${seen.size})`);
    assert.deepEqual(bad, []);
    // The held-phase reads name phases_held, whose condition must stay the engine's list of held statuses.
    const held = db.get<{ sql: string }>("SELECT sql FROM sqlite_schema WHERE name = 'phases_held'")!.sql;
    assert.ok(held.endsWith(`WHERE status IN ${HELD_SQL}`), held);
  } finally {
    engine.close();
  }
});

Deno.test("the retention policy finds what is old through indexes: its check, and each of its deletes", async () => {
  const HOUR = 3_600_000;
  const { engine, clock } = await engineFor({ config: "audit:\n  retain_days: 30\n" });
  try {
    engine.upsertTicket({ id: "0001", title: "A" });
    const db = coreOf(engine).db;
    const seen = statementsPrepared(db, () => {
      clock.advance(2 * HOUR);
      engine.registerAgent("a", ["designer"]); // a writer's hourly check (nothing is due: a read only)
      engine.prune(); // every delete, the audit's too (retain_days)
    });
    // The tables that grow with use: a key per retry-safe call (each with the answer it replays), a row per declared
    // file, the audit trail, a counter per day and agent type. (`agents` is read whole: see sql/retention.ts.)
    const scans = scansOf(
      db,
      seen,
      ["idempotency", "file_declarations", "audit", "claim_misses"],
      /^\s*(SELECT|DELETE)/i,
    );
    assert.ok([...seen].some((s) => /^DELETE FROM audit/.test(s)), "the audit's delete ran");
    assert.ok([...seen].some((s) => /EXISTS \(SELECT 1 FROM idempotency/.test(s)), "the check ran");
    assert.deepEqual(scans, []);
  } finally {
    engine.close();
  }
});

Deno.test("the plan checker resolves aliases, and refuses a scan it cannot attribute", async () => {
  const repo = await tempRepo({ phases: EXAMPLE_PHASES });
  const engine = await openEngine(repo);
  try {
    const db = coreOf(engine).db;
    assert.equal(
      scannedTable(db, "SCAN t", "SELECT * FROM phases JOIN tickets t ON t.id = phases.ticket_id"),
      "tickets",
    );
    assert.equal(
      scannedTable(db, "SCAN phases", "SELECT * FROM phases JOIN tickets t ON t.id = phases.ticket_id"),
      "phases",
    );
    assert.equal(scannedTable(db, "SCAN p", "UPDATE phases AS p SET status = 'available'"), "phases");
    assert.equal(
      scannedTable(db, "SCAN g USING INDEX gates_status", "SELECT * FROM gates g WHERE g.status = ?"),
      "gates",
    );
    assert.equal(
      scannedTable(db, "SCAN json_each VIRTUAL TABLE INDEX 1:", "SELECT value FROM json_each(?)"),
      undefined,
    );
    assert.equal(
      scannedTable(db, "SEARCH t USING INDEX tickets_status (status=?)", "SELECT * FROM tickets t"),
      undefined,
    );
    // One alias for two tables, and a name that is neither a table nor an alias: errors, not a pass.
    assert.throws(
      () => scannedTable(db, "SCAN g", "SELECT * FROM agents g WHERE EXISTS (SELECT 1 FROM gates g)"),
      /names/,
    );
    assert.throws(() => scannedTable(db, "SCAN q", "SELECT * FROM (SELECT 1) AS q2"), /cannot tell/);
  } finally {
    engine.close();
  }
});
