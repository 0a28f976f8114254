/**
 * Statements on `clock`: the latest time any transaction used.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";

/** The database's clock: the witnessed time (0 before any transaction set it), and the machine boot it was last advanced on with the time since that boot then. */
export function readClock(db: Database): { now: number; boot: string; uptime: number } {
  const r = db.get<{ now: number; boot: string; uptime: number }>("SELECT now, boot, uptime FROM clock WHERE id = 1");
  return { now: r?.now ?? 0, boot: r?.boot ?? "", uptime: r?.uptime ?? 0 };
}

/** Moves the database's clock forward to `now` (never back), with the boot and the time since it when it was. */
export function advanceClock(
  db: Database,
  now: number,
  writer: string,
  machine: { boot: string; ms: number } | null,
): void {
  db.run("UPDATE clock SET now = ?1, writer = ?2, boot = ?3, uptime = ?4 WHERE id = 1 AND now < ?1", [
    now,
    writer,
    machine?.boot ?? "",
    machine ? Math.round(machine.ms) : 0,
  ]);
}
