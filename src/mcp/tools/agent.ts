/**
 * The agent lifecycle tools before and around the work: register, find and
 * claim work, read its context, check conflicts, heartbeat. The tools on the
 * held phase (start, declare, and the end of the phase) are in `phase.ts`.
 *
 * @module
 */
import * as v from "valibot";
import { BatonError } from "../../errors.ts";
import type { ToolContext } from "../context.ts";
import { agentArg, capabilitiesArg, next, Obj, OverlapsOut, pathsArg, PhaseOut, tokenArg } from "../schemas.ts";
import { READ, type Tool, tool, write } from "../tool.ts";

/** `register_agent`. */
function registerAgent(
  ctx: ToolContext,
  a: { agent_id?: string; capabilities: string[]; metadata?: Record<string, unknown> },
): Record<string, unknown> {
  const agent = a.agent_id ?? ctx.session.agentId ?? `agent-${crypto.randomUUID().slice(0, 8)}`;
  // A session that acts as an agent does not become another agent Baton knows (and rewrite its capabilities): it
  // would then act in that agent's name with no claim token of its. Its own earlier ids it may take again.
  if (ctx.session.agentId && !ctx.session.actedAs.has(agent) && ctx.engine.agent(agent)) {
    throw new BatonError(
      "forbidden",
      `This session acts as ${ctx.session.agentId}; ${agent} is another agent's id: register a new one`,
      { details: { session: ctx.session.agentId, asked: agent } },
    );
  }
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
}

/** `list_available_work`. */
function listAvailableWork(
  ctx: ToolContext,
  a: { capabilities?: string[]; limit: number; agent_id?: string },
): Record<string, unknown> {
  const caps = a.capabilities ?? ctx.capabilitiesOf(ctx.knownAgent(a.agent_id)) ?? [];
  return { ...ctx.engine.availableWork(caps, a.limit) };
}

/** `claim_phase`. */
function claimPhase(
  ctx: ToolContext,
  a: { phase_id?: number; capabilities?: string[]; idempotency_key?: string; agent_id?: string },
): Record<string, unknown> {
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
}

/** `heartbeat`. */
function heartbeat(
  ctx: ToolContext,
  a: { progress?: string; agent_id?: string; token?: string },
): Record<string, unknown> {
  const own = ctx.session.agentId;
  const agent = ctx.agentOf(a.agent_id, { token: a.token });
  const cur = ctx.claims.current(agent);
  // The claim token (given, or this session's) vouches for the caller when another client registered the agent. A
  // token given for an agent this session did not register must be one that agent holds: a heartbeat is progress
  // in its name (the phase actions check their token themselves).
  if (a.token && agent !== own && !ctx.engine.holdsClaimToken(agent, a.token)) {
    throw new BatonError("stale_token", `${agent} holds no phase with this claim token`, { details: { agent } });
  }
  const token = a.token ?? (cur !== undefined ? ctx.claims.token(agent, cur) : undefined);
  ctx.engine.heartbeat(agent, { progress: a.progress, phaseIds: ctx.claims.held(agent), token });
  return { agentId: agent, at: ctx.engine.now() };
}

/** `check_conflicts`. */
function checkConflicts(ctx: ToolContext, a: { paths: string[]; phase_id?: number }): Record<string, unknown> {
  const agent = ctx.knownAgent();
  const phaseId = a.phase_id ?? (agent ? ctx.claims.current(agent) : undefined);
  const overlaps = ctx.engine.checkConflicts(a.paths, { phaseId });
  return { conflict: overlaps.length > 0, overlaps };
}

/** `get_context`. */
function getContext(
  ctx: ToolContext,
  a: { phase_id?: number; budget_bytes?: number; agent_id?: string },
): Record<string, unknown> {
  const opts = { budgetBytes: a.budget_bytes };
  if (a.phase_id !== undefined) return { ...ctx.engine.context({ phaseId: a.phase_id }, opts) };
  const agent = ctx.agentOf(a.agent_id);
  const cur = ctx.claims.current(agent);
  return { ...ctx.engine.context(cur !== undefined ? { phaseId: cur } : { agentId: agent }, opts) };
}

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
    handler: registerAgent,
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
    handler: listAvailableWork,
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
    handler: claimPhase,
  }),

  tool("heartbeat", {
    description:
      "Say you are alive and extend your leases; pass progress on long work. Every other call counts as a heartbeat too.",
    input: { progress: v.optional(v.pipe(v.string(), v.maxLength(2000))), agent_id: agentArg, token: tokenArg },
    output: { agentId: v.string(), at: v.string() },
    annotations: write(true),
    touch: false,
    handler: heartbeat,
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
    handler: checkConflicts,
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
    handler: getContext,
  }),
];
