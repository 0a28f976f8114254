/**
 * The phase state machine, as pure data and functions: which statuses exist,
 * which transitions are legal, and how ticket metadata decides a phase's
 * condition. The engine performs every transition through
 * {@link checkTransition} inside the transaction that writes it.
 *
 * @module
 */
import { BatonError } from "./errors.ts";
import type { Condition } from "./config/schema.ts";

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
  awaiting_review: { completed: ["approve"], available: ["reject"], pending: ["rework"], failed: ["reject"] },
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
    default:
      return cause;
  }
}

// ---------------------------------------------------------------------------
// Conditions on ticket metadata

/** Ticket metadata as stored: field → typed value. */
export type Metadata = Record<string, unknown>;

/**
 * Reads a yes/no value the way people write it: `yes`, `true`, `1`,
 * `Yes (educational value)`, `y`, `on` are true; `no`, `false`, `0`, empty are false.
 *
 * @param value any metadata value
 * @returns the boolean, or undefined when it is not a yes/no
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { truthy } from "./state_machine.ts";
 * assert(truthy("Yes (educational)") === true && truthy("No") === false);
 * ```
 */
export function truthy(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value !== "string") return undefined;
  const w = value.trim().toLowerCase().split(/[\s(,;:-]/)[0];
  if (["yes", "true", "1", "y", "on"].includes(w)) return true;
  if (["no", "false", "0", "n", "off", "none", ""].includes(w)) return false;
  return undefined;
}

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((x) => String(x).trim()).filter((x) => x !== "");
  if (typeof value === "string") return value.split(",").map((x) => x.trim()).filter((x) => x !== "");
  if (value === undefined || value === null) return [];
  return [String(value)];
}

/**
 * Evaluates a phase condition against a ticket's metadata.
 *
 * - `{field, value}`: equal (booleans compared as yes/no, strings case-insensitively);
 * - `{field, contains}`: the list (or comma-separated text) contains the item;
 * - `{field, has_multiple}`: the list has more than one item (or not).
 *
 * @param cond the condition (undefined: always true)
 * @param meta the ticket's metadata
 * @returns whether the phase applies
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conditionHolds } from "./state_machine.ts";
 * assert(conditionHolds({ field: "languages", contains: "Python" }, { languages: ["C++", "Python"] }));
 * assert(conditionHolds({ field: "tutorial", value: true }, { tutorial: "Yes (educational)" }));
 * ```
 */
export function conditionHolds(cond: Condition | undefined, meta: Metadata): boolean {
  if (!cond) return true;
  const actual = meta[cond.field];
  if ("value" in cond) {
    if (typeof cond.value === "boolean") return (truthy(actual) ?? false) === cond.value;
    if (typeof cond.value === "number") return Number(actual) === cond.value;
    const want = cond.value.toLowerCase();
    if (Array.isArray(actual)) return actual.some((a) => String(a).toLowerCase() === want);
    return String(actual ?? "").trim().toLowerCase() === want;
  }
  if ("contains" in cond) {
    const want = cond.contains.toLowerCase();
    return asList(actual).some((a) => a.toLowerCase() === want);
  }
  return (asList(actual).length > 1) === cond.has_multiple;
}
