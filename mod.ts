/**
 * Baton: many AI coding agents on one repository's backlog, without stepping
 * on each other, with humans in control of the review gates.
 *
 * This release ships the storage foundation: WASM SQLite on real files,
 * shared safely by many processes (WAL by default, rollback journal on
 * request), with migrations and coded errors. The workflow engine
 * (`openEngine`) builds on it.
 *
 * @example Quick start: open a database shared by many processes
 * ```ts
 * import { openBatonDatabase } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const db = await openBatonDatabase(`${dir}/baton.db`);
 * db.exec("CREATE TABLE work(id INTEGER PRIMARY KEY, claimed_by TEXT)");
 * db.run("INSERT INTO work(id) VALUES (1), (2)");
 * const claimed = db.transaction(() =>
 *   db.get<{ id: number }>(
 *     "UPDATE work SET claimed_by = ? WHERE id = (SELECT id FROM work WHERE claimed_by IS NULL LIMIT 1) RETURNING id",
 *     ["agent-1"],
 *   )
 * );
 * console.assert(claimed?.id === 1);
 * db.close();
 * ```
 *
 * @module
 */

export { BatonError, type BatonErrorCode, type ErrorLocation, formatLocation } from "./src/errors.ts";
export {
  type CheckpointResult,
  Database,
  type JournalMode,
  type OpenOptions,
  type Params,
  type Row,
  type SqlValue,
  Statement,
} from "./src/storage/sqlite.ts";
export { latestVersion, openBatonDatabase } from "./src/storage/database.ts";
