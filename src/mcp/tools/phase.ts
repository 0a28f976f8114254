/**
 * The tools that act on the session's held phase: `start_phase` and
 * `declare_files` keep it; `complete_phase`, `fail_phase`, `release_phase`
 * and `request_review` end it (the end-of-phase tools share one shape,
 * {@link endOfPhase}: the held phase and its token, the engine call, the
 * session forgetting the claim, and "stop" as the next step).
 *
 * @module
 */
import * as v from "valibot";
import type { Phase } from "../../engine/types.ts";
import { endHeld, onHeld, STOP, type ToolContext } from "../context.ts";
import { artifactsArg, GateOut, heldArgs, next, Obj, OverlapsOut, pathsArg, PhaseOut } from "../schemas.ts";
import { type Tool, tool, write } from "../tool.ts";

type HeldInput = { phase_id?: number; agent_id?: string; token?: string };

/**
 * A tool that ends the session's claim: it calls the engine on the held
 * phase with its token, and the session then no longer holds it (its token
 * is kept for a retry of the same call).
 */
function endOfPhase<I extends v.ObjectEntries, O extends v.ObjectEntries, R>(name: string, def: {
  description: string;
  input: I;
  output: O;
  destructive?: boolean;
  end(
    ctx: ToolContext,
    agentId: string,
    phaseId: number,
    token: string,
    args: v.InferOutput<v.StrictObjectSchema<I, undefined>>,
  ): R;
  reply(ctx: ToolContext, result: R): Record<string, unknown>;
}): Tool {
  return tool(name, {
    description: def.description,
    input: { ...def.input, ...heldArgs },
    output: { ...def.output, next },
    annotations: write(true, def.destructive),
    touch: false,
    handler(ctx, a) {
      const args = a as v.InferOutput<v.StrictObjectSchema<I, undefined>> & HeldInput;
      const agent = ctx.agentOf(args.agent_id, args);
      const result = endHeld(ctx, agent, args, (id, token) => def.end(ctx, agent, id, token, args));
      return { ...def.reply(ctx, result), next: STOP };
    },
  });
}

/** `complete_phase`'s answer: the phase, and what is open on its ticket now. */
function completed(ctx: ToolContext, phase: Phase): Record<string, unknown> {
  const t = ctx.engine.ticket(phase.ticketId);
  const open = t.phases.filter((p) => p.status === "available" || p.status === "awaiting_review");
  return {
    phase,
    ticket: { id: t.id, status: t.status, open: open.map((p) => ({ id: p.id, name: p.name, status: p.status })) },
  };
}

/** `start_phase`. */
function startPhase(ctx: ToolContext, a: HeldInput): Record<string, unknown> {
  const agent = ctx.agentOf(a.agent_id, a);
  const { result } = onHeld(ctx, agent, a, (id, token) => ctx.engine.start(id, { agentId: agent, token }));
  return { phase: result, next: "Do the work now, then complete_phase (or fail_phase)." };
}

/** `declare_files`. */
function declareFiles(ctx: ToolContext, a: HeldInput & { paths: string[] }): Record<string, unknown> {
  const agent = ctx.agentOf(a.agent_id, a);
  const { result } = onHeld(
    ctx,
    agent,
    a,
    (id, token) => ctx.engine.declareFiles(id, { agentId: agent, token, paths: a.paths }),
  );
  return {
    ...result,
    next: result.overlaps.length
      ? "Others work on overlapping files: coordinate (keep changes small) or release_phase. Then start_phase."
      : "start_phase",
  };
}

/** The tools. */
export const PHASE_TOOLS: Tool[] = [
  tool("start_phase", {
    description:
      "Mark your claimed phase as started. Next: do the work (heartbeat on long tasks), then complete_phase or fail_phase.",
    input: heldArgs,
    output: { phase: PhaseOut, next },
    annotations: write(true),
    touch: false,
    handler: startPhase,
  }),

  tool("declare_files", {
    description:
      "Declare the files or globs your phase will touch, before editing, so others see overlaps (refused in blocking mode). Next: start_phase.",
    input: { paths: pathsArg, ...heldArgs },
    output: { declared: v.array(v.string()), overlaps: OverlapsOut, next },
    annotations: write(true),
    touch: false,
    handler: declareFiles,
  }),

  endOfPhase("complete_phase", {
    description:
      "Finish your phase with a summary and the artifacts you produced; the next phases open. Then stop: one phase per session.",
    input: {
      summary: v.optional(v.pipe(v.string(), v.maxLength(20_000), v.description("what you did, for the next agents"))),
      artifacts: artifactsArg,
    },
    output: { phase: PhaseOut, ticket: Obj },
    end: (ctx, agentId, id, token, a) =>
      ctx.engine.complete(id, { agentId, token, summary: a.summary, artifacts: a.artifacts }),
    reply: completed,
  }),

  endOfPhase("fail_phase", {
    description:
      "Report that your phase failed and why; it is retried later (a human looks after the last attempt). Then stop.",
    input: { error: v.pipe(v.string(), v.minLength(1), v.maxLength(20_000)) },
    output: { phase: PhaseOut, willRetry: v.boolean() },
    end: (ctx, agentId, id, token, a) => ctx.engine.fail(id, { agentId, token, error: a.error }),
    reply: (_ctx, phase) => ({ phase, willRetry: phase.status === "waiting_retry" }),
  }),

  endOfPhase("release_phase", {
    description: "Give your claimed phase back untouched, without counting an attempt (e.g. you cannot do it).",
    input: { reason: v.optional(v.pipe(v.string(), v.maxLength(2000))) },
    output: { phase: PhaseOut },
    end: (ctx, agentId, id, token, a) => ctx.engine.release(id, { agentId, token, reason: a.reason }),
    reply: (_ctx, phase) => ({ phase }),
  }),

  endOfPhase("request_review", {
    description: "Finish your phase but ask a human to review it first; later phases wait for the approval. Then stop.",
    input: { summary: v.optional(v.pipe(v.string(), v.maxLength(20_000))), artifacts: artifactsArg },
    output: { gate: GateOut },
    end: (ctx, agentId, id, token, a) =>
      ctx.engine.requestReview(id, { agentId, token, summary: a.summary, artifacts: a.artifacts }),
    reply: (_ctx, gate) => ({ gate }),
  }),
];
