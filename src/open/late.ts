/**
 * Opening a repository from the CLI and the MCP server: as the library's
 * `openEngine` (`library.ts`), with the full `.workflow/` loader and the
 * realtime write-back imported late (`late_import.ts`). Deno's start-up
 * module walk then stops short of the YAML parser, the validator and the
 * markdown parser, which a command needs only on a configuration-cache miss
 * or in a realtime repository. `deno task compile` names both modules with
 * `--include`, and `tests/layers_test.ts` checks that it does.
 *
 * @module
 */
import { importFullConfigLoaderLate } from "../config/load_late.ts";
import { type Engine, openEngineWith } from "../engine/engine.ts";
import type { EngineOptions } from "../engine/types.ts";
import { importLate } from "../late_import.ts";
import { openEngineWithLoaders, type OpenLoaders } from "./loaders.ts";

/** The adapters' loaders: late imports. */
export const LATE_LOADERS: OpenLoaders = {
  config: importFullConfigLoaderLate,
  realtime: async () =>
    (await importLate<typeof import("../sync/realtime.ts")>(new URL("../sync/realtime.ts", import.meta.url)))
      .realtimeWriteBack,
};

/**
 * `openEngine`, with the optional parts imported late.
 * @param repoDir the repository or any directory inside it
 * @param options clock, journal mode override, another after-commit hook
 * @returns the engine
 * @throws {BatonError} `config_not_found`, `config_invalid`, `database_*`, `migration_failed`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openEngineLate } from "./late.ts";
 * await assert.rejects(openEngineLate(await Deno.makeTempDir()), { code: "config_not_found" });
 * ```
 */
export function openEngineLate(repoDir: string, options: EngineOptions = {}): Promise<Engine> {
  return openEngineWithLoaders(repoDir, options, LATE_LOADERS);
}

/**
 * `openEngineWithoutWriteBack`, with the configuration loader imported late.
 * @param repoDir the repository or any directory inside it
 * @param options clock, journal mode override, another after-commit hook
 * @returns the engine
 * @throws {BatonError} `config_not_found`, `config_invalid`, `database_*`, `migration_failed`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openEngineWithoutWriteBackLate } from "./late.ts";
 * await assert.rejects(openEngineWithoutWriteBackLate(await Deno.makeTempDir()), { code: "config_not_found" });
 * ```
 */
export function openEngineWithoutWriteBackLate(repoDir: string, options: EngineOptions = {}): Promise<Engine> {
  return openEngineWith(repoDir, options, importFullConfigLoaderLate);
}
