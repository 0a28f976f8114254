/**
 * Statements on the merge queue's tables: the worker's lease, the branches
 * added by hand, batches and their items, reverts, flaky checks.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import { PHASE_COLS, type R, TICKET_COLS } from "./rows.ts";

/** The merge worker's lease row, if any worker ever held it. */
export function workerLease(db: Database): R | undefined {
  return db.get<R>("SELECT * FROM merge_worker WHERE id = 1");
}

/** Gives the worker's lease to `holder` with a new fencing token. */
export function setWorkerLease(db: Database, holder: string, token: string, now: number, expires: number): void {
  db.run(
    `INSERT INTO merge_worker(id, holder, token, acquired_at, lease_expires_at) VALUES (1, ?1, ?2, ?3, ?4)
     ON CONFLICT(id) DO UPDATE SET holder = ?1, token = ?2, acquired_at = ?3, lease_expires_at = ?4`,
    [holder, token, now, expires],
  );
}

/** Extends the lease of the holder of `token`; returns whether it still held it. */
export function renewWorkerLease(db: Database, token: string, expires: number): boolean {
  return db.run("UPDATE merge_worker SET lease_expires_at = ? WHERE id = 1 AND token = ?", [expires, token]).changes >
    0;
}

/** Ends the lease of the holder of `token`. */
export function dropWorkerLease(db: Database, token: string): void {
  db.run("DELETE FROM merge_worker WHERE id = 1 AND token = ?", [token]);
}

/** Landing phases waiting to land, in queue order (first come, then priority), with their ticket and branch. */
export function queuedLandings(db: Database, phase: string, limit: number): R[] {
  return db.all<R>(
    `SELECT ${PHASE_COLS}, ${TICKET_COLS}, mb.branch AS m_branch FROM phases p
     JOIN tickets t ON t.id = p.ticket_id LEFT JOIN merge_branches mb ON mb.ticket_id = p.ticket_id
     WHERE p.name = ? AND p.status = 'available'
     ORDER BY p.available_at, t.priority_rank, t.id LIMIT ?`,
    [phase, limit],
  );
}

/** Landing phases that are not available yet but will be (waiting for a retry), and ones held by a worker. */
export function landingsByStatus(db: Database, phase: string): { status: string; n: number }[] {
  return db.all<{ status: string; n: number }>(
    "SELECT status, count(*) AS n FROM phases WHERE name = ? GROUP BY status",
    [phase],
  );
}

/** A ticket's landing phase. */
export function landingOf(db: Database, ticketId: string, phase: string): R | undefined {
  return db.get<R>(`SELECT ${PHASE_COLS}, p.claim_token FROM phases p WHERE p.ticket_id = ? AND p.name = ?`, [
    ticketId,
    phase,
  ]);
}

/** Puts a phase back at its place in the queue (a release makes it the newest). */
export function setAvailableAt(db: Database, phaseId: number, at: number): void {
  db.run("UPDATE phases SET available_at = ? WHERE id = ?", [at, phaseId]);
}

/** Records the branch that lands for a ticket. */
export function setMergeBranch(db: Database, ticketId: string, branch: string, by: string, now: number): void {
  db.run(
    `INSERT INTO merge_branches(ticket_id, branch, added_by, added_at) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT(ticket_id) DO UPDATE SET branch = ?2, added_by = ?3, added_at = ?4`,
    [ticketId, branch, by, now],
  );
}

/** The branch recorded for a ticket, if any. */
export function mergeBranch(db: Database, ticketId: string): string | undefined {
  return db.get<{ branch: string }>("SELECT branch FROM merge_branches WHERE ticket_id = ?", [ticketId])?.branch;
}

/** Starts a batch; returns its id. */
export function insertBatch(
  db: Database,
  b: { worker: string; target: string; baseSha: string; now: number },
): number {
  return db.run(
    "INSERT INTO merge_batches(worker, target, base_sha, status, started_at) VALUES (?, ?, ?, 'building', ?)",
    [b.worker, b.target, b.baseSha, b.now],
  ).lastInsertRowid;
}

