/**
 * Opening Baton's own database: the file through the Baton VFS, the pragmas,
 * and the schema migrations.
 *
 * @module
 */
import { latestVersion, migrations } from "../schema/mod.ts";
import { migrate } from "./migrate.ts";
import { Database, type OpenOptions } from "./sqlite.ts";

export { latestVersion };

/**
 * Opens (creating if needed) a Baton database and migrates it to the latest schema.
 *
 * @param path database file
 * @param options journal mode, busy timeout...
 * @returns the open, migrated database
 * @throws {BatonError} `database_*` when the file cannot be used, `migration_failed`
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
