/**
 * Statements on `clock`: the latest time any transaction used.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";

/** The database's clock (0 before any transaction set it). */
export function readClock(db: Database): number {
  return db.get<{ now: number }>("SELECT now FROM clock WHERE id = 1")?.now ?? 0;
}

/** Moves the database's clock forward to `now` (never back). */
export function advanceClock(db: Database, now: number, writer: string): void {
  db.run("UPDATE clock SET now = ?1, writer = ?2 WHERE id = 1 AND now < ?1", [now, writer]);
}
