/**
 * SQLite's result codes as coded {@link BatonError}s.
 *
 * @module
 */

import { BatonError, type BatonErrorCode } from "../errors.ts";
import { SQLITE } from "./wasm.ts";

const RC_CODES: Record<number, BatonErrorCode> = {
  5: "database_locked",
  6: "database_locked",
  8: "database_readonly",
  10: "database_io",
  11: "database_corrupt",
  13: "database_full",
  14: "database_open_failed",
  // SQLITE_PROTOCOL: in WAL mode, a read's retries for the wal-index ran out (~10 s of SQLite's own pauses), because
  // another connection kept it busy (a process stopped while it held the wal-index mutex). Locked, not broken.
  15: "database_locked",
  26: "database_not_a_database",
};

/** Turns an SQLite result code into a coded {@link BatonError}. */
export function sqliteError(rc: number, message: string, path?: string): BatonError {
  const primary = rc & 0xff;
  // A page that fails its checksum (IOERR_DATA) is corruption, not an I/O failure.
  const code = rc === SQLITE.IOERR_DATA ? "database_corrupt" : RC_CODES[primary] ?? "database_error";
  // The extended code says which kind (e.g. 517 = BUSY_SNAPSHOT, 266 = IOERR_READ).
  const where = path ? ` (${path}; SQLite code ${rc})` : ` (SQLite code ${rc})`;
  if (code === "database_corrupt") {
    return new BatonError(
      code,
      `${message}${where}. ${CORRUPT_HINT}`,
      { details: { sqliteCode: rc } },
    );
  }
  return new BatonError(code, `${message}${where}`, { details: { sqliteCode: rc } });
}

/** What to do about a corrupt database: in every corruption error. */
export const CORRUPT_HINT =
  "The database is corrupt; Baton stops writing to it. Recover: stop the agents, keep this file aside, " +
  "then 'baton restore FILE' from your last good backup (make backups with 'baton backup FILE')";
