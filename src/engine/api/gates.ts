/**
 * What humans decide: approving and rejecting gates.
 *
 * @module
 */
import * as gates from "../gates.ts";
import { coreOf } from "./base.ts";
import { EngineWork } from "./work.ts";
import type { DecisionRequest, Gate, RejectRequest } from "../types.ts";

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
}
