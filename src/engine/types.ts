/**
 * The engine's public types: what its calls take and return.
 *
 * @module
 */
import type { JournalMode, WriteStats } from "../storage/sqlite.ts";
import type { PhaseStatus } from "./state_machine.ts";
import type { Metadata } from "../config/conditions.ts";

/** Who acts: a human (by name) or an agent (by id). A bare string is an agent id. */
export type Actor = { kind: "human"; name: string } | { kind: "agent"; id: string } | string;

/** Options of `openEngine`. */
export interface EngineOptions {
  /** Clock in ms since the epoch (tests inject one). */
  clock?: () => number;
  /** Override `database.journal_mode` from config.yaml. */
  journalMode?: JournalMode;
  /**
   * Called after the outermost commit of a request that changed phases,
   * with the tickets concerned (realtime markdown write-back uses it).
   * Errors it throws are reported on stderr, never to the caller.
   */
  afterCommit?: (ticketIds: string[]) => void;
}

/** Kinds of ticket dependency. */
export type DependencyType = "completion" | "design" | "implementation";

/** One dependency of a ticket being created or updated. */
export interface DependencyInput {
  /** The ticket waited for (or, in a batch, another item's `ref`). */
  on: string;
  /** The milestone waited for (default `completion`). */
  type?: DependencyType;
}

/** Input of `Engine.upsertTicket`. */
export interface TicketInput {
  /** Ticket id, e.g. `0083` or `D0001`. */
  id: string;
  /** Title. */
  title: string;
  /** Typed metadata (field → value). */
  metadata?: Metadata;
  /** Priority label (else `metadata.priority`). */
  priority?: string;
  /** Markdown path relative to the repository root. */
  path?: string;
  /** Hash of the markdown content (import idempotency). */
  contentHash?: string;
  /** Parent ticket (recorded, not a blocker). */
  parentId?: string;
  /** Dependencies; when given, they replace the ticket's current set. */
  dependencies?: DependencyInput[];
  /**
   * Phases already done (e.g. from the markdown status): marked completed at
   * seeding, and every phase before them too, so an imported ticket never
   * reopens work it is past. On an existing ticket they move it forward,
   * never back: each such phase still open that Baton never worked on (no
   * claim, completion, decision or rework recorded) and no agent holds is
   * completed (an undecided open gate is withdrawn).
   */
  completedPhases?: string[];
}

/** One item of `Engine.createTickets`: a ticket whose id may be generated, named by `ref` in the batch. */
export interface NewTicketInput extends Omit<TicketInput, "id"> {
  /** The id; the next free number when omitted. */
  id?: string;
  /** A name the batch's other items use in their dependencies. */
  ref?: string;
}

/** A phase as returned by the API. */
export interface Phase {
  /** Phase id (what `claim`, `start`, `complete`… take). */
  id: number;
  /** Its ticket. */
  ticketId: string;
  /** Phase name from phases.yaml. */
  name: string;
  /** Position in the workflow. */
  seq: number;
  /** Parallel group or pipeline, if any. */
  group: string | null;
  /** Agent type that may claim it; null for a human gate. */
  agentType: string | null;
  /** Current status. */
  status: PhaseStatus;
  /** The agent that holds (or last held) it. */
  claimedBy: string | null;
  /** Claims so far. */
  attempts: number;
  /** Times a gate sent it back. */
  revisions: number;
  /** When the current claim's lease ends. */
  leaseExpiresAt: number | null;
  /** When a failed attempt may be claimed again. */
  retryAt: number | null;
  /** When it last became available. */
  availableAt: number | null;
  /** When it was last claimed. */
  claimedAt: number | null;
  /** When the holder started it. */
  startedAt: number | null;
  /** When it completed. */
  completedAt: number | null;
  /** The holder's summary of the work. */
  resultSummary: string | null;
  /** Paths the holder produced. */
  artifacts: string[];
  /** The last failure's error. */
  error: string | null;
  /** A reviewer's notes when this is rework. */
  reworkNotes: string | null;
}