/** Adds an item to a batch. */
export function insertItem(
  db: Database,
  i: {
    batchId: number;
    position: number;
    phaseId: number | null;
    ticketId: string;
    kind: "land" | "revert";
    revertId?: number;
    branch: string | null;
    token: string | null;
  },
): void {
  db.run(
    `INSERT INTO merge_items(batch_id, position, phase_id, ticket_id, kind, revert_id, branch, token)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [i.batchId, i.position, i.phaseId, i.ticketId, i.kind, i.revertId ?? null, i.branch, i.token],
  );
}

/** One batch. */
export function batchById(db: Database, id: number): R | undefined {
  return db.get<R>("SELECT * FROM merge_batches WHERE id = ?", [id]);
}

/** A batch's items, in queue order. */
export function itemsOf(db: Database, batchId: number): R[] {
  return db.all<R>("SELECT * FROM merge_items WHERE batch_id = ? ORDER BY position", [batchId]);
}

/** Batches not finished (building, or landing: the candidate recorded, the target maybe moved). */
export function openBatches(db: Database): R[] {
  return db.all<R>("SELECT * FROM merge_batches WHERE status IN ('building', 'landing') ORDER BY id");
}

/** The latest batches, newest first. */
export function recentBatches(db: Database, limit: number): R[] {
  return db.all<R>("SELECT * FROM merge_batches ORDER BY id DESC LIMIT ?", [limit]);
}

/** Updates a batch's fields. */
export function updateBatch(
  db: Database,
  id: number,
  set: Partial<
    {
      status: string;
      worker: string;
      candidate_sha: string | null;
      builds: number;
      check_ms: number | null;
      log: string | null;
      finished_at: number | null;
      check_process: string | null;
      target_red: number;
      base_sha: string;
    }
  >,
): void {
  const keys = Object.keys(set);
  if (!keys.length) return;
  db.run(
    `UPDATE merge_batches SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE id = ?`,
    [...keys.map((k) => (set as Record<string, string | number | null>)[k]), id],
  );
}

/** Updates an item's outcome (and its commit, notes, token). */
export function updateItem(
  db: Database,
  batchId: number,
  position: number,
  set: Partial<
    {
      outcome: string;
      sha: string | null;
      from_sha: string | null;
      notes: string | null;
      token: string | null;
      tip: string | null;
    }
  >,
): void {
  const keys = Object.keys(set);
  if (!keys.length) return;
  db.run(
    `UPDATE merge_items SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE batch_id = ? AND position = ?`,
    [...keys.map((k) => (set as Record<string, string | null>)[k]), batchId, position],
  );
}

/**
 * The branch tip a ticket's latest landing item was applied from since the ticket last landed, not counting items
 * sent back for rework (their work was to change), or null.
 */
export function testedTip(db: Database, ticketId: string): string | null {
  return db.get<{ tip: string }>(
    `SELECT i.tip FROM merge_items i
     WHERE i.ticket_id = ? AND i.kind = 'land' AND i.tip IS NOT NULL AND i.outcome NOT IN ('culprit', 'conflict', 'fenced')
       AND i.batch_id > coalesce((SELECT max(l.batch_id) FROM merge_items l
                                  WHERE l.ticket_id = i.ticket_id AND l.kind = 'land' AND l.outcome IN ('landed', 'noop')), 0)
     ORDER BY i.batch_id DESC, i.position DESC LIMIT 1`,
    [ticketId],
  )?.tip ?? null;
}

/**
 * What a ticket landed (newest first), from the batches that landed it: `FROM..TO` for an item whose range was
 * recorded (since migration 17), else its commit.
 */
export function landedShas(db: Database, ticketId: string): string[] {
  return db.all<{ sha: string; from_sha: string | null }>(
    `SELECT i.sha, i.from_sha FROM merge_items i JOIN merge_batches b ON b.id = i.batch_id
     WHERE i.ticket_id = ? AND i.kind = 'land' AND i.outcome = 'landed' AND i.sha IS NOT NULL
     ORDER BY i.batch_id DESC, i.position DESC`,
    [ticketId],
  ).map((r) => (r.from_sha ? `${r.from_sha}..${r.sha}` : r.sha));
}

/** Queues a revert; returns its id. */
export function insertRevert(
  db: Database,
  r: { ticketId: string; shas: string[]; notes: string | null; by: string; now: number },
): number {
  return db.run(
    `INSERT INTO merge_reverts(ticket_id, shas, notes, status, requested_by, requested_at)
     VALUES (?, ?, ?, 'queued', ?, ?)`,
    [r.ticketId, JSON.stringify(r.shas), r.notes, r.by, r.now],
  ).lastInsertRowid;
}

/** Reverts waiting to land, oldest first. */
export function queuedReverts(db: Database): R[] {
  return db.all<R>(
    `SELECT * FROM merge_reverts r WHERE status = 'queued' AND NOT EXISTS (
       SELECT 1 FROM merge_items i JOIN merge_batches b ON b.id = i.batch_id
       WHERE i.revert_id = r.id AND b.status IN ('building', 'landing'))
     ORDER BY id`,
  );
}

/** One revert. */
export function revertById(db: Database, id: number): R | undefined {
  return db.get<R>("SELECT * FROM merge_reverts WHERE id = ?", [id]);
}

/** Sets a revert's status (and the commit it landed as). */
export function setRevertStatus(db: Database, id: number, status: string, sha: string | null): void {
  db.run("UPDATE merge_reverts SET status = ?, landed_sha = ? WHERE id = ?", [status, sha, id]);
}

/** Counts a flaky run of a check command. */
export function countFlake(db: Database, check: string, batchId: number, now: number): void {
  db.run(
    `INSERT INTO merge_flakes(check_cmd, count, last_at, last_batch) VALUES (?1, 1, ?2, ?3)
     ON CONFLICT(check_cmd) DO UPDATE SET count = count + 1, last_at = ?2, last_batch = ?3`,
    [check, now, batchId],
  );
}

/** Every check command that was flaky, most often first. */
export function flakes(db: Database): R[] {
  return db.all<R>("SELECT * FROM merge_flakes ORDER BY count DESC, check_cmd");
}

/** Item outcomes of batches finished since `since`, counted (for the merge metrics). */
export function outcomeCounts(db: Database, since: number): { outcome: string; n: number }[] {
  return db.all<{ outcome: string; n: number }>(
    `SELECT i.outcome, count(*) AS n FROM merge_items i JOIN merge_batches b ON b.id = i.batch_id
     WHERE i.kind = 'land' AND b.started_at >= ? GROUP BY i.outcome`,
    [since],
  );
}

/** Batches since `since`: how many, how many needed more than one build (flaky retry or bisect), check time. */
export function batchCounts(db: Database, since: number): { batches: number; rebuilt: number; red: number } {
  return db.get<{ batches: number; rebuilt: number; red: number }>(
    `SELECT count(*) AS batches, coalesce(sum(builds > 1), 0) AS rebuilt, coalesce(sum(status = 'red'), 0) AS red
     FROM merge_batches WHERE started_at >= ?`,
    [since],
  )!;
}

/**
 * How long each landing phase completed since `since` waited in the queue:
 * from becoming available to landing (ms), oldest first.
 */
export function queueWaits(db: Database, agentType: string, since: number): number[] {
  return db.all<{ ms: number }>(
    `SELECT completed_at - available_at AS ms FROM phases
     WHERE agent_type = ? AND status = 'completed' AND completed_at >= ? AND available_at IS NOT NULL
     ORDER BY completed_at`,
    [agentType, since],
  ).map((r) => r.ms);
}

/** Tickets landed since `since`, and of those how many never went back from the queue (no conflict or culprit). */
export function landedTickets(db: Database, since: number): { landed: number; clean: number } {
  return db.get<{ landed: number; clean: number }>(
    `SELECT count(DISTINCT l.ticket_id) AS landed,
       count(DISTINCT CASE WHEN NOT EXISTS (
         SELECT 1 FROM merge_items x WHERE x.ticket_id = l.ticket_id AND x.outcome IN ('conflict', 'culprit', 'failed')
       ) THEN l.ticket_id END) AS clean
     FROM merge_items l JOIN merge_batches b ON b.id = l.batch_id
     WHERE l.kind = 'land' AND l.outcome IN ('landed', 'noop') AND b.finished_at >= ?`,
    [since],
  )!;
}

/** How many times the merge queue sent a ticket back (a conflict, a broken check) since its work last landed. */
export function sentBackSinceLanded(db: Database, ticketId: string): number {
  return db.get<{ n: number }>(
    `SELECT count(*) AS n FROM audit WHERE ticket_id = ?1 AND action IN ('merge.conflict', 'merge.culprit')
       AND id > coalesce((SELECT max(id) FROM audit WHERE ticket_id = ?1 AND action = 'merge.landed'), 0)`,
    [ticketId],
  )!.n;
}
