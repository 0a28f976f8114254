/**
 * Statements on `ticket_deps`.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import type { R } from "./rows.ts";

/** How many of a ticket's dependencies still wait. */
export function waitingCount(db: Database, ticketId: string): number {
  return db.get<{ n: number }>(
    "SELECT count(*) AS n FROM ticket_deps WHERE ticket_id = ? AND satisfied_at IS NULL",
    [ticketId],
  )!.n;
}

/** A ticket's dependencies that still wait, in order. */
export function waitingDeps(db: Database, ticketId: string): R[] {
  return db.all<R>("SELECT * FROM ticket_deps WHERE ticket_id = ? AND satisfied_at IS NULL ORDER BY depends_on", [
    ticketId,
  ]);
}

/** The dependencies waiting for a ticket. */
export function waitingOn(db: Database, dependsOn: string): R[] {
  return db.all<R>("SELECT * FROM ticket_deps WHERE depends_on = ? AND satisfied_at IS NULL", [dependsOn]);
}

/** A ticket's dependencies, in order. */
export function depsOf(db: Database, ticketId: string): R[] {
  return db.all<R>("SELECT * FROM ticket_deps WHERE ticket_id = ? ORDER BY depends_on", [ticketId]);
}

/** What waits for a ticket, in order. */
export function dependentsOf(db: Database, ticketId: string): R[] {
  return db.all<R>("SELECT * FROM ticket_deps WHERE depends_on = ? ORDER BY ticket_id", [ticketId]);
}

/**
 * Every dependency, or those of one ticket in either direction (through the key and `ticket_deps_on`: a condition
 * that may be switched off, `? IS NULL OR …`, made SQLite read every dependency).
 */
export function depRows(db: Database, ticketId: string | undefined): R[] {
  if (ticketId == null) return db.all<R>("SELECT * FROM ticket_deps ORDER BY ticket_id, depends_on");
  return db.all<R>(
    "SELECT * FROM ticket_deps WHERE ticket_id = ?1 OR depends_on = ?1 ORDER BY ticket_id, depends_on",
    [ticketId],
  );
}

/**
 * Every waiting dependency of a ticket not completed (a completed ticket waits for nothing), with the
 * status of the ticket waited for (null: it does not exist).
 */
export function waitingWithTarget(db: Database): R[] {
  return db.all<R>(
    `SELECT d.*, (SELECT status FROM tickets WHERE id = d.depends_on) AS other FROM ticket_deps d
     JOIN tickets t ON t.id = d.ticket_id
     WHERE d.satisfied_at IS NULL AND t.status <> 'completed' ORDER BY d.ticket_id, d.depends_on`,
  );
}

/** The tickets a ticket depends on. */
export function dependsOnIds(db: Database, ticketId: string): string[] {
  return db.all<{ depends_on: string }>("SELECT depends_on FROM ticket_deps WHERE ticket_id = ?", [ticketId]).map((
    r,
  ) => r.depends_on);
}

/** Adds (or retypes) a dependency. */
export function upsertDep(
  db: Database,
  d: { ticketId: string; on: string; type: string; now: number; satisfiedAt: number | null },
): void {
  db.run(
    `INSERT INTO ticket_deps(ticket_id, depends_on, type, created_at, satisfied_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(ticket_id, depends_on) DO UPDATE SET type = excluded.type, satisfied_at = excluded.satisfied_at`,
    [d.ticketId, d.on, d.type, d.now, d.satisfiedAt],
  );
}

/** Marks a dependency satisfied. */
export function satisfyDep(db: Database, ticketId: string, on: string, now: number): void {
  db.run("UPDATE ticket_deps SET satisfied_at = ? WHERE ticket_id = ? AND depends_on = ?", [now, ticketId, on]);
}

/** Removes a dependency; returns whether there was one. */
export function deleteDep(db: Database, ticketId: string, on: string): boolean {
  return db.run("DELETE FROM ticket_deps WHERE ticket_id = ? AND depends_on = ?", [ticketId, on]).changes > 0;
}
