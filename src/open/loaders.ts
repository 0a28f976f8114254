/**
 * Opening a repository with its realtime markdown write-back, given how to
 * import the two parts that only some openings need: the full `.workflow/`
 * loader (a configuration-cache miss) and the write-back (a repository whose
 * `markdown_sync` is realtime). Nothing here names them, so that this module
 * can sit in the CLI's and the MCP server's start-up module walk without
 * bringing the YAML parser, the validator and the markdown parser into it:
 * the library's `openEngine` (`library.ts`) passes literal imports, the
 * adapters late ones (`late.ts`).
 *
 * @module
 */
import type { FullConfigLoader } from "../config/cache.ts";
import { type Engine, openEngineWith } from "../engine/engine.ts";
import type { EngineOptions } from "../engine/types.ts";

/** What opening a repository imports only when it needs it. */
export interface OpenLoaders {
  /** The full configuration loader (`config/load.ts`), for a configuration-cache miss. */
  config: FullConfigLoader;
  /** The realtime write-back (`sync/realtime.ts`), for a repository whose `markdown_sync` asks for it. */
  realtime: () => Promise<(engine: Engine) => (ticketIds: string[]) => void>;
}

/**
 * Opens the engine for the repository containing `repoDir` and wires the
 * realtime markdown write-back that its `markdown_sync` asks for as the
 * engine's after-commit hook (after `options.afterCommit`).
 *
 * @param repoDir the repository or any directory inside it
 * @param options clock, journal mode override, another after-commit hook
 * @param loaders how to import the configuration loader and the write-back
 * @returns the engine
 * @throws {BatonError} `config_not_found`, `config_invalid`, `database_*`, `migration_failed`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openEngineWithLoaders } from "./loaders.ts";
 * import { LIBRARY_LOADERS } from "./library.ts";
 * await assert.rejects(openEngineWithLoaders(await Deno.makeTempDir(), {}, LIBRARY_LOADERS), { code: "config_not_found" });
 * ```
 */
export async function openEngineWithLoaders(
  repoDir: string,
  options: EngineOptions,
  loaders: OpenLoaders,
): Promise<Engine> {
  let writeBack: ((ids: string[]) => void) | undefined;
  const engine = await openEngineWith(repoDir, {
    ...options,
    afterCommit: (ids) => {
      options.afterCommit?.(ids);
      writeBack?.(ids);
    },
  }, loaders.config);
  const ms = engine.cfg.config.markdown_sync;
  if (ms.status_update === "realtime" || ms.workflow_log_update === "realtime") {
    try {
      writeBack = (await loaders.realtime())(engine);
    } catch (e) {
      engine.close();
      throw e;
    }
  }
  return engine;
}
