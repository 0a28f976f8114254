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
import { WorkflowGraph } from "../config/graph.ts";
import { loadWorkflowConfigCached } from "../config/cache.ts";
import { databasePath } from "../config/repo_root.ts";
import { databaseFileExists, openBatonDatabase } from "./database.ts";
import { batonPaths, excludeBatonFiles } from "../repo/ignore.ts";
import { EngineGates } from "./api/gates.ts";
import { EngineHooks } from "./api/hooks.ts";
import { EngineMerge } from "./api/merge.ts";
import { Core } from "./core.ts";
import { pruneIfDue } from "./retention.ts";
import type { EngineOptions } from "./types.ts";

export { EngineBase } from "./api/base.ts";
export { EngineQueries } from "./api/queries.ts";
export { EngineTickets } from "./api/tickets.ts";
export { EngineWork } from "./api/work.ts";
export { EngineGates, EngineHooks, EngineMerge };

/**
 * The engine. Create with {@link openEngine}; close when done.
 *
 * @example A failed attempt is retried after its backoff, then completed
 * ```ts
 * import assert from "node:assert/strict";
 * import { openEngine } from "@baton/baton";
 * import { tempRepo } from "@baton/baton/testing";
 * const repo = await tempRepo({
 *   phases: "phases:\n  - {name: Build, agent_type: builder}\n",
 *   config: "retry:\n  backoff_seconds: 0\n",
 * });
 * const engine = await openEngine(repo);
 * engine.upsertTicket({ id: "0001", title: "Build it" });
 * const first = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
 * engine.fail(first.phase.id, { agentId: "a", token: first.token, error: "flaky test" });
 * const second = engine.claimNext({ agentId: "b", capabilities: ["builder"] })!;
 * engine.complete(second.phase.id, { agentId: "b", token: second.token, summary: "built" });
 * assert(engine.ticket("0001").status === "completed" && second.phase.attempts === 2);
 * engine.close();
 * ```
 */
export class Engine extends EngineHooks {}

/**
 * Opens the engine alone, without markdown write-back: loads `.workflow/`,
 * opens (and migrates) the database. The package's `openEngine` (`open.ts`)
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
export async function openEngineWithoutWriteBack(repoDir: string, options: EngineOptions = {}): Promise<Engine> {
  const cfg = await loadWorkflowConfigCached(repoDir);
  const fresh = !databaseFileExists(databasePath(cfg));
  const db = await openBatonDatabase(databasePath(cfg), {
    journalMode: options.journalMode ?? cfg.config.database.journal_mode,
    busyTimeoutMs: cfg.config.database.busy_timeout_ms,
    backgroundCheckpoint: cfg.config.database.checkpoint === "background",
    writerFairnessMs: cfg.config.database.writer_fairness_ms,
  });
  if (fresh) {
    // What Baton creates stays out of git, wherever the configuration puts it (.git/info/exclude).
    try {
      excludeBatonFiles(cfg.repoRoot, batonPaths(cfg));
    } catch { /* not a git repository, or git missing: nothing to ignore */ }
  }
  const core = new Core(db, cfg, new WorkflowGraph(cfg), options.clock ?? Date.now, options.afterCommit);
  core.maintenance = () => pruneIfDue(core);
  return new Engine(core);
}
