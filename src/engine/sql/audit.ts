/**
 * Statements on `audit`.
 *
 * @module
 */
import type { Database, SqlValue } from "../../storage/sqlite.ts";
import type { R } from "./rows.ts";
import type { AuditEntry, AuditFilter } from "../types.ts";

/** One audit row as written: the public entry without its id, its details as JSON text. */
export type AuditRow = Omit<AuditEntry, "id" | "details"> & { details: string | null };

/** Appends an audit row. */
export function insertAudit(db: Database, a: AuditRow): void {
  db.run(
    `INSERT INTO audit(at, actor, action, entity_type, entity_id, ticket_id, old_state, new_state, details, correlation_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [a.at, a.actor, a.action, a.entityType, a.entityId, a.ticketId, a.oldState, a.newState, a.details, a.correlationId],
  );
}

/**
 * The WHERE clause of an audit query: only the conditions given, so that
 * SQLite can use the index on each (`? IS NULL OR ticket_id = ?` forces a
 * scan of the whole table). Values are always bound, never put in the text.
 */
function auditWhere(
  f: { afterId?: number; ticketId?: string; agentId?: string; action?: string; since?: number; until?: number },
): { where: string; params: SqlValue[] } {
  const cond: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, v: SqlValue | undefined) => {
    if (v === undefined) return;
    cond.push(sql);
    params.push(v);
  };
  add("id > ?", f.afterId);
  add("ticket_id = ?", f.ticketId);
  add("actor = ?", f.agentId);
  add("action = ?", f.action);
  add("at >= ?", f.since);
  add("at < ?", f.until);
  return { where: cond.length ? cond.join(" AND ") : "1", params };
}

/** Rows after an id, of a ticket and an actor (either optional), oldest first. */
export function auditAfter(
  db: Database,
  f: { since: number; ticketId?: string; agentId?: string; limit: number },
): R[] {
  const { where, params } = auditWhere({ afterId: f.since, ticketId: f.ticketId, agentId: f.agentId });
  return db.all<R>(`SELECT * FROM audit WHERE ${where} ORDER BY id LIMIT ?`, [...params, f.limit]);
}

/**
 * Rows of a ticket, an actor, an action and a time range (each optional): the first `limit`, or the last `limit` when
 * `latest`. A time range is read in time order, through `audit_at`: in id order SQLite read the trail from its first
 * row, however recent the range (one clock stamps every row, so both orders agree: decision 035).
 */
export function auditRows(db: Database, f: AuditFilter): R[] {
  const { where, params } = auditWhere(f);
  const all = [...params, f.limit ?? -1];
  const [order, desc] = f.since !== undefined || f.until !== undefined
    ? ["at, id", "at DESC, id DESC"]
    : ["id", "id DESC"];
  if (f.latest && f.limit !== undefined) {
    return db.all<R>(
      `SELECT * FROM (SELECT * FROM audit WHERE ${where} ORDER BY ${desc} LIMIT ?) ORDER BY ${order}`,
      all,
    );
  }
  return db.all<R>(`SELECT * FROM audit WHERE ${where} ORDER BY ${order} LIMIT ?`, all);
}

/** The newest audit id (0 when empty). */
export function lastAuditId(db: Database): number {
  return db.get<{ id: number }>("SELECT coalesce(max(id), 0) AS id FROM audit")!.id;
}

/**
 * The ids of a ticket's phases on which Baton recorded work or a decision: a
 * claim, start, completion, failure, review request, gate decision, human
 * reset, release, or rework asked by someone (a gate's rejection, an agent,
 * the merge queue); not the bookkeeping of seeding, readiness, blocking and
 * conditions, which `system` does.
 */
export function phasesWorkedOn(db: Database, ticketId: string): Set<string> {
  return new Set(
    db.all<{ entity_id: string }>(
      `SELECT DISTINCT entity_id FROM audit WHERE ticket_id = ? AND entity_type = 'phase'
         AND (action IN ('phase.claim', 'phase.start', 'phase.complete', 'phase.fail', 'phase.request_review',
                         'phase.approve', 'phase.reject', 'phase.reset', 'phase.release', 'phase.stale')
              OR (action = 'phase.rework' AND actor <> 'system'))`,
      [ticketId],
    ).map((r) => r.entity_id),
  );
}
