/**
 * Why an agent's session ended without finishing its phase, as `baton run`
 * judges it: the agent's work failed (an attempt is counted), its
 * environment failed (it never reached Baton: no attempt, retried at once),
 * or it ran out of quota (a usage or rate limit: no attempt, and its type
 * waits or falls back to another registry entry).
 *
 * @module
 */

/**
 * What the known agent CLIs print when they stop on a usage or rate limit
 * (Claude Code, Codex, Gemini CLI), and the providers' own words for it.
 * An entry's `rate_limit_patterns` adds to these.
 */
export const RATE_LIMIT_PATTERNS: readonly string[] = [
  // Claude Code
  "usage limit reached",
  "claude ai usage limit",
  "rate_limit_error",
  // Codex (its message has a typographic apostrophe: "You’ve hit your usage limit")
  "you[’']ve hit your usage limit",
  "usage_limit_reached",
  "rate_limit_exceeded",
  // Gemini CLI
  "resource_exhausted",
  "quota exceeded",
  "exceeded your current quota",
  // HTTP and generic
  "\\b429\\b.*too many requests",
  "too many requests",
  "rate limit(ed)? (reached|exceeded|hit)",
];

/**
 * The patterns of one registry entry, compiled.
 * @param extra the entry's `rate_limit_patterns`
 * @returns case-insensitive expressions
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateLimitPatterns, rateLimited } from "./exits.ts";
 * const p = rateLimitPatterns(["out of credits"]);
 * assert.equal(rateLimited("Error: Claude AI usage limit reached|1767225600", p), true);
 * assert.equal(rateLimited("You are out of credits", p), true);
 * assert.equal(rateLimited("TypeError: x is undefined", p), false);
 * ```
 */
export function rateLimitPatterns(extra: readonly string[] = []): RegExp[] {
  return [...RATE_LIMIT_PATTERNS, ...extra].map((p) => new RegExp(p, "i"));
}

/**
 * Whether one event of a CLI's JSON stream is an error the CLI reports
 * (Claude Code's `result` with `is_error`, Codex's `error` and
 * `turn.failed`, Gemini CLI's `error` and a `result` whose status is
 * `error`), as opposed to the conversation: the model's words, a tool's
 * result, the ticket's text quoted in them.
 */
function isErrorEvent(e: Record<string, unknown>): boolean {
  // A tool's result, failed or not, is what the tool said (a test run hitting 429 in the app being built).
  if (typeof e.type === "string" && /tool/i.test(e.type)) return false;
  // An error field counts when it says something (`"error": null` on a success is no error).
  if (e.is_error === true || e.status === "error" || (e.error !== undefined && e.error !== null && e.error !== "")) {
    return true;
  }
  return [e.type, e.subtype].some((t) => typeof t === "string" && /error|fail/i.test(t));
}

/**
 * Whether an agent's last output says it stopped on a usage or rate limit.
 * A line that is an event of a CLI's JSON stream counts only when the event
 * is an error the CLI reports: a ticket about "429 Too Many Requests" in a
 * tool's result or in the model's answer is not the agent's own limit.
 * @param output the tail of its stderr and stdout
 * @param patterns from {@link rateLimitPatterns}
 * @returns true when one matches
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateLimitPatterns, rateLimited } from "./exits.ts";
 * const p = rateLimitPatterns();
 * const quoted = JSON.stringify({ type: "user", message: { content: "Fix: 429 Too Many Requests" } });
 * assert.equal(rateLimited(quoted, p), false);
 * assert.equal(rateLimited(JSON.stringify({ type: "error", message: "You’ve hit your usage limit." }), p), true);
 * ```
 */
export function rateLimited(output: string, patterns: readonly RegExp[]): boolean {
  return rateLimitLine(output, patterns) !== null;
}

/**
 * The line of an agent's output that says it stopped on a usage or rate
 * limit (see {@link rateLimited}), or null.
 * @param output the tail of its stderr and stdout
 * @param patterns from {@link rateLimitPatterns}
 * @returns the line
 */
