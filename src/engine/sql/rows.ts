/**
 * Rows as SQLite returns them, and their mapping to the API's types.
 *
 * @module
 */
import { DONE, HELD } from "../state_machine.ts";
import type { AuditEntry, Dependency, Gate, Phase } from "../types.ts";

// deno-lint-ignore no-explicit-any
export type R = Record<string, any>;

const sqlList = (xs: readonly string[]): string => `(${xs.map((x) => `'${x}'`).join(", ")})`;

/** Statuses in which an agent holds a phase, as an SQL list (the state machine's `HELD`). */
export const HELD_SQL: string = sqlList(HELD);
/** Statuses that count as done for the phases after it, as an SQL list (the state machine's `DONE`). */
export const DONE_SQL: string = sqlList(DONE);
/** Statuses of phases waiting for a retry or failed for good, as an SQL list: the condition of `phases_trouble`. */
export const TROUBLE_SQL: string = sqlList(["waiting_retry", "failed"]);

/** The phase columns every phase query reads (aliased `p`). */
export const PHASE_COLS = `p.id, p.ticket_id, p.name, p.seq, p.parallel_group, p.agent_type, p.status, p.claimed_by,
  p.attempts, p.revisions, p.lease_expires_at, p.retry_at, p.available_at, p.claimed_at, p.started_at,
  p.completed_at, p.result_summary, p.artifacts, p.error, p.rework_notes, p.unmerged_branch`;

/** The ticket columns a claim returns (aliased `t`). */
export const TICKET_COLS = "t.title AS t_title, t.priority AS t_priority, t.path AS t_path";

/** A phase row read with {@link PHASE_COLS}. */
export function toPhase(r: R): Phase {
  return {
    id: r.id,
    ticketId: r.ticket_id,
    name: r.name,
    seq: r.seq,
    group: r.parallel_group,
    agentType: r.agent_type,
    status: r.status,
    claimedBy: r.claimed_by,
    attempts: r.attempts,
    revisions: r.revisions,
    leaseExpiresAt: r.lease_expires_at,
    retryAt: r.retry_at,
    availableAt: r.available_at,
    claimedAt: r.claimed_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    resultSummary: r.result_summary,
    artifacts: r.artifacts ? JSON.parse(r.artifacts) : [],
    error: r.error,
    reworkNotes: r.rework_notes,
    unmergedBranch: r.status === "completed" ? r.unmerged_branch : null,
  };
}

/** A gate row joined with its phase's name. */
export function toGate(r: R): Gate {
  return {
    id: r.id,
    phaseId: r.phase_id,
    phaseName: r.phase_name,
    ticketId: r.ticket_id,
    kind: r.kind,
    status: r.status,
    requestedBy: r.requested_by,
    summary: r.summary,
    openedAt: r.opened_at,
    decidedAt: r.decided_at,
    decidedBy: r.decided_by,
    notes: r.notes,
    revision: r.revision,
  };
}

/** An audit row. */
export function toAudit(r: R): AuditEntry {
  return {
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    entityType: r.entity_type,
    entityId: r.entity_id,
    ticketId: r.ticket_id,
    oldState: r.old_state,
    newState: r.new_state,
    details: r.details ? JSON.parse(r.details) : null,
    correlationId: r.correlation_id,
  };
}

/** A ticket_deps row. */
export function toDependency(d: R): Dependency {
  return { ticketId: d.ticket_id, dependsOn: d.depends_on, type: d.type, satisfiedAt: d.satisfied_at };
}
