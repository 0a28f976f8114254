/**
 * Opening Baton's own database: the file through the Baton VFS, the pragmas,
 * and the schema migrations. A database is created only where none ever
 * was: an empty file, or a missing one whose `-wal`/`-shm`/lock files are
 * still there, is refused (it was truncated or deleted while in use, and
 * starting an empty database there would silently replace the data).
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { latestVersion, migrations } from "./schema/mod.ts";
import { migrate } from "../storage/migrate.ts";
import { Database, type OpenOptions } from "../storage/sqlite.ts";

export { latestVersion } from "./schema/mod.ts";

const exists = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};

/** The helper files a database that was in use leaves beside it. */
function helpersOf(path: string): string[] {
  return [`${path}-wal`, `${path}-shm`, `${path}-journal`, `${path}-lock/shared`].filter(exists);
}

/**
 * Whether a database file exists at a path (`baton doctor` creates none).
 * @param path the database file
 * @returns true when a file is there
 */
export function databaseFileExists(path: string): boolean {
  return exists(path);
}

const RESTORE = "restore it from a backup with 'baton restore FILE'";

/**
 * Creates a database where none ever was: migrated at a private path, then
 * linked into place (a link never replaces a file), so no other process
 * ever sees it empty or half made. When another process got there first,
 * its database is used.
 */
async function createFresh(path: string): Promise<void> {
  const tmp = `${path}.new-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const db = await Database.open(tmp, { journalMode: "delete", writerQueue: false });
    try {
      db.setReserveBytes(8); // page checksums, before the first page is written
      migrate(db, migrations);
    } finally {
      db.close();
    }
    try {
      Deno.linkSync(tmp, path);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  } finally {
    for (const f of [tmp, `${tmp}-journal`]) {
      try {
        Deno.removeSync(f);
      } catch { /* gone */ }
    }
    try {
      Deno.removeSync(`${tmp}-lock`, { recursive: true });
    } catch { /* gone */ }
  }
}

/**
 * Whether a file is a Baton database (its tables), read without changing it.
 * @param path the file
 * @returns false for another database, or one that cannot be read
 */
export async function isBatonDatabase(path: string): Promise<boolean> {
  let db: Database | undefined;
  try {
    db = await Database.open(path, { readonly: true, create: false });
    return db.all("SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('tickets', 'phases', 'audit')")
      .length === 3;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/**
 * Refuses a file that must not be opened as Baton's database: empty, missing
 * while its helper files remain, or of a newer schema than this Baton knows.
 * @returns true when there is no database yet and one may be created
 */
function checkExisting(path: string): boolean {
  let size: number;
  try {
    size = Deno.statSync(path).size;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return false; // Database.open reports it precisely
    const left = helpersOf(path);
    if (left.length) {
      throw new BatonError(
        "database_missing",
        `The database ${path} is missing, but files of a database in use remain beside it (${
          left.map((f) => f.slice(path.length)).join(", ")
        }): it was deleted or moved. Baton will not start an empty one in its place; ${RESTORE}, ` +
          `or remove those files to start from nothing`,
        { location: { file: path }, details: { helpers: left } },
      );
    }
    return true;
  }
  if (size === 0) {
    throw new BatonError(
      "database_empty",
      `The database ${path} is empty (0 bytes): it was truncated. Baton will not start an empty one in its place; ${RESTORE}`,
      { location: { file: path } },
    );
  }
  return false;
}

/**
 * The error of a process whose database a newer Baton migrated while it ran
 * (its next transaction finds the schema version past what it knows): it
 * writes nothing more, instead of writing rows the newer schema reads
 * otherwise.
 * @param path the database
 * @param version the version found
 * @returns the `database_newer` error
 */
export function upgradedMeanwhile(path: string, version: number): BatonError {
  return new BatonError(
    "database_newer",
    `The database ${path} was upgraded to schema version ${version} by a newer Baton while this process ran (it ` +
      `knows ${latestVersion}): nothing was written; restart this process with the newer Baton`,
    { location: { file: path }, details: { version, known: latestVersion } },
  );
}

/**
 * Opens a Baton database and migrates it to the latest schema, creating it
 * only where no database ever was.
 *
 * @param path database file
 * @param options journal mode, busy timeout...
 * @returns the open, migrated database
 * @throws {BatonError} `database_empty`, `database_missing` (see above), `database_newer` (a newer Baton's schema),
 *   `database_*` when the file cannot be used, `migration_failed`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { latestVersion, openBatonDatabase } from "@baton/baton/storage";
 * const db = await openBatonDatabase(`${await Deno.makeTempDir()}/baton.db`);
 * assert(db.get<{ user_version: number }>("PRAGMA user_version")!.user_version === latestVersion);
 * db.close();
 * ```
 */
export async function openBatonDatabase(path: string, options: OpenOptions = {}): Promise<Database> {
  if (checkExisting(path) && !options.readonly && options.create !== false) await createFresh(path);
  const db = await Database.open(path, options);
  try {
    const version = db.get<{ user_version: number }>("PRAGMA user_version")!.user_version;
    if (version > latestVersion) {
      throw new BatonError(
        "database_newer",
        `The database ${path} has schema version ${version}, newer than this Baton knows (${latestVersion}): ` +
          "upgrade Baton, or restore a backup made by this version",
        { location: { file: path }, details: { version, known: latestVersion } },
      );
    }
    if (!options.readonly) migrate(db, migrations);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}
