/**
 * Human gates: approving one completes the gated phase and opens the way;
 * rejecting one sends the reviewed work back to the agents with the notes
 * (and everything after it, up to the gate), until `gates.max_revisions`
 * rejections escalate to a human.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { actorName, type Core } from "./core.ts";
import { resolveTicket } from "./resolve.ts";
import { move } from "./transitions.ts";
import { decideGate, gateById } from "./sql/gates.ts";
import { phaseById, phasesOfTicket, setReworkNotes } from "./sql/phases.ts";
import { type R, toGate } from "./sql/rows.ts";
import type { Actor, DecisionRequest, Gate, RejectRequest } from "./types.ts";

/** One gate. */
export function gate(core: Core, gateId: number): Gate {
  const r = gateById(core.db, gateId);
  if (!r) throw new BatonError("not_found", `Gate ${gateId} does not exist`);
  return toGate(r);
}

/** Refuses a decider that may not decide, or a gate decided already. */
function checkDecider(core: Core, actor: Actor, g: Gate, verbText: string): void {
  const isHuman = typeof actor === "object" && actor.kind === "human";
  if (!isHuman && !core.cfg.config.gates.allow_agents) {
    throw new BatonError(
      "forbidden",
      `Cannot ${verbText} gate ${g.id} (${g.phaseName} of ticket ${g.ticketId}): only a human decides gates`,
    );
  }
  if (g.status !== "open") {
    throw new BatonError(
      "invalid_transition",
      `Cannot ${verbText} gate ${g.id} (${g.phaseName} of ticket ${g.ticketId}): it is already ${g.status}`,
    );
  }
}

/** `Engine.approveGate`. */
export function approveGate(core: Core, gateId: number, req: DecisionRequest): Gate {
  return core.tx((now) => {
    const g = gate(core, gateId);
    checkDecider(core, req.actor, g, "approve");
    decideGate(core.db, gateId, { status: "approved", now, by: actorName(req.actor), notes: req.notes ?? null });
    core.audit(now, req.actor, "gate.approved", { type: "gate", id: gateId, ticket: g.ticketId }, "open", "approved", {
      phase: g.phaseName,
      notes: req.notes ?? null,
    });
    const row = phaseById(core.db, g.phaseId)!;
    move(core, now, req.actor, row, "completed", "approve", {
      completed_at: now,
      claimed_by: null,
      rework_notes: null,
    });
    resolveTicket(core, now, g.ticketId, req.actor);
    return gate(core, gateId);
  });
}

/** `Engine.rejectGate`. */
export function rejectGate(core: Core, gateId: number, req: RejectRequest): Gate {
  if (!req.notes?.trim()) {
    throw new BatonError("invalid_argument", "Rejecting a gate needs notes saying what to change");
  }
  return core.tx((now) => {
    const g = gate(core, gateId);
    checkDecider(core, req.actor, g, "reject");
    const row = phaseById(core.db, g.phaseId)!;
    const revision = row.revisions + 1;
    const escalate = revision > core.cfg.config.gates.max_revisions;
    const status = escalate ? "escalated" : "rejected";
    decideGate(core.db, gateId, { status, now, by: actorName(req.actor), notes: req.notes });
    core.audit(now, req.actor, `gate.${status}`, { type: "gate", id: gateId, ticket: g.ticketId }, "open", status, {
      phase: g.phaseName,
      notes: req.notes,
      revision,
    });
    if (escalate) {
      move(core, now, req.actor, row, "failed", "reject", {
        revisions: revision,
        error: `escalated after ${revision - 1} revision(s): ${req.notes}`,
      });
      return gate(core, gateId);
    }
    if (g.kind === "review") {
      // The agent's own phase goes back for rework.
      move(core, now, req.actor, row, "available", "reject", {
        revisions: revision,
        rework_notes: req.notes,
        claimed_by: null,
        available_at: now,
      });
    } else {
      reopenForRework(core, now, req.actor, row, revision, req.notes);
    }
    resolveTicket(core, now, g.ticketId, req.actor);
    return gate(core, gateId);
  });
}

/** A gate phase was rejected: reopen the phases it reviews and everything between them and the gate. */
function reopenForRework(core: Core, now: number, actor: Actor, gateRow: R, revision: number, notes: string): void {
  const between = core.graph.reworkSet(gateRow.name);
  for (const r of phasesOfTicket(core.db, gateRow.ticket_id)) {
    if (!between.has(r.name) || r.status === "skipped") continue;
    const reviewed = core.graph.reviews(gateRow.name, r.name);
    if (r.status === "claimed" || r.status === "running") {
      // Work in progress downstream of rejected work is void: the holder's token dies.
      move(core, now, actor, r, "available", "release", {
        claimed_by: null,
        claim_token: null,
        lease_expires_at: null,
      });
    }
    if (r.status !== "pending") {
      move(core, now, actor, r, "pending", "rework", {
        claimed_by: null,
        claim_token: null,
        lease_expires_at: null,
        completed_at: null,
        retry_at: null,
        rework_notes: reviewed ? notes : r.rework_notes,
      }, { gate: gateRow.name });
    } else if (reviewed) {
      setReworkNotes(core.db, r.id, notes);
    }
  }
  move(core, now, actor, gateRow, "pending", "rework", { revisions: revision, claimed_by: null });
}
