/**
 * What is checked before SQLite opens a database file, so that a bad path
 * gives a precise coded error and nothing is created or written: the path,
 * write access, the header (not a database, visibly truncated), the lock
 * directory.
 *
 * @module
 */

import { BatonError } from "../errors.ts";

const MAGIC = "SQLite format 3\0";

/**
 * Checks a database path before SQLite touches it, so that a bad path gives a
 * precise coded error and nothing is created or written.
 */
export function preflight(path: string, create: boolean, readonly: boolean): void {
  let st: Deno.FileInfo | undefined;
  try {
    st = Deno.statSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new BatonError("database_open_failed", `Cannot open database ${path}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  if (!st && !create) throw new BatonError("database_open_failed", `Cannot open database ${path}: file not found`);
  if (st?.isDirectory) throw new BatonError("database_open_failed", `Cannot open database ${path}: it is a directory`);
  if (st && !readonly) {
    try {
      Deno.openSync(path, { read: true, write: true }).close();
    } catch (e) {
      throw new BatonError(
        "database_readonly",
        `Cannot open database ${path} for writing: the file is read-only (${(e as Error).message})`,
        { cause: e },
      );
    }
  }
  if (st && st.size > 0) checkHeader(path, st.size);
  const lockDir = `${path}-lock`;
  try {
    Deno.mkdirSync(lockDir, { recursive: true });
    if (!readonly) Deno.openSync(`${lockDir}/pending`, { read: true, write: true, create: true }).close();
  } catch (e) {
    throw new BatonError(
      "database_open_failed",
      `Cannot open database ${path}: cannot create its lock files in ${lockDir} (${(e as Error).message})`,
      { cause: e },
    );
  }
}

/**
 * Whether another connection has the database open: it holds the WAL's
 * dead-man switch (`X-lock/shm-dms`) or the rollback-mode `shared` lock
 * file (shared). Probed with a non-blocking exclusive lock, released at once.
 */
function inUse(path: string): boolean {
  for (const name of ["shm-dms", "shared"]) {
    let f: Deno.FsFile | undefined;
    try {
      f = Deno.openSync(`${path}-lock/${name}`, { read: true, write: true });
      if (!f.tryLockSync(true)) return true;
      f.unlockSync();
    } catch {
      /* no such lock file: nobody uses it that way */
    } finally {
      f?.close();
    }
  }
  return false;
}

/** Rejects files that are not SQLite databases, or visibly truncated ones (when nobody has them open). */
function checkHeader(path: string, size: number): void {
  const head = new Uint8Array(100);
  let n = 0;
  const f = Deno.openSync(path, { read: true });
  try {
    while (n < 100) {
      const r = f.readSync(head.subarray(n));
      if (!r) break;
      n += r;
    }
  } finally {
    f.close();
  }
  if (n < 100 || new TextDecoder().decode(head.subarray(0, 16)) !== MAGIC) {
    throw new BatonError("database_not_a_database", `Cannot open database ${path}: the file is not an SQLite database`);
  }
  const dv = new DataView(head.buffer);
  const rawPage = dv.getUint16(16);
  const pageSize = rawPage === 1 ? 65536 : rawPage;
  const pages = dv.getUint32(28);
  const valid = dv.getUint32(92) === dv.getUint32(24);
  // A crash mid-commit (rollback journal) or mid-checkpoint (WAL) can leave
  // the header ahead of the file; SQLite repairs that from the journal or
  // the WAL when it opens. Only a file with neither is truncated for good.
  const sizeOf = (p: string) => {
    try {
      return Deno.statSync(p).size;
    } catch {
      return 0;
    }
  };
  const repairable = sizeOf(`${path}-wal`) > 0 || sizeOf(`${path}-journal`) > 0;
  // A database another connection has open can look short for a moment (a checkpoint writes page 1, with the new
  // page count, before the pages past the old end); the verdict is only safe when nobody uses it.
  if (valid && pages > 0 && size < pages * pageSize && !repairable && !inUse(path)) {
    throw new BatonError(
      "database_corrupt",
      `Cannot open database ${path}: it is truncated (its header says ${pages} pages of ${pageSize} bytes, the file has ${size} bytes)`,
    );
  }
}
