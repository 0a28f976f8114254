/**
 * Work: phases, claims and what an agent's held-phase calls take (complete, fail, release, declare, heartbeat).
 *
 * @module
 */
import type { PhaseStatus } from "../state_machine.ts";

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
  /**
   * A completed phase of a parallel group whose own branch `baton run` has
   * not merged into its ticket's branch yet (`Engine.recordPhaseBranch`):
   * until it is merged, the phase is not done for what follows it.
   */
  unmergedBranch: string | null;
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

/** `Engine.heartbeat`: a progress note, and which held phases' leases to extend. */
export interface HeartbeatOptions {
  /** What the agent did since its last heartbeat (restarts the stall clock). */
  progress?: string;
  /** Extend only these phases' leases (default: every phase the agent holds). */
  phaseIds?: number[];
  /** A claim token of a phase the agent holds: lets a caller other than the one that registered the agent (a reconnected session) heartbeat for it. */
  token?: string;
}
