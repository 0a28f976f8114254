/**
 * The phase state machine, as pure data and functions: which statuses exist,
 * which transitions are legal. The engine performs every transition through
 * {@link checkTransition} inside the transaction that writes it.
 *
 * @module
 */
import { BatonError } from "../errors.ts";

/** Every status a phase can be in. */
export const PHASE_STATUSES = [
  "pending", // earlier phases not done yet
  "blocked", // ready, but the ticket waits on another ticket
  "available", // can be claimed
  "claimed", // an agent holds it (lease running)
  "running", // the agent started work
  "waiting_retry", // failed; claimable again after a backoff
  "awaiting_review", // a human must decide (gate reached, or review requested)
  "completed",
  "failed", // out of attempts: needs a human
  "skipped", // its condition does not hold for this ticket
] as const;

/** A phase's status. */
export type PhaseStatus = typeof PHASE_STATUSES[number];

/** Statuses in which an agent holds the phase. */
export const HELD: readonly PhaseStatus[] = ["claimed", "running"];

/** Statuses that count as "done" for the phases after it. */
export const DONE: readonly PhaseStatus[] = ["completed", "skipped"];

/**
 * Whether an agent holds a phase in this status ({@link HELD}).
 * @param status a phase status
 * @returns true for claimed and running
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isHeld } from "./state_machine.ts";
 * assert(isHeld("running") && !isHeld("awaiting_review"));
 * ```
 */
export function isHeld(status: string): boolean {
  return (HELD as readonly string[]).includes(status);
}

/**
 * Whether a phase in this status is done for the phases after it ({@link DONE}).
 * @param status a phase status
 * @returns true for completed and skipped
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDone } from "./state_machine.ts";
 * assert(isDone("skipped") && !isDone("failed"));
 * ```
 */
export function isDone(status: string): boolean {
  return (DONE as readonly string[]).includes(status);
}

/** Statuses in which a ticket's work goes on without a human: held, claimable, or claimable after a backoff. */
export const MOVING: readonly PhaseStatus[] = ["claimed", "running", "available", "waiting_retry"];

/**
 * Whether a ticket's work has stopped on a failure until a human acts: one
 * of its phases failed for good, and none is held, claimable, waiting for a
 * retry ({@link MOVING}) or waiting for a human's review.
 * @param statuses the statuses of the ticket's phases
 * @returns true when nothing will move the ticket on but a human's retry
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stoppedByFailure } from "./state_machine.ts";
 * assert(stoppedByFailure(["completed", "failed", "pending"]));
 * assert(!stoppedByFailure(["completed", "failed", "running"])); // a parallel phase is still at work
 * assert(!stoppedByFailure(["completed", "waiting_retry", "pending"]));
 * ```
 */
export function stoppedByFailure(statuses: readonly string[]): boolean {
  return statuses.includes("failed") &&
    !statuses.some((s) => s === "awaiting_review" || (MOVING as readonly string[]).includes(s));
}

/**
 * Whether a phase was done before Baton: completed by an import (seeded
 * completed, or moved forward to where its ticket's file says it is), which
 * records no completion time, unlike work and decisions made in Baton.
 * @param p a phase's status and completion time
 * @returns true for a completed phase without a completion time
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { doneBeforeBaton } from "./state_machine.ts";
 * assert(doneBeforeBaton({ status: "completed", completedAt: null }));
 * assert(!doneBeforeBaton({ status: "completed", completedAt: 1_700_000_000_000 }));
 * ```
 */
export function doneBeforeBaton(p: { status: string; completedAt: number | null }): boolean {
  return p.status === "completed" && p.completedAt === null;
}

/** What caused a transition (for messages and checks). */
export type TransitionCause =
  | "resolve" // dependencies satisfied / conditions evaluated
  | "claim"
  | "start"
  | "complete"
  | "fail"
  | "retry_ready"
  | "release"
  | "stale"
  | "request_review"
  | "approve"
  | "reject" // a gate sent the work back
  | "rework" // reopened because a gate rejected it
  | "reset" // a human reopened a failed phase
  | "block"
  | "unblock";

const T: Record<PhaseStatus, Partial<Record<PhaseStatus, TransitionCause[]>>> = {
  pending: {
    available: ["resolve"],
    blocked: ["resolve", "block"],
    skipped: ["resolve"],
    awaiting_review: ["resolve"],
    completed: ["resolve"], // import: the ticket is already past this phase
  },
  blocked: {
    available: ["unblock"],
    awaiting_review: ["unblock"],
    pending: ["rework"],
    completed: ["resolve"],
    skipped: ["resolve"],
  },
  available: {
    claimed: ["claim"],
    blocked: ["block"],
    pending: ["rework"],
    completed: ["resolve"],
    skipped: ["resolve"],
  },
  claimed: {
    running: ["start"],
    completed: ["complete"],
    waiting_retry: ["fail"],
    failed: ["fail"],
    available: ["release", "stale"],
    awaiting_review: ["request_review"],
  },
  running: {
    completed: ["complete"],
    waiting_retry: ["fail"],
    failed: ["fail"],
    available: ["release", "stale"],
    awaiting_review: ["request_review"],
  },
  waiting_retry: { claimed: ["claim"], available: ["retry_ready"], pending: ["rework"] },
  // resolve: an import finds the decision recorded in the ticket's file (a gate nobody decided in Baton).
  awaiting_review: {
    completed: ["approve", "resolve"],
    available: ["reject"],
    pending: ["rework"],
    failed: ["reject"],
  },
  completed: { available: ["rework"], pending: ["rework"] },
  failed: { available: ["reset"], pending: ["rework"] },
  skipped: { pending: ["resolve"] },
};

/**
 * Whether `from → to` is legal for `cause`.
 *
 * @param from current status
 * @param to wanted status
 * @param cause what asks for it
 * @returns true when legal
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { canTransition } from "./state_machine.ts";
 * assert(canTransition("claimed", "running", "start"));
 * assert(!canTransition("completed", "completed", "complete"));
 * ```
 */
export function canTransition(from: PhaseStatus, to: PhaseStatus, cause: TransitionCause): boolean {
  return T[from]?.[to]?.includes(cause) ?? false;
}

/**
 * Throws `invalid_transition` unless `from → to` is legal for `cause`.
 *
 * @param from current status
 * @param to wanted status
 * @param cause what asks for it
 * @param what e.g. `phase "Design" of ticket 0083`, for the message
 * @throws {BatonError} `invalid_transition`
 */
export function checkTransition(from: PhaseStatus, to: PhaseStatus, cause: TransitionCause, what: string): void {
  if (!canTransition(from, to, cause)) {
    throw new BatonError("invalid_transition", `Cannot ${verb(cause)} ${what}: it is ${from.replace("_", " ")}`, {
      details: { from, to, cause },
    });
  }
}

function verb(cause: TransitionCause): string {
  switch (cause) {
    case "request_review":
      return "request review of";
    case "retry_ready":
      return "make available";
    case "reset":
      return "retry"; // what a human asked for (baton retry)
    default:
      return cause;
  }
}
