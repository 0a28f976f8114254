/**
 * The Baton MCP server: `createServer(engine, options)` builds one
 * `McpServer` with the agent tools, the queries, the planner tool, the
 * resources and the prompts. The stdio and HTTP entrypoints and the tests all
 * build their servers here.
 *
 * Every tool declares an output schema and answers with `structuredContent`
 * and the same JSON as text. Domain failures (a `BatonError`) come back as
 * `isError: true` with `structuredContent: {code, message, details?}`; any
 * other failure is logged and reported as `internal`, never thrown out of the
 * handler. Arguments are checked by the input schemas before a handler runs.
 *
 * @module
 */
import * as v from "valibot";
import { type CallToolResult, McpServer, type ToolAnnotations } from "@modelcontextprotocol/server";
import { BatonError } from "../errors.ts";
import type { Actor, Engine } from "../engine.ts";
import { isoDates } from "../cli/format.ts";
import { VERSION } from "../cli/main.ts";
import { ClaimMemory, Session } from "./session.ts";
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
  schema,
  sinceArg,
} from "./schemas.ts";
import { registerContent } from "./content.ts";

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** This connection's state (default: a new session). */
  session?: Session;
  /** Claim tokens shared by the sessions of one process (default: a new memory). */
  claims?: ClaimMemory;
  /** Where unexpected (non-domain) errors are reported; default: stderr. */
  onError?: (error: unknown, where: string) => void;
}

/** What the tool handlers share. */
export interface ToolContext {
  engine: Engine;
  session: Session;
  claims: ClaimMemory;
  /** The agent of a call: explicit, else the session's; adopted by a session that had none. */
  agentOf(explicit?: string): string;
  /** The session's agent if known (no error). */
  knownAgent(explicit?: string): string | undefined;
  /** Refreshes the agent's heartbeat when `agents.heartbeat_implicit` is on (never throws). */
  touch(agentId: string | undefined): void;
}

const READ: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};
const write = (idempotent: boolean, destructive = false): ToolAnnotations => ({
  readOnlyHint: false,
  destructiveHint: destructive,
  idempotentHint: idempotent,
  openWorldHint: false,
});

const INSTRUCTIONS =
  `Baton hands out the phases of a repository's tickets to agents, one holder per phase, with humans deciding the gates.
Agent protocol: register_agent (your capabilities), claim_phase, get_context, declare_files, start_phase, do the work, then complete_phase (or fail_phase / request_review / release_phase), and stop. One phase per session.
The session remembers your agent id and claim token: phase_id, agent_id and token are optional.`;

const STOP = "Stop here: this session's work is done.";

/** Text + structured result. */
function ok(data: Record<string, unknown>): CallToolResult {
  const out = isoDates(data);
  return { content: [{ type: "text", text: JSON.stringify(out) }], structuredContent: out };
}

/** An error result: `{code, message, details?}`. */
function errorResult(e: unknown): CallToolResult {
  const body = e instanceof BatonError
    ? isoDates(e.toJSON())
    : { code: "internal", message: e instanceof Error ? e.message : String(e) };
  return { isError: true, content: [{ type: "text", text: JSON.stringify(body) }], structuredContent: body };
}

/** `2h`, `3d`, `30m`, `45s`, `1w` back from now, or a date → ms since the epoch. */
export function parseSince(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(value.trim());
  if (m) return now - Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[m[2] as "s"]!;
  const t = Date.parse(value);
  if (Number.isNaN(t)) {
    throw new BatonError("invalid_argument", `since must be a duration like 2h, 3d, 30m or a date, got "${value}"`);
  }
  return t;
}

/**
 * Builds the MCP server over an engine.
 *
 * @param engine the open engine (shared by every session of the process)
 * @param options session state, shared claim memory, error sink
 * @returns the server, ready to connect to a transport
 */
