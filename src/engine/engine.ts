/**
 * The {@link Engine} class, and opening it with a given way to load the
 * full `.workflow/` configuration on a cache miss. Nothing here names that
 * loader (the YAML parser and the validator): `mod.ts` passes the library's
 * literal import, the CLI and the MCP server a late one (`open/late.ts`), so
 * that their start-up walk does not include it.
 *
 * @module
 */
import { WorkflowGraph } from "../config/graph.ts";
import { BatonError } from "../errors.ts";
import { type FullConfigLoader, loadWorkflowConfigCachedWith, workflowFilesText } from "../config/cache.ts";
import { databasePath } from "../config/repo_root.ts";
import { databaseFileExists, isBatonDatabase, openBatonDatabase } from "./database.ts";
import { batonPaths, excludeBatonFiles, ignoredDatabases } from "../repo/ignore.ts";
import { EngineHooks } from "./api/hooks.ts";
import { Core } from "./core.ts";
import { pruneIfDue } from "./retention.ts";
import { followPriorityOrder } from "./priority_order.ts";
import type { EngineOptions } from "./types.ts";
import { machineTime } from "../processes.ts";

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
 * Refuses to start a database where the configuration now says while this
 * repository has Baton's database elsewhere (`database.path` was changed, or
 * misspelt): agents of the old one and of a new empty one would each hold
 * the same phases.
 * @throws {BatonError} `database_missing`, naming it
 */
async function refuseSecondDatabase(root: string, configured: string): Promise<void> {
  for (const other of ignoredDatabases(root, configured)) {
    if (!(await isBatonDatabase(`${root}/${other}`))) continue;
    throw new BatonError(
      "database_missing",
      `No database at ${configured}, and this repository has Baton's database at ${other} (database.path in ` +
        `.workflow/config.yaml changed?): Baton will not start a second, empty one. Point database.path at it, or ` +
        `move it (with its -wal and -shm files, every Baton process stopped) to ${configured}; to start anew, ` +
        `delete it`,
      { location: { file: ".workflow/config.yaml", field: "database.path" }, details: { found: other } },
    );
  }
}

/**
 * Opens the engine alone, without markdown write-back, loading `.workflow/`
 * through the configuration cache and `loadFull` on a miss. What
 * `openEngineWithoutWriteBack` (`mod.ts`) and the adapters' late opening
 * (`open/late.ts`) share.
 * @param repoDir the repository or any directory inside it
 * @param options clock, journal mode override, after-commit hook
 * @param loadFull imports the full configuration loader (called only on a cache miss)
 * @returns the engine
 * @throws {BatonError} `config_not_found`, `config_invalid`, `database_*`, `migration_failed`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openEngineWith } from "./engine.ts";
 * import { importFullConfigLoader } from "../config/load_cached.ts";
 * await assert.rejects(openEngineWith(await Deno.makeTempDir(), {}, importFullConfigLoader), { code: "config_not_found" });
 * ```
 */
export async function openEngineWith(
  repoDir: string,
  options: EngineOptions,
  loadFull: FullConfigLoader,
): Promise<Engine> {
  const cfg = await loadWorkflowConfigCachedWith(repoDir, loadFull);
  const fresh = !databaseFileExists(databasePath(cfg));
  if (fresh) await refuseSecondDatabase(cfg.repoRoot, cfg.config.database.path);
  const db = await openBatonDatabase(databasePath(cfg), {
    journalMode: options.journalMode ?? cfg.config.database.journal_mode,
    busyTimeoutMs: cfg.config.database.busy_timeout_ms,
    checkpoint: cfg.config.database.checkpoint,
    writerFairnessMs: cfg.config.database.writer_fairness_ms,
  });
  if (fresh) {
    // What Baton creates stays out of git, wherever the configuration puts it (.git/info/exclude).
    try {
      excludeBatonFiles(cfg.repoRoot, batonPaths(cfg));
    } catch { /* not a git repository, or git missing: nothing to ignore */ }
  }
  const core = new Core(
    db,
    cfg,
    new WorkflowGraph(cfg),
    options.clock ?? Date.now,
    options.afterCommit,
    options.machineClock ?? machineTime,
  );
  core.maintenance = () => pruneIfDue(core);
  let loaded = workflowFilesText(cfg.repoRoot);
  let rerankDue = false; // an edited priority_order whose re-ranking failed (the database busy): tried again
  /** Re-ranks for an edited priority_order; a busy database leaves it due for the next look (never refused). */
  const rerank = () => {
    try {
      followPriorityOrder(core, "system");
      rerankDue = false;
    } catch (e) {
      if (!(e instanceof BatonError && e.code === "database_locked")) throw e;
      rerankDue = true;
    }
  };
  core.followConfig = async () => {
    if (rerankDue) rerank();
    const text = workflowFilesText(cfg.repoRoot);
    if (text === loaded) return false;
    loaded = text; // an edit that does not load is said once, not parsed again until the files change
    const next = await loadWorkflowConfigCachedWith(cfg.repoRoot, loadFull); // config_invalid: the old one stays
    // What a process cannot switch under work in progress: its database, the merge queue a batch may be landing in,
    // the realtime write-back installed at open.
    for (
      const [field, was, now] of [
        ["database.path", databasePath(core.cfg), databasePath(next)],
        ["merge", JSON.stringify(core.cfg.config.merge), JSON.stringify(next.config.merge)],
        ["markdown_sync", JSON.stringify(core.cfg.config.markdown_sync), JSON.stringify(next.config.markdown_sync)],
      ]
    ) {
      if (was === now) continue;
      throw new BatonError(
        "config_invalid",
        `${field} changed while this process ran: it goes on with what it loaded (the rest of the edit too); ` +
          "restart it to apply the edit",
        { location: { file: ".workflow/config.yaml", field } },
      );
    }
    const reorder = JSON.stringify(core.cfg.config.priority_order) !== JSON.stringify(next.config.priority_order);
    core.cfg = next;
    core.graph = new WorkflowGraph(next);
    if (reorder) rerank(); // the claim order follows at once: no other process may be there to do it
    return true;
  };
  return new Engine(core);
}
