/**
 * Helpers for tests and examples: a throw-away repository with a
 * `.workflow/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openEngine } from "@baton/baton";
 * import { tempRepo } from "@baton/baton/testing";
 * const engine = await openEngine(await tempRepo());
 * assert.deepEqual(engine.cfg.workflow.phases.map((p) => p.name), ["Design", "Design Review", "Implementation"]);
 * engine.close();
 * ```
 *
 * @module
 */
export { EXAMPLE_WORKFLOW, tempRepo, type TempRepoOptions } from "./src/testing.ts";
