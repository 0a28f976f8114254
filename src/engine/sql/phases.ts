/**
 * Statements on `phases` and `phase_deps`.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import { DONE_SQL, HELD_SQL, PHASE_COLS, type R, TICKET_COLS, TROUBLE_SQL } from "./rows.ts";

/** One phase. */
export function phaseById(db: Database, id: number): R | undefined {
  return db.get<R>(`SELECT ${PHASE_COLS} FROM phases p WHERE p.id = ?`, [id]);
}

/** One phase with its claim token (for the fencing check). */
export function phaseWithToken(db: Database, id: number): R | undefined {
  return db.get<R>(`SELECT ${PHASE_COLS}, p.claim_token FROM phases p WHERE p.id = ?`, [id]);
}

/** One phase with the ticket columns a claim returns. */
export function phaseWithTicket(db: Database, id: number): R | undefined {
  return db.get<R>(
    `SELECT ${PHASE_COLS}, ${TICKET_COLS} FROM phases p JOIN tickets t ON t.id = p.ticket_id WHERE p.id = ?`,
    [id],
  );
}

/** A phase's agent type (null for a gate, undefined when it does not exist). */
export function agentTypeOf(db: Database, id: number): string | null | undefined {
  return db.get<{ agent_type: string | null }>("SELECT agent_type FROM phases WHERE id = ?", [id])?.agent_type;
}

/** Every phase of every ticket, by ticket and workflow order (the board). */
export function allPhases(db: Database): R[] {
  return db.all<R>(`SELECT ${PHASE_COLS} FROM phases p ORDER BY p.ticket_id, p.seq`);
}

/** A ticket's phases in workflow order. */
export function phasesOfTicket(db: Database, ticketId: string): R[] {
  return db.all<R>(`SELECT ${PHASE_COLS} FROM phases p WHERE p.ticket_id = ? ORDER BY p.seq`, [ticketId]);
}

/** A ticket's phases not reached yet (their conditions may still change). */
export function unreachedPhases(db: Database, ticketId: string): R[] {
  return db.all<R>(
    `SELECT ${PHASE_COLS} FROM phases p WHERE p.ticket_id = ? AND p.status IN ('pending', 'skipped', 'blocked', 'available')`,
    [ticketId],
  );
}

/** Pending or blocked phases of a ticket whose predecessors are all done. */
export function readyPhases(db: Database, ticketId: string): R[] {
  return db.all<R>(
    `SELECT ${PHASE_COLS} FROM phases p WHERE p.ticket_id = ? AND p.status IN ('pending', 'blocked')
       AND NOT EXISTS (SELECT 1 FROM phase_deps d JOIN phases q ON q.id = d.after_id
                       WHERE d.phase_id = p.id AND q.status NOT IN ${DONE_SQL})
     ORDER BY p.seq`,
    [ticketId],
  );
}

/** A ticket's available phases. */
export function availableOfTicket(db: Database, ticketId: string): R[] {
  return db.all<R>(`SELECT ${PHASE_COLS} FROM phases p WHERE p.ticket_id = ? AND p.status = 'available'`, [ticketId]);
}

/** How many of a ticket's phases are not done. */
export function openPhaseCount(db: Database, ticketId: string): number {
  return db.get<{ n: number }>(
    `SELECT count(*) AS n FROM phases WHERE ticket_id = ? AND (status NOT IN ${DONE_SQL} OR unmerged_branch IS NOT NULL)`,
    [ticketId],
  )!.n;
}

/** Completed phases whose work waits on a branch of its own to be merged, oldest first (not one still at work). */
export function unmergedPhases(db: Database): R[] {
  return db.all<R>(
    `SELECT ${PHASE_COLS} FROM phases p WHERE p.unmerged_branch IS NOT NULL AND p.status = 'completed' ORDER BY p.id`,
  );
}

/** Records (or clears, with null) the branch a phase's work waits on to be merged into its ticket branch. */
export function setUnmergedBranch(db: Database, id: number, branch: string | null): void {
  db.run("UPDATE phases SET unmerged_branch = ? WHERE id = ?", [branch, id]);
}

