/**
 * The agent lifecycle tools: register, find and claim work, read its
 * context, declare files, start, heartbeat, and end the claim (complete,
 * fail, release, request review).
 *
 * @module
 */
import * as v from "valibot";
import { endHeld, onHeld, STOP } from "../context.ts";
import {
  agentArg,
  artifactsArg,
  capabilitiesArg,
  GateOut,
  heldArgs,
  next,
  Obj,
  OverlapsOut,
  pathsArg,
  PhaseOut,
} from "../schemas.ts";
import { READ, type Tool, tool, write } from "../tool.ts";

/** The tools. */
export const AGENT_TOOLS: Tool[] = [
  tool("register_agent", {
    description:
      "Register as an agent: an id (generated if omitted) and the agent types you can do. Call first; later calls default to this agent. Next: claim_phase.",
    input: {
      agent_id: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
      capabilities: v.pipe(capabilitiesArg, v.description("agent types, e.g. implementer")),
      metadata: v.optional(v.record(v.string(), v.unknown())),
    },
    output: { agentId: v.string(), capabilities: v.array(v.string()), holds: v.array(v.number()), next },
    annotations: write(true),
    touch: false,
    handler(ctx, a) {
      const agent = a.agent_id ?? ctx.session.agentId ?? `agent-${crypto.randomUUID().slice(0, 8)}`;
      const client = ctx.mcp.server.getClientVersion();
      ctx.engine.registerAgent(agent, a.capabilities, {
        ...(client ? { client: `${client.name} ${client.version}` } : {}),
        ...a.metadata,
      });
      ctx.session.agentId = agent;
      ctx.session.capabilities = a.capabilities;
      const cur = ctx.claims.current(agent);
      return {
        agentId: agent,
        capabilities: a.capabilities,
        holds: cur === undefined ? [] : [cur],
        next: cur === undefined
          ? "claim_phase"
          : `You already hold phase ${cur}: get_context, then start_phase / complete_phase.`,
      };
    },
  }),

  tool("list_available_work", {
    description: "Phases you could claim now, best first (read-only). Next: claim_phase.",
    input: {
      capabilities: v.optional(capabilitiesArg),
      limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200)), 20),
      agent_id: agentArg,
    },
    output: { phases: v.array(Obj), more: v.boolean() },
    annotations: READ,
    handler(ctx, a) {
      const caps = a.capabilities ?? ctx.capabilitiesOf(ctx.knownAgent(a.agent_id)) ?? [];
      return { ...ctx.engine.availableWork(caps, a.limit) };
    },
  }),

  tool("claim_phase", {
    description:
      "Claim the best available phase for your capabilities, or phase_id. The session keeps the claim token. Next: get_context, declare_files, start_phase, do the work, then complete_phase or fail_phase.",
    input: {
      phase_id: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.description("a specific phase"))),
      capabilities: v.optional(capabilitiesArg),
      idempotency_key: v.optional(
        v.pipe(v.string(), v.minLength(1), v.description("retry-safe: same key, same claim")),
      ),
      agent_id: agentArg,
    },
    output: {
      phaseId: v.number(),
      token: v.string(),
      leaseExpiresAt: v.string(),
      ticket: Obj,
      phase: PhaseOut,
      reworkNotes: v.nullable(v.string()),
      overlaps: OverlapsOut,
      next,
    },
    annotations: write(false),
    touch: false,
    handler(ctx, a) {
      const agent = ctx.agentOf(a.agent_id);
      const caps = a.capabilities ?? ctx.capabilitiesOf(agent);
      let claim;
      if (a.phase_id !== undefined) {
        claim = ctx.engine.claim(a.phase_id, { agentId: agent, capabilities: caps, idempotencyKey: a.idempotency_key });
      } else {
        claim = ctx.engine.claimNextOrThrow({
          agentId: agent,
          capabilities: caps ?? [],
          idempotencyKey: a.idempotency_key,
        });
      }
      ctx.claims.remember(agent, claim.phase.id, claim.token);
      return {
        phaseId: claim.phase.id,
        token: claim.token,
        leaseExpiresAt: claim.leaseExpiresAt,
        ticket: claim.ticket,
        phase: claim.phase,
        reworkNotes: claim.reworkNotes,
        overlaps: claim.overlaps,
        next: `${
          claim.reworkNotes ? "This is rework: read reworkNotes. " : ""
        }get_context, declare_files (paths you will edit), start_phase, do the work, then complete_phase or fail_phase.`,
      };
    },
  }),

  tool("start_phase", {
    description:
      "Mark your claimed phase as started. Next: do the work (heartbeat on long tasks), then complete_phase or fail_phase.",
    input: heldArgs,
    output: { phase: PhaseOut, next },
    annotations: write(true),
    touch: false,
    handler(ctx, a) {
      const agent = ctx.agentOf(a.agent_id, a);
      const { result } = onHeld(ctx, agent, a, (id, token) => ctx.engine.start(id, { agentId: agent, token }));
      return { phase: result, next: "Do the work now, then complete_phase (or fail_phase)." };
    },
  }),

  tool("heartbeat", {
    description:
      "Say you are alive and extend your leases; pass progress on long work. Every other call counts as a heartbeat too.",
    input: { progress: v.optional(v.pipe(v.string(), v.maxLength(2000))), agent_id: agentArg },
    output: { agentId: v.string(), at: v.string() },
    annotations: write(true),
    touch: false,
    handler(ctx, a) {
      const agent = ctx.agentOf(a.agent_id);
      ctx.engine.heartbeat(agent, { progress: a.progress, phaseIds: ctx.claims.held(agent) });
      return { agentId: agent, at: ctx.engine.now() };
    },
  }),

  tool("complete_phase", {
    description:
      "Finish your phase with a summary and the artifacts you produced; the next phases open. Then stop: one phase per session.",
    input: {
      summary: v.optional(v.pipe(v.string(), v.maxLength(20_000), v.description("what you did, for the next agents"))),
      artifacts: artifactsArg,
      ...heldArgs,
    },
    output: { phase: PhaseOut, ticket: Obj, next },
    annotations: write(true),
    touch: false,
    handler(ctx, a) {
      const agent = ctx.agentOf(a.agent_id, a);
      const result = endHeld(
        ctx,
        agent,
        a,
        (id, token) => ctx.engine.complete(id, { agentId: agent, token, summary: a.summary, artifacts: a.artifacts }),
      );
      const t = ctx.engine.ticket(result.ticketId);
      return {
        phase: result,
        ticket: {
          id: t.id,
          status: t.status,
          open: t.phases.filter((p) => p.status === "available" || p.status === "awaiting_review").map((p) => ({
            id: p.id,
            name: p.name,
            status: p.status,
          })),
        },
        next: STOP,
      };
    },
  }),

  tool("fail_phase", {
    description:
      "Report that your phase failed and why; it is retried later (a human looks after the last attempt). Then stop.",
    input: { error: v.pipe(v.string(), v.minLength(1), v.maxLength(20_000)), ...heldArgs },
    output: { phase: PhaseOut, willRetry: v.boolean(), next },
    annotations: write(true),
    touch: false,
    handler(ctx, a) {
      const agent = ctx.agentOf(a.agent_id, a);
      const result = endHeld(
        ctx,
        agent,
        a,
        (id, token) => ctx.engine.fail(id, { agentId: agent, token, error: a.error }),
      );
      return { phase: result, willRetry: result.status === "waiting_retry", next: STOP };
    },
  }),

  tool("release_phase", {
    description: "Give your claimed phase back untouched, without counting an attempt (e.g. you cannot do it).",
    input: { reason: v.optional(v.pipe(v.string(), v.maxLength(2000))), ...heldArgs },
    output: { phase: PhaseOut, next },
    annotations: write(true),
    touch: false,
    handler(ctx, a) {
      const agent = ctx.agentOf(a.agent_id, a);
      const result = endHeld(
        ctx,
        agent,
        a,
        (id, token) => ctx.engine.release(id, { agentId: agent, token, reason: a.reason }),
      );
      return { phase: result, next: STOP };
    },
  }),

  tool("request_review", {
    description: "Finish your phase but ask a human to review it first; later phases wait for the approval. Then stop.",
    input: { summary: v.optional(v.pipe(v.string(), v.maxLength(20_000))), artifacts: artifactsArg, ...heldArgs },
    output: { gate: GateOut, next },
    annotations: write(true),
    touch: false,
    handler(ctx, a) {
      const agent = ctx.agentOf(a.agent_id, a);
      const result = endHeld(
        ctx,
        agent,
        a,
        (id, token) =>
          ctx.engine.requestReview(id, { agentId: agent, token, summary: a.summary, artifacts: a.artifacts }),
      );
      return { gate: result, next: STOP };
    },
  }),

  tool("declare_files", {
    description:
      "Declare the files or globs your phase will touch, before editing, so others see overlaps (refused in blocking mode). Next: start_phase.",
    input: { paths: pathsArg, ...heldArgs },
    output: { declared: v.array(v.string()), overlaps: OverlapsOut, next },
    annotations: write(true),
    touch: false,
    handler(ctx, a) {
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
    },
  }),

  tool("check_conflicts", {
    description: "Which other agents' active declarations overlap these paths (read-only).",
    input: {
      paths: pathsArg,
      phase_id: v.optional(
        v.pipe(v.number(), v.integer(), v.minValue(1), v.description("ignore its own declarations")),
      ),
    },
    output: { conflict: v.boolean(), overlaps: OverlapsOut },
    annotations: READ,
    handler(ctx, a) {
      const agent = ctx.knownAgent();
      const phaseId = a.phase_id ?? (agent ? ctx.claims.current(agent) : undefined);
      const overlaps = ctx.engine.checkConflicts(a.paths, { phaseId });
      return { conflict: overlaps.length > 0, overlaps };
    },
  }),

  tool("get_context", {
    description:
      "Everything needed to work on a phase (default: yours): the phase, ticket, reviewer notes, earlier results, overlaps, files; fitted to a byte budget.",
    input: {
      phase_id: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.description("default: your phase"))),
      budget_bytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1000), v.maxValue(10_000_000))),
      agent_id: agentArg,
    },
    output: {
      phase: Obj,
      ticket: Obj,
      reworkNotes: v.nullable(v.string()),
      previousPhases: v.array(Obj),
      trimmed: v.array(v.string()),
    },
    annotations: READ,
    handler(ctx, a) {
      const opts = { budgetBytes: a.budget_bytes };
      if (a.phase_id !== undefined) return { ...ctx.engine.context({ phaseId: a.phase_id }, opts) };
      const agent = ctx.agentOf(a.agent_id);
      const cur = ctx.claims.current(agent);
      return { ...ctx.engine.context(cur !== undefined ? { phaseId: cur } : { agentId: agent }, opts) };
    },
  }),
];
