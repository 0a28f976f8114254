/**
 * What humans decide: approving and rejecting gates, reopening failed work.
 *
 * @module
 */
import { retryFailed } from "../retry_bulk.ts";
import * as gates from "../gates.ts";
import * as esc from "../escalations.ts";
import { coreOf } from "./base.ts";
import { EngineWork } from "./work.ts";
import type { Actor, DecisionRequest, Escalation, Gate, Phase, RejectRequest, RetryFilter } from "../types.ts";

/** What humans decide: approving and rejecting gates. Part of `Engine`. */
export class EngineGates extends EngineWork {
  /**
   * Approves a gate: the gated phase completes and the next phases open.
   * @param gateId the gate
   * @param req the deciding human and optional notes
   * @returns the decided gate
   * @throws {BatonError} `forbidden` (not a human), `invalid_transition` (decided already), `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * engine.approveGate(engine.gates()[0].id, { actor: { kind: "human", name: "dana" }, notes: "good" });
   * assert.equal(engine.queue("implementer").length, 1);
   * engine.close();
   * ```
   */
  approveGate(gateId: number, req: DecisionRequest): Gate {
    return gates.approveGate(coreOf(this), gateId, req);
  }

  /**
   * Rejects a gate (requests changes): the reviewed work goes back to the
   * agents with the notes; after `gates.max_revisions` rejections the gate
   * escalates to a human instead (the phase becomes `failed`).
   * @param gateId the gate
   * @param req the deciding human and the notes (required)
   * @returns the decided gate
   * @throws {BatonError} `forbidden`, `invalid_transition`, `invalid_argument` (no notes), `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * engine.rejectGate(engine.gates()[0].id, { actor: { kind: "human", name: "dana" }, notes: "cover errors" });
   * assert.equal(engine.claimNext({ agentId: "b", capabilities: ["designer"] })!.reworkNotes, "cover errors");
   * engine.close();
   * ```
   */
  rejectGate(gateId: number, req: RejectRequest): Gate {
    return gates.rejectGate(coreOf(this), gateId, req);
  }

  /**
   * A human reopens a phase that failed its last attempt (or a gate that
   * escalated): the phase becomes available again with fresh attempts (a
   * gate opens again), and the notes reach the next claimant like a
   * reviewer's rework notes. Audited with the human's name.
   * @param phaseId the phase
   * @param req the human and optional notes for the next attempt
   * @returns the phase
   * @throws {BatonError} `forbidden` (not a human), `invalid_transition` (not failed), `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "retry:\n  max_attempts: 1\n" }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * engine.fail(c.phase.id, { agentId: "a", token: c.token, error: "stuck" });
   * engine.retryPhase(c.phase.id, { actor: { kind: "human", name: "dana" }, notes: "use the old API" });
   * assert.equal(engine.claimNext({ agentId: "b", capabilities: ["designer"] })!.reworkNotes, "use the old API");
   * engine.close();
   * ```
   */
  retryPhase(phaseId: number, req: { actor: Actor; notes?: string }): Phase {
    return gates.retryPhase(coreOf(this), phaseId, req);
  }

  /**
   * A human reopens many failed phases at once (after a mass failure): all
   * of them, those of one agent type, or those whose last error contains a
   * text; each as {@link EngineGates.retryPhase} does it, in one transaction.
   * @param filter `all`, `agentType` and/or `error` (at least one; those given must all hold)
   * @param req the human and optional notes for the next attempts
   * @returns the phases reopened (none when nothing matches)
   * @throws {BatonError} `invalid_argument` (no filter), `forbidden` (not a human)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "retry:\n  max_attempts: 1\n" }));
   * engine.createTickets([{ title: "A" }, { title: "B" }]);
   * for (const agentId of ["a", "b"]) {
   *   const c = engine.claimNext({ agentId, capabilities: ["designer"] })!;
   *   engine.fail(c.phase.id, { agentId, token: c.token, error: "exit 1: invalid API key" });
   * }
   * const dana = { kind: "human" as const, name: "dana" };
   * assert.equal(engine.retryFailed({ error: "API KEY" }, { actor: dana }).length, 2);
   * engine.close();
   * ```
   */
  retryFailed(filter: RetryFilter, req: { actor: Actor; notes?: string }): Phase[] {
    return retryFailed(coreOf(this), filter, req);
  }

