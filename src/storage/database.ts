/**
 * Opening Baton's own database: the file through the Baton VFS, the pragmas,
 * and the schema migrations.
 *
 * @module
 */
import { migrations } from "../schema/mod.ts";
import { migrate } from "./migrate.ts";
import { Database, type OpenOptions } from "./sqlite.ts";

export { latestVersion } from "../schema/mod.ts";

/**
 * Opens (creating if needed) a Baton database and migrates it to the latest schema.
 *
 * @param path database file
 * @param options journal mode, busy timeout...
 * @returns the open, migrated database
 * @throws {BatonError} `database_*` when the file cannot be used, `migration_failed`
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
  const db = await Database.open(path, options);
  try {
    if (!options.readonly) migrate(db, migrations);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}
