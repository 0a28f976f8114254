/**
 * Statements on `gates`.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import type { R } from "./rows.ts";

const GATE = "SELECT g.*, p.name AS phase_name FROM gates g JOIN phases p ON p.id = g.phase_id";

/** Opens a gate; returns its id. */
export function insertGate(
  db: Database,
  g: {
    phaseId: number;
    ticketId: string;
    kind: "gate" | "review";
    requestedBy?: string;
    summary?: string | null;
    now: number;
    revision: number;
  },
): number {
  return db.run(
    `INSERT INTO gates(phase_id, ticket_id, kind, status, requested_by, summary, opened_at, revision)
     VALUES (?, ?, ?, 'open', ?, ?, ?, ?)`,
    [g.phaseId, g.ticketId, g.kind, g.requestedBy ?? null, g.summary ?? null, g.now, g.revision],
  ).lastInsertRowid;
}

/** One gate, with its phase's name. */
export function gateById(db: Database, id: number): R | undefined {
  return db.get<R>(`${GATE} WHERE g.id = ?`, [id]);
}

/** The open gate of a phase, if any. */
export function openGateOfPhase(db: Database, phaseId: number): R | undefined {
  return db.get<R>(`${GATE} WHERE g.phase_id = ? AND g.status = 'open'`, [phaseId]);
}

/**
 * Gates of a status (or all), of a ticket (or all), oldest first. One statement per combination, each with only the
 * conditions it needs, so that SQLite reads `gates_ticket` or `gates_status` (a condition that may be switched off,
 * `? IS NULL OR …`, made it read every gate).
 */
export function gateRows(db: Database, status: string, ticketId: string | undefined): R[] {
  const where: string[] = [];
  const params: string[] = [];
  if (ticketId != null) {
    where.push("g.ticket_id = ?");
    params.push(ticketId);
  }
  if (status !== "all") {
    where.push("g.status = ?");
    params.push(status);
  }
  return db.all<R>(
    `${GATE}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY g.opened_at, g.id`,
    params,
  );
}

/** Records a decision on an open gate. */
export function decideGate(
  db: Database,
  id: number,
  d: { status: string; now: number; by: string; notes: string | null },
): void {
  db.run(
    "UPDATE gates SET status = ?, decided_at = ?, decided_by = ?, notes = ? WHERE id = ? AND status = 'open'",
    [d.status, d.now, d.by, d.notes, id],
  );
}

/** The notes of the last rejection of a phase, or of a gate phase reviewing it (`reviewers`: their names). */
export function lastRejectionNotes(
  db: Database,
  ticketId: string,
  phaseId: number,
  reviewers: string[],
): string | null {
  return db.get<{ notes: string }>(
    `SELECT g.notes FROM gates g WHERE g.ticket_id = ? AND g.status = 'rejected'
       AND (g.phase_id = ? OR g.phase_id IN (SELECT id FROM phases WHERE ticket_id = ? AND name IN (SELECT value FROM json_each(?))))
     ORDER BY g.decided_at DESC LIMIT 1`,
    [ticketId, phaseId, ticketId, JSON.stringify(reviewers)],
  )?.notes ?? null;
}