/** Another active phase's declaration overlapping some paths. */
export interface Overlap {
  /** The path or glob asked about. */
  pattern: string;
  /** The overlapping declared path or glob. */
  otherPattern: string;
  /** The phase that declared it. */
  phaseId: number;
  /** Its ticket. */
  ticketId: string;
  /** Its name. */
  phase: string;
  /** The agent holding it. */
  agentId: string;
}

/** A successful claim: the phase and the token later calls must present. */
export interface Claim {
  /** Active declarations of other phases overlapping this ticket's expected paths (advisory mode). */
  overlaps: Overlap[];
  /** The claimed phase. */
  phase: Phase;
  /** Its ticket. */
  ticket: { id: string; title: string; priority: string | null; path: string | null };
  /** Fencing token: calls with any other token are refused. */
  token: string;
  /** When the lease ends unless the agent heartbeats. */
  leaseExpiresAt: number;
  /** Notes from the reviewer when this is rework after a gate. */
  reworkNotes: string | null;
}

/** `Engine.claimNext`: the best phase of any of these agent types. */
export interface ClaimNextRequest {
  /** The claiming agent (registered implicitly). */
  agentId: string;
  /** Agent types it can do. */
  capabilities: string[];
  /** Retry-safe: the same key gives the same claim. */
  idempotencyKey?: string;
  /** Only phases of tickets in this scope (a supervisor restricted to some tickets). */
  scope?: WorkScope;
}

/**
 * Which tickets some work is restricted to: each part given must hold (a
 * ticket among `tickets`, one of `labels` among its metadata `labels`, its
 * priority among `priorities`; all case-insensitive but ticket ids).
 */
export interface WorkScope {
  /** Ticket ids. */
  tickets?: string[];
  /** Labels: a ticket's metadata `labels` (a list, or a comma-separated string) holds one of them. */
  labels?: string[];
  /** Priority labels. */
  priorities?: string[];
}

/** Which failed phases `Engine.retryFailed` reopens: those given must all hold. */
export interface RetryFilter {
  /** Only phases of this agent type. */
  agentType?: string;
  /** Only phases whose last error contains this text (case-insensitive). */
  error?: string;
  /** Every failed phase (needed when neither of the others is given). */
  all?: boolean;
}

/** `Engine.claim`: one given phase. */
export interface ClaimRequest {
  /** The claiming agent (registered implicitly). */
  agentId: string;
  /** Agent types it can do (default: as registered). */
  capabilities?: string[];
  /** Retry-safe: the same key gives the same claim. */
  idempotencyKey?: string;
}

/** A call on a held phase: the holder and its fencing token. */
export interface HeldRequest {
  /** The holding agent. */
  agentId: string;
  /** The token of its claim. */
  token: string;
}

/** `Engine.complete` and `Engine.requestReview`. */
export interface CompleteRequest extends HeldRequest {
  /** What was done, for the next agents and the reviewers. */
  summary?: string;
  /** Paths produced. */
  artifacts?: string[];
}

/** `Engine.fail`. */
export interface FailRequest extends HeldRequest {
  /** What went wrong (the next attempt sees it). */
  error: string;
}

/** `Engine.release`. */
export interface ReleaseRequest extends HeldRequest {
  /** Why the phase is given back. */
  reason?: string;
}

/** `Engine.declareFiles`. */
export interface DeclareRequest extends HeldRequest {
  /** Repository-relative paths or globs. */
  paths: string[];
}

/** What `Engine.declareFiles` recorded. */
export interface DeclareResult {
  /** The declared paths, normalized. */
  declared: string[];
  /** Other phases' declarations they overlap. */
  overlaps: Overlap[];
}

