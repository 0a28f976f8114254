/**
 * The agent protocol, in words, in one place: what an agent session does
 * with Baton's tools, from claiming one phase to stopping. The MCP server's
 * instructions, its `work_on_next_phase` prompt and the prompt `baton run`
 * hands an agent are all written from here, so the three never disagree.
 *
 * @module
 */

/** The rule every session follows. */
export const ONE_PHASE = "You do ONE phase of ONE ticket, then stop.";

/** What the steps are written for. */
export interface ProtocolOptions {
  /**
   * The session already holds its phase (started by `baton run`, or a
   * session that resumed a claim): no registering or claiming, and the
   * tools need no phase id or token.
   */
  claimed: boolean;
  /** How to register (e.g. `register_agent with capabilities ["designer"]`), for a session that claims itself. */
  register?: string;
  /** The worktree and branch the agent works in, when it has one. */
  worktree?: { dir: string; branch: string | null };
}

/**
 * The protocol's numbered steps.
 * @param o whether the session holds its phase already, how to register, where it works
 * @returns one line per step
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { protocolSteps } from "./protocol.ts";
 * const steps = protocolSteps({ claimed: true });
 * assert.match(steps[0], /^1\. /);
 * assert.match(steps.at(-1)!, /Stop/);
 * ```
 */
export function protocolSteps(o: ProtocolOptions): string[] {
  const steps: string[] = [];
  if (!o.claimed) {
    steps.push(
      `Call ${o.register ?? "register_agent with your capabilities (the agent types you can do)"}.`,
      "Call claim_phase. If it answers nothing_to_claim, stop: there is no work for you now.",
    );
  }
  steps.push(
    "Call get_context and read it: the phase and what it expects, the ticket, the reviewer's notes when this is rework, earlier phases' summaries and artifacts, overlapping work of other agents.",
    "Call declare_files with the files or globs you expect to edit. If others' declarations overlap, keep your changes narrow, or release_phase.",
    "Call start_phase, then do the work. On long work call heartbeat with a progress note every few minutes so your claim is not taken back.",
  );
  if (o.worktree) {
    steps.push(
      `Commit your work in ${o.worktree.dir}${o.worktree.branch ? ` (git branch ${o.worktree.branch})` : ""}.`,
    );
  }
  steps.push(
    "Finish with exactly one of: complete_phase (a summary for the next agents and the artifacts you produced); request_review (a human should look first); fail_phase (the error, when you cannot finish); release_phase (the phase is not for you).",
    "Stop. Do not claim another phase in this session.",
  );
  return steps.map((s, i) => `${i + 1}. ${s}`);
}

/**
 * What an MCP server tells every client at `initialize`.
 * @returns the instructions text
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverInstructions } from "./protocol.ts";
 * assert.match(serverInstructions(), /ONE phase/);
 * ```
 */
export function serverInstructions(): string {
  return [
    "Baton hands out the phases of a repository's tickets to agents, one holder per phase, with humans deciding the gates.",
    `Agent protocol: ${ONE_PHASE}`,
    ...protocolSteps({ claimed: false }),
    "The session remembers your agent id and claim token: phase_id, agent_id and token are optional (over stateless HTTP, pass all three).",
  ].join("\n");
}
