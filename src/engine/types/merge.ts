/**
 * The merge queue: its entries, batches, status and figures.
 *
 * @module
 */
import type { AgentProcessInfo } from "./observe.ts";

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
  /** The process group of the check it is running (its leader), null when none runs (`Engine.recordMergeCheck`). */
  checkProcess: AgentProcessInfo | null;
  /** Red because the check failed on the target itself, with no ticket applied: nothing was blamed. */
  targetRed: boolean;
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
  /**
   * The target as the queue last found it, when the check failed on it by
   * itself and no batch was built since (nothing lands until a commit to the
   * target fixes the check): its commit, the batch that found it, when, and
   * the end of the check's output. Null otherwise.
   */
  targetRed: { sha: string; batchId: number; since: number; log: string | null } | null;
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

/** A batch's candidate, recorded before the target moves to it (`Engine.recordMergeCandidate`). */
export interface MergeCandidate {
  /** The candidate commit. */
  candidateSha: string;
  /** Each applied item's commit in it, by position. */
  shas: Record<number, string>;
  /** The commit each item was applied onto, by position: it landed `from..sha`, what a revert undoes. */
  from?: Record<number, string>;
  /** Candidates built so far (flaky retries and bisect steps count). */
  builds: number;
  /** Time spent in the check (ms). */
  checkMs: number;
  /** The end of the check's output. */
  log?: string;
}
