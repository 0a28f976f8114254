/**
 * Availability: after anything that can open the way (a completion, an
 * approval, a satisfied dependency, an import), the phases whose
 * predecessors are done become available, or blocked by a dependency, or
 * a gate waiting for a human; a ticket whose phases are all done completes,
 * and the dependencies waiting on it are satisfied in the same transaction.
 *
 * @module
 */
import type { Milestone } from "../config/graph.ts";
import type { Core } from "./core.ts";
import { move } from "./transitions.ts";
import { insertGate } from "./sql/gates.ts";
import { satisfyDep, waitingCount, waitingDeps, waitingOn } from "./sql/deps.ts";
import { waitsForNothing } from "./readiness.ts";
import { openNamedPhaseCount, openPhaseCount, phaseDepsOfTicket, phasesOfTicket } from "./sql/phases.ts";
import type { R } from "./sql/rows.ts";
import { activeTicketIds, openChildIds, setTicketStatus, ticketById } from "./sql/tickets.ts";
import type { Actor } from "./types.ts";

/** Whether a ticket has reached a milestone (a missing ticket has reached none). */
export function milestoneReached(core: Core, ticketId: string, type: Milestone): boolean {
  const t = ticketById(core.db, ticketId);
  if (!t) return false;
  if (t.status === "completed") return true;
  const names = core.graph.milestonePhases(type);
  // A parent waiting only for its children has done its own work: what depends on it may go on.
  if (names === null) return openPhaseCount(core.db, ticketId) === 0;
  if (names.length === 0) return true;
  return openNamedPhaseCount(core.db, ticketId, names) === 0;
}

/** Marks a dependency satisfied (audited) when its milestone is reached; returns whether it was. */
export function trySatisfy(core: Core, now: number, d: R, actor: Actor): boolean {
  if (!milestoneReached(core, d.depends_on, d.type)) return false;
  satisfyDep(core.db, d.ticket_id, d.depends_on, now);
  core.audit(
    now,
    actor,
    "dependency.satisfied",
    { type: "dependency", id: `${d.ticket_id}->${d.depends_on}`, ticket: d.ticket_id },
    "waiting",
    "satisfied",
    { dependsOn: d.depends_on, type: d.type },
  );
  return true;
}

/** Opens a gate on a phase that reached it. */
function openGate(core: Core, now: number, actor: Actor, row: R, cause: "resolve" | "unblock"): void {
  move(core, now, actor, row, "awaiting_review", cause, { available_at: now });
  const gid = insertGate(core.db, {
    phaseId: row.id,
    ticketId: row.ticket_id,
    kind: "gate",
    now,
    revision: row.revisions,
  });
  core.audit(now, actor, "gate.opened", { type: "gate", id: gid, ticket: row.ticket_id }, null, "open", {
    phase: row.name,
  });
}

/**
 * Makes every phase of a ticket whose predecessors are done available (or
 * blocked, or a gate), completes the ticket when all its phases are done,
 * and satisfies the dependencies waiting on it.
 */
export function resolveTicket(core: Core, now: number, ticketId: string, actor: Actor): void {
  const blocked = waitingCount(core.db, ticketId) > 0;
  const rows = phasesOfTicket(core.db, ticketId);
  // Completed work still on a branch of its own (not merged into the ticket branch) is not done yet for what follows.
  const nodes = rows.map((r) => ({
    id: r.id,
    status: r.unmerged_branch && r.status === "completed" ? "running" : r.status,
  }));
  const free = waitsForNothing(nodes, phaseDepsOfTicket(core.db, ticketId));
  // One pass suffices: becoming available, blocked or a gate never makes another phase ready.
  const ready = rows.filter((r) => (r.status === "pending" || r.status === "blocked") && free.get(r.id));
  for (const row of rows.filter((r) => r.status === "available")) {
    // A dependency added after work became available takes it back (held work goes on); so does an earlier
    // phase that applies again (its condition holds now).
    if (blocked) move(core, now, actor, row, "blocked", "block");
    else if (!free.get(row.id)) {
      move(core, now, actor, row, "pending", "rework", {}, { reason: "an earlier phase applies now" });
    }
  }
  for (const row of ready) {
    if (blocked) {
      if (row.status === "pending") move(core, now, actor, row, "blocked", "resolve");
      continue;
    }
    const cause = row.status === "blocked" ? "unblock" : "resolve";
    if (row.agent_type === null) openGate(core, now, actor, row, cause);
    else move(core, now, actor, row, "available", cause, { available_at: now });
  }
  const t = ticketById(core.db, ticketId)!;
  // A parent waits for its children: its own phases done, it completes when they all have.
  const children = openChildIds(core.db, ticketId);
  const status = openPhaseCount(core.db, ticketId) === 0 && children.length === 0 ? "completed" : "active";
  if (t.status !== status) {
    setTicketStatus(core.db, ticketId, status, now);
    core.audit(
      now,
      actor,
      `ticket.${status}`,
      { type: "ticket", id: ticketId, ticket: ticketId },
      t.status,
      status,
      children.length ? { waitsForChildren: children } : undefined,
    );
    if (t.parent_id && ticketById(core.db, t.parent_id)) resolveTicket(core, now, t.parent_id, actor);
  }
  for (const d of waitingOn(core.db, ticketId)) {
    if (trySatisfy(core, now, d, actor)) resolveTicket(core, now, d.ticket_id, actor);
  }
}

/** Re-resolves every active ticket (after an import, or a config change); returns how many. */
export function resolveAll(core: Core, now: number, actor: Actor): number {
  const ids = activeTicketIds(core.db);
  for (const id of ids) {
    for (const d of waitingDeps(core.db, id)) trySatisfy(core, now, d, actor);
    resolveTicket(core, now, id, actor);
  }
  return ids.length;
}
