/** Temporary repositories with a `.workflow/` for engine, CLI and MCP tests. */
import { type Engine, openEngine } from "../../mod.ts";
import { Database } from "../../storage.ts";

/** The shipped example workflow. */
export const EXAMPLE_PHASES = Deno.readTextFileSync(new URL("../../.workflow.example/phases.yaml", import.meta.url));

/**
 * Creates a repository in a temp dir with the given `.workflow/` files.
 * @param files phases.yaml and config.yaml text (config optional)
 * @returns the repository path
 */
export async function makeRepo(files: { phases?: string; config?: string } = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "baton-repo-" });
  await Deno.mkdir(`${dir}/.workflow`);
  await Deno.writeTextFile(`${dir}/.workflow/phases.yaml`, files.phases ?? EXAMPLE_PHASES);
  if (files.config !== undefined) await Deno.writeTextFile(`${dir}/.workflow/config.yaml`, files.config);
  return dir;
}

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
 * Opens an engine on a fresh repository with a test clock.
 * @param files workflow files
 * @returns engine, clock and repo path
 */
export async function engineFor(
  files: { phases?: string; config?: string } = {},
): Promise<{ engine: Engine; clock: TestClock; repo: string }> {
  const repo = await makeRepo(files);
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
