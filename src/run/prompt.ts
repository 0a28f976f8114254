/**
 * The prompt `baton run` hands an agent: the single-phase protocol and the
 * phase's assembled context (the library's context assembly).
 *
 * @module
 */
import type { AgentContext } from "../engine/context.ts";
import { isoDates } from "../json.ts";
import { ONE_PHASE, protocolSteps } from "../engine/protocol.ts";

/**
 * Writes the prompt of one phase.
 * @param ctx the assembled context
 * @param where the worktree the agent works in, and its branch
 * @param claim the agent id and claim token, for a session whose MCP server did not inherit them
 * @returns the prompt text
 */
export function agentPrompt(
  ctx: AgentContext,
  where: { dir: string; branch: string | null },
  claim?: { agentId: string; token: string },
): string {
  const p = ctx.phase, t = ctx.ticket;
  const lines = [
    `You are a Baton agent. ${ONE_PHASE}`,
    "",
    `Your phase: ${p.id} "${p.name}" of ticket ${t.id} (${t.title}), attempt ${p.attempt}.`,
    "Your MCP server (baton) already holds this phase for you: its tools need no phase id or token.",
    ...(claim
      ? [
        `If a Baton tool answers that you hold no phase, pass agent_id "${claim.agentId}", phase_id ${p.id} and token "${claim.token}".`,
      ]
      : []),
    "The context is below (get_context returns it too).",
    "",
    ...protocolSteps({ claimed: true, worktree: where }),
  ];
  // Said even when the context's budget left no room for the words themselves ("" then, and `trimmed` says so).
  const words = (text: string, label: string) =>
    text || (ctx.trimmed.includes(`${label} (removed)`) ? "(cut to fit the context's budget)" : "(nothing written)");
  if (ctx.reworkNotes !== null) {
    lines.push("", "This is rework. The reviewer said:", words(ctx.reworkNotes, "rework notes"));
  }
  if (ctx.lastError !== null) lines.push("", "The previous attempt failed:", words(ctx.lastError, "last error"));
  lines.push("", "Context (JSON):", "```json", JSON.stringify(isoDates(ctx), null, 2), "```", "");
  return lines.join("\n");
}