export function createServer(engine: Engine, options: ServerOptions = {}): McpServer {
  const session = options.session ?? new Session();
  const claims = options.claims ?? new ClaimMemory();
  const onError = options.onError ??
    ((e: unknown, where: string) => console.error(`baton-mcp: ${where}: ${e instanceof Error ? e.stack : e}`));
  const mcp = new McpServer(
    { name: "baton", version: VERSION, title: "Baton" },
    { capabilities: { tools: {}, resources: {}, prompts: {} }, instructions: INSTRUCTIONS },
  );
  const cfg = engine.cfg.config;

  const ctx: ToolContext = {
    engine,
    session,
    claims,
    agentOf(explicit) {
      const agent = explicit ?? session.agentId;
      if (!agent) {
        throw new BatonError("invalid_argument", "Unknown agent: call register_agent first (or pass agent_id)");
      }
      session.agentId ??= agent;
      return agent;
    },
    knownAgent: (explicit) => explicit ?? session.agentId,
    touch(agentId) {
      if (!agentId || !cfg.agents.heartbeat_implicit) return;
      try {
        engine.heartbeat(agentId);
      } catch (e) {
        // An unknown agent has nothing to refresh; any other failure must not fail the call itself.
        if (!(e instanceof BatonError && e.code === "not_found")) onError(e, "implicit heartbeat");
      }
    },
  };

  /** Registers a tool: strict input object, output schema, implicit heartbeat, errors as results. */
  function tool<I extends v.ObjectEntries, O extends v.ObjectEntries>(
    name: string,
    def: {
      description: string;
      input: I;
      output: O;
      annotations: ToolAnnotations;
      /** False when the engine call itself refreshes the heartbeat. */
      touch?: boolean;
    },
    handler: (
      args: v.InferOutput<v.StrictObjectSchema<I, undefined>>,
    ) => Record<string, unknown> | Promise<Record<string, unknown>>,
  ): void {
    const input = schema(v.strictObject(def.input));
    const output = schema(v.object(def.output));
    mcp.registerTool(name, {
      description: def.description,
      inputSchema: input,
      outputSchema: output,
      annotations: def.annotations,
    }, async (args: unknown) => {
      const a = args as v.InferOutput<v.StrictObjectSchema<I, undefined>>;
      if (def.touch !== false) ctx.touch(ctx.knownAgent((a as { agent_id?: string }).agent_id));
      try {
        return ok(await handler(a));
      } catch (e) {
        if (!(e instanceof BatonError) || /^(internal|database_|migration)/.test(e.code)) onError(e, `tool ${name}`);
        return errorResult(e);
      }
    });
  }

  /** The phase a call acts on and its token: explicit, else the session's. */
  function held(agent: string, phaseId: number | undefined, token: string | undefined) {
    const id = phaseId ?? claims.current(agent);
    if (id === undefined) {
      throw new BatonError(
        "invalid_argument",
        `${agent} holds no phase in this session: claim one with claim_phase (or pass phase_id)`,
      );
    }
    const remembered = claims.token(agent, id);
    return { id, token: token ?? remembered };
  }

  /** Runs an engine call on a held phase; explains a missing or dead token. */
  function onHeld<T>(agent: string, args: { phase_id?: number; token?: string }, fn: (id: number, token: string) => T) {
    const h = held(agent, args.phase_id, args.token);
    try {
      return { id: h.id, result: fn(h.id, h.token ?? "") };
    } catch (e) {
      if (e instanceof BatonError && (e.code === "stale_token" || e.code === "claim_conflict")) {
        if (h.token === undefined) {
          throw new BatonError(e.code, `${e.message} (this session did not claim phase ${h.id}: claim it first)`, {
            details: e.details,
          });
        }
        // The claim is gone (expired and taken again, or held by another agent): forget it.
        if (args.token === undefined) claims.forget(agent, h.id);
        throw new BatonError(e.code, `${e.message}. Your claim on phase ${h.id} is lost: ${STOP}`, {
          details: e.details,
        });
      }
      throw e;
    }
  }

  /** {@link onHeld} for the calls that end a claim: on success the session forgets it. */
  function endHeld<T>(
    agent: string,
    args: { phase_id?: number; token?: string },
    fn: (id: number, token: string) => T,
  ) {
    const { id, result } = onHeld(agent, args, fn);
    claims.forget(agent, id);
    return result;
  }

  // -------------------------------------------------------------------------
  // Agent lifecycle

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
  }, (a) => {
    const agent = a.agent_id ?? session.agentId ?? `agent-${crypto.randomUUID().slice(0, 8)}`;
    const client = mcp.server.getClientVersion();
    engine.registerAgent(agent, a.capabilities, {
      ...(client ? { client: `${client.name} ${client.version}` } : {}),
      ...a.metadata,
    });
    session.agentId = agent;
    session.capabilities = a.capabilities;
    const cur = claims.current(agent);
    return {
      agentId: agent,
      capabilities: a.capabilities,
      holds: cur === undefined ? [] : [cur],
      next: cur === undefined
        ? "claim_phase"
        : `You already hold phase ${cur}: get_context, then start_phase / complete_phase.`,
    };
  });

  tool("list_available_work", {
    description: "Phases you could claim now, best first (read-only). Next: claim_phase.",
    input: {
      capabilities: v.optional(capabilitiesArg),
      limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200)), 20),
      agent_id: agentArg,
    },
    output: {
      phases: v.array(Obj),
      more: v.boolean(),
    },
    annotations: READ,
  }, (a) => {
    const caps = a.capabilities ?? capabilitiesOf(ctx.knownAgent(a.agent_id));
    if (!caps?.length) {
      throw new BatonError("invalid_argument", "No capabilities: register_agent first, or pass capabilities");
    }
    const rows = engine.db.all<Record<string, string | number | null>>(
      `SELECT p.id, p.ticket_id, p.name, p.agent_type, p.attempts, p.rework_notes IS NOT NULL AS rework,
         t.title, t.priority
       FROM phases p JOIN tickets t ON t.id = p.ticket_id
       WHERE p.status = 'available' AND p.agent_type IN (SELECT value FROM json_each(?))
       ORDER BY p.priority_rank, p.ticket_id, p.seq LIMIT ?`,
      [JSON.stringify(caps), a.limit + 1],
    );
    return {
      phases: rows.slice(0, a.limit).map((r) => ({
        phaseId: r.id,
        ticketId: r.ticket_id,
        title: r.title,
        phase: r.name,
        agentType: r.agent_type,
        priority: r.priority,
        attempts: r.attempts,
        rework: Boolean(r.rework),
      })),
      more: rows.length > a.limit,
    };
  });

  /** Registered capabilities: the session's, else the database's. */
  function capabilitiesOf(agent: string | undefined): string[] | undefined {
    if (!agent) return undefined;
    if (agent === session.agentId && session.capabilities) return session.capabilities;
    const r = engine.db.get<{ capabilities: string }>("SELECT capabilities FROM agents WHERE id = ?", [agent]);
    return r ? JSON.parse(r.capabilities) : undefined;
  }

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
  }, (a) => {
    const agent = ctx.agentOf(a.agent_id);
    const caps = a.capabilities ?? capabilitiesOf(agent);
    let claim;
    if (a.phase_id !== undefined) {
      claim = engine.claim(a.phase_id, { agentId: agent, capabilities: caps, idempotencyKey: a.idempotency_key });
    } else {
      if (!caps?.length) {
        throw new BatonError("invalid_argument", "No capabilities: register_agent first, or pass capabilities");
      }
      claim = engine.claimNext({ agentId: agent, capabilities: caps, idempotencyKey: a.idempotency_key });
      if (!claim) {
        throw new BatonError(
          "nothing_to_claim",
          `Nothing to claim for ${caps.join(", ")} right now. ${STOP}`,
          { details: { capabilities: caps } },
        );
      }
    }
    claims.remember(agent, claim.phase.id, claim.token);
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
  });

  tool("start_phase", {
    description:
      "Mark your claimed phase as started. Next: do the work (heartbeat on long tasks), then complete_phase or fail_phase.",
    input: heldArgs,
    output: { phase: PhaseOut, next },
    annotations: write(true),
    touch: false,
  }, (a) => {
    const agent = ctx.agentOf(a.agent_id);
    const { result } = onHeld(agent, a, (id, token) => engine.start(id, { agentId: agent, token }));
    return { phase: result, next: "Do the work now, then complete_phase (or fail_phase)." };
  });

  tool("heartbeat", {
    description:
      "Say you are alive and extend your leases; pass progress on long work. Every other call counts as a heartbeat too.",
    input: { progress: v.optional(v.pipe(v.string(), v.maxLength(2000))), agent_id: agentArg },
    output: { agentId: v.string(), at: v.string() },
    annotations: write(true),
    touch: false,
  }, (a) => {
    const agent = ctx.agentOf(a.agent_id);
    engine.heartbeat(agent, a.progress);
    return { agentId: agent, at: engine.now() };
  });

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
  }, (a) => {
    const agent = ctx.agentOf(a.agent_id);
    const result = endHeld(
      agent,
      a,
      (id, token) => engine.complete(id, { agentId: agent, token, summary: a.summary, artifacts: a.artifacts }),
    );
    const t = engine.ticket(result.ticketId);
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
  });

  tool("fail_phase", {
    description:
      "Report that your phase failed and why; it is retried later (a human looks after the last attempt). Then stop.",
    input: { error: v.pipe(v.string(), v.minLength(1), v.maxLength(20_000)), ...heldArgs },
    output: { phase: PhaseOut, willRetry: v.boolean(), next },
    annotations: write(true),
    touch: false,
  }, (a) => {
    const agent = ctx.agentOf(a.agent_id);
    const result = endHeld(agent, a, (id, token) => engine.fail(id, { agentId: agent, token, error: a.error }));
    return { phase: result, willRetry: result.status === "waiting_retry", next: STOP };
  });

  tool("release_phase", {
    description: "Give your claimed phase back untouched, without counting an attempt (e.g. you cannot do it).",
    input: { reason: v.optional(v.pipe(v.string(), v.maxLength(2000))), ...heldArgs },
    output: { phase: PhaseOut, next },
    annotations: write(true),
    touch: false,
  }, (a) => {
    const agent = ctx.agentOf(a.agent_id);
    const result = endHeld(agent, a, (id, token) => engine.release(id, { agentId: agent, token, reason: a.reason }));
    return { phase: result, next: STOP };
  });

  tool("request_review", {
    description: "Finish your phase but ask a human to review it first; later phases wait for the approval. Then stop.",
    input: {
      summary: v.optional(v.pipe(v.string(), v.maxLength(20_000))),
      artifacts: artifactsArg,
      ...heldArgs,
    },
    output: { gate: GateOut, next },
    annotations: write(true),
    touch: false,
  }, (a) => {
    const agent = ctx.agentOf(a.agent_id);
    const result = endHeld(
      agent,
      a,
      (id, token) => engine.requestReview(id, { agentId: agent, token, summary: a.summary, artifacts: a.artifacts }),
    );
    return { gate: result, next: STOP };
  });

  tool("declare_files", {
    description:
      "Declare the files or globs your phase will touch, before editing, so others see overlaps (refused in blocking mode). Next: start_phase.",
    input: { paths: pathsArg, ...heldArgs },
    output: { declared: v.array(v.string()), overlaps: OverlapsOut, next },
    annotations: write(true),
    touch: false,
  }, (a) => {
    const agent = ctx.agentOf(a.agent_id);
    const { result } = onHeld(
      agent,
      a,
      (id, token) => engine.declareFiles(id, { agentId: agent, token, paths: a.paths }),
    );
    return {
      ...result,
      next: result.overlaps.length
        ? "Others work on overlapping files: coordinate (keep changes small) or release_phase. Then start_phase."
        : "start_phase",
    };
  });

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
  }, (a) => {
    const agent = ctx.knownAgent();
    const phaseId = a.phase_id ?? (agent ? claims.current(agent) : undefined);
    const overlaps = engine.checkConflicts(a.paths, { phaseId });
    return { conflict: overlaps.length > 0, overlaps };
  });

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
  }, (a) => {
    const opts = { budgetBytes: a.budget_bytes };
    if (a.phase_id !== undefined) return { ...engine.context({ phaseId: a.phase_id }, opts) };
    const agent = ctx.agentOf(a.agent_id);
    const cur = claims.current(agent);
    return { ...engine.context(cur !== undefined ? { phaseId: cur } : { agentId: agent }, opts) };
  });

  // -------------------------------------------------------------------------
  // Queries

  tool("get_ticket", {
    description: "A ticket with its phases, gates and dependencies.",
    input: { ticket_id: v.pipe(v.string(), v.minLength(1)) },
    output: {
      id: v.string(),
      title: v.string(),
      status: v.string(),
      phases: v.array(PhaseOut),
      gates: v.array(GateOut),
    },
    annotations: READ,
  }, (a) => ({ ...engine.ticket(a.ticket_id) }));

  tool("list_tickets", {
    description: "Tickets in priority order, with their current phase; filter by status, priority, component, agent.",
    input: {
      status: v.optional(v.picklist(["active", "completed"])),
      priority: v.optional(v.string()),
      component: v.optional(v.string()),
      agent: v.optional(v.pipe(v.string(), v.description("holding a phase"))),
      blocked: v.optional(v.boolean()),
      limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)), 100),
    },
    output: {
      tickets: v.array(Obj),
      total: v.number(),
    },
    annotations: READ,
  }, (a) => {
    const rows = engine.listTickets({
      status: a.status,
      priority: a.priority,
      component: a.component,
      agent: a.agent,
      blocked: a.blocked,
    });
    return { tickets: rows.slice(0, a.limit), total: rows.length };
  });

  tool("list_blocked", {
    description: "What cannot proceed, and why: open gates, dependencies, retry backoffs, failures.",
    input: {},
    output: { items: v.array(Obj) },
    annotations: READ,
  }, () => ({ items: engine.blocked() }));

  tool("ready_parallel", {
    description: "Up to n available phases that can run side by side without file overlaps (for planners).",
    input: {
      n: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)), 5),
      capabilities: v.optional(capabilitiesArg),
    },
    output: { phases: v.array(Obj) },
    annotations: READ,
  }, (a) => ({
    phases: engine.readyParallel(a.n, a.capabilities).map((p) => ({
      id: p.id,
      ticketId: p.ticketId,
      name: p.name,
      agentType: p.agentType,
      paths: p.paths,
      pathsKnown: p.pathsKnown,
    })),
  }));

  tool("get_metrics", {
    description: "Phase durations and waits, throughput, bottleneck, contention, stalled work.",
    input: { since: sinceArg },
    output: { phases: v.array(Obj), workInProgress: Obj },
    annotations: READ,
  }, (a) => ({ ...engine.metrics({ since: parseSince(a.since, engine.now()) }) }));

  tool("get_audit_log", {
    description:
      "Audit entries, oldest first: the latest `limit` by default; since (a time) or after_id (a cursor) page forward.",
    input: {
      ticket_id: v.optional(v.string()),
      actor: v.optional(v.pipe(v.string(), v.description("agent id, or human:NAME"))),
      since: sinceArg,
      after_id: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
      limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)), 50),
    },
    output: {
      entries: v.array(Obj),
      lastId: v.nullable(v.number()),
    },
    annotations: READ,
  }, (a) => {
    const f = { ticketId: a.ticket_id, agentId: a.actor, limit: a.limit };
    let entries;
    if (a.since !== undefined) entries = engine.audit({ ...f, since: parseSince(a.since, engine.now()) });
    else if (a.after_id !== undefined) entries = engine.events({ ...f, since: a.after_id });
    else {
      // The latest `limit` rows matching the filter: find where they start, then read forward.
      const start = engine.db.get<{ id: number }>(
        `SELECT id FROM audit WHERE (? IS NULL OR ticket_id = ?) AND (? IS NULL OR actor = ?)
         ORDER BY id DESC LIMIT 1 OFFSET ?`,
        [f.ticketId ?? null, f.ticketId ?? null, f.agentId ?? null, f.agentId ?? null, a.limit - 1],
      );
      entries = engine.events({ ...f, since: start ? start.id - 1 : 0 });
    }
    return { entries, lastId: entries.length ? entries[entries.length - 1].id : null };
  });

  // -------------------------------------------------------------------------
  // Planning

  const DepIn = v.strictObject({
    on: v.pipe(v.string(), v.minLength(1), v.description("ticket id, or ref of this batch")),
    type: v.optional(v.picklist(["completion", "design", "implementation"])),
  });
  tool("create_tickets", {
    description:
      "Create tickets in one transaction (all or none), e.g. a decomposition; dependencies may name tickets of the batch by ref. Ids are generated unless given.",
    input: {
      tickets: v.pipe(
        v.array(v.strictObject({
          title: v.pipe(v.string(), v.minLength(1)),
          ref: v.optional(v.string()),
          id: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/))),
          priority: v.optional(v.string()),
          metadata: v.optional(v.record(v.string(), v.unknown())),
          dependencies: v.optional(v.array(DepIn)),
          parent_id: v.optional(v.string()),
        })),
        v.minLength(1),
        v.maxLength(200),
      ),
      write_files: v.optional(
        v.pipe(v.boolean(), v.description("also write each ticket's markdown from the template")),
      ),
    },
    output: {
      created: v.array(Obj),
    },
    annotations: write(false),
  }, async (a) => {
    const items = a.tickets.map((t) => ({
      title: t.title,
      ref: t.ref,
      id: t.id,
      priority: t.priority,
      metadata: t.metadata,
      dependencies: t.dependencies,
      parentId: t.parent_id,
    }));
    const actor = ctx.knownAgent() ?? "mcp";
    // The markdown module loads only when a planner asks for files (it is not needed to start the server).
    const created = a.write_files
      ? (await import("../tickets.ts")).createTicketsWithFiles(engine, items, actor)
      : engine.createTickets(items, actor);
    return {
      created: created.map((t) => ({
        id: t.id,
        title: t.title,
        priority: t.priority,
        path: t.path,
        dependencies: t.dependencies.map((d) => ({ on: d.dependsOn, type: d.type, satisfied: d.satisfiedAt !== null })),
        phases: t.phases.map((p) => ({ id: p.id, name: p.name, status: p.status })),
      })),
    };
  });

  // -------------------------------------------------------------------------
  // Gates, only when config.yaml lets agents decide them

  if (cfg.gates.allow_agents) {
    /** An agent never decides a gate on a ticket it worked on. */
    const decider = (gateId: number, explicit?: string): Actor => {
      const agent = ctx.agentOf(explicit);
      const gate = engine.gate(gateId);
      const t = engine.ticket(gate.ticketId);
      if (gate.requestedBy === agent || t.phases.some((p) => p.claimedBy === agent)) {
        throw new BatonError(
          "forbidden",
          `Cannot decide gate ${gateId} (${gate.phaseName} of ticket ${gate.ticketId}): ${agent} worked on this ticket`,
        );
      }
      return { kind: "agent", id: agent };
    };
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
    }, (a) => ({ gate: engine.approveGate(a.gate_id, { actor: decider(a.gate_id, a.agent_id), notes: a.notes }) }));
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
    }, (a) => ({ gate: engine.rejectGate(a.gate_id, { actor: decider(a.gate_id, a.agent_id), notes: a.notes }) }));
  }

  registerContent(mcp, ctx);
  return mcp;
}
