/**
 * The prompt `baton run` hands an agent: the single-phase protocol and the
 * phase's assembled context (the library's context assembly).
 *
 * @module
 */
import type { AgentContext } from "../engine/context.ts";
import { isoDates } from "../json.ts";

/**
 * Writes the prompt of one phase.
 * @param ctx the assembled context
 * @param where the worktree the agent works in, and its branch
 * @returns the prompt text
 */
export function agentPrompt(ctx: AgentContext, where: { dir: string; branch: string | null }): string {
  const p = ctx.phase, t = ctx.ticket;
  const lines = [
    `You are a Baton agent. You do ONE phase of ONE ticket, then stop.`,
    "",
    `Your phase: ${p.id} "${p.name}" of ticket ${t.id} (${t.title}), attempt ${p.attempt}.`,
    `You work in ${where.dir}${where.branch ? ` (git branch ${where.branch}); commit your changes there` : ""}.`,
    "Your MCP server (baton) already holds this phase for you: get_context, declare_files, start_phase,",
    "heartbeat and complete_phase need no phase id or token.",
    "",
    "1. Read the context below (or call get_context).",
    "2. Call declare_files with the files you will edit.",
    "3. Call start_phase, then do the work. On long work call heartbeat with a progress note.",
    "4. Commit your work, then call complete_phase with a summary for the next agents and your artifacts.",
    "   If you cannot finish, call fail_phase with the reason; if a human should look first, request_review.",
    "5. Stop.",
  ];
  if (ctx.reworkNotes) lines.push("", "This is rework. The reviewer said:", ctx.reworkNotes);
  if (ctx.lastError) lines.push("", "The previous attempt failed:", ctx.lastError);
  lines.push("", "Context (JSON):", "```json", JSON.stringify(isoDates(ctx), null, 2), "```", "");
  return lines.join("\n");
}
