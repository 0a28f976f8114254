/**
 * Statements about the database itself: its version, mode, integrity, and
 * the counter that tells whether another connection committed.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";

/** Changes whenever another connection commits (SQLite's `PRAGMA data_version`). */
export function dataVersion(db: Database): number {
  return db.get<{ data_version: number }>("PRAGMA data_version")!.data_version;
}

/** The schema version (`PRAGMA user_version`). */
export function schemaVersion(db: Database): number {
  return db.get<{ user_version: number }>("PRAGMA user_version")!.user_version;
}

/** The journal mode in effect. */
export function journalMode(db: Database): string {
  return db.get<{ journal_mode: string }>("PRAGMA journal_mode")!.journal_mode;
}

/** How many tickets there are. */
export function ticketTotal(db: Database): number {
  return db.get<{ n: number }>("SELECT count(*) AS n FROM tickets")!.n;
}
