/**
 * The library's way to load `.workflow/` through the configuration cache
 * (`cache.ts`), with the full loader named by a literal import: tools that
 * follow a module's imports (`deno compile`, `deno cache`, a lockfile) see
 * the YAML parser and the validator, which a cache miss needs.
 *
 * @module
 */
import { type FullConfigLoader, loadWorkflowConfigCachedWith } from "./cache.ts";
import type { WorkflowConfig } from "./schema.ts";

/** The full loader, imported when first needed (a literal: every tool that walks the library's imports sees it). */
export const importFullConfigLoader: FullConfigLoader = async () => (await import("./load.ts")).loadWorkflowConfig;

/**
 * Like `loadWorkflowConfig`, through the cache: a command whose `.workflow/`
 * files have not changed since the last load skips the YAML parser and the
 * validator.
 *
 * @param start the repository or any directory inside it
 * @returns the validated configuration
 * @throws {BatonError} `config_not_found`, `config_invalid`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWorkflowConfigCached } from "./load_cached.ts";
 * await assert.rejects(loadWorkflowConfigCached(await Deno.makeTempDir()), { code: "config_not_found" });
 * ```
 */
export function loadWorkflowConfigCached(start: string): Promise<WorkflowConfig> {
  return loadWorkflowConfigCachedWith(start, importFullConfigLoader);
}
