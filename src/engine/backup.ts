/**
 * Copies of the database: a consistent backup taken while others write, and
 * a restore that refuses to replace a database other processes have open.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { loadWorkflowConfigCached } from "../config/cache.ts";
import { databasePath } from "../config/repo_root.ts";

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
  const { openBatonDatabase } = await import("../storage/database.ts");
  const db = await openBatonDatabase(await dbPath(repoDir));
  try {
    db.run("VACUUM INTO ?", [file]);
  } finally {
    db.close();
  }
  // VACUUM INTO went through Baton's VFS, which keeps lock files beside any database it opens.
  try {
    Deno.removeSync(`${file}-lock`, { recursive: true });
  } catch { /* none */ }
  const bytes = Deno.statSync(file).size;
  return { message: `backed up to ${file} (${bytes} bytes)`, file, bytes };
}

/**
 * Replaces the database with a backup. Refused while any other process has
 * the database open (it holds the shared lock or the wal-index).
 * @param repoDir the repository
 * @param file the backup
 * @returns a message
 * @throws {BatonError} `database_locked` when in use, `database_corrupt` / `database_not_a_database` for a bad backup
 */
export async function restoreDatabase(repoDir: string, file: string): Promise<{ message: string }> {
  const target = await dbPath(repoDir);
  const { Database } = await import("../storage/sqlite.ts");
  // Check the backup first, on a copy, so nothing is written beside it.
  const probe = await Deno.makeTempFile({ prefix: "baton-restore-" });
  await Deno.copyFile(file, probe).catch((e) => {
    throw new BatonError("not_found", `Cannot read ${file}: ${(e as Error).message}`);
  });
  try {
    const db = await Database.open(probe, { readonly: true, create: false });
    try {
      const ok = db.integrityCheck();
      if (ok !== "ok") throw new BatonError("database_corrupt", `${file} fails its integrity check: ${ok}`);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(probe).catch(() => {});
    await Deno.remove(`${probe}-lock`, { recursive: true }).catch(() => {});
  }
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
  return { message: `restored ${target} from ${file}` };
}
