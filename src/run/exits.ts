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
  // Codex
  "you've hit your usage limit",
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
 * Whether an agent's last output says it stopped on a usage or rate limit.
 * @param output the tail of its stderr and stdout
 * @param patterns from {@link rateLimitPatterns}
 * @returns true when one matches
 */
export function rateLimited(output: string, patterns: readonly RegExp[]): boolean {
  return patterns.some((p) => p.test(output));
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
