/**
 * The MCP prompts of the Baton server: `work_on_next_phase`, the
 * single-phase agent protocol, with the assembled context when the
 * session's agent already holds a phase; and `review_gate`, what a human
 * needs to decide a gate.
 *
 * @module
 */
import * as v from "valibot";
import { completable, type GetPromptResult, type McpServer } from "@modelcontextprotocol/server";
import { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import type { AgentContext } from "../engine/context.ts";
import { isoDates } from "../json.ts";
import { ONE_PHASE, protocolSteps } from "../engine/protocol.ts";
import type { ToolContext } from "./context.ts";
import { guard } from "./guard.ts";
import { schema } from "./schemas.ts";

/** The text of `work_on_next_phase`. */
function workOnNextPhase(ctx: ToolContext, args: { agent_id?: string; capabilities?: string }): GetPromptResult {
  const { engine, claims } = ctx;

  const agent = ctx.knownAgent(args.agent_id || undefined);
  const caps = args.capabilities?.split(",").map((s) => s.trim()).filter(Boolean) ?? ctx.session.capabilities;
  let context: AgentContext | null = null;
  if (agent) {
    const cur = claims.current(agent);
    try {
      context = engine.context(cur !== undefined ? { phaseId: cur } : { agentId: agent });
    } catch (e) {
      if (!(e instanceof BatonError && e.code === "not_found")) throw e;
    }
  }
  const withWhat = [
    agent ? `agent_id "${agent}"` : "",
    caps?.length ? `capabilities ${JSON.stringify(caps)}` : "capabilities (the agent types you can do)",
  ].filter(Boolean);
  const reg = `register_agent with ${withWhat.join(" and ")}`;
  const steps = [
    `You are an agent of Baton, which coordinates many agents on this repository's backlog. ${ONE_PHASE}`,
    "",
  ];
  if (context) {
    steps.push(
      `You already hold phase ${context.phase.id} ("${context.phase.name}" of ticket ${context.ticket.id}, ${context.phase.status}). Its assembled context is below.`,
      "",
    );
  }
  steps.push(...protocolSteps({ claimed: context !== null, register: reg }));
  if (context) {
    steps.push("", "Context of your phase (JSON):", "```json", JSON.stringify(isoDates(context), null, 2), "```");
  }
  return {
    description: context ? `Continue phase ${context.phase.id}` : "Claim and do one phase",
    messages: [{ role: "user", content: { type: "text", text: steps.join("\n") } }],
  };
}

/** The text of `review_gate`. */
function reviewGate(engine: Engine, gateId: number): GetPromptResult {
  const gate = engine.gate(gateId);
  const t = engine.ticket(gate.ticketId);
  const gated = t.phases.find((p) => p.id === gate.phaseId)!;
  const ctxt = engine.context({ phaseId: gate.phaseId });
  const work = gate.kind === "review"
    ? [gated]
    : t.phases.filter((p) => p.seq < gated.seq && p.status === "completed" && p.agentType !== null);
  const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : "-");
  const lines = [
    `# Gate ${gate.id}: ${gate.phaseName} of ticket ${t.id} — ${t.title}`,
    "",
    `- Kind: ${gate.kind === "review" ? `review requested by ${gate.requestedBy}` : "workflow gate"}`,
    `- Status: ${gate.status}${
      gate.status === "open" ? `, open since ${iso(gate.openedAt)}` : `, decided by ${gate.decidedBy}`
    }`,
    `- Revision: ${gate.revision} (rejections so far; at most ${engine.cfg.config.gates.max_revisions} before it escalates)`,
    `- Ticket priority: ${t.priority ?? "-"}; metadata: ${JSON.stringify(t.metadata)}`,
  ];
  if (gate.summary) lines.push("", "## Summary from the agent", "", gate.summary);
  lines.push("", "## Work to review", "");
  if (!work.length) lines.push("(no agent work before this gate)");
  for (const p of work) {
    lines.push(
      `### ${p.name} (${p.status}${p.claimedBy ? `, by ${p.claimedBy}` : ""}, attempt ${p.attempts}, completed ${
        iso(p.completedAt)
      })`,
      "",
      p.resultSummary ?? "(no summary)",
      "",
      `Artifacts: ${p.artifacts.length ? p.artifacts.join(", ") : "none"}`,
      "",
    );
  }
  const earlier = t.gates.filter((g) => g.phaseId === gate.phaseId && g.id !== gate.id && g.status !== "open");
  if (earlier.length) {
    lines.push("## Earlier decisions on this phase", "");
    for (const g of earlier) {
      lines.push(
        `- Gate ${g.id}: ${g.status} by ${g.decidedBy} at ${iso(g.decidedAt)}: ${g.notes ?? "(no notes)"}`,
      );
    }
    lines.push("");
  }
  if (ctxt.markdown) {
    lines.push(`## Ticket (${ctxt.markdown.path}${ctxt.markdown.truncated ? ", truncated" : ""})`, "");
    lines.push(ctxt.markdown.content, "");
  }
  lines.push(
    "## Decide",
    "",
    `Approve: \`baton approve ${gate.id} --notes "…"\`. Request changes: \`baton reject ${gate.id} --notes "what to change"\` (the work goes back to the agents with your notes).`,
  );
  if (engine.cfg.config.gates.allow_agents) {
    lines.push(
      "",
      `(Agents may decide gates here: the approve_gate and reject_gate tools take gate_id ${gate.id}.)`,
    );
  }
  return {
    description: `Gate ${gate.id}: ${gate.phaseName} of ticket ${t.id}`,
    messages: [{ role: "user", content: { type: "text", text: lines.join("\n") } }],
  };
}

