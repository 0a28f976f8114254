/**
 * Who may act as an agent. An agent belongs to the principal that registered
 * it: the holder of the HTTP token it came with, or the MCP session that
 * registered it when the server needs no token (see `Engine.withPrincipal`).
 * Anyone else naming it is refused (`forbidden`), unless the call carries a
 * claim token of a phase the agent holds: an agent that reconnects resumes
 * its work with its token. Local callers (the CLI, a stdio MCP server, the
 * supervisor, the library) act without a principal and are trusted, as the
 * person at the keyboard is.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Core } from "./core.ts";
import { holdsToken, principalWorkedOn } from "./sql/agents.ts";
import type { R } from "./sql/rows.ts";

/**
 * Refuses a call that acts as `agentId` for another principal than the one
 * that registered it, unless `token` is the claim token of a phase it holds.
 *
 * @param core the engine, in the transaction
 * @param agent the agent's row (undefined: not registered yet, so it becomes the caller's)
 * @param agentId its id
 * @param token a claim token the call carries, if any
 * @throws {BatonError} `forbidden`
 */
export function checkActingAs(core: Core, agent: R | undefined, agentId: string, token?: string): void {
  const caller = core.principal;
  if (caller === undefined || !agent || agent.principal === caller) return;
  if (token && holdsToken(core.db, agentId, token)) return;
  throw new BatonError(
    "forbidden",
    `Cannot act as agent ${agentId}: it belongs to ${
      agent.principal === null ? "a local process" : "another client"
    }; register your own agent id (or pass a claim token of ${agentId}'s)`,
    { details: { agent: agentId } },
  );
}

/**
 * Whether the caller's principal worked on the ticket through any of its
 * agents: an agent never decides a gate on that work, whatever id it
 * registers under next.
 *
 * @param core the engine, in the transaction
 * @param ticketId the ticket
 * @returns true when the caller has a principal and one of its agents worked on the ticket
 */
export function callerWorkedOn(core: Core, ticketId: string): boolean {
  return core.principal !== undefined && principalWorkedOn(core.db, ticketId, core.principal);
}