export function rateLimitLine(output: string, patterns: readonly RegExp[]): string | null {
  const line = output.split("\n").find((l) => isCliWords(l) && patterns.some((p) => p.test(l)));
  return line === undefined ? null : wordsOf(line);
}

/** What a line says: an error event's message (its text, not its JSON), or the line. */
function wordsOf(line: string): string {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(line);
  } catch {
    return line.trim();
  }
  const err = e.error as Record<string, unknown> | string | undefined;
  const msg = e.message as Record<string, unknown> | string | undefined;
  const said = [
    e.result,
    typeof msg === "string" ? msg : (msg?.content as { text?: unknown }[] | undefined)?.[0]?.text,
    typeof err === "string" ? err : err?.message,
  ].find((x) => typeof x === "string" && x.trim());
  return typeof said === "string" ? said.trim() : line.trim();
}

/** Whether a line is the CLI's own words: plain text, or an event of its JSON stream that is an error it reports. */
function isCliWords(line: string): boolean {
  const t = line.trim();
  if (!t.startsWith("{")) return true;
  try {
    const v = JSON.parse(t);
    return !(v && typeof v === "object" && !Array.isArray(v)) || isErrorEvent(v);
  } catch {
    // An event cut short (a long line is kept by its start): its top-level fields before the cut.
    return isErrorEvent(topLevelFields(t));
  }
}

/**
 * The top-level fields of a JSON object's text, as far as it goes (a line
 * cut short): strings, numbers, booleans and null as they are, an object or
 * array as `{}` (present, not read).
 */
function topLevelFields(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const token = /"(?:[^"\\]|\\.)*"|[{}[\]:,]|[^\s{}[\]:,"]+/g;
  let depth = 0, key: string | null = null, expectValue = false;
  for (let m = token.exec(text); m; m = token.exec(text)) {
    const tok = m[0];
    if (tok === "{" || tok === "[") {
      if (depth === 1 && expectValue && key !== null) out[key] = {};
      depth++;
      expectValue = false;
    } else if (tok === "}" || tok === "]") depth--;
    else if (tok === ":") expectValue = depth === 1;
    else if (tok === ",") key = null;
    else if (depth === 1) {
      let value: unknown;
      try {
        value = JSON.parse(tok);
      } catch {
        continue; // a string or literal the cut split
      }
      if (expectValue && key !== null) out[key] = value;
      else if (typeof value === "string") key = value;
      expectValue = false;
    }
  }
  return out;
}

/** How a session that ended still holding its phase is treated. */
export type ExitKind =
  /** The supervisor stopped it (a second Ctrl-C): the phase is released. */
  | "stopped"
  /** Out of quota: released without an attempt; the type waits, or its fallback runs next. */
  | "rate_limited"
  /** Never reached Baton: released without an attempt and retried at once (a bounded number of times). */
  | "environment"
  /** The work failed (or timed out, or stalled): an attempt is counted. */
  | "work";

/**
 * Judges a session that ended while still holding its phase.
 * @param s what the supervisor knows of it
 * @returns how to treat it
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyExit, rateLimitPatterns } from "./exits.ts";
 * const patterns = rateLimitPatterns();
 * assert.equal(classifyExit({ output: "command not found", reachedBaton: false, patterns }), "environment");
 * assert.equal(classifyExit({ output: "TypeError", reachedBaton: true, patterns }), "work");
 * assert.equal(classifyExit({ output: "429 Too Many Requests", reachedBaton: true, patterns }), "rate_limited");
 * ```
 */
export function classifyExit(
  s: { endedBy?: string; output: string; reachedBaton: boolean; patterns: readonly RegExp[] },
): ExitKind {
  if (s.endedBy === "stopped") return "stopped";
  if (s.endedBy === "timed out" || s.endedBy === "stalled") return "work";
  if (rateLimited(s.output, s.patterns)) return "rate_limited";
  return s.reachedBaton ? "work" : "environment";
}
