/**
 * Statements for retrying failed phases in bulk (see `engine/retry_bulk.ts`).
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import { PHASE_COLS, type R, TROUBLE_SQL } from "./rows.ts";

/**
 * Phases that failed for good, by ticket and workflow order: from the partial
 * index of waiting and failed phases (SQLite does not see that `status =
 * 'failed'` alone implies its condition, so both are written).
 */
export function failedPhaseRows(db: Database): R[] {
  return db.all<R>(
    `SELECT ${PHASE_COLS} FROM phases p INDEXED BY phases_trouble
     WHERE p.status IN ${TROUBLE_SQL} AND p.status = 'failed' ORDER BY p.ticket_id, p.seq`,
  );
}