/** A human decision point. */
export interface Gate {
  /** Gate id (what approve and reject take). */
  id: number;
  /** The gated phase (a gate phase, or the phase whose review was asked for). */
  phaseId: number;
  /** Its name. */
  phaseName: string;
  /** Its ticket. */
  ticketId: string;
  /** A workflow gate, or a review an agent asked for. */
  kind: "gate" | "review";
  /** Where the decision stands (`withdrawn`: closed undecided, because work it waited on was sent back). */
  status: "open" | "approved" | "rejected" | "escalated" | "withdrawn";
  /** The agent that asked for the review. */
  requestedBy: string | null;
  /** The agent's summary for the reviewer. */
  summary: string | null;
  /** When it opened. */
  openedAt: number;
  /** When it was decided. */
  decidedAt: number | null;
  /** Who decided (`human:NAME` or an agent id). */
  decidedBy: string | null;
  /** The decider's notes. */
  notes: string | null;
  /** Rejections of the phase before this gate opened. */
  revision: number;
}

/** `Engine.approveGate`: who decides, and why. */
export interface DecisionRequest {
  /** The deciding human (or agent, with `gates.allow_agents`). */
  actor: Actor;
  /** Notes for the record (and, on a rejection, for the agents). */
  notes?: string;
}

/** `Engine.rejectGate`: a decision whose notes say what to change. */
export interface RejectRequest extends DecisionRequest {
  /** What to change (required). */
  notes: string;
}

/** A ticket dependency. */
export interface Dependency {
  /** The waiting ticket. */
  ticketId: string;
  /** The ticket waited for. */
  dependsOn: string;
  /** The milestone waited for. */
  type: DependencyType;
  /** When the milestone was reached (null: still waiting). */
  satisfiedAt: number | null;
}

/** One audit row. */
export interface AuditEntry {
  /** Increasing id (a cursor for `events`). */
  id: number;
  /** When. */
  at: number;
  /** Who (`human:NAME`, an agent id, or `system`). */
  actor: string;
  /** What, e.g. `phase.claim`, `gate.approved`. */
  action: string;
  /** ticket, phase, gate, agent or dependency. */
  entityType: string;
  /** Its id. */
  entityId: string;
  /** The ticket concerned. */
  ticketId: string | null;
  /** State before. */
  oldState: string | null;
  /** State after. */
  newState: string | null;
  /** Anything else (phase name, notes, error…). */
  details: Record<string, unknown> | null;
  /** Shared by every row of one request. */
  correlationId: string;
}

/** A ticket with everything about it. */
export interface TicketDetail {
  /** Ticket id. */
  id: string;
  /** Title. */
  title: string;
  /** Markdown path, repository-relative. */
  path: string | null;
  /** Priority label. */
  priority: string | null;
  /** Typed metadata. */
  metadata: Metadata;
  /** Hash of the markdown when last imported or written. */
  contentHash: string | null;
  /** Completed once every phase is completed or skipped. */
  status: "active" | "completed";
  /** Parent ticket, if any. */
  parentId: string | null;
  /** When it was created. */
  createdAt: number;
  /** When it last changed. */
  updatedAt: number;
  /** Its phases in workflow order. */
  phases: Phase[];
  /** Its gates, oldest first. */
  gates: Gate[];
  /** What it waits for. */
  dependencies: Dependency[];
  /** What waits for it. */
  dependents: Dependency[];
}

/** `Engine.listTickets`: filters, all optional. */
export interface TicketFilter {
  /** active or completed. */
  status?: "active" | "completed";
  /** A priority label (case-insensitive). */
  priority?: string;
  /** Part of a `components`/`component` metadata value. */
  component?: string;
  /** An agent holding a phase of the ticket. */
  agent?: string;
  /** Only tickets waiting (or not) on a dependency. */
  blocked?: boolean;
}

/** One row of `Engine.listTickets`. */
export interface TicketSummary {
  /** Ticket id. */
  id: string;
  /** Title. */
  title: string;
  /** active or completed. */
  status: string;
  /** Priority label. */
  priority: string | null;
  /** The first phase not done yet. */
  phase: string | null;
  /** Waits on a dependency. */
  blocked: boolean;
}