  /**
   * Finds a gate by what people type: its id (`12`), or a ticket (`0083`)
   * or a ticket's phase (`0083/Design Review`) with exactly one open gate.
   * @param ref the gate id, `TICKET` or `TICKET/PHASE`
   * @returns the gate
   * @throws {BatonError} `not_found` (no such gate or ticket, none open), `invalid_argument` (several open, or ambiguous)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0006", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * assert.equal(engine.findGate("0006").phaseName, "Design Review");
   * engine.close();
   * ```
   */
  findGate(ref: string): Gate {
    return gates.findGate(coreOf(this), ref);
  }

  /**
   * Opens an escalation for a phase a human should look at (a supervisor
   * does, for a phase stalled past `stall_timeout_minutes`), or refreshes the
   * last output of the one open.
   * @param phaseId the phase
   * @param req why, the agent, its last output
   * @returns the escalation
   * @throws {BatonError} `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * engine.escalate(c.phase.id, { reason: "no progress for 30 minutes", lastOutput: "thinking…" });
   * assert.equal(engine.escalations().length, 1);
   * engine.close();
   * ```
   */
  escalate(phaseId: number, req: { reason: string; agentId?: string; lastOutput?: string; actor?: Actor }): Escalation {
    return esc.escalate(coreOf(this), phaseId, req);
  }

  /**
   * Escalations: open ones (default), or all.
   * @param opts `all` for resolved ones too
   * @returns oldest first
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.deepEqual(engine.escalations(), []);
   * engine.close();
   * ```
   */
  escalations(opts: { all?: boolean } = {}): Escalation[] {
    return esc.escalations(coreOf(this), opts.all ?? false);
  }

  /**
   * Resolves an escalation (a human looked; the work goes on).
   * @param id the escalation
   * @param req who, and notes
   * @returns the escalation
   * @throws {BatonError} `not_found`, `invalid_transition` when resolved already
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * const e = engine.escalate(c.phase.id, { reason: "stalled" });
   * engine.resolveEscalation(e.id, { actor: { kind: "human", name: "dana" }, notes: "it is a long build" });
   * assert.deepEqual(engine.escalations(), []);
   * engine.close();
   * ```
   */
  resolveEscalation(id: number, req: { actor: Actor; notes?: string }): Escalation {
    return esc.resolveEscalation(coreOf(this), id, req);
  }

  /**
   * A human takes a claim back: the phase is available again, the holder's
   * token no longer works, its file declarations are released, and an open
   * escalation of the phase is resolved. Humans only.
   * @param phaseId the claimed or running phase
   * @param req the human, and notes for the next claimant
   * @returns the phase
   * @throws {BatonError} `forbidden` for an agent, `not_found`, `invalid_transition` when not held
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "stuck", capabilities: ["designer"] })!;
   * const p = engine.forceRelease(c.phase.id, { actor: { kind: "human", name: "dana" }, notes: "start over" });
   * assert.equal(p.status, "available");
   * engine.close();
   * ```
   */
  forceRelease(phaseId: number, req: { actor: Actor; notes?: string }): Phase {
    return esc.forceRelease(coreOf(this), phaseId, req);
  }

  /**
   * Sends a completed phase back for rework with notes, and everything after
   * it (a supervisor whose merge of a parallel group's branches conflicted
   * does: the notes name the conflicting files). Gates waiting on the work
   * close undecided and open again when it is redone.
   * @param phaseId the completed phase
   * @param req who, and the notes for the next claimant
   * @returns the phase, pending again
   * @throws {BatonError} `not_found`, `invalid_transition` when it is not completed
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * engine.returnForRework(c.phase.id, { actor: "baton-run", notes: "merge conflict in src/a.ts" });
   * assert.equal(engine.claimNext({ agentId: "b", capabilities: ["designer"] })?.reworkNotes, "merge conflict in src/a.ts");
   * engine.close();
   * ```
   */
  returnForRework(phaseId: number, req: { actor: Actor; notes: string }): Phase {
    return gates.returnForRework(coreOf(this), phaseId, req);
  }
}
