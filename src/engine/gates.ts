/**
 * Human gates: approving one completes the gated phase and opens the way;
 * rejecting one sends the reviewed work back to the agents with the notes
 * (and everything after it, up to the gate), until `gates.max_revisions`
 * rejections escalate to a human.
 *
 * @module
 */
import { callerWorkedOn, checkActingAs } from "./principals.ts";
import { agentById } from "./sql/agents.ts";
import { notBefore } from "./clock.ts";
import { BatonError } from "../errors.ts";
import { capText, LIMITS } from "./limits.ts";
import { actorName, type Core } from "./core.ts";
import { resolveTicket } from "./resolve.ts";
import { resolveOpen } from "./escalations.ts";
import { insertEscalation, openEscalationOf, restateEscalation } from "./sql/escalations.ts";
import { freshlyAvailable, move } from "./transitions.ts";
import { decideGate, gateById, gateRows, openGateOfPhase } from "./sql/gates.ts";
import { phaseById, phasesOfTicket, setReworkNotes } from "./sql/phases.ts";
import { type R, toGate, toPhase } from "./sql/rows.ts";
import { ticketById } from "./sql/tickets.ts";
import type { Actor, DecisionRequest, Gate, Phase, RejectRequest } from "./types.ts";
import { isHeld } from "./state_machine.ts";
import { workflowName } from "./renames.ts";

/** One gate. */
export function gate(core: Core, gateId: number): Gate {
  const r = gateById(core.db, gateId);
  if (!r) throw new BatonError("not_found", `Gate ${gateId} does not exist`);
  return toGate(r);
}

/** Refuses a decider that may not decide, or a gate decided already. */
function checkDecider(core: Core, req: DecisionRequest, g: Gate, verbText: string): void {
  const actor = req.actor;
  const isHuman = typeof actor === "object" && actor.kind === "human";
  if (!isHuman && !core.cfg.config.gates.allow_agents) {
    throw new BatonError(
      "forbidden",
      `Cannot ${verbText} gate ${g.id} (${g.phaseName} of ticket ${g.ticketId}): only a human decides gates`,
    );
  }
  if (!isHuman) {
    // An agent never decides a gate on a ticket it worked on (review bookkeeping keeps `claimed_by`).
    const agent = actorName(actor);
    checkActingAs(core, agentById(core.db, agent), agent);
    // Nor does another agent of the same principal (a new id registered with the same HTTP token), or another id
    // the same client acted as (an MCP session that registered again under a new id).
    const ids = new Set([agent, ...(req.actedAs ?? [])]);
    if (
      (g.requestedBy !== null && ids.has(g.requestedBy)) ||
      phasesOfTicket(core.db, g.ticketId).some((p) => p.claimed_by !== null && ids.has(p.claimed_by)) ||
      callerWorkedOn(core, g.ticketId)
    ) {
      throw new BatonError(
        "forbidden",
        `Cannot ${verbText} gate ${g.id} (${g.phaseName} of ticket ${g.ticketId}): ${agent} (or another agent of the same client) worked on this ticket`,
      );
    }
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
  capText(req.notes, LIMITS.text, "The notes");
  return core.tx((now) => {
    const g = gate(core, gateId);
    checkDecider(core, req, g, "approve");
    now = notBefore(now, g.openedAt);
    decideGate(core.db, gateId, { status: "approved", now, by: actorName(req.actor), notes: req.notes ?? null });
    core.audit(now, req.actor, "gate.approved", { type: "gate", id: gateId, ticket: g.ticketId }, "open", "approved", {
      phase: g.phaseName,
      notes: req.notes ?? null,
    });
    const row = phaseById(core.db, g.phaseId)!;
    // A reviewed agent phase keeps who did it (metrics, and "never decide a gate on your own work").
    move(core, now, req.actor, row, "completed", "approve", { completed_at: now, rework_notes: null });
    resolveTicket(core, now, g.ticketId, req.actor);
    return gate(core, gateId);
  });
}

/** `Engine.rejectGate`. */
export function rejectGate(core: Core, gateId: number, req: RejectRequest): Gate {
  capText(req.notes, LIMITS.text, "The notes");
  if (!req.notes?.trim()) {
    throw new BatonError("invalid_argument", "Rejecting a gate needs notes saying what to change");
  }
  return core.tx((now) => {
    const g = gate(core, gateId);
    checkDecider(core, req, g, "reject");
    now = notBefore(now, g.openedAt);
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
      // A human decides what now (baton escalations, status): another round (retry, with notes) or not.
      const reason = `"${g.phaseName}" rejected ${revision} time${
        revision === 1 ? "" : "s"
      } (gates.max_revisions: ${core.cfg.config.gates.max_revisions}): ${req.notes.split("\n")[0].slice(0, 300)}`;
      // One open escalation per phase: one already open (a stall the supervisor escalated) says this now.
      const open = openEscalationOf(core.db, row.id);
      if (open) restateEscalation(core.db, open.id, reason, req.notes);
      const id = open?.id ?? insertEscalation(core.db, {
        phaseId: row.id,
        ticketId: g.ticketId,
        agentId: null,
        reason,
        lastOutput: req.notes,
        now,
      });
      core.audit(
        now,
        req.actor,
        open ? "escalation.restated" : "escalation.opened",
        { type: "escalation", id, ticket: g.ticketId },
        open ? "open" : null,
        "open",
        { phase: g.phaseName, reason },
      );
      return gate(core, gateId);
    }
    if (g.kind === "review") {
      // The agent's own phase goes back for rework.
      move(core, now, req.actor, row, "available", "reject", {
        revisions: revision,
        rework_notes: req.notes,
        available_at: now,
      });
    } else {
      reopenForRework(core, now, req.actor, row, revision, req.notes);
    }
    resolveTicket(core, now, g.ticketId, req.actor);
    return gate(core, gateId);
  });
}

