/**
 * Baton: many AI coding agents on one repository's backlog, without stepping
 * on each other, with humans in control of the review gates.
 *
 * Tickets stay markdown files; Baton keeps the coordination state (which
 * phase of which ticket is available, who holds it, gates, dependencies, an
 * audit trail) in one SQLite database in the repository, shared safely by
 * every agent process. Each repository describes its workflow in `.workflow/`.
 *
 * - {@link openEngine} opens a repository; the {@link Engine} does the rest.
 * - {@link importTickets}, {@link syncAll} and {@link newTicket} move tickets
 *   between their markdown and the database; {@link parseTicket} and the
 *   other markdown functions are pure.
 * - {@link loadWorkflowConfig} validates a `.workflow/`.
 * - The storage layer (WASM SQLite on Baton's own VFS) is the `./storage`
 *   export; test helpers are `./testing`.
 *
 * @example Quick start: a ticket from claim to a human gate
 * ```ts
 * import assert from "node:assert/strict";
 * import { openEngine } from "@baton/baton";
 *
 * const repo = await Deno.makeTempDir();
 * await Deno.mkdir(`${repo}/.workflow`);
 * await Deno.writeTextFile(
 *   `${repo}/.workflow/phases.yaml`,
 *   "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Design Review, agent_type: null}\n",
 * );
 * const engine = await openEngine(repo);
 * engine.upsertTicket({ id: "0001", title: "Add a cache" });
 *
 * const claim = engine.claimNext({ agentId: "agent-1", capabilities: ["designer"] })!;
 * engine.start(claim.phase.id, { agentId: "agent-1", token: claim.token });
 * engine.complete(claim.phase.id, { agentId: "agent-1", token: claim.token, summary: "design.md written" });
 *
 * const [gate] = engine.gates(); // Design Review waits for a human
 * engine.approveGate(gate.id, { actor: { kind: "human", name: "dana" } });
 * assert(engine.ticket("0001").status === "completed");
 * engine.close();
 * ```
 *
 * @module
 */

export { BatonError, type BatonErrorCode, type ErrorLocation, formatLocation } from "./src/errors.ts";
export { openEngine } from "./src/open/library.ts";
export {
  Engine,
  EngineBase,
  EngineGates,
  EngineHooks,
  EngineMerge,
  EngineQueries,
  EngineTickets,
  EngineWork,
} from "./src/engine/mod.ts";
export type * from "./src/engine/types.ts";
export type { WriteStats } from "./src/storage/sqlite.ts";
export type { AgentContext, ContextFile, ContextTarget } from "./src/engine/context.ts";
export type {
  BranchCommit,
  CommitCheck,
  CommitCheckRequest,
  CommitRecorded,
  CommitRecordRequest,
  FencedCommit,
  PhaseCommit,
} from "./src/engine/hooks.ts";
export type { Distribution, Metrics, PhaseMetrics, Stalled } from "./src/engine/metrics.ts";
export { backupDatabase, type BackupResult, restoreDatabase } from "./src/engine/backup.ts";
export {
  type AgentTypeConfig,
  type BatonConfig,
  type Condition,
  type DependencyKeys,
  findRepoRoot,
  loadWorkflowConfig,
  type MergeConfig,
  type MetadataField,
  parseConfig,
  parsePhases,
  type PhaseDef,
  type Timing,
  type Workflow,
  type WorkflowConfig,
} from "./src/config/mod.ts";
export { canTransition, PHASE_STATUSES, type PhaseStatus, type TransitionCause } from "./src/engine/state_machine.ts";
export { conditionHolds, type Metadata, truthy } from "./src/config/conditions.ts";
export { globMatches, globsOverlap, normalizeRepoPath } from "./src/globs/mod.ts";
export {
  createTicketsWithFiles,
  type FileProblem,
  type ImportOptions,
  type ImportResult,
  importTickets,
  listTicketFiles,
  newTicket,
  syncAll,
  type SyncOptions,
  type SyncResult,
  syncTicket,
  type WarningGroup,
} from "./src/sync/mod.ts";
export {
  checkThrough,
  contentHash,
  type EditResult,
  type MarkdownWarning,
  type MetadataValue,
  type ParsedTicket,
  type ParseOptions,
  parseTicket,
  positionForPhase,
  readWorkflowLog,
  renderTemplate,
  setChecks,
  type StatusLabel,
  type StatusVocabulary,
  type TicketDependency,
  ticketIdFromPath,
  type TicketStatus,
  type WorkflowLogEntry,
  type WorkflowLogValues,
  writeWorkflowLog,
} from "./src/markdown/mod.ts";
export { VERSION } from "./src/version.ts";
export type { Milestone, WorkflowGraph } from "./src/config/graph.ts";
export type { JournalMode } from "./src/storage/sqlite.ts";
