/**
 * The workflow engine: tickets, their phases, claims with leases and fencing
 * tokens, retries, human gates with a rework loop, ticket dependencies and an
 * audit trail, over one SQLite database shared by many processes.
 *
 * Every state change runs inside one `BEGIN IMMEDIATE` transaction, goes
 * through the state machine as a compare-and-set on the current status, and
 * writes its audit rows in the same transaction. {@link Engine} is a facade
 * whose methods are grouped by concern (`api/`); each concern's logic lives
 * in its own module beside this one, and every SQL statement in `sql/`.
 *
 * @module
 */
import { importFullConfigLoader } from "../config/load_cached.ts";
import { type Engine, openEngineWith } from "./engine.ts";
import type { EngineOptions } from "./types.ts";

export { EngineBase } from "./api/base.ts";
export { EngineQueries } from "./api/queries.ts";
export { EngineTickets } from "./api/tickets.ts";
export { EngineWork } from "./api/work.ts";
export { EngineGates } from "./api/gates.ts";
export { EngineHooks } from "./api/hooks.ts";
export { EngineMerge } from "./api/merge.ts";
export { Engine } from "./engine.ts";

/**
 * Opens the engine alone, without markdown write-back: loads `.workflow/`,
 * opens (and migrates) the database. The package's `openEngine` (`open/library.ts`)
 * calls it and wires the realtime write-back that `markdown_sync` asks for;
 * `baton doctor` calls it so that a check never writes a ticket file.
 * @param repoDir the repository or any directory inside it
 * @param options clock, journal mode override, after-commit hook
 * @returns the engine
 * @throws {BatonError} `config_not_found`, `config_invalid`, `database_*`, `migration_failed`
 * @example Without a `.workflow/`, a coded error says what to do
 * ```ts
 * import assert from "node:assert/strict";
 * import { BatonError } from "@baton/baton";
 * import { openEngineWithoutWriteBack } from "./mod.ts";
 * await assert.rejects(
 *   openEngineWithoutWriteBack(await Deno.makeTempDir()),
 *   (e) => e instanceof BatonError && e.code === "config_not_found",
 * );
 * ```
 */
export function openEngineWithoutWriteBack(repoDir: string, options: EngineOptions = {}): Promise<Engine> {
  return openEngineWith(repoDir, options, importFullConfigLoader);
}
