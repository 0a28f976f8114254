/**
 * Observation: the audit trail, events, summaries, agents, metrics, storage and health reports.
 *
 * @module
 */
import type { WriteStats } from "../../storage/sqlite.ts";
import type { Escalation, Gate } from "./gates.ts";

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
  /**
   * The supervisor that spawned it (host, pid, start time), when one did: a
   * supervisor that starts ends the agents a killed one left running.
   */
  supervisor?: { host: string; pid: number; pidStart: string | null };
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
  /** The newest schema version this Baton knows: a database past it was migrated by a newer Baton (it writes nothing). */
  schemaKnown: number;
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