/**
 * Registers the prompts.
 * @param mcp the server
 * @param ctx the engine and session state
 */
export function registerPrompts(mcp: McpServer, ctx: ToolContext): void {
  const { engine } = ctx;
  const starting = (xs: string[], prefix: string) => xs.filter((x) => x.startsWith(prefix));
  mcp.registerPrompt("work_on_next_phase", {
    title: "Work on the next phase",
    description:
      "The single-phase agent protocol: register, claim, declare files, start, work, complete or fail, stop. Includes the phase's context when you already hold one.",
    argsSchema: withCompletions(
      v.object({
        agent_id: v.optional(v.pipe(v.string(), v.description("your agent id (default: this session's)"))),
        capabilities: v.optional(v.pipe(v.string(), v.description("comma-separated agent types, e.g. implementer"))),
      }),
      {
        agent_id: (value) => starting(engine.agents().map((a) => a.id), value),
        capabilities: (value) => {
          // Completes the last of the comma-separated types.
          const parts = value.split(",");
          const last = parts.pop()!.trimStart();
          const head = parts.length ? `${parts.join(",")},` : "";
          return starting(engine.agentTypes().map((t) => t.type), last).map((t) => head + t);
        },
      },
    ),
  }, (args): GetPromptResult => workOnNextPhase(ctx, args));

  mcp.registerPrompt("review_gate", {
    title: "Review a gate",
    description:
      "For a human deciding a gate: the gated phase, the work to review (summaries, artifacts, who did it), earlier decisions and notes, and how to approve or reject.",
    argsSchema: withCompletions(
      v.object({ gate_id: v.pipe(v.string(), v.regex(/^\d+$/), v.description("the gate's id")) }),
      { gate_id: (value) => starting(engine.gates().map((g) => String(g.id)), value) },
    ),
  }, (args): GetPromptResult => guard(`gate:${args.gate_id}`, () => reviewGate(ctx.engine, Number(args.gate_id))));
}

/**
 * A prompt's argument schema with completions: the SDK looks for the
 * arguments under `shape`, each marked `completable` with its completer.
 */
function withCompletions<S extends v.ObjectSchema<v.ObjectEntries, undefined>>(
  s: S,
  completers: Record<string, (value: string) => string[]>,
): ReturnType<typeof schema<S>> {
  const wrapped = schema(s) as ReturnType<typeof schema<S>> & { shape?: Record<string, unknown> };
  wrapped.shape = Object.fromEntries(
    Object.keys(s.entries).map((name) => [
      name,
      completers[name]
        ? completable(schema(v.string()), (value: string) => completers[name](value ?? ""))
        : schema(v.string()),
    ]),
  );
  return wrapped;
}
