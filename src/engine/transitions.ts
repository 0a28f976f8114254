/**
 * The one way a phase changes status: through the state machine, as a
 * compare-and-set on the status it was read in, audited in the same
 * transaction.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { checkTransition, type PhaseStatus, type TransitionCause } from "./state_machine.ts";
import { type Core, what } from "./core.ts";
import { casPhase } from "./sql/phases.ts";
import type { R } from "./sql/rows.ts";
import type { Actor } from "./types.ts";

const BOOKKEEPING = new Set<TransitionCause>(["resolve", "block", "unblock", "retry_ready"]);
/** Where a phase is when no claim holds it and none completed it. */
const UNCLAIMED = new Set<PhaseStatus>(["pending", "blocked", "available", "waiting_retry", "failed", "skipped"]);

/**
 * Moves a phase row to `to`, setting the columns in `set`; audits it as
 * `phase.<cause>`. The row's `status` is updated in place.
 *
 * @throws {BatonError} `invalid_transition` when the state machine refuses,
 *   `claim_conflict` when the row changed since it was read
 */
export function move(
  core: Core,
  now: number,
  actor: Actor,
  row: R,
  to: PhaseStatus,
  cause: TransitionCause,
  set: Record<string, unknown> = {},
  details?: Record<string, unknown>,
): void {
  checkTransition(row.status, to, cause, what(row.name, row.ticket_id));
  // A claim that ends without completing takes its branch's mark with it: the next claim's work is what counts.
  if (UNCLAIMED.has(to)) set = { ...set, unmerged_branch: null };
  if (!casPhase(core.db, row.id, row.status, to, set)) {
    throw new BatonError("claim_conflict", `Cannot ${cause} ${what(row.name, row.ticket_id)}: it changed meanwhile`);
  }
  // Work and decisions change what the markdown shows; bookkeeping (readiness, blocking, an import
  // placing a ticket) does not, so it never wakes a realtime write-back.
  if (!BOOKKEEPING.has(cause)) core.touched(row.ticket_id);
  core.audit(now, actor, `phase.${cause}`, { type: "phase", id: row.id, ticket: row.ticket_id }, row.status, to, {
    phase: row.name,
    ...details,
  });
  row.status = to;
}

/**
 * The columns of a phase made available afresh by a human (a reset, or a
 * landing queued again): no holder, no attempts, no error, no pending retry,
 * waiting from `now`.
 * @param now the transaction's time
 * @returns the columns for {@link move}'s `set`
 */
export function freshlyAvailable(now: number): Record<string, unknown> {
  return {
    attempts: 0,
    error: null,
    retry_at: null,
    claimed_by: null,
    claim_token: null,
    lease_expires_at: null,
    available_at: now,
  };
}