/**
 * `Engine.retryPhase`: a human reopens a phase that failed its last attempt
 * (or escalated): it becomes available with fresh attempts, and the notes
 * reach the next claimant as rework notes.
 */
export function retryPhase(core: Core, phaseId: number, req: { actor: Actor; notes?: string }): Phase {
  capText(req.notes, LIMITS.text, "The notes");
  const isHuman = typeof req.actor === "object" && req.actor.kind === "human";
  if (!isHuman) throw new BatonError("forbidden", `Cannot retry phase ${phaseId}: only a human reopens a failed phase`);
  return core.tx((now) => {
    const row = phaseById(core.db, phaseId);
    if (!row) throw new BatonError("not_found", `Phase ${phaseId} does not exist`);
    resolveOpen(core, now, phaseId, req.actor, "retried");
    if (row.agent_type === null && row.status === "failed") {
      // An escalated gate: another round. What it reviews goes back with the notes (the human's, else the last
      // rejection's), and the gate waits for it, its rejections counted afresh.
      const notes = req.notes?.trim() || lastRejectionNotes(gatesOfPhase(core, row));
      move(core, now, req.actor, row, "pending", "rework", { revisions: 0, error: null }, {
        notes: req.notes ?? null,
        reason: "retried by a human",
      });
      if (notes) reopenForRework(core, now, req.actor, phaseById(core.db, phaseId)!, 0, notes, false);
      resolveTicket(core, now, row.ticket_id, req.actor);
      return toPhase(phaseById(core.db, phaseId)!);
    }
    // A review past gates.max_revisions (its last gate escalated): another round, with the last rejection's notes
    // unless the human gave theirs, its rejections counted afresh.
    const gates = gatesOfPhase(core, row);
    const escalatedReview = gates.at(-1)?.status === "escalated";
    move(core, now, req.actor, row, "available", "reset", {
      ...freshlyAvailable(now),
      rework_notes: req.notes ?? (escalatedReview ? lastRejectionNotes(gates) : null) ?? row.rework_notes,
      ...(escalatedReview ? { revisions: 0 } : {}),
    }, { notes: req.notes ?? null, previousError: row.error });
    return toPhase(phaseById(core.db, phaseId)!);
  });
}

