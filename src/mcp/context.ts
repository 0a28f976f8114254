/**
 * What the tool handlers of one session share: the engine, the session's
 * agent, the process's claim memory, and the helpers that find the phase a
 * call acts on and its token.
 *
 * @module
 */
import type { McpServer } from "@modelcontextprotocol/server";
import { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import type { ClaimMemory, Session } from "./session.ts";

/** Said when the session's work is done. */
export const STOP = "Stop here: this session's work is done.";

/** What the tool handlers share. */
export interface ToolContext {
  /** The engine (shared by every session of the process). */
  engine: Engine;
  /** The server (for the client's name). */
  mcp: McpServer;
  /** This session. */
  session: Session;
  /** Claim tokens remembered by this session. */
  claims: ClaimMemory;
  /** Where unexpected errors are reported. */
  onError(error: unknown, where: string): void;
  /**
   * The agent of a call: explicit, else the session's; adopted by a session
   * that had none. Naming another agent than the session's is `forbidden`
   * unless the call carries a claim token (which the engine then checks).
   */
  agentOf(explicit?: string, opts?: { token?: string }): string;
  /** The session's agent if known (no error). */
  knownAgent(explicit?: string): string | undefined;
  /** Refreshes the agent's heartbeat when `agents.heartbeat_implicit` is on (never throws). */
  touch(agentId: string | undefined): void;
  /** Registered capabilities: the session's, else the database's. */
  capabilitiesOf(agent: string | undefined): string[] | undefined;
}

/** Builds a session's context. */
export function toolContext(
  engine: Engine,
  mcp: McpServer,
  session: Session,
  claims: ClaimMemory,
  onError: (e: unknown, where: string) => void,
): ToolContext {
  return {
    engine,
    mcp,
    session,
    claims,
    onError,
    agentOf(explicit, opts = {}) {
      const agent = explicit ?? session.agentId;
      if (!agent) {
        throw new BatonError("invalid_argument", "Unknown agent: call register_agent first (or pass agent_id)");
      }
      // A session acts as the agent it registered; another agent only with that agent's claim token.
      if (session.agentId && agent !== session.agentId && !(opts.token && engine.holdsClaimToken(agent, opts.token))) {
        throw new BatonError(
          "forbidden",
          `This session acts as ${session.agentId}; acting as ${agent} needs a claim token ${agent} holds`,
          { details: { session: session.agentId, asked: agent } },
        );
      }
      session.agentId ??= agent;
      return agent;
    },
    knownAgent: (explicit) => explicit ?? session.agentId,
    touch(agentId) {
      if (!agentId || !engine.cfg.config.agents.heartbeat_implicit) return;
      try {
        // Liveness, and the leases of the phases this session claimed (never the agent's other phases).
        engine.heartbeat(agentId, { phaseIds: claims.held(agentId) });
      } catch (e) {
        // An unknown agent has nothing to refresh, and an agent of another client is the call's to refuse (or to
        // allow with its claim token); any other failure must not fail the call itself.
        if (!(e instanceof BatonError && (e.code === "not_found" || e.code === "forbidden"))) {
          onError(e, "implicit heartbeat");
        }
      }
    },
    capabilitiesOf(agent) {
      if (!agent) return undefined;
      if (agent === session.agentId && session.capabilities) return session.capabilities;
      return engine.agent(agent)?.capabilities;
    },
  };
}

/** The phase a call acts on and its token: explicit, else the session's. */
function held(ctx: ToolContext, agent: string, phaseId: number | undefined, token: string | undefined) {
  const id = phaseId ?? ctx.claims.current(agent);
  if (id === undefined) {
    throw new BatonError(
      "invalid_argument",
      `${agent} holds no phase in this session: claim one with claim_phase (or pass phase_id)`,
    );
  }
  return { id, token: token ?? ctx.claims.token(agent, id) };
}

/** Runs an engine call on a held phase; explains a missing or dead token. */
export function onHeld<T>(
  ctx: ToolContext,
  agent: string,
  args: { phase_id?: number; token?: string },
  fn: (id: number, token: string) => T,
): { id: number; result: T } {
  const h = held(ctx, agent, args.phase_id, args.token);
  if (h.token === undefined) {
    // Not a claim of this session, and no token: never act on someone else's claim.
    throw new BatonError(
      "forbidden",
      `Phase ${h.id} is not a claim of this session: pass its claim token (or claim a phase with claim_phase)`,
      { details: { phaseId: h.id } },
    );
  }
  try {
    const result = fn(h.id, h.token);
    if (args.token !== undefined) {
      // Resumed with the claim's token (a new session of the same agent): this session now acts as it.
      ctx.session.agentId = agent;
      ctx.claims.remember(agent, h.id, args.token);
    }
    return { id: h.id, result };
  } catch (e) {
    if (e instanceof BatonError && (e.code === "stale_token" || e.code === "claim_conflict")) {
      // The claim is gone (expired and taken again, or held by another agent): forget it.
      if (args.token === undefined) ctx.claims.forget(agent, h.id);
      throw new BatonError(e.code, `${e.message}. Your claim on phase ${h.id} is lost: ${STOP}`, {
        details: e.details,
      });
    }
    throw e;
  }
}

/** {@link onHeld} for the calls that end a claim: on success the session no longer holds it (its token is kept for a retry). */
export function endHeld<T>(
  ctx: ToolContext,
  agent: string,
  args: { phase_id?: number; token?: string },
  fn: (id: number, token: string) => T,
): T {
  const { id, result } = onHeld(ctx, agent, args, fn);
  ctx.claims.finish(agent, id);
  return result;
}