/** One card of `Engine.board`: a ticket with its phases. */
export interface BoardTicket {
  /** Ticket id. */
  id: string;
  /** Title. */
  title: string;
  /** active or completed. */
  status: string;
  /** Priority label. */
  priority: string | null;
  /** Typed metadata (components, and the rest). */
  metadata: Metadata;
  /** Waits on a dependency. */
  blocked: boolean;
  /** Its phases in workflow order. */
  phases: Phase[];
}

/** Why something cannot proceed. */
export interface BlockedItem {
  /** The ticket. */
  ticketId: string;
  /** The phase concerned (null: the whole ticket). */
  phaseId: number | null;
  /** Its name. */
  phaseName: string | null;
  /** What it waits for. */
  reason: "gate" | "review" | "dependency" | "retry_backoff" | "failed";
  /** For people. */
  detail: string;
  /** Since when. */
  since: number | null;
}

/** An agent type of the workflow, with its registry settings and its work now. */
export interface AgentTypeInfo {
  /** The agent type. */
  type: string;
  /** Command a supervisor starts it with. */
  command: string | null;
  /** Its arguments. */
  args: string[];
  /** At most this many phases held at once. */
  maxConcurrent: number | null;
  /** Phases held now. */
  held: number;
  /** Phases available now. */
  available: number;
}

/** A registered agent and what it holds. */
export interface AgentInfo {
  /** Agent id. */
  id: string;
  /** active; stale once a lease of it expired; gone once a supervisor saw its process exit. */
  status: string;
  /** Agent types it can do. */
  capabilities: string[];
  /** When it registered. */
  registeredAt: number;
  /** Its last heartbeat. */
  lastHeartbeat: number;
  /** Where its process runs, when a supervisor spawned it (see `Engine.recordAgentProcess`). */
  process: AgentProcessInfo | null;
  /** The phases it holds now. */
  holds: { phaseId: number; ticketId: string; phase: string; status: string }[];
}

/** Where an agent's process runs. */
export interface AgentProcessInfo {
  /** The host name. */
  host: string;
  /** The process id there. */
  pid: number;
  /** The process's start time as the system reports it (null when unknown): a reused pid is another process. */
  pidStart: string | null;
}

/** An active file declaration. */
export interface Declaration {
  /** The declaring phase. */
  phaseId: number;
  /** Its ticket. */
  ticketId: string;
  /** Its name. */
  phase: string;
  /** The agent holding it. */
  agentId: string;
  /** The declared path or glob. */
  pattern: string;
  /** When. */
  declaredAt: number;
}

/** An available phase with the paths its ticket expects to touch (`Engine.readyParallel`). */
export interface ReadyPhase extends Phase {
  /** The ticket's expected paths (metadata `paths`). */
  paths: string[];
  /** False when the ticket names no paths (nothing is known to conflict). */
  pathsKnown: boolean;
}

/** One phase an agent could claim now (`Engine.availableWork`). */
export interface AvailableWork {
  /** Phase id. */
  phaseId: number;
  /** Its ticket. */
  ticketId: string;
  /** The ticket's title. */
  title: string;
  /** Phase name. */
  phase: string;
  /** Its agent type. */
  agentType: string;
  /** The ticket's priority. */
  priority: string | null;
  /** Claims so far. */
  attempts: number;
  /** Sent back by a gate. */
  rework: boolean;
}

/** `Engine.audit`: filters, all optional. */
export interface AuditFilter {
  /** Rows of this ticket (all its entities). */
  ticketId?: string;
  /** Rows by this actor. */
  agentId?: string;
  /** Rows of this action (`phase.rework`, `gate.approved`…). */
  action?: string;
  /** From this time (ms). */
  since?: number;
  /** Before this time (ms). */
  until?: number;
  /** At most this many rows: the newest ones when `latest`, else the oldest. */
  limit?: number;
  /** With `limit`: the newest rows (still returned oldest first). */
  latest?: boolean;
}

/** `Engine.events`: a cursor and filters. */
export interface EventsQuery {
  /** An audit id: rows after it (0 for everything). */
  since: number;
  /** Rows of this ticket. */
  ticketId?: string;
  /** Rows by this actor. */
  agentId?: string;
  /** At most this many (default 1,000). */
  limit?: number;
}

