/**
 * Statements of the git hooks' checks: how an agent's claim on a phase ended.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import { HELD_SQL, type R } from "./rows.ts";

/**
 * The audit row that ended `agentId`'s hold on a phase (released, taken
 * back when its lease expired, completed, failed…): the latest transition
 * of the phase out of a held status that the agent made, or that names it
 * as the holder.
 */
export function holdEnded(db: Database, ticketId: string, phaseId: number, agentId: string): R | undefined {
  return db.get<R>(
    `SELECT at, action, actor, json_extract(details, '$.lease_expired_at') AS lease_expired_at FROM audit
     WHERE ticket_id = ? AND entity_type = 'phase' AND entity_id = ? AND old_state IN ${HELD_SQL} AND new_state NOT IN ${HELD_SQL}
       AND (actor = ? OR json_extract(details, '$.agent') = ? OR json_extract(details, '$.holder') = ?)
     ORDER BY id DESC LIMIT 1`,
    [ticketId, String(phaseId), agentId, agentId, agentId],
  );
}

const COMMIT_COLUMNS = `a.at, a.actor, a.ticket_id, CAST(a.entity_id AS INTEGER) AS phase_id,
  json_extract(a.details, '$.phase') AS phase, json_extract(a.details, '$.sha') AS sha,
  json_extract(a.details, '$.subject') AS subject, json_extract(a.details, '$.claim') AS claim,
  json_extract(a.details, '$.parent') AS parent`;

/**
 * The commits recorded by `post-commit` (`phase.commit` audit rows), oldest
 * first: of one ticket, or of every ticket.
 */
export function commitRows(db: Database, ticketId: string | null): R[] {
  return ticketId === null
    ? db.all<R>(`SELECT ${COMMIT_COLUMNS} FROM audit a WHERE a.action = 'phase.commit' ORDER BY a.id`)
    : db.all<R>(
      `SELECT ${COMMIT_COLUMNS} FROM audit a WHERE a.ticket_id = ? AND a.action = 'phase.commit' ORDER BY a.id`,
      [ticketId],
    );
}

/** A ticket's phase by name. */
export function phaseIdByName(db: Database, ticketId: string, name: string): number | undefined {
  return db.get<{ id: number }>("SELECT id FROM phases WHERE ticket_id = ? AND name = ?", [ticketId, name])?.id;
}

/** The last transition of a phase at or before `at`: who moved it to which status. */
export function transitionAt(db: Database, ticketId: string, phaseId: number, at: number): R | undefined {
  return db.get<R>(
    `SELECT actor, new_state FROM audit
     WHERE ticket_id = ? AND entity_type = 'phase' AND entity_id = ? AND new_state IS NOT NULL AND at <= ?
     ORDER BY id DESC LIMIT 1`,
    [ticketId, String(phaseId), at],
  );
}

/** What post-commit recorded for a commit of a ticket (its `phase.commit` row's `claim`: null, or `lost`). */
export function commitRecord(db: Database, ticketId: string, sha: string): R | undefined {
  return db.get<R>(
    `SELECT actor, json_extract(details, '$.claim') AS claim, json_extract(details, '$.phase') AS phase FROM audit
     WHERE ticket_id = ? AND action = 'phase.commit' AND json_extract(details, '$.sha') = ?
     ORDER BY id DESC LIMIT 1`,
    [ticketId, sha],
  );
}

/** Whether a transition into one of `held` statuses by `actor` happened in (from, to]. */
export function claimedBetween(
  db: Database,
  ticketId: string,
  phaseId: number,
  actor: string,
  from: number,
  to: number,
): boolean {
  return db.get(
    `SELECT 1 FROM audit
     WHERE ticket_id = ? AND entity_type = 'phase' AND entity_id = ? AND new_state IN ${HELD_SQL} AND actor = ?
       AND at > ? AND at <= ?
     LIMIT 1`,
    [ticketId, String(phaseId), actor, from, to],
  ) !== undefined;
}
