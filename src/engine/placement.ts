/**
 * Placement: where a ticket's own file says it is. The import gives the
 * phases the file records as done (its checked status labels, its workflow
 * log's completions, its `Current Phase` line, all read by `markdown/`);
 * those phases and every phase they wait for are done. A new ticket is
 * seeded there; an existing one is moved forward to it, never back, and
 * never over work Baton itself recorded: a phase an agent holds or held, a
 * gate a human decided, work a rejection sent back stay as Baton has them.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { actorName, type Core } from "./core.ts";
import { isDone, isHeld } from "./state_machine.ts";
import { move } from "./transitions.ts";
import { phasesWorkedOn } from "./sql/audit.ts";
import { decideGate, openGateOfPhase } from "./sql/gates.ts";
import { phasesOfTicket } from "./sql/phases.ts";
import { workflowName } from "./renames.ts";
import type { Actor } from "./types.ts";

/** Why an imported phase is completed, in the audit. */
export const PLACED_REASON = "the ticket's file records it done";

/**
 * Checks that every name is a phase of the workflow.
 * @throws {BatonError} `invalid_argument` naming the first unknown phase
 */
export function checkPhaseNames(core: Core, ticketId: string, names: readonly string[]): void {
  for (const name of names) {
    if (!core.graph.def(name)) throw new BatonError("invalid_argument", `Ticket ${ticketId}: unknown phase "${name}"`);
  }
}

/**
 * Moves an existing ticket forward to where its file says it is: each phase
 * of `doneThrough(names)` still open, untouched by Baton's work (no claim,
 * completion, decision or rework recorded on it) and not held, is completed
 * (an open gate nobody decided is withdrawn: the file records the decision),
 * unless it comes after a phase Baton has work on that is not done (held,
 * or worked on and sent back): the file cannot pass a gate over work under
 * way. Nothing goes back.
 * @param core the engine core (inside a transaction)
 * @param now the transaction's time
 * @param ticketId the ticket
 * @param names the phases the file records as done
 * @param actor who imports
 * @returns the phases completed
 */
export function advanceTicket(
  core: Core,
  now: number,
  ticketId: string,
  names: readonly string[],
  actor: Actor,
): string[] {
  checkPhaseNames(core, ticketId, names);
  const done = core.graph.doneThrough(names);
  if (done.size === 0) return [];
  const worked = phasesWorkedOn(core.db, ticketId);
  const rows = phasesOfTicket(core.db, ticketId);
  // Where Baton's own record has the ticket: work held, or worked on and not done. Nothing after it is passed.
  const at = rows.filter((r) => !isDone(r.status) && (isHeld(r.status) || worked.has(String(r.id))));
  const out: string[] = [];
  for (const row of rows) {
    if (!done.has(row.name) || isDone(row.status) || worked.has(String(row.id))) continue;
    // By the workflow's names: a held phase renamed since stands at its new name's place.
    if (at.some((r) => core.graph.isAfter(row.name, workflowName(core, rows, r)))) continue;
    if (row.status === "awaiting_review") {
      const open = openGateOfPhase(core.db, row.id);
      if (open) {
        // No notes: nobody decided in Baton, so the write-back has no reviewer's words to write.
        decideGate(core.db, open.id, { status: "withdrawn", now, by: actorName(actor), notes: null });
        core.audit(now, actor, "gate.withdrawn", { type: "gate", id: open.id, ticket: ticketId }, "open", "withdrawn", {
          phase: row.name,
          reason: PLACED_REASON,
        });
      }
    } else if (!["pending", "blocked", "available"].includes(row.status)) continue;
    move(core, now, actor, row, "completed", "resolve", {}, { reason: PLACED_REASON });
    out.push(row.name);
  }
  return out;
}