/** `Engine.watch`: where to start, filters, how often to look, when to stop. */
export interface WatchOptions {
  /** An audit id to start after (default: the newest, so only new rows come). */
  since?: number;
  /** Rows of this ticket. */
  ticketId?: string;
  /** Rows by this actor. */
  agentId?: string;
  /** How often to look for commits of other processes (ms, default 100). */
  pollMs?: number;
  /** Ends the iteration. */
  signal?: AbortSignal;
}

/** What a dashboard shows (`Engine.summary`). */
export interface Summary {
  /** Tickets by status. */
  tickets: Record<string, number>;
  /** Phases by status. */
  phases: Record<string, number>;
  /** Registered agents and what they hold. */
  agents: AgentInfo[];
  /** Open gates, oldest first. */
  gates: Gate[];
  /** Held phases with no progress for longer than the stall timeout. */
  stalled: Stalled[];
  /** Held phases whose lease ended (run `baton sweep`). */
  stale: { phaseId: number; ticketId: string; phase: string; agentId: string; leaseExpiresAt: number }[];
  /** The phase waiting longest to be claimed. */
  oldestWaiting: { phaseId: number; ticketId: string; phase: string; since: number; waitingMs: number } | null;
  /** Open escalations: stalled phases a human should look at. */
  escalations: Escalation[];
}

/** A stalled phase a human should look at (`Engine.escalations`). */
export interface Escalation {
  /** Its id. */
  id: number;
  /** The phase. */
  phaseId: number;
  /** Its name. */
  phaseName: string;
  /** Its ticket. */
  ticketId: string;
  /** The agent that held it. */
  agentId: string | null;
  /** Why (e.g. "no progress for 30 minutes"). */
  reason: string;
  /** The agent's last output, as the supervisor saw it. */
  lastOutput: string | null;
  /** When it opened. */
  openedAt: number;
  /** When a human (or a retry or release) resolved it. */
  resolvedAt: number | null;
  /** Who. */
  resolvedBy: string | null;
  /** How: "retried", "released", or the human's notes. */
  resolution: string | null;
}

/** What one run of the retention policy deleted (`Engine.prune`). */
export interface PruneResult {
  /** Idempotency keys older than `retention.idempotency_hours`. */
  idempotencyKeys: number;
  /** Daily claim-miss counters older than `retention.claim_misses_days`. */
  claimMissDays: number;
  /** Agents not seen for `retention.agents_days`, holding nothing. */
  agents: number;
  /** File declarations released over `retention.declarations_days` ago. */
  declarations: number;
  /** Audit rows older than `audit.retain_days` (0 when unset: the audit is kept). */
  auditRows: number;
}

/** What the database is (`Engine.storageInfo`). */
export interface StorageInfo {
  /** The database file. */
  path: string;
  /** wal, truncate or delete. */
  journalMode: string;
  /** Its schema version. */
  schemaVersion: number;
  /** Bytes in its WAL file (0 without one). */
  walBytes: number;
  /** Tickets in it. */
  tickets: number;
  /** Bytes of WASM memory this process's SQLite uses (its heap, page cache included). */
  heapBytes: number;
  /** Prepared statements this connection keeps. */
  cachedStatements: number;
  /** This connection's write transactions since it opened, and where their time went. */
  writes: WriteStats;
}

/** One check of `baton doctor`. */
export interface HealthCheck {
  /** What was checked. */
  name: string;
  /** Whether it passed. */
  ok: boolean;
  /** What was found, with what to do when it failed. */
  detail: string;
}

/** p50 / p90 / max of a duration set, in ms (null when empty). */
export interface Distribution {
  /** How many values. */
  count: number;
  /** The median. */
  p50: number | null;
  /** The 90th percentile. */
  p90: number | null;
  /** The largest. */
  max: number | null;
}