/** The notes of the last rejection of a gate phase (the one that escalated it), if any. */
function lastRejectionNotes(gates: Gate[]): string | null {
  return gates.filter((g) => g.notes).at(-1)?.notes ?? null;
}

/** Every gate a phase has had, oldest first. */
function gatesOfPhase(core: Core, row: R): Gate[] {
  return gateRows(core.db, "all", row.ticket_id).map(toGate).filter((g) => g.phaseId === row.id);
}

/**
 * `Engine.findGate`: a gate by its id (`12`), or the one open gate of a
 * ticket (`0083`) or of one of its phases (`0083/Design Review`).
 */
export function findGate(core: Core, ref: string): Gate {
  const slash = ref.indexOf("/");
  const ticketId = slash >= 0 ? ref.slice(0, slash) : ref;
  const phase = slash >= 0 ? ref.slice(slash + 1).trim().toLowerCase() : null;
  const isTicket = ticketById(core.db, ticketId) !== undefined;
  const asGateId = /^[1-9]\d*$/.test(ref) ? Number(ref) : null;
  if (isTicket && asGateId !== null && gateById(core.db, asGateId)) {
    throw new BatonError(
      "invalid_argument",
      `"${ref}" is both gate ${asGateId} and ticket ${ticketId}: write the ticket's phase (${ticketId}/PHASE)`,
    );
  }
  if (!isTicket) {
    if (asGateId !== null) return gate(core, asGateId);
    throw new BatonError("not_found", `No gate or ticket "${ref}"`);
  }
  const open = gateRows(core.db, "open", ticketId).map(toGate).filter((g) =>
    !phase || g.phaseName.toLowerCase() === phase
  );
  if (open.length === 1) return open[0];
  const where = phase ? `phase "${ref.slice(slash + 1)}" of ticket ${ticketId}` : `ticket ${ticketId}`;
  if (open.length === 0) throw new BatonError("not_found", `No gate is open on ${where}`);
  throw new BatonError(
    "invalid_argument",
    `${open.length} gates are open on ${where}: ${open.map((g) => `${g.id} (${g.phaseName})`).join(", ")}; name one`,
  );
}

/** Closes the open gate of a phase that rework sends back undecided (it opens again when the work is redone). */
function withdrawGate(core: Core, now: number, actor: Actor, row: R, because: string): void {
  const open = openGateOfPhase(core.db, row.id);
  if (!open) return;
  decideGate(core.db, open.id, {
    status: "withdrawn",
    now,
    by: actorName(actor),
    notes: `withdrawn: ${because} was rejected`,
  });
  core.audit(now, actor, "gate.withdrawn", { type: "gate", id: open.id, ticket: row.ticket_id }, "open", "withdrawn", {
    phase: row.name,
    because,
  });
}

/**
 * What a rejected gate sends back on its ticket: the phases it reviews (they get the notes) and every phase after
 * them. By the workflow, while it names the gate and a phase of this ticket that the gate reviews.
 * Otherwise `phases.yaml` was edited since the ticket was seeded (the gate or what it reviews renamed, or removed), and
 * the ticket's own phases say: the agent phases right before the gate, back to the gate before them.
 */
