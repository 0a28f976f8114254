/**
 * What the MCP server remembers between calls of one session: the agent it
 * acts as, and the claim tokens of the phases it claimed (so `start_phase`,
 * `complete_phase`… need no token).
 *
 * Both are the session's own: over HTTP one server serves many agents, and
 * a session must never act on another's claim. An agent that reconnects (a
 * new session, or the stateless 2026 protocol where every request stands
 * alone) passes its claim token, which the engine checks. Fencing holds as
 * ever: a claim that expired and was taken again has a new token, and the
 * old one is refused as `stale_token`.
 *
 * @module
 */

/** One MCP session (a stdio connection, or one HTTP session). */
export class Session {
  #agentId?: string;
  /** Every agent id this session has acted as: a gate is never decided on a ticket any of them worked on. */
  readonly actedAs: Set<string> = new Set();
  /** The agent this session acts as, once known (register_agent, or an explicit agent_id). */
  get agentId(): string | undefined {
    return this.#agentId;
  }
  set agentId(id: string | undefined) {
    this.#agentId = id;
    if (id !== undefined) this.actedAs.add(id);
  }
  /** Its capabilities, as registered. */
  capabilities?: string[];
  /**
   * Who this session acts for (see `engine/principals.ts`): the holder of the
   * HTTP token it came with; without tokens, the HTTP session itself (or
   * "anonymous" for stateless requests); none over stdio (a local process,
   * trusted as the CLI is). Agents it registers belong to it; it is recorded
   * in the audit as `via`.
   */
  principal?: string;
  /**
   * Started by `baton run` with an inherited claim: its first tool call is
   * recorded (`Engine.recordAgentCall`), so that the supervisor can tell a
   * session that never reached Baton from one whose work failed.
   */
  inherited?: boolean;
  /** Its first tool call was recorded. */
  called?: boolean;
}

/**
 * The principal of an HTTP session or request.
 * @param holder the holder of the token it came with (none when the server needs no token)
 * @param stateful a 2025-era session (true) or a stateless request
 * @returns the principal
 */
export function httpPrincipal(holder: string | undefined, stateful: boolean): string {
  return holder ?? (stateful ? `session:${crypto.randomUUID()}` : "anonymous");
}

/** Claim tokens by agent and phase, of one session. */
export class ClaimMemory {
  #tokens = new Map<string, Map<number, string>>();
  #current = new Map<string, number>();

  /**
   * Remembers a claim; it becomes the agent's current phase.
   * @param agentId the agent
   * @param phaseId the claimed phase
   * @param token its fencing token
   */
  remember(agentId: string, phaseId: number, token: string): void {
    this.#finished.delete(agentId);
    let m = this.#tokens.get(agentId);
    if (!m) this.#tokens.set(agentId, m = new Map());
    m.set(phaseId, token);
    this.#current.set(agentId, phaseId);
  }

  /**
   * The token of a phase the agent claimed here, if any.
   * @param agentId the agent
   * @param phaseId the phase
   * @returns the token, or undefined
   */
  token(agentId: string, phaseId: number): string | undefined {
    const f = this.#finished.get(agentId);
    return this.#tokens.get(agentId)?.get(phaseId) ?? (f?.phaseId === phaseId ? f.token : undefined);
  }

  /**
   * The phases an agent claimed here and still holds, as far as this memory knows.
   * @param agentId the agent
   * @returns their ids
   */
  held(agentId: string): number[] {
    return [...(this.#tokens.get(agentId)?.keys() ?? [])];
  }

  /**
   * The phase an agent works on: the last one it claimed and still holds
   * here, else the one it finished last (so that a retried `complete_phase`
   * finds it and gets the same answer).
   * @param agentId the agent
   * @returns the phase id, or undefined
   */
  current(agentId: string): number | undefined {
    return this.#current.get(agentId) ?? this.#finished.get(agentId)?.phaseId;
  }

  /** The claim each agent ended last here, kept for retries of the call that ended it. */
  #finished = new Map<string, { phaseId: number; token: string }>();

  /**
   * A claim ended (completed, failed, released, handed to review): no longer
   * held, but its token is kept until the next claim, for a retry.
   * @param agentId the agent
   * @param phaseId the phase
   */
  finish(agentId: string, phaseId: number): void {
    const token = this.token(agentId, phaseId);
    this.forget(agentId, phaseId);
    if (token) this.#finished.set(agentId, { phaseId, token });
  }

  /**
   * Forgets a claim (the phase was completed, failed, released, handed to review).
   * @param agentId the agent
   * @param phaseId the phase
   */
  forget(agentId: string, phaseId: number): void {
    const m = this.#tokens.get(agentId);
    m?.delete(phaseId);
    if (this.#current.get(agentId) === phaseId) {
      const rest = m ? [...m.keys()] : [];
      if (rest.length) this.#current.set(agentId, rest[rest.length - 1]);
      else this.#current.delete(agentId);
    }
    if (m && m.size === 0) this.#tokens.delete(agentId);
  }
}

/** Counts calls in progress so a shutdown can let them finish. */
export class Inflight {
  #n = 0;
  #waiters: (() => void)[] = [];

  /** A call starts. */
  enter(): void {
    this.#n++;
  }

  /** A call ends. */
  leave(): void {
    if (--this.#n === 0) { for (const w of this.#waiters.splice(0)) w(); }
  }

  /** Calls in progress now. */
  get count(): number {
    return this.#n;
  }

  /**
   * Resolves when no call is in progress, or after `timeoutMs`.
   * @param timeoutMs the longest wait
   * @returns true when idle, false on timeout
   */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#n === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}
