/**
 * Statements on `clock`: the latest time any transaction used.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import type { Statement } from "../../storage/statement.ts";
import { schemaVersion } from "./maintenance.ts";

/** The machine's boot clock as a process that moved the database's clock recorded it. */
export interface BootMark {
  /** The machine boot (`HOST BOOT-ID`). */
  boot: string;
  /** The time since that boot then (ms). */
  uptime: number;
  /** The witnessed time then. */
  at: number;
}

/** The database's clock as a transaction finds it. */
export interface ClockRow {
  /** The witnessed time (0 before any transaction set it). */
  now: number;
  /** The machine's boot clock when the clock was last moved by a process that knew it (null: not known). */
  mark: BootMark | null;
  /** The database's schema version (`PRAGMA user_version`), as last read by this connection. */
  schema: number;
}

const CLOCK_SQL = "SELECT now, mark FROM clock WHERE id = 1";

/** The schema version a connection last read, and its clock statement's recompile count then, per statement. */
const schemaSeen = new WeakMap<Statement, { compiled: number; schema: number }>();

/**
 * The database's clock, with the machine boot it was last recorded on; and
 * the schema version, read again only when it may have changed: at a
 * connection's first read, and whenever SQLite had to compile the clock's
 * statement again since (another connection changed the schema, as every
 * migration of Baton's does: each creates or alters a table or an index; one
 * that changed only rows and the version would go unseen until the process
 * opens the database again). Reading the version at every transaction cost ~10% of a
 * claim + complete (the pragma table compiles a statement of its own at
 * each use).
 */
export function readClock(db: Database): ClockRow {
  const st = db.prepare(CLOCK_SQL);
  const r = st.get<{ now: number; mark: string }>();
  const compiled = st.recompiles;
  let seen = schemaSeen.get(st);
  if (seen?.compiled !== compiled) schemaSeen.set(st, seen = { compiled, schema: schemaVersion(db) });
  return { now: r?.now ?? 0, mark: r?.mark ? parseMark(r.mark) : null, schema: seen.schema };
}

function parseMark(text: string): BootMark | null {
  const [boot, uptime, at] = text.split("\t");
  const mark = { boot, uptime: Number(uptime), at: Number(at) };
  return boot && Number.isFinite(mark.uptime) && Number.isFinite(mark.at) && mark.at > 0 ? mark : null;
}

/** Moves the database's clock forward to `now` (never back), with the machine's boot clock then (its mark, and the columns older versions read). */
export function advanceClock(
  db: Database,
  now: number,
  writer: string,
  machine: { boot: string; ms: number } | null,
): void {
  const uptime = machine ? Math.round(machine.ms) : 0;
  db.run(
    `UPDATE clock SET now = ?1, writer = ?2, boot = ?3, uptime = ?4, boot_at = ?1, mark = ?5
     WHERE id = 1 AND now < ?1`,
    [now, writer, machine?.boot ?? "", uptime, machine ? `${machine.boot}\t${uptime}\t${now}` : ""],
  );
}
