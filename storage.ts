/**
 * Baton's storage layer on its own: WASM SQLite over Baton's file VFS,
 * shared safely by many processes (WAL by default), and the database with
 * Baton's schema. Most users want `openEngine` from the package root; this
 * is for tools that read Baton's database directly, or want the storage for
 * something else.
 *
 * Never open a live Baton database with another SQLite (the `sqlite3` CLI,
 * `node:sqlite`): they lock with `fcntl`, Baton with `flock`, and neither
 * sees the other's locks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Database } from "@baton/baton/storage";
 * const db = await Database.open(`${await Deno.makeTempDir()}/x.db`);
 * db.exec("CREATE TABLE t(x)");
 * db.transaction(() => db.run("INSERT INTO t VALUES (?)", [1]));
 * assert.equal(db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n, 1);
 * db.close();
 * ```
 *
 * @module
 */
export {
  type CheckpointMode,
  type CheckpointResult,
  Database,
  type JournalMode,
  type OpenOptions,
  type Params,
  type Row,
  type SqlValue,
  Statement,
  type WriteStats,
} from "./src/storage/sqlite.ts";
export { latestVersion, openBatonDatabase } from "./src/engine/database.ts";
export type { CheckpointerStats } from "./src/storage/checkpointer.ts";