/** A phase's agent type (the workflow changed it before the phase was started). */
export function setAgentType(db: Database, id: number, agentType: string): void {
  db.run("UPDATE phases SET agent_type = ? WHERE id = ?", [agentType, id]);
}

/** Sets a phase's position among its ticket's phases. */
export function setSeq(db: Database, id: number, seq: number): void {
  db.run("UPDATE phases SET seq = ? WHERE id = ?", [seq, id]);
}

/** How many of the named phases of a ticket are not done. */
export function openNamedPhaseCount(db: Database, ticketId: string, names: string[]): number {
  return db.get<{ n: number }>(
    `SELECT count(*) AS n FROM phases WHERE ticket_id = ? AND (status NOT IN ${DONE_SQL} OR unmerged_branch IS NOT NULL)
       AND name IN (SELECT value FROM json_each(?))`,
    [ticketId, JSON.stringify(names)],
  )!.n;
}

/** Adds a phase; returns its id. */
export function insertPhase(
  db: Database,
  p: {
    ticketId: string;
    name: string;
    seq: number;
    group: string | null;
    agentType: string | null;
    rank: number;
    status: string;
    completedAt: number | null;
  },
): number {
  return db.run(
    `INSERT INTO phases(ticket_id, name, seq, parallel_group, agent_type, priority_rank, status, completed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [p.ticketId, p.name, p.seq, p.group, p.agentType, p.rank, p.status, p.completedAt],
  ).lastInsertRowid;
}

/** `phaseId` waits for `afterId`. */
export function insertPhaseDep(db: Database, phaseId: number, afterId: number): void {
  db.run("INSERT INTO phase_deps(phase_id, after_id) VALUES (?, ?)", [phaseId, afterId]);
}

/**
 * Compare-and-set: moves a phase from status `from` to `to`, setting the
 * given columns; returns whether the row was still in `from`.
 */
export function casPhase(db: Database, id: number, from: string, to: string, set: Record<string, unknown>): boolean {
  const cols = Object.keys(set);
  const sql = `UPDATE phases SET status = ?${cols.map((c) => `, ${c} = ?`).join("")} WHERE id = ? AND status = ?`;
  return db.run(sql, [to, ...cols.map((c) => set[c] as never), id, from]).changes === 1;
}

/** Copies a ticket's priority rank to its phases (the claim order is one index scan). */
export function setPhasesRank(db: Database, ticketId: string, rank: number): void {
  db.run("UPDATE phases SET priority_rank = ? WHERE ticket_id = ?", [rank, ticketId]);
}

/** Sets a phase's rework notes. */
export function setReworkNotes(db: Database, id: number, notes: string | null): void {
  db.run("UPDATE phases SET rework_notes = ? WHERE id = ?", [notes, id]);
}

/** Records progress on one phase (the stall clock restarts). */
export function markPhaseProgress(db: Database, id: number, now: number): void {
  db.run("UPDATE phases SET last_progress_at = ? WHERE id = ?", [now, id]);
}

/** Records progress on every phase an agent holds. */
export function markAgentProgress(db: Database, agentId: string, now: number): void {
  db.run(`UPDATE phases SET last_progress_at = ? WHERE claimed_by = ? AND status IN ${HELD_SQL}`, [now, agentId]);
}

/**
 * Extends the leases of the phases an agent holds (all, or those of
 * `phaseIds`), each by its own length: `overrides` is a JSON object phase
 * name → ms, `defaultMs` the rest.
 */
export function extendLeases(
  db: Database,
  agentId: string,
  now: number,
  overrides: string,
  defaultMs: number,
  phaseIds?: readonly number[],
): void {
  db.run(
    `UPDATE phases SET lease_expires_at = ?1 + coalesce((SELECT value FROM json_each(?2) WHERE key = phases.name), ?3)
     WHERE claimed_by = ?4 AND status IN ${HELD_SQL} AND (?5 IS NULL OR id IN (SELECT value FROM json_each(?5)))`,
    [now, overrides, defaultMs, agentId, phaseIds === undefined ? null : JSON.stringify(phaseIds)],
  );
}

/** The phases an agent holds now. */
export function heldBy(db: Database, agentId: string): R[] {
  return db.all<R>(
    `SELECT ${PHASE_COLS} FROM phases p WHERE p.claimed_by = ? AND p.status IN ${HELD_SQL} ORDER BY p.id`,
    [
      agentId,
    ],
  );
}

/** Held phases whose lease ended before `now`. */
export function expiredLeases(db: Database, now: number): R[] {
  return db.all<R>(`SELECT ${PHASE_COLS} FROM phases p WHERE p.status IN ${HELD_SQL} AND p.lease_expires_at < ?`, [
    now,
  ]);
}

/** Failed attempts whose backoff has passed. */
export function dueRetries(db: Database, now: number): R[] {
  return db.all<R>(`SELECT ${PHASE_COLS} FROM phases p WHERE p.status = 'waiting_retry' AND p.retry_at <= ?`, [now]);
}

/** The first `limit` available phases of an agent type in claim order, with their tickets (one index probe). */
export function queueHead(db: Database, agentType: string, limit: number, offset = 0): R[] {
  return db.all<R>(
    `SELECT ${PHASE_COLS}, p.priority_rank, t.metadata AS t_metadata, ${TICKET_COLS} FROM phases p INDEXED BY phases_queue
     JOIN tickets t ON t.id = p.ticket_id
     WHERE p.status = 'available' AND p.agent_type = ?
     ORDER BY p.priority_rank, p.ticket_id, p.seq LIMIT ? OFFSET ?`,
    [agentType, limit, offset],
  );
}

/**
 * The phases a claim would take, as `WHERE` parts each read through its own partial index: available ones, and
 * those a claim makes available first (a lease run out by `due`, a retry whose backoff passed).
 */
const CLAIMABLE = [
  "p.status = 'available'",
  `p.status IN ${HELD_SQL} AND p.lease_expires_at < :due`,
  "p.status = 'waiting_retry' AND p.retry_at <= :due",
];

/** Phases of an agent type a claim would take, in claim order (a lease run out by `due` counts: see CLAIMABLE). */
export function queue(db: Database, agentType: string, due: number): R[] {
  return db.all<R>(
    CLAIMABLE.map((w) =>
      `SELECT ${PHASE_COLS}, p.priority_rank AS rank FROM phases p WHERE ${w} AND p.agent_type = :type`
    ).join(" UNION ALL ") + " ORDER BY rank, ticket_id, seq",
    { due, type: agentType },
  );
}

/** Phases of any of the agent types a claim would take, best first, with ticket title and priority. */
export function availableFor(db: Database, agentTypes: string[], limit: number, due: number): R[] {
  return db.all<R>(
    CLAIMABLE.map((w) =>
      `SELECT p.id, p.ticket_id, p.name, p.agent_type, p.attempts, p.rework_notes IS NOT NULL AS rework,
         t.title, t.priority, p.priority_rank AS rank, p.seq
       FROM phases p JOIN tickets t ON t.id = p.ticket_id
       WHERE ${w} AND p.agent_type IN (SELECT value FROM json_each(:types))`
    ).join(" UNION ALL ") + " ORDER BY rank, ticket_id, seq LIMIT :limit",
    { due, types: JSON.stringify(agentTypes), limit },
  );
}

/** Available phases with their tickets' metadata, in claim order (of some agent types, or all). */
export function availableWithMetadata(db: Database, agentTypes: string[] | undefined): R[] {
  return db.all<R>(
    `SELECT ${PHASE_COLS}, t.metadata AS t_metadata FROM phases p JOIN tickets t ON t.id = p.ticket_id
     WHERE p.status = 'available' AND (? IS NULL OR p.agent_type IN (SELECT value FROM json_each(?)))
     ORDER BY p.priority_rank, p.ticket_id, p.seq`,
    [agentTypes ? 1 : null, JSON.stringify(agentTypes ?? [])],
  );
}

/** Held phases per agent type. */
export function heldByType(db: Database): { agent_type: string; n: number }[] {
  return db.all<{ agent_type: string; n: number }>(
    `SELECT agent_type, count(*) AS n FROM phases WHERE status IN ${HELD_SQL} GROUP BY agent_type`,
  );
}

/** Held and available phases per agent type (types with neither are left out): read from the two partial indexes, not the table. */
export function workByType(db: Database): { agent_type: string; held: number; available: number }[] {
  return db.all<{ agent_type: string; held: number; available: number }>(
    `SELECT agent_type, sum(held) AS held, sum(available) AS available FROM (
       SELECT agent_type, 1 AS held, 0 AS available FROM phases INDEXED BY phases_held WHERE status IN ${HELD_SQL}
       UNION ALL
       SELECT agent_type, 0, 1 FROM phases INDEXED BY phases_queue WHERE status = 'available'
     ) WHERE agent_type IS NOT NULL GROUP BY agent_type`,
  );
}

/** Every held phase, with its holder. */
export function allHeld(db: Database): R[] {
  return db.all<R>(
    `SELECT id, ticket_id, name, status, claimed_by FROM phases INDEXED BY phases_held WHERE status IN ${HELD_SQL}
     ORDER BY id`,
  );
}

/** The phase an agent claimed last and still holds. */
export function latestHeldBy(db: Database, agentId: string): R | undefined {
  return db.get<R>(
    `SELECT ${PHASE_COLS} FROM phases p WHERE p.claimed_by = ? AND p.status IN ${HELD_SQL}
     ORDER BY p.claimed_at DESC LIMIT 1`,
    [agentId],
  );
}

/** A ticket's completed phases before position `seq`. */
export function completedBefore(db: Database, ticketId: string, seq: number): R[] {
  return db.all<R>(
    `SELECT ${PHASE_COLS} FROM phases p WHERE p.ticket_id = ? AND p.seq < ? AND p.status = 'completed' ORDER BY p.seq`,
    [ticketId, seq],
  );
}

/** Phases waiting out a retry backoff or failed for good. */
export function retryingOrFailed(db: Database): R[] {
  return db.all<R>(
    `SELECT ${PHASE_COLS} FROM phases p INDEXED BY phases_trouble WHERE p.status IN ${TROUBLE_SQL}
     ORDER BY p.ticket_id, p.seq`,
  );
}

/** Held phases whose holder made no progress since `cutoff`, longest silence first. */
export function silentSince(db: Database, cutoff: number): R[] {
  return db.all<R>(
    `SELECT id, ticket_id, name, claimed_by, last_progress_at FROM phases
     WHERE status IN ${HELD_SQL} AND last_progress_at < ? ORDER BY last_progress_at, id`,
    [cutoff],
  );
}

/** Held phases whose lease ended before `now` (what `baton sweep` would release). */
export function staleLeases(db: Database, now: number): R[] {
  return db.all<R>(
    `SELECT id, ticket_id, name, claimed_by, lease_expires_at FROM phases
     WHERE status IN ${HELD_SQL} AND lease_expires_at < ? ORDER BY lease_expires_at, id`,
    [now],
  );
}

/** The available phase waiting longest to be claimed. */
export function oldestAvailable(db: Database): R | undefined {
  return db.get<R>(
    `SELECT id, ticket_id, name, available_at FROM phases WHERE status = 'available' AND available_at IS NOT NULL
     ORDER BY available_at, id LIMIT 1`,
  );
}

/** Phases per status. */
export function phaseCounts(db: Database): { status: string; n: number }[] {
  return db.all<{ status: string; n: number }>(
    "SELECT status, count(*) AS n FROM phases GROUP BY status ORDER BY status",
  );
}

/** The `[phase, waits for]` pairs of a ticket's phases. */
export function phaseDepsOfTicket(db: Database, ticketId: string): [number, number][] {
  return db.all<{ phase_id: number; after_id: number }>(
    `SELECT d.phase_id, d.after_id FROM phase_deps d JOIN phases p ON p.id = d.phase_id WHERE p.ticket_id = ?`,
    [ticketId],
  ).map((r) => [r.phase_id, r.after_id]);
}

/** Phases of these agent types by status, with the earliest retry time (why nothing could be claimed). */
export function outlookForTypes(
  db: Database,
  types: string[],
): { status: string; n: number; next_retry: number | null }[] {
  return db.all(
    `SELECT status, count(*) AS n, min(retry_at) AS next_retry FROM phases
     WHERE agent_type IN (SELECT value FROM json_each(?)) AND status NOT IN ${DONE_SQL} GROUP BY status`,
    [JSON.stringify(types)],
  );
}
