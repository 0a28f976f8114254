/**
 * Statements on `tickets`.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import { DONE_SQL, HELD_SQL, type R } from "./rows.ts";

/** One ticket row. */
export function ticketById(db: Database, id: string): R | undefined {
  return db.get<R>("SELECT * FROM tickets WHERE id = ?", [id]);
}

/** Whether a ticket exists. */
export function ticketExists(db: Database, id: string): boolean {
  return db.get("SELECT 1 AS x FROM tickets WHERE id = ?", [id]) !== undefined;
}

/** The columns a ticket is written with. */
export interface TicketRow {
  id: string;
  title: string;
  path: string | null;
  priority: string | null;
  rank: number;
  metadata: string;
  contentHash: string | null;
  parentId: string | null;
}

/** Adds a ticket. */
export function insertTicket(db: Database, t: TicketRow, now: number): void {
  db.run(
    `INSERT INTO tickets(id, title, path, priority, priority_rank, metadata, content_hash, parent_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [t.id, t.title, t.path, t.priority, t.rank, t.metadata, t.contentHash, t.parentId, now, now],
  );
}

/** Rewrites a ticket's fields. */
export function updateTicket(db: Database, t: TicketRow, now: number): void {
  db.run(
    `UPDATE tickets SET title = ?, path = ?, priority = ?, priority_rank = ?, metadata = ?, content_hash = ?,
       parent_id = ?, updated_at = ? WHERE id = ?`,
    [t.title, t.path, t.priority, t.rank, t.metadata, t.contentHash, t.parentId, now, t.id],
  );
}

/** Sets a ticket's status. */
export function setTicketStatus(db: Database, id: string, status: string, now: number): void {
  db.run("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?", [status, now, id]);
}

/** The ids of a ticket's child tickets (`Parent Ticket`) that are not completed. */
export function openChildIds(db: Database, parentId: string): string[] {
  return db.all<{ id: string }>(
    "SELECT id FROM tickets WHERE parent_id = ? AND status <> 'completed' ORDER BY id",
    [parentId],
  ).map((r) => r.id);
}

/** Tickets, each with its children not completed (parents waiting only). */
export function parentsWaiting(db: Database): { id: string; children: string }[] {
  return db.all<{ id: string; children: string }>(
    `SELECT p.id, group_concat(c.id, ', ') AS children FROM tickets p JOIN tickets c ON c.parent_id = p.id
     WHERE c.status <> 'completed' AND p.status <> 'completed'
       AND NOT EXISTS (SELECT 1 FROM phases x WHERE x.ticket_id = p.id AND x.status NOT IN ('completed', 'skipped'))
     GROUP BY p.id ORDER BY p.id`,
  );
}

/** Records a ticket's markdown file, the hash of its content, and (when given) what Baton wrote into it. */
export function setTicketFile(db: Database, id: string, path: string, contentHash: string, ledger?: string): void {
  if (ledger === undefined) {
    db.run("UPDATE tickets SET path = ?, content_hash = ? WHERE id = ?", [path, contentHash, id]);
  } else {
    db.run("UPDATE tickets SET path = ?, content_hash = ?, markdown_ledger = ? WHERE id = ?", [
      path,
      contentHash,
      ledger,
      id,
    ]);
  }
}

/** Ids of active tickets, in order. */
export function activeTicketIds(db: Database): string[] {
  return db.all<{ id: string }>("SELECT id FROM tickets WHERE status = 'active' ORDER BY id").map((r) => r.id);
}

/** Ids of active tickets without a phase of each of these names, in order. */
export function activeTicketsLacking(db: Database, names: readonly string[]): string[] {
  return db.all<{ id: string }>(
    `SELECT t.id FROM tickets t WHERE t.status = 'active'
       AND (SELECT count(*) FROM phases p WHERE p.ticket_id = t.id AND p.name IN (SELECT value FROM json_each(?1))) < ?2
     ORDER BY t.id`,
    [JSON.stringify(names), names.length],
  ).map((r) => r.id);
}

/**
 * Open tickets with a phase nobody has worked on yet that the workflow no
 * longer has as it is: its name, or its agent type, not among `phases`.
 */
export function activeTicketsOffWorkflow(
  db: Database,
  phases: readonly { name: string; agentType: string | null }[],
): string[] {
  // The few distinct (name, type) pairs first: nearly always all in the workflow, and no ticket is read.
  const known = new Set(phases.map((d) => `${d.name}\0${d.agentType}`));
  const off = db.all<{ name: string; agent_type: string | null }>(
    `SELECT DISTINCT p.name, p.agent_type FROM phases p JOIN tickets t ON t.id = p.ticket_id
      WHERE t.status = 'active' AND p.status IN ('pending', 'available', 'blocked')`,
  ).filter((r) => !known.has(`${r.name}\0${r.agent_type}`));
  if (!off.length) return [];
  return db.all<{ id: string }>(
    `SELECT DISTINCT p.ticket_id AS id FROM phases p JOIN tickets t ON t.id = p.ticket_id
      WHERE t.status = 'active' AND p.status IN ('pending', 'available', 'blocked')
        AND EXISTS (SELECT 1 FROM json_each(?1) w WHERE w.value ->> '$[0]' = p.name AND w.value ->> '$[1]' IS p.agent_type)
      ORDER BY 1`,
    [JSON.stringify(off.map((r) => [r.name, r.agent_type]))],
  ).map((r) => r.id);
}

/** Ids of tickets with a markdown file, in order. */
export function ticketIdsWithFiles(db: Database): string[] {
  return db.all<{ id: string }>("SELECT id FROM tickets WHERE path IS NOT NULL ORDER BY id").map((r) => r.id);
}

/** Every ticket's id, path, content hash and write-back ledger. */
export function ticketFiles(
  db: Database,
  ids?: readonly string[],
): { id: string; path: string | null; content_hash: string | null; markdown_ledger: string | null }[] {
  type Row = { id: string; path: string | null; content_hash: string | null; markdown_ledger: string | null };
  if (ids === undefined) return db.all<Row>("SELECT id, path, content_hash, markdown_ledger FROM tickets ORDER BY id");
  return db.all<Row>(
    "SELECT id, path, content_hash, markdown_ledger FROM tickets WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
    [JSON.stringify(ids)],
  );
}

/** The highest all-digits ticket id, as a number (0 when there is none). */
export function maxNumericId(db: Database): number {
  return db.get<{ n: number }>(
    "SELECT coalesce(max(CAST(id AS INTEGER)), 0) AS n FROM tickets WHERE id GLOB '[0-9]*' AND id NOT GLOB '*[^0-9]*'",
  )!.n;
}

/**
 * Tickets with their first open phase, blocked flag and whether `agent`
 * holds a phase, in priority order. Three passes over the tables rather
 * than three subqueries per ticket (a 1,000-ticket list: ~70 -> ~15 ms).
 */
export function ticketRows(db: Database, f: { agent?: string; status?: string; priority?: string }): R[] {
  const rows = db.all<R>(
    `SELECT t.id, t.title, t.status, t.priority, t.metadata FROM tickets t
     WHERE (? IS NULL OR t.status = ?) AND (? IS NULL OR lower(t.priority) = lower(?))
     ORDER BY t.priority_rank, t.id`,
    [f.status ?? null, f.status ?? null, f.priority ?? null, f.priority ?? null],
  );
  // SQLite's min() with a bare column: the name comes from the row with the smallest seq.
  const first = new Map(
    db.all<{ ticket_id: string; name: string }>(
      `SELECT ticket_id, name, min(seq) FROM phases WHERE status NOT IN ${DONE_SQL} GROUP BY ticket_id`,
    ).map((r) => [r.ticket_id, r.name]),
  );
  const blocked = new Set(
    // A completed ticket waits for nothing: what it depended on no longer blocks it.
    db.all<{ ticket_id: string }>(
      `SELECT DISTINCT d.ticket_id FROM ticket_deps d JOIN tickets t ON t.id = d.ticket_id
       WHERE d.satisfied_at IS NULL AND t.status <> 'completed'`,
    ).map((r) => r.ticket_id),
  );
  const held = new Set(
    f.agent === undefined ? [] : db.all<{ ticket_id: string }>(
      `SELECT DISTINCT ticket_id FROM phases WHERE claimed_by = ? AND status IN ${HELD_SQL}`,
      [f.agent],
    ).map((r) => r.ticket_id),
  );
  for (const r of rows) {
    r.phase = first.get(r.id) ?? null;
    r.blocked = blocked.has(r.id) ? 1 : 0;
    r.held = held.has(r.id) ? 1 : 0;
  }
  return rows;
}

/** Tickets per status. */
export function ticketCounts(db: Database): { status: string; n: number }[] {
  return db.all<{ status: string; n: number }>("SELECT status, count(*) AS n FROM tickets GROUP BY status");
}

/** Each priority label the tickets carry, with the rank they were given for it (one row per pair). */
export function priorityRanks(db: Database): { priority: string | null; priority_rank: number }[] {
  return db.all("SELECT DISTINCT priority, priority_rank FROM tickets");
}

/** Gives the tickets of a priority label (null: none) a new rank, their phases too; returns how many tickets. */
export function rerankPriority(db: Database, priority: string | null, from: number, to: number): number {
  const n =
    db.run("UPDATE tickets SET priority_rank = ? WHERE priority IS ? AND priority_rank = ?", [to, priority, from])
      .changes;
  db.run(
    "UPDATE phases SET priority_rank = ? WHERE ticket_id IN (SELECT id FROM tickets WHERE priority IS ?) AND priority_rank = ?",
    [to, priority, from],
  );
  return n;
}
