/**
 * Baton: many AI coding agents on one repository's backlog, without stepping
 * on each other, with humans in control of the review gates.
 *
 * Tickets stay markdown files; Baton keeps the coordination state (which
 * phase of which ticket is available, who holds it, gates, dependencies, an
 * audit trail) in one SQLite database in the repository, shared safely by
 * every agent process. Each repository describes its workflow in `.workflow/`.
 *
 * @example Quick start: a ticket from claim to a human gate
 * ```ts
 * import assert from "node:assert/strict";
 * import { openEngine } from "./mod.ts";
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
export {
  type CheckpointResult,
  Database,
  type JournalMode,
  type OpenOptions,
  type Params,
  type Row,
  type SqlValue,
  Statement,
} from "./src/storage/sqlite.ts";
export { latestVersion, openBatonDatabase } from "./src/storage/database.ts";
export {
  type Actor,
  type AuditEntry,
  type BlockedItem,
  type Claim,
  type Dependency,
  type DependencyType,
  Engine,
  type EngineOptions,
  type Gate,
  openEngine,
  type Phase,
  type TicketDetail,
  type TicketInput,
} from "./src/engine.ts";
export {
  type BatonConfig,
  type Condition,
  findRepoRoot,
  loadWorkflowConfig,
  type MetadataField,
  parseConfig,
  parsePhases,
  type PhaseDef,
  type Workflow,
  type WorkflowConfig,
} from "./src/config.ts";
export { canTransition, conditionHolds, PHASE_STATUSES, type PhaseStatus, truthy } from "./src/state_machine.ts";
export type { AgentContext, ContextFile } from "./src/context.ts";
export type { Distribution, Metrics, PhaseMetrics, Stalled } from "./src/metrics.ts";
export { globMatches, globsOverlap, normalizeRepoPath, overlapping } from "./src/globs.ts";
export {
  createTicketsWithFiles,
  type FileProblem,
  type ImportResult,
  importTickets,
  listTicketFiles,
  newTicket,
  syncAll,
  type SyncResult,
  syncTicket,
} from "./src/tickets.ts";
export {
  checkThrough,
  contentHash,
  type ParsedTicket,
  parseTicket,
  renderTemplate,
  ticketIdFromPath,
  writeWorkflowLog,
} from "./src/markdown.ts";
