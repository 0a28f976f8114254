/**
 * Statements on the coordination tables: `file_declarations`,
 * `idempotency` and `claim_misses`.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import { HELD_SQL, type R } from "./rows.ts";

/** The first result recorded for an idempotency key. */
export function idempotencyResult(db: Database, key: string): { agent_id: string; result: string } | undefined {
  return db.get<{ agent_id: string; result: string }>("SELECT agent_id, result FROM idempotency WHERE key = ?", [key]);
}

/** Records the result of an idempotent request. */
export function insertIdempotency(db: Database, key: string, agentId: string, result: string, now: number): void {
  db.run("INSERT INTO idempotency(key, agent_id, result, created_at) VALUES (?, ?, ?, ?)", [key, agentId, result, now]);
}

/** Counts a claim that came back empty or lost to a holder, per UTC day and agent type. */
export function countMiss(db: Database, day: string, agentType: string, kind: "empty" | "conflicts"): void {
  db.run(
    `INSERT INTO claim_misses(day, agent_type, ${kind}) VALUES (?, ?, 1)
     ON CONFLICT(day, agent_type) DO UPDATE SET ${kind} = ${kind} + 1`,
    [day, agentType],
  );
}

/** Ends a phase's active declarations. */
export function releaseDeclarations(db: Database, phaseId: number, now: number): void {
  db.run("UPDATE file_declarations SET released_at = ? WHERE phase_id = ? AND released_at IS NULL", [now, phaseId]);
}

/** A phase's active declarations. */
export function declaredBy(db: Database, phaseId: number): string[] {
  return db.all<{ pattern: string }>(
    "SELECT pattern FROM file_declarations WHERE phase_id = ? AND released_at IS NULL",
    [phaseId],
  ).map((r) => r.pattern);
}

/** Adds a declaration. */
export function insertDeclaration(db: Database, phaseId: number, agentId: string, pattern: string, now: number): void {
  db.run("INSERT INTO file_declarations(phase_id, agent_id, pattern, declared_at) VALUES (?, ?, ?, ?)", [
    phaseId,
    agentId,
    pattern,
    now,
  ]);
}

/** Active declarations of held phases, except those of `exceptPhase`. */
export function heldDeclarations(db: Database, exceptPhase: number | null): R[] {
  return db.all<R>(
    `SELECT d.pattern, d.phase_id, d.agent_id, p.ticket_id, p.name FROM file_declarations d INDEXED BY file_declarations_active
     JOIN phases p ON p.id = d.phase_id
     WHERE d.released_at IS NULL AND p.status IN ${HELD_SQL} AND (? IS NULL OR d.phase_id <> ?)
     ORDER BY d.id`,
    [exceptPhase, exceptPhase],
  );
}

/**
 * Every active declaration, with its phase: through their partial index (in id order SQLite read every declaration
 * released in the last month too).
 */
export function activeDeclarations(db: Database): R[] {
  return db.all<R>(
    `SELECT d.phase_id, p.ticket_id, p.name, d.agent_id, d.pattern, d.declared_at
     FROM file_declarations d INDEXED BY file_declarations_active
     JOIN phases p ON p.id = d.phase_id WHERE d.released_at IS NULL ORDER BY d.id`,
  );
}

/** Active declarations of phases no longer held (should not exist). */
export function orphanedDeclarations(db: Database): { id: number; pattern: string; agent_id: string }[] {
  return db.all<{ id: number; pattern: string; agent_id: string }>(
    `SELECT d.id, d.pattern, d.agent_id FROM file_declarations d JOIN phases p ON p.id = d.phase_id
     WHERE d.released_at IS NULL AND p.status NOT IN ${HELD_SQL}`,
  );
}
