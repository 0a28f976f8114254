/**
 * What an agent did, read from the event stream its CLI writes to stdout
 * (and so to its `baton run` log): Claude Code's `--output-format
 * stream-json`, Codex's `exec --json`, Gemini CLI's `--output-format
 * stream-json`. Lines that are not one of those events are skipped, so any
 * log can be read.
 *
 * @module
 */

/** One tool call an agent made. */
export interface AgentToolCall {
  /** The tool, as the agent named it: `Bash`, `Write`, or `baton.get_context` for an MCP tool. */
  tool: string;
  /** What it was called on, shortened: a command, a file, or the arguments. */
  detail: string;
  /** When, if the CLI said (ISO time). */
  at: string | null;
}

const DETAIL_CHARS = 120;

function short(s: string): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > DETAIL_CHARS ? one.slice(0, DETAIL_CHARS - 1) + "…" : one;
}

/** `mcp__baton__get_context` (Claude Code), `mcp_baton_get_context` (Gemini CLI) → `baton.get_context`. */
function toolName(name: string): string {
  const claude = /^mcp__([^_]+(?:_[^_]+)*?)__(.+)$/.exec(name);
  if (claude) return `${claude[1]}.${claude[2]}`;
  const gemini = /^mcp_([a-z0-9-]+)_(.+)$/i.exec(name);
  if (gemini) return `${gemini[1]}.${gemini[2]}`;
  return name;
}

/** The one thing worth showing of a call's input. */
function detailOf(input: unknown): string {
  if (!input || typeof input !== "object") return "";
  const o = input as Record<string, unknown>;
  for (const key of ["command", "file_path", "path", "pattern", "url", "summary", "progress"]) {
    if (typeof o[key] === "string") return short(o[key] as string);
  }
  const rest = Object.fromEntries(Object.entries(o).filter(([k]) => k !== "wait_for_previous" && k !== "content"));
  return Object.keys(rest).length ? short(JSON.stringify(rest)) : "";
}

/** The calls one event line carries (Claude Code puts several in one message). */
function callsOf(event: Record<string, unknown>): AgentToolCall[] {
  const at = typeof event.timestamp === "string" ? event.timestamp : null;
  // Claude Code: {"type":"assistant","message":{"content":[{"type":"tool_use","name","input"}]}}
  if (event.type === "assistant" && event.message && typeof event.message === "object") {
    const content = (event.message as { content?: unknown }).content;
    if (!Array.isArray(content)) return [];
    return content.filter((c) => c?.type === "tool_use" && typeof c.name === "string")
      .map((c) => ({ tool: toolName(c.name), detail: detailOf(c.input), at }));
  }
  // Gemini CLI: {"type":"tool_use","tool_name","parameters","timestamp"}
  if (event.type === "tool_use" && typeof event.tool_name === "string") {
    return [{ tool: toolName(event.tool_name), detail: detailOf(event.parameters), at }];
  }
  // Codex: {"type":"item.started","item":{"type":"mcp_tool_call"|"command_execution"|"file_change",…}}
  if (event.type === "item.started" && event.item && typeof event.item === "object") {
    const item = event.item as Record<string, unknown>;
    if (item.type === "mcp_tool_call" && typeof item.tool === "string") {
      return [{ tool: `${item.server ?? "mcp"}.${item.tool}`, detail: detailOf(item.arguments), at }];
    }
    if (item.type === "command_execution" && typeof item.command === "string") {
      return [{ tool: "shell", detail: short(item.command), at }];
    }
    if (item.type === "file_change" && Array.isArray(item.changes)) {
      const paths = item.changes.map((c: { path?: string; kind?: string }) => `${c.kind ?? "edit"} ${c.path ?? "?"}`);
      return [{ tool: "edit", detail: short(paths.join(", ")), at }];
    }
  }
  return [];
}

/**
 * The last tool calls in an agent's output.
 *
 * @param text the log (or its tail: a first line cut in the middle is skipped)
 * @param max how many to keep, the most recent last
 * @returns the calls, oldest first
 * @throws nothing: lines that are not events are skipped
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { agentToolCalls } from "./stream_events.ts";
 * const log = 'starting\n{"type":"tool_use","tool_name":"run_shell_command","parameters":{"command":"git commit -q"}}\n';
 * assert.deepEqual(agentToolCalls(log), [{ tool: "run_shell_command", detail: "git commit -q", at: null }]);
 * ```
 */
export function agentToolCalls(text: string, max = 5): AgentToolCall[] {
  const out: AgentToolCall[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    if (event && typeof event === "object") out.push(...callsOf(event as Record<string, unknown>));
  }
  return out.slice(-max);
}
