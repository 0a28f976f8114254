/**
 * Escalations and human overrides: a stalled phase becomes a record a human
 * sees (with the agent's last output); a human clears it by retrying the
 * phase, releasing it (the claim is voided and the phase is available
 * again), or resolving the escalation.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { actorName, type Core, what } from "./core.ts";
import { capText, LIMITS } from "./limits.ts";
import { move } from "./transitions.ts";
import {
  escalationById,
  escalationRows,
  insertEscalation,
  openEscalationOf,
  resolveEscalationRow,
  updateEscalationOutput,
} from "./sql/escalations.ts";
import { phaseById } from "./sql/phases.ts";
import { releaseDeclarations } from "./sql/coordination.ts";
import type { R } from "./sql/rows.ts";
import type { Actor, Escalation, Phase } from "./types.ts";
import { toPhase } from "./sql/rows.ts";
import { isHeld } from "./state_machine.ts";

function toEscalation(r: R): Escalation {
  return {
    id: r.id,
    phaseId: r.phase_id,
    phaseName: r.phase_name,
    ticketId: r.ticket_id,
    agentId: r.agent_id,
    reason: r.reason,
    lastOutput: r.last_output,
    openedAt: r.opened_at,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
  };
}

/** `Engine.escalate`: opens (or refreshes) the phase's escalation. */
export function escalate(
  core: Core,
  phaseId: number,
  req: { reason: string; agentId?: string; lastOutput?: string; actor?: Actor },
): Escalation {
  capText(req.reason, LIMITS.text, "The reason");
  capText(req.lastOutput, LIMITS.text, "The last output");
  return core.tx((now) => {
    const row = phaseById(core.db, phaseId);
    if (!row) throw new BatonError("not_found", `Phase ${phaseId} does not exist`);
    const open = openEscalationOf(core.db, phaseId);
    if (open) {
      updateEscalationOutput(core.db, open.id, req.lastOutput ?? open.last_output);
      return toEscalation(escalationById(core.db, open.id)!);
    }
    const id = insertEscalation(core.db, {
      phaseId,
      ticketId: row.ticket_id,
      agentId: req.agentId ?? row.claimed_by,
      reason: req.reason,
      lastOutput: req.lastOutput ?? null,
      now,
    });
    core.audit(
      now,
      req.actor ?? "system",
      "escalation.opened",
      { type: "escalation", id, ticket: row.ticket_id },
      null,
      "open",
      {
        phase: row.name,
        reason: req.reason,
      },
    );
    return toEscalation(escalationById(core.db, id)!);
  });
}

/** `Engine.escalations`. */
export function escalations(core: Core, all: boolean): Escalation[] {
  return escalationRows(core.db, all).map(toEscalation);
}

/** Resolves the open escalation of a phase (inside a request in progress), if there is one. */
export function resolveOpen(core: Core, now: number, phaseId: number, actor: Actor, resolution: string): void {
  const open = openEscalationOf(core.db, phaseId);
  if (!open) return;
  resolveEscalationRow(core.db, open.id, { now, by: actorName(actor), resolution });
  core.audit(
    now,
    actor,
    "escalation.resolved",
    { type: "escalation", id: open.id, ticket: open.ticket_id },
    "open",
    "resolved",
    {
      resolution,
    },
  );
}

/** `Engine.resolveEscalation`. */
export function resolveEscalation(core: Core, id: number, req: { actor: Actor; notes?: string }): Escalation {
  capText(req.notes, LIMITS.text, "The notes");
  return core.tx((now) => {
    const e = escalationById(core.db, id);
    if (!e) throw new BatonError("not_found", `Escalation ${id} does not exist`);
    if (e.resolved_at !== null) {
      throw new BatonError("invalid_transition", `Escalation ${id} was resolved already by ${e.resolved_by}`);
    }
    resolveOpen(core, now, e.phase_id, req.actor, req.notes ?? "resolved");
    return toEscalation(escalationById(core.db, id)!);
  });
}

/** `Engine.forceRelease`: a human takes a claim back (the holder's token dies); the phase is available again. */
export function forceRelease(core: Core, phaseId: number, req: { actor: Actor; notes?: string }): Phase {
  const human = typeof req.actor === "object" && req.actor.kind === "human";
  if (!human) throw new BatonError("forbidden", "Only a human releases another agent's claim");
  capText(req.notes, LIMITS.text, "The notes");
  return core.tx((now) => {
    const row = phaseById(core.db, phaseId);
    if (!row) throw new BatonError("not_found", `Phase ${phaseId} does not exist`);
    if (!isHeld(row.status)) {
      throw new BatonError(
        "invalid_transition",
        `Cannot release ${what(row.name, row.ticket_id)}: it is ${row.status.replace("_", " ")}`,
      );
    }
    move(core, now, req.actor, row, "available", "release", {
      claimed_by: null,
      claim_token: null,
      lease_expires_at: null,
      available_at: now,
      rework_notes: req.notes ?? row.rework_notes,
    }, { by: actorName(req.actor), holder: row.claimed_by, notes: req.notes ?? null });
    releaseDeclarations(core.db, phaseId, now);
    resolveOpen(core, now, phaseId, req.actor, "released");
    return toPhase(phaseById(core.db, phaseId)!);
  });
}