/** Per phase name. */
export interface PhaseMetrics {
  /** The phase name. */
  phase: string;
  /** Completed phases of this name (in the window). */
  completed: number;
  /** Claim → complete. */
  claimToComplete: Distribution;
  /** Start → complete. */
  startToComplete: Distribution;
  /** Available → claimed (the last claim of each phase). */
  wait: Distribution;
  /** Failed attempts / claims. */
  failureRate: number;
  /** Phases that needed more than one attempt / phases claimed. */
  retryRate: number;
  /** Times work of this phase was sent back by a gate. */
  rework: number;
}

/** Everything `metrics()` returns. */
export interface Metrics {
  /** Window start (ms) or null for all time. */
  since: number | null;
  /** Per phase name, in workflow order. */
  phases: PhaseMetrics[];
  /** Completed phases and tickets per UTC day. */
  throughput: { day: string; phases: number; tickets: number }[];
  /** Phases held right now, by status. */
  workInProgress: { claimed: number; running: number };
  /** Phases held over time, from the window's start (90 days at most) to now. */
  workInProgressOverTime: WipPoint[];
  /** The phase waiting longest to be claimed. */
  oldestWaiting: { phaseId: number; ticketId: string; phase: string; since: number; waitingMs: number } | null;
  /** Phase name where work waits longest now (sum of current waits), with the count waiting. */
  bottleneck: { phase: string; waiting: number; totalWaitMs: number } | null;
  /** Per agent: phases completed and time spent (claim → complete). */
  agents: { agentId: string; completed: number; busyMs: number }[];
  /** Gate open → decided. */
  gateDecision: Distribution;
  /**
   * Claims lost to another agent: a claim of a phase that another agent
   * held by then (it found work, and lost the race for it). A claim that
   * finds nothing to do (an idle agent or a supervisor polling) is not
   * contention and is not counted.
   */
  contention: { lost: number; byType: { agentType: string; lost: number }[] };
  /** Running phases with no progress for longer than the stall timeout. */
  stalled: Stalled[];
}

/** One point of `Metrics.workInProgressOverTime`. */
export interface WipPoint {
  /** The end of the point's interval (ms; the last one is now). */
  at: number;
  /** Phases held at that time. */
  held: number;
  /** The most held at once during the interval. */
  peak: number;
}

/** A running phase that made no progress (heartbeat or event) for too long. */
export interface Stalled {
  /** The phase. */
  phaseId: number;
  /** Its ticket. */
  ticketId: string;
  /** Its name. */
  phase: string;
  /** The agent holding it. */
  agentId: string | null;
  /** Its last progress (claim, start, heartbeat with progress, declaration). */
  lastProgressAt: number;
  /** How long it has been silent. */
  silentMs: number;
}

/** A ticket's markdown file as the engine records it (`Engine.ticketFiles`). */
export interface TicketFile {
  /** The ticket. */
  id: string;
  /** Repository-relative path (null: no file). */
  path: string | null;
  /** Hash of the content when last imported or written. */
  contentHash: string | null;
  /** What the write-back last wrote into it (opaque to the engine; null: nothing yet). */
  ledger: unknown;
}

/** What `Engine.setTicketFile` records. */
export interface TicketFileUpdate {
  /** Repository-relative path. */
  path: string;
  /** Hash of the content now. */
  contentHash: string;
  /** What the write-back wrote (unchanged when omitted). */
  ledger?: unknown;
}

/** `Engine.heartbeat`: a progress note, and which held phases' leases to extend. */
export interface HeartbeatOptions {
  /** What the agent did since its last heartbeat (restarts the stall clock). */
  progress?: string;
  /** Extend only these phases' leases (default: every phase the agent holds). */
  phaseIds?: number[];
  /** A claim token of a phase the agent holds: lets a caller other than the one that registered the agent (a reconnected session) heartbeat for it. */
  token?: string;
}

/** The merge worker's hold on the queue: every call of the worker carries it (its token is a fencing token). */
export interface MergeWorkerLease {
  /** The worker's id (its agent id: it claims the landing phases). */
  workerId: string;
  /** The fencing token of this hold. */
  token: string;
  /** When the hold ends unless renewed (ms since the epoch). */
  leaseExpiresAt: number;
}

