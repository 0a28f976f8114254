/** Temporary repositories with a `.workflow/` for engine, CLI and MCP tests: `tempRepo` (the library's one helper), a clock, a held write lock. */
import { type Engine, openEngine } from "../../mod.ts";
import { Database } from "../../storage.ts";
import { tempRepo } from "../../src/testing.ts";

export { tempRepo };

/** The shipped example workflow (`.workflow.example/phases.yaml`). */
export const EXAMPLE_PHASES = Deno.readTextFileSync(new URL("../../.workflow.example/phases.yaml", import.meta.url));

/** A settable clock. */
export class TestClock {
  /** Current ms since the epoch. */
  t = Date.UTC(2026, 10, 21, 9, 0, 0);
  /** The clock function to inject. */
  now = () => this.t;
  /** Moves time forward. */
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * Opens an engine on a fresh repository (the shipped example workflow unless
 * `phases` is given) with a test clock.
 * @param files workflow files
 * @returns engine, clock and repo path
 */
export async function engineFor(
  files: { phases?: string; config?: string } = {},
): Promise<{ engine: Engine; clock: TestClock; repo: string }> {
  const repo = await tempRepo({ ...files, phases: files.phases ?? EXAMPLE_PHASES });
  const clock = new TestClock();
  const engine = await openEngine(repo, { clock: clock.now });
  return { engine, clock, repo };
}

/**
 * Holds the write lock of a repository's database from a second
 * connection (another writer waits until `release`).
 * @param repo the repository
 * @returns how to let go
 */
export async function holdWriteLock(repo: string): Promise<{ release(): void }> {
  const e = await openEngine(repo);
  const path = e.storageInfo().path;
  e.close();
  const db = await Database.open(path);
  db.exec("BEGIN IMMEDIATE");
  return {
    release() {
      db.exec("COMMIT");
      db.close();
    },
  };
}

/**
 * What a newer Baton's first command does to a database: applies its next migration (a column added), as this
 * Baton's own `migrate` would, while this version's processes may still have it open.
 * @param path the database file
 */
export async function migrateAsNewerBaton(path: string): Promise<void> {
  const { migrate } = await import("../../src/storage/migrate.ts");
  const { latestVersion, migrations } = await import("../../src/engine/schema/mod.ts");
  const db = await Database.open(path);
  try {
    migrate(db, [...migrations, {
      version: latestVersion + 1,
      name: "next",
      sql: "ALTER TABLE phases ADD COLUMN next_thing TEXT;",
    }]);
  } finally {
    db.close();
  }
}
