/**
 * Statements on `audit`.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import type { R } from "./rows.ts";

/** One audit row. */
export interface AuditRow {
  at: number;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  ticketId: string | null;
  oldState: string | null;
  newState: string | null;
  details: string | null;
  correlationId: string;
}

/** Appends an audit row. */
export function insertAudit(db: Database, a: AuditRow): void {
  db.run(
    `INSERT INTO audit(at, actor, action, entity_type, entity_id, ticket_id, old_state, new_state, details, correlation_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [a.at, a.actor, a.action, a.entityType, a.entityId, a.ticketId, a.oldState, a.newState, a.details, a.correlationId],
  );
}

/** Rows after an id, of a ticket and an actor (either optional), oldest first. */
export function auditAfter(
  db: Database,
  f: { since: number; ticketId?: string; agentId?: string; limit: number },
): R[] {
  return db.all<R>(
    `SELECT * FROM audit WHERE id > ? AND (? IS NULL OR ticket_id = ?) AND (? IS NULL OR actor = ?) ORDER BY id LIMIT ?`,
    [f.since, f.ticketId ?? null, f.ticketId ?? null, f.agentId ?? null, f.agentId ?? null, f.limit],
  );
}

/** Rows of a ticket, an actor and a time range (each optional): the first `limit`, or the last `limit` when `latest`. */
export function auditRows(
  db: Database,
  f: { ticketId?: string; agentId?: string; since?: number; until?: number; limit?: number; latest?: boolean },
): R[] {
  const where =
    `(? IS NULL OR ticket_id = ?) AND (? IS NULL OR actor = ?) AND (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?)`;
  const params = [
    f.ticketId ?? null,
    f.ticketId ?? null,
    f.agentId ?? null,
    f.agentId ?? null,
    f.since ?? null,
    f.since ?? null,
    f.until ?? null,
    f.until ?? null,
    f.limit ?? -1,
  ];
  if (f.latest && f.limit !== undefined) {
    return db.all<R>(`SELECT * FROM (SELECT * FROM audit WHERE ${where} ORDER BY id DESC LIMIT ?) ORDER BY id`, params);
  }
  return db.all<R>(`SELECT * FROM audit WHERE ${where} ORDER BY id LIMIT ?`, params);
}

/** The newest audit id (0 when empty). */
export function lastAuditId(db: Database): number {
  return db.get<{ id: number }>("SELECT coalesce(max(id), 0) AS id FROM audit")!.id;
}
