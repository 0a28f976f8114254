/**
 * Opening a repository: the engine, with the markdown write-back its
 * `markdown_sync` configuration asks for wired as the engine's
 * after-commit hook. What the CLI, the MCP server and library users call.
 *
 * @module
 */
import { type Engine, openEngineWithoutWriteBack } from "./engine/mod.ts";
import type { EngineOptions } from "./engine/types.ts";

/**
 * Opens the engine for the repository containing `repoDir`: loads
 * `.workflow/`, opens (and migrates) the database, and writes changed
 * tickets back to their markdown after every commit for the parts whose
 * `markdown_sync` timing is `realtime`.
 *
 * @param repoDir the repository or any directory inside it
 * @param options clock, journal mode override, another after-commit hook
 * @returns the engine
 * @throws {BatonError} `config_not_found`, `config_invalid`, `database_*`, `migration_failed`
 * @example Without a `.workflow/`, a coded error says what to do
 * ```ts
 * import assert from "node:assert/strict";
 * import { BatonError, openEngine } from "@baton/baton";
 * await assert.rejects(openEngine(await Deno.makeTempDir()), (e) => e instanceof BatonError && e.code === "config_not_found");
 * ```
 */
export async function openEngine(repoDir: string, options: EngineOptions = {}): Promise<Engine> {
  let writeBack: ((ids: string[]) => void) | undefined;
  const engine = await openEngineWithoutWriteBack(repoDir, {
    ...options,
    afterCommit: (ids) => {
      options.afterCommit?.(ids);
      writeBack?.(ids);
    },
  });
  const ms = engine.cfg.config.markdown_sync;
  if (ms.status_update === "realtime" || ms.workflow_log_update === "realtime") {
    // The markdown modules load only when a repository writes back in realtime.
    writeBack = (await import("./sync/realtime.ts"))
      .realtimeWriteBack(engine);
  }
  return engine;
}
