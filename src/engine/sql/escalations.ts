/**
 * Statements on `escalations`.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import type { R } from "./rows.ts";

const ESC = "SELECT e.*, p.name AS phase_name FROM escalations e JOIN phases p ON p.id = e.phase_id";

/** The open escalation of a phase, if any. */
export function openEscalationOf(db: Database, phaseId: number): R | undefined {
  return db.get<R>(`${ESC} WHERE e.phase_id = ? AND e.resolved_at IS NULL`, [phaseId]);
}

/** One escalation. */
export function escalationById(db: Database, id: number): R | undefined {
  return db.get<R>(`${ESC} WHERE e.id = ?`, [id]);
}

/** Open escalations (or all), oldest first. */
export function escalationRows(db: Database, all: boolean): R[] {
  return db.all<R>(`${ESC} WHERE ? OR e.resolved_at IS NULL ORDER BY e.opened_at, e.id`, [all ? 1 : 0]);
}

/** Opens one; returns its id. */
export function insertEscalation(
  db: Database,
  e: {
    phaseId: number;
    ticketId: string;
    agentId: string | null;
    reason: string;
    lastOutput: string | null;
    now: number;
  },
): number {
  return db.run(
    "INSERT INTO escalations(phase_id, ticket_id, agent_id, reason, last_output, opened_at) VALUES (?, ?, ?, ?, ?, ?)",
    [e.phaseId, e.ticketId, e.agentId, e.reason, e.lastOutput, e.now],
  ).lastInsertRowid;
}

/** Refreshes the last output of an open one. */
export function updateEscalationOutput(db: Database, id: number, lastOutput: string | null): void {
  db.run("UPDATE escalations SET last_output = ? WHERE id = ?", [lastOutput, id]);
}

/** Says anew why an open one waits (what happened since it opened), with the output that goes with it. */
export function restateEscalation(db: Database, id: number, reason: string, lastOutput: string | null): void {
  db.run("UPDATE escalations SET reason = ?, last_output = ? WHERE id = ?", [reason, lastOutput, id]);
}

/** Resolves one. */
export function resolveEscalationRow(
  db: Database,
  id: number,
  r: { now: number; by: string; resolution: string },
): void {
  db.run(
    "UPDATE escalations SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ? AND resolved_at IS NULL",
    [
      r.now,
      r.by,
      r.resolution,
      id,
    ],
  );
}
