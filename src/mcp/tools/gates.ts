/**
 * Gate tools for agents, registered only with `gates.allow_agents: true`:
 * an agent never decides a gate on a ticket it worked on.
 *
 * @module
 */
import * as v from "valibot";
import { BatonError } from "../../errors.ts";
import type { Actor } from "../../engine/types.ts";
import type { ToolContext } from "../context.ts";
import { agentArg, GateOut } from "../schemas.ts";
import { type Tool, tool, write } from "../tool.ts";

/**
 * The deciding agent: the one this session registered as, never an argument
 * (the engine refuses it on a ticket it worked on). A request without a
 * registered session (stateless HTTP) cannot decide a gate: its agent id
 * could not be told from a forged one. The other ids the session acted as
 * go with it: none of them may have worked on the ticket.
 */
function decider(ctx: ToolContext, explicit?: string): { actor: Actor; actedAs: string[] } {
  const agent = ctx.session.agentId;
  if (!agent) {
    throw new BatonError("forbidden", "Deciding a gate needs a session that called register_agent first");
  }
  if (explicit !== undefined && explicit !== agent) {
    throw new BatonError("forbidden", `This session acts as ${agent}; it cannot decide a gate as ${explicit}`);
  }
  // Every id this session acted as: registering again under a new id does not make it the reviewer of its own work.
  return { actor: { kind: "agent", id: agent }, actedAs: [...ctx.session.actedAs] };
}

/** The tools. */
export const GATE_TOOLS: Tool[] = [
  tool("approve_gate", {
    description:
      "Approve an open gate as the registered agent (never on a ticket you worked on); the next phases open.",
    input: {
      gate_id: v.pipe(v.number(), v.integer(), v.minValue(1)),
      notes: v.optional(v.pipe(v.string(), v.maxLength(20_000))),
      agent_id: agentArg,
    },
    output: { gate: GateOut },
    annotations: write(true),
    handler: (ctx, a) => ({
      gate: ctx.engine.approveGate(a.gate_id, { ...decider(ctx, a.agent_id), notes: a.notes }),
    }),
  }),
  tool("reject_gate", {
    description:
      "Reject an open gate with notes saying what to change; the reviewed work goes back to the agents (destructive: work in progress after it is voided).",
    input: {
      gate_id: v.pipe(v.number(), v.integer(), v.minValue(1)),
      notes: v.pipe(v.string(), v.minLength(1), v.maxLength(20_000)),
      agent_id: agentArg,
    },
    output: { gate: GateOut },
    annotations: write(true, true),
    handler: (ctx, a) => ({
      gate: ctx.engine.rejectGate(a.gate_id, { ...decider(ctx, a.agent_id), notes: a.notes }),
    }),
  }),
];
