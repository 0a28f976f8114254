/**
 * Statements of the retention policy: each deletes at most `limit` rows
 * older than a cut-off, so that one run never holds the write lock long
 * (what is left goes in the next run).
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import { HELD_SQL } from "./rows.ts";

/** Idempotency keys recorded before `before`. */
export function pruneIdempotency(db: Database, before: number, limit: number): number {
  return db.run(
    "DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency WHERE created_at < ? LIMIT ?)",
    [before, limit],
  ).changes;
}

/** Daily claim-miss counters of days before `day` (YYYY-MM-DD). */
export function pruneClaimMisses(db: Database, day: string, limit: number): number {
  return db.run(
    "DELETE FROM claim_misses WHERE (day, agent_type) IN (SELECT day, agent_type FROM claim_misses WHERE day < ? LIMIT ?)",
    [day, limit],
  ).changes;
}

/** Agents last seen before `before` that hold nothing (the table is read whole: see {@link retentionDue}). */
export function pruneAgents(db: Database, before: number, limit: number): number {
  return db.run(
    `DELETE FROM agents WHERE id IN (
       SELECT a.id FROM agents a WHERE a.last_heartbeat < ?
         AND NOT EXISTS (SELECT 1 FROM phases p WHERE p.claimed_by = a.id AND p.status IN ${HELD_SQL})
       LIMIT ?)`,
    [before, limit],
  ).changes;
}

/** File declarations released before `before`. */
export function pruneDeclarations(db: Database, before: number, limit: number): number {
  return db.run(
    "DELETE FROM file_declarations WHERE id IN (SELECT id FROM file_declarations WHERE released_at < ? LIMIT ?)",
    [before, limit],
  ).changes;
}

/**
 * Audit rows from before `before`, oldest first: in time order, so that they are found through `audit_at` (in id
 * order SQLite read the trail from its first row until it had `limit` of them, or to its end).
 */
export function pruneAudit(db: Database, before: number, limit: number): number {
  return db.run("DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ? ORDER BY at LIMIT ?)", [
    before,
    limit,
  ]).changes;
}

/** The cut-offs of one run of the policy (times in ms since the epoch: what is older goes). */
export interface RetentionCutoffs {
  /** Idempotency keys recorded before it. */
  idempotency: number;
  /** YYYY-MM-DD: counters of earlier days go. */
  claimMissDay: string;
  /** Agents last seen before it that hold nothing. */
  agents: number;
  /** File declarations released before it. */
  declarations: number;
  /** Audit rows from before it; null: the audit trail is kept. */
  audit: number | null;
}

/**
 * Whether a run with these cut-offs would delete anything: read first, so that a run with nothing to do takes no
 * write lock. Each table that grows with use is searched through an index (migration 15); `agents`, a row per agent
 * id that each heartbeat updates, is read whole (an index on `last_heartbeat` would cost every heartbeat a page).
 */
export function retentionDue(db: Database, c: RetentionCutoffs): boolean {
  return db.get<{ due: number }>(
    `SELECT EXISTS (SELECT 1 FROM idempotency WHERE created_at < ?)
         OR EXISTS (SELECT 1 FROM claim_misses WHERE day < ?)
         OR EXISTS (SELECT 1 FROM agents a WHERE a.last_heartbeat < ?
                      AND NOT EXISTS (SELECT 1 FROM phases p WHERE p.claimed_by = a.id AND p.status IN ${HELD_SQL}))
         OR EXISTS (SELECT 1 FROM file_declarations WHERE released_at < ?)
         OR (? IS NOT NULL AND EXISTS (SELECT 1 FROM audit WHERE at < ?)) AS due`,
    [
      c.idempotency,
      c.claimMissDay,
      c.agents,
      c.declarations,
      c.audit,
      c.audit,
    ],
  )!.due === 1;
}

/** When the retention policy last ran (0: never), from its own audit rows. */
export function lastPruneAt(db: Database): number {
  return db.get<{ at: number | null }>("SELECT max(at) AS at FROM audit WHERE action = 'maintenance.pruned'")!.at ?? 0;
}
