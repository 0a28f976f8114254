/**
 * Statements on `clock`: the latest time any transaction used.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import type { Statement } from "../../storage/statement.ts";
import { schemaVersion } from "./maintenance.ts";

/** The database's clock as a transaction finds it. */
export interface ClockRow {
  /** The witnessed time (0 before any transaction set it). */
  now: number;
  /** The machine boot a process last recorded it on ("" when not known). */
  boot: string;
  /** The time since that boot then (ms). */
  uptime: number;
  /** The witnessed time it was recorded at (0 when not known): `now` may have moved since without it. */
  bootAt: number;
  /** The database's schema version (`PRAGMA user_version`), as last read by this connection. */
  schema: number;
}

const CLOCK_SQL = "SELECT now, boot, uptime, boot_at FROM clock WHERE id = 1";

/** The schema version a connection last read, and its clock statement's recompile count then, per statement. */
const schemaSeen = new WeakMap<Statement, { compiled: number; schema: number }>();

/**
 * The database's clock, with the machine boot it was last recorded on; and
 * the schema version, read again only when it may have changed: at a
 * connection's first read, and whenever SQLite had to compile the clock's
 * statement again since (another connection changed the schema, as every
 * migration of Baton's does: each creates or alters a table or an index; one
 * that changed only rows and the version would go unseen until the process
 * opens the database again). Reading the version at every transaction cost ~5% of a
 * claim + complete (the pragma table compiles a statement of its own at
 * each use).
 */
export function readClock(db: Database): ClockRow {
  const st = db.prepare(CLOCK_SQL);
  const r = st.get<{ now: number; boot: string; uptime: number; boot_at: number }>();
  const compiled = st.recompiles;
  let seen = schemaSeen.get(st);
  if (seen?.compiled !== compiled) schemaSeen.set(st, seen = { compiled, schema: schemaVersion(db) });
  return {
    now: r?.now ?? 0,
    boot: r?.boot ?? "",
    uptime: r?.uptime ?? 0,
    bootAt: r?.boot_at ?? 0,
    schema: seen.schema,
  };
}

/** Moves the database's clock forward to `now` (never back), with the boot and the time since it when it was (recorded at `now`). */
export function advanceClock(
  db: Database,
  now: number,
  writer: string,
  machine: { boot: string; ms: number } | null,
): void {
  db.run("UPDATE clock SET now = ?1, writer = ?2, boot = ?3, uptime = ?4, boot_at = ?1 WHERE id = 1 AND now < ?1", [
    now,
    writer,
    machine?.boot ?? "",
    machine ? Math.round(machine.ms) : 0,
  ]);
}
