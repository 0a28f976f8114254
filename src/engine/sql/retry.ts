/**
 * Statements for retrying failed phases in bulk (see `engine/retry_bulk.ts`).
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import { PHASE_COLS, type R } from "./rows.ts";

/** Phases that failed for good, by ticket and workflow order. */
export function failedPhaseRows(db: Database): R[] {
  return db.all<R>(`SELECT ${PHASE_COLS} FROM phases p WHERE p.status = 'failed' ORDER BY p.ticket_id, p.seq`);
}
