/**
 * Opening a repository: the engine, with the markdown write-back its
 * `markdown_sync` configuration asks for wired as the engine's
 * after-commit hook. What library users call. The parts only some openings
 * need are named by literal imports here, so that every tool that follows
 * the library's imports (`deno compile`, `deno cache`, a lockfile) sees
 * them; the CLI and the MCP server open through `late.ts` instead.
 *
 * @module
 */
import { importFullConfigLoader } from "../config/load_cached.ts";
import type { Engine } from "../engine/engine.ts";
import type { EngineOptions } from "../engine/types.ts";
import { openEngineWithLoaders, type OpenLoaders } from "./loaders.ts";

/** The library's loaders: literal imports, imported when first needed. */
export const LIBRARY_LOADERS: OpenLoaders = {
  config: importFullConfigLoader,
  realtime: async () => (await import("../sync/realtime.ts")).realtimeWriteBack,
};

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
export function openEngine(repoDir: string, options: EngineOptions = {}): Promise<Engine> {
  return openEngineWithLoaders(repoDir, options, LIBRARY_LOADERS);
}
