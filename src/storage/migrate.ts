/**
 * Applies numbered migrations, safely when several processes open the same
 * database at once: the check-and-apply runs inside one `BEGIN IMMEDIATE`
 * transaction, so exactly one process applies each migration and the others
 * find it done. `PRAGMA user_version` holds the version (read first without
 * a write lock, so an up-to-date database costs one cheap read).
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Database } from "./sqlite.ts";

/** One numbered migration. */
export interface Migration {
  /** 1, 2, 3… without gaps. */
  version: number;
  /** Short name, for the history table. */
  name: string;
  /** SQL applied in one transaction. */
  sql: string;
}

/**
 * The migrations a database says it had (`baton_migrations`), against this
 * Baton's own under the same numbers: a database made by a build whose
 * migration N was another (a development build, before it was changed) would
 * get only the migrations after N, and lack what this Baton's N makes.
 * @param db the database, in the migration's transaction
 * @param steps this Baton's migrations
 * @param from the database's version
 * @returns the first migration recorded under another name, or null
 */
export function divergedMigration(
  db: Database,
  steps: readonly Migration[],
  from: number,
): { version: number; recorded: string; expected: string } | null {
  const has = db.get("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'baton_migrations'");
  if (!has) return null;
  const rows = db.all<{ version: number; name: string }>(
    "SELECT version, name FROM baton_migrations WHERE version <= ? ORDER BY version",
    [from],
  );
  for (const r of rows) {
    const expected = steps[r.version - 1]?.name;
    if (expected !== undefined && expected !== r.name) return { version: r.version, recorded: r.name, expected };
  }
  return null;
}

/**
 * What a {@link divergedMigration} means, and what to do.
 * @param d the migration recorded under another name
 * @returns the text (after "the database was ")
 */
export function divergedText(d: { version: number; recorded: string; expected: string }): string {
  return `made by another build of Baton: its migration ${d.version} is "${d.recorded}", this Baton's is ` +
    `"${d.expected}", so the later migrations do not fit it. Restore a backup made by a released Baton, or move ` +
    "the database aside and import the tickets again";
}

function mismatchedHistory(db: Database, steps: readonly Migration[], from: number): void {
  const d = divergedMigration(db, steps, from);
  if (!d) return;
  throw new BatonError("migration_failed", `Nothing was changed: the database ${db.path} was ${divergedText(d)}`, {
    details: { version: d.version, recorded: d.recorded, expected: d.expected },
  });
}

/**
 * Brings the database up to the last migration.
 *
 * @param db an open database
 * @param steps the migrations, in order
 * @param now clock (ms since epoch)
 * @returns versions applied by this call (empty when already current)
 * @throws {BatonError} `migration_failed` when a migration fails (nothing of
 *   it is kept), the database is newer than this Baton, or its recorded
 *   migrations are not this Baton's ({@link divergedMigration}: nothing is applied)
 */
export function migrate(db: Database, steps: readonly Migration[], now: () => number = Date.now): number[] {
  steps.forEach((s, i) => {
    if (s.version !== i + 1) {
      throw new BatonError("internal", `Migration ${s.name} has version ${s.version}, expected ${i + 1}`);
    }
  });
  const latest = steps.length;
  const version = () => db.get<{ user_version: number }>("PRAGMA user_version")!.user_version;
  const current = version();
  if (current === latest) return [];
  if (current > latest) {
    throw new BatonError(
      "migration_failed",
      `Database ${db.path} has schema version ${current}, newer than this Baton knows (${latest}); upgrade Baton`,
    );
  }
  return db.transaction(() => {
    const applied: number[] = [];
    const from = version(); // re-read under the write lock: another process may have migrated
    if (from > latest) {
      throw new BatonError("migration_failed", `Database ${db.path} has schema version ${from}, newer than ${latest}`);
    }
    if (from < latest) mismatchedHistory(db, steps, from);
    for (const step of steps.slice(from)) {
      try {
        db.exec(step.sql);
        db.run("INSERT INTO baton_migrations(version, name, applied_at) VALUES (?, ?, ?)", [
          step.version,
          step.name,
          now(),
        ]);
      } catch (e) {
        throw new BatonError(
          "migration_failed",
          `Migration ${step.version} (${step.name}) failed on ${db.path}: ${(e as Error).message}`,
          { cause: e },
        );
      }
      applied.push(step.version);
    }
    db.exec(`PRAGMA user_version=${latest}`);
    return applied;
  });
}