function reworkTargets(core: Core, gateRow: R): { rows: R[]; reviewed: (r: R) => boolean } {
  const all = phasesOfTicket(core.db, gateRow.ticket_id);
  const def = core.graph.def(gateRow.name);
  if (def) {
    const between = core.graph.reworkSet(gateRow.name);
    // A phase renamed since the ticket was seeded counts by its new name (its row keeps the old one).
    const rows = all.filter((r) => between.has(workflowName(core, all, r)) && r.status !== "skipped");
    const reviewed = (r: R) => core.graph.reviews(gateRow.name, r.name);
    // A gate that reviews nothing (the workflow's first phase, say) reopens only itself. A reviewed phase an edit of
    // the workflow gave the ticket skipped (its work done under another name) does not count; one its condition skips
    // does.
    const meta = JSON.parse(ticketById(core.db, gateRow.ticket_id)!.metadata);
    const byCondition = (r: R) => core.graph.skipReason(r.name, meta) !== null;
    const names = new Set(all.filter((r) => r.status !== "skipped" || byCondition(r)).map((r) => r.name));
    if (!def.reviews.length || def.reviews.some((n) => names.has(n))) return { rows, reviewed };
  }
  const ids = new Set<number>();
  let from = gateRow.seq;
  for (const r of all.filter((x) => x.seq < gateRow.seq && x.status !== "skipped").reverse()) {
    if (r.agent_type === null) {
      if (ids.size) break;
      continue; // a gate right before this one: what it reviewed is before it
    }
    ids.add(r.id);
    from = r.seq;
  }
  if (!ids.size) {
    throw new BatonError(
      "invalid_transition",
      `Cannot reject gate "${gateRow.name}" of ticket ${gateRow.ticket_id}: no phase before it to send back`,
    );
  }
  return {
    rows: all.filter((r) => r.seq >= from && r.id !== gateRow.id && r.status !== "skipped"),
    reviewed: (r) => ids.has(r.id),
  };
}

/** A gate phase was rejected: reopen the phases it reviews and everything between them and the gate. */
function reopenForRework(
  core: Core,
  now: number,
  actor: Actor,
  gateRow: R,
  revision: number,
  notes: string,
  gateToo = true,
): void {
  const targets = reworkTargets(core, gateRow);
  for (const r of targets.rows) {
    const reviewed = targets.reviewed(r);
    if (isHeld(r.status)) {
      // Work in progress downstream of rejected work is void: the holder's token dies.
      move(core, now, actor, r, "available", "release", {
        claimed_by: null,
        claim_token: null,
        lease_expires_at: null,
      });
    }
    if (r.status === "awaiting_review") withdrawGate(core, now, actor, r, gateRow.name);
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
  if (gateToo) move(core, now, actor, gateRow, "pending", "rework", { revisions: revision, claimed_by: null });
}

/**
 * `Engine.returnForRework`: a completed phase goes back for rework with
 * notes (a supervisor whose merge of a parallel group conflicted), and so
 * does everything after it; gates waiting on it close undecided.
 */
export function returnForRework(core: Core, phaseId: number, req: { actor: Actor; notes: string }): Phase {
  capText(req.notes, LIMITS.text, "The notes");
  return core.tx((now) => {
    const target = phaseById(core.db, phaseId);
    if (!target) throw new BatonError("not_found", `Phase ${phaseId} does not exist`);
    if (target.status !== "completed") {
      throw new BatonError(
        "invalid_transition",
        `Cannot return phase "${target.name}" of ticket ${target.ticket_id} for rework: it is ${
          target.status.replace("_", " ")
        }`,
      );
    }
    for (const r of phasesOfTicket(core.db, target.ticket_id)) {
      if (r.id !== target.id && !core.graph.isAfter(r.name, target.name)) continue;
      if (r.status === "pending" || r.status === "skipped") continue;
      if (r.status === "awaiting_review") withdrawGate(core, now, req.actor, r, target.name);
      if (isHeld(r.status)) {
        move(core, now, req.actor, r, "available", "release", {
          claimed_by: null,
          claim_token: null,
          lease_expires_at: null,
        });
      }
      move(core, now, req.actor, r, "pending", "rework", {
        claim_token: null,
        lease_expires_at: null,
        completed_at: null,
        retry_at: null,
        rework_notes: r.id === target.id ? req.notes : r.rework_notes,
      }, { returned: target.name });
    }
    resolveTicket(core, now, target.ticket_id, req.actor);
    return toPhase(phaseById(core.db, phaseId)!);
  });
}
