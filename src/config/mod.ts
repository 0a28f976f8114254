/**
 * A repository's `.workflow/`: loading, validating, and the typed
 * configuration the engine runs on.
 *
 * @module
 */
export { parseConfig } from "./config_file.ts";
export { parsePhases } from "./phases.ts";
export { loadWorkflowConfig } from "./load.ts";
export { loadWorkflowConfigCached } from "./load_cached.ts";
export { databasePath, findRepoRoot } from "./repo_root.ts";
export { CONFIG_FORMAT, DEFAULT_ID_REGEX } from "./defaults.ts";
export {
  type AgentTypeConfig,
  type BatonConfig,
  type Condition,
  type DependencyKeys,
  type MergeConfig,
  type MetadataField,
  type PhaseDef,
  type Timing,
  type Workflow,
  type WorkflowConfig,
} from "./schema.ts";
