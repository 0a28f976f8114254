/**
 * The merge queue's settings, as the engine's merge rules read them.
 *
 * @module
 */
import type { MergeConfig } from "../config/schema.ts";
import { BatonError } from "../errors.ts";
import type { Core } from "./core.ts";

/** The merge queue's settings, or a coded error when none are configured. */
export function mergeConfig(core: Core): MergeConfig {
  const m = core.cfg.config.merge;
  if (!m) {
    throw new BatonError(
      "config_invalid",
      "No merge queue is configured: add a merge: section (target, check) to .workflow/config.yaml",
    );
  }
  return m;
}
