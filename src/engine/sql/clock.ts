/**
 * Statements on `clock`: the latest time any transaction used.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";

/** The database's clock: the witnessed time (0 before any transaction set it), the latest wall time a process reported and which process. */
export function readClock(db: Database): { now: number; wall: number; wallWriter: string } {
  const r = db.get<{ now: number; wall: number; wall_writer: string }>(
    "SELECT now, wall, wall_writer FROM clock WHERE id = 1",
  );
  return { now: r?.now ?? 0, wall: r?.wall ?? 0, wallWriter: r?.wall_writer ?? "" };
}

/** Records a process's wall time as the latest reported (forward only). */
export function reportWall(db: Database, wall: number, writer: string): void {
  db.run("UPDATE clock SET wall = ?1, wall_writer = ?2 WHERE id = 1 AND wall < ?1", [wall, writer]);
}

/** Moves the database's clock forward to `now` (never back). */
export function advanceClock(db: Database, now: number, writer: string): void {
  db.run("UPDATE clock SET now = ?1, writer = ?2 WHERE id = 1 AND now < ?1", [now, writer]);
}
