/**
 * Copies of the database: a consistent backup taken while others write, and
 * a restore that refuses to replace a database other processes have open.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { loadWorkflowConfigCached } from "../config/load_cached.ts";
import { databasePath } from "../config/repo_root.ts";
import { CORRUPT_HINT } from "../storage/sqlite.ts";

async function dbPath(repoDir: string): Promise<string> {
  return databasePath(await loadWorkflowConfigCached(repoDir));
}

/** What `backupDatabase` wrote. */
export interface BackupResult {
  /** For people. */
  message: string;
  /** The backup file. */
  file: string;
  /** Its size. */
  bytes: number;
}

/**
 * Writes a consistent copy of the database (`VACUUM INTO`), safe while other
 * processes read and write: it is one read transaction.
 * @param repoDir the repository
 * @param file where to write; must not exist
 * @returns a message and the size
 * @throws {BatonError} `invalid_argument` when the file exists
 */
export async function backupDatabase(repoDir: string, file: string): Promise<BackupResult> {
  try {
    Deno.statSync(file);
    throw new BatonError("invalid_argument", `${file} already exists; backup never overwrites`);
  } catch (e) {
    if (e instanceof BatonError) throw e;
  }
  const { openBatonDatabase } = await import("./database.ts");
  const db = await openBatonDatabase(await dbPath(repoDir));
  try {
    db.run("VACUUM INTO ?", [file]);
  } catch (e) {
    for (const f of [file, `${file}-journal`]) await Deno.remove(f).catch(() => {});
    throw e;
  } finally {
    db.close();
  }
  // VACUUM INTO went through Baton's VFS, which keeps lock files beside any database it opens.
  try {
    Deno.removeSync(`${file}-lock`, { recursive: true });
  } catch { /* none */ }
  // A backup that would not restore is no backup: check the copy, and never leave a bad one behind.
  const { Database } = await import("../storage/sqlite.ts");
  let verdict: string;
  try {
    const copy = await Database.open(file, { readonly: true, create: false });
    try {
      verdict = copy.integrityCheck();
    } finally {
      copy.close();
    }
  } catch (e) {
    verdict = e instanceof Error ? e.message : String(e);
  }
  try {
    Deno.removeSync(`${file}-lock`, { recursive: true });
  } catch { /* none */ }
  if (verdict !== "ok") {
    Deno.removeSync(file);
    throw new BatonError(
      "database_corrupt",
      `The backup failed its integrity check, so none was written (${verdict}). ${CORRUPT_HINT}`,
    );
  }
  const bytes = Deno.statSync(file).size;
  return { message: `backed up to ${file} (${bytes} bytes, integrity ok)`, file, bytes };
}

/** What a backup file holds, read from a private copy so that nothing is written beside it. */
interface BackupContents {
  version: number;
  tickets: number;
  lastActivity: number | null;
}

/**
 * Checks that `file` is a Baton database this Baton can use: not empty, an
 * SQLite file, with Baton's schema at a version it knows, passing its
 * integrity check. Errors name `file`, never the private copy.
 */
async function inspectBackup(file: string): Promise<BackupContents> {
  const { Database } = await import("../storage/sqlite.ts");
  const { latestVersion } = await import("./database.ts");
  let size: number;
  try {
    size = Deno.statSync(file).size;
  } catch (e) {
    throw new BatonError("not_found", `Cannot read ${file}: ${(e as Error).message}`);
  }
  if (size === 0) {
    throw new BatonError("database_empty", `${file} is empty (0 bytes): it is no backup; nothing was restored`);
  }
  const probe = await Deno.makeTempFile({ prefix: "baton-restore-" });
  const named = (e: unknown): never => {
    if (e instanceof BatonError) {
      throw new BatonError(e.code, e.message.split(probe).join(file), { details: e.details, location: { file } });
    }
    throw e;
  };
  try {
    await Deno.copyFile(file, probe);
    const db = await Database.open(probe, { readonly: true, create: false }).catch(named);
    try {
      const tables = new Set(
        db.all<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'").map((r) => r.name),
      );
      const version = db.get<{ user_version: number }>("PRAGMA user_version")!.user_version;
      if (!tables.has("baton_migrations") || !tables.has("tickets") || version < 1) {
        throw new BatonError(
          "database_not_a_database",
          `${file} is an SQLite database, but not Baton's (its tables: ${
            [...tables].slice(0, 8).join(", ") || "none"
          }); nothing was restored`,
        );
      }
      if (version > latestVersion) {
        throw new BatonError(
          "database_newer",
          `${file} has schema version ${version}, newer than this Baton knows (${latestVersion}); nothing was restored`,
        );
      }
      const ok = db.integrityCheck();
      if (ok !== "ok") {
        throw new BatonError("database_corrupt", `${file} fails its integrity check: ${ok}; nothing was restored`);
      }
      return {
        version,
        tickets: db.get<{ n: number }>("SELECT count(*) AS n FROM tickets")!.n,
        lastActivity: db.get<{ at: number | null }>("SELECT max(at) AS at FROM audit")?.at ?? null,
      };
    } catch (e) {
      return named(e);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(probe).catch(() => {});
    await Deno.remove(`${probe}-lock`, { recursive: true }).catch(() => {});
  }
}

/**
 * Replaces the database with a backup. The backup must be a Baton database
 * of a schema version this Baton knows, and pass its integrity check; what
 * it holds is reported. Refused while any other process has the database
 * open (it holds the shared lock or the wal-index).
 * @param repoDir the repository
 * @param file the backup
 * @returns a message saying what the backup held
 * @throws {BatonError} `database_locked` when in use; `database_empty`, `database_not_a_database`,
 *   `database_newer`, `database_corrupt` for a file that is no usable backup (nothing is replaced)
 */
export async function restoreDatabase(repoDir: string, file: string): Promise<{ message: string; tickets: number }> {
  const target = await dbPath(repoDir);
  const held = await inspectBackup(file);
  const lockDir = `${target}-lock`;
  await Deno.mkdir(lockDir, { recursive: true });
  const open = (n: string) => Deno.openSync(`${lockDir}/${n}`, { read: true, write: true, create: true });
  const pending = open("pending"), shared = open("shared"), dms = open("shm-dms");
  try {
    // No new reader past P; nobody holding S or using the wal-index.
    if (!pending.tryLockSync(true) || !shared.tryLockSync(true) || !dms.tryLockSync(true)) {
      throw new BatonError(
        "database_locked",
        `Cannot restore ${target}: other processes have it open (stop baton-mcp servers and agents first)`,
      );
    }
    const tmp = `${target}.restore-tmp`;
    await Deno.copyFile(file, tmp);
    const f = await Deno.open(tmp, { read: true, write: true });
    await f.sync();
    f.close();
    await Deno.rename(tmp, target);
    for (const extra of [`${target}-wal`, `${target}-journal`]) await Deno.remove(extra).catch(() => {});
    await Deno.writeFile(`${target}-shm`, new Uint8Array(0)).catch(() => {});
    await Deno.truncate(`${lockDir}/shm-mutex`, 0).catch(() => {});
  } finally {
    pending.close();
    shared.close();
    dms.close();
  }
  const when = held.lastActivity === null
    ? "no recorded activity"
    : `last activity ${new Date(held.lastActivity).toISOString()}`;
  return {
    message: `restored ${target} from ${file}: ${held.tickets} ticket(s), schema version ${held.version}, ${when}`,
    tickets: held.tickets,
  };
}
