/**
 * Loading `.workflow/` through the configuration cache (`cache.ts`) with
 * the full loader imported late (`late_import.ts`): what the CLI and the MCP
 * server use, so that Deno's start-up module walk stops short of the YAML
 * parser and the validator, which only a cache miss needs. `deno task
 * compile` names `load.ts` with `--include` (`tests/layers_test.ts` checks).
 *
 * @module
 */
import { type FullConfigLoader, loadWorkflowConfigCachedWith } from "./cache.ts";
import type { WorkflowConfig } from "./schema.ts";
import { importLate } from "../late_import.ts";

/** The full loader, imported late. */
export const importFullConfigLoaderLate: FullConfigLoader = async () =>
  (await importLate<typeof import("./load.ts")>(new URL("./load.ts", import.meta.url))).loadWorkflowConfig;

/**
 * `loadWorkflowConfigCached`, with the full loader imported late.
 * @param start the repository or any directory inside it
 * @returns the validated configuration
 * @throws {BatonError} `config_not_found`, `config_invalid`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWorkflowConfigLate } from "./load_late.ts";
 * await assert.rejects(loadWorkflowConfigLate(await Deno.makeTempDir()), { code: "config_not_found" });
 * ```
 */
export function loadWorkflowConfigLate(start: string): Promise<WorkflowConfig> {
  return loadWorkflowConfigCachedWith(start, importFullConfigLoaderLate);
}