/** A ticket waiting in the merge queue. */
export interface MergeQueueEntry {
  /** Its landing phase. */
  phaseId: number;
  /** The ticket. */
  ticketId: string;
  /** Its title. */
  title: string;
  /** The branch that lands. */
  branch: string;
  /** Since when it waits (ms since the epoch). */
  queuedAt: number;
  /** Landing attempts so far. */
  attempts: number;
}

/** One ticket (or revert) of a merge batch. */
export interface MergeItem {
  /** Its place in the batch (queue order). */
  position: number;
  /** The landing phase (null for a revert). */
  phaseId: number | null;
  /** The ticket. */
  ticketId: string;
  /** Landing a branch, or reverting landed commits. */
  kind: "land" | "revert";
  /** For a revert: which. */
  revertId: number | null;
  /** The branch that lands. */
  branch: string | null;
  /** The landing phase's claim token. */
  token: string | null;
  /** What became of it. */
  outcome: "pending" | "landed" | "noop" | "conflict" | "culprit" | "fenced" | "requeued" | "failed";
  /** Its commit on the target, once landed. */
  sha: string | null;
  /** The conflicting files, the check's output, or why it was requeued. */
  notes: string | null;
}

/** A batch the merge worker built. */
export interface MergeBatch {
  /** Batch id. */
  id: number;
  /** The worker building it. */
  worker: string;
  /** The target branch. */
  target: string;
  /** The target's tip it was built on. */
  baseSha: string;
  /** The candidate the target moves to (recorded before it does). */
  candidateSha: string | null;
  /** building, landing (the candidate recorded), landed, red (nothing landed), abandoned. */
  status: "building" | "landing" | "landed" | "red" | "abandoned";
  /** Candidates built (more than one: a flaky retry or a bisect). */
  builds: number;
  /** Time spent in the check (ms). */
  checkMs: number | null;
  /** The tail of the last check's output. */
  log: string | null;
  /** When it started. */
  startedAt: number;
  /** When it ended. */
  finishedAt: number | null;
  /** Its tickets, in queue order. */
  items: MergeItem[];
}

/** The merge queue now. */
export interface MergeStatus {
  /** The branch work lands on. */
  target: string;
  /** The worker holding the queue, if one does. */
  worker: { id: string; leaseExpiresAt: number } | null;
  /** Tickets waiting to land, in order. */
  queued: MergeQueueEntry[];
  /** Tickets whose workflow is not done yet. */
  waitingForWorkflow: number;
  /** Landings waiting for a retry. */
  retrying: number;
  /** Landings that failed every attempt (a human looks). */
  failed: number;
  /** The batch being built, if any. */
  building: MergeBatch | null;
  /** The latest batches, newest first. */
  recent: MergeBatch[];
  /** Reverts waiting to land. */
  reverts: { id: number; ticketId: string; requestedAt: number }[];
  /** Check commands that failed and then passed on the same candidate. */
  flaky: { check: string; count: number; lastAt: number }[];
}

/** How the merge queue did over a window. */
export interface MergeMetrics {
  /** Batches started. */
  batches: number;
  /** Tickets landed (or with nothing to land). */
  landed: number;
  /** Tickets sent back for a conflict. */
  conflicts: number;
  /** Tickets sent back for breaking the check. */
  culprits: number;
  /** Share of batches that landed nothing (null: no batch). */
  failureRate: number | null;
  /** Share of batches built more than once (a flaky retry or a bisect). */
  bisectRate: number | null;
  /** Share of tickets in batches that conflicted. */
  conflictRate: number | null;
  /** Share of landed tickets that never went back from the queue: landed without a human stepping in. */
  withoutHuman: number | null;
  /** Tickets landed per day, over the days from `since` (or from the first landing) to now. */
  landedPerDay: number;
  /** Median time a landed ticket waited in the queue, from its landing phase becoming available to landing (ms; null: none landed). */
  queueMedianMs: number | null;
}
