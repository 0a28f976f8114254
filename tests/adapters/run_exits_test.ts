/**
 * How `baton run` tells an agent's own usage or rate limit from a ticket
 * that talks about rate limits. The CLIs' error events are as the real
 * programs print them (Claude Code 2.1.332 `result`, Codex 0.171.0 `error`
 * and `turn.failed`, captured against a model server answering 429); the
 * conversation events carry a ticket's words, in every CLI's shape, whole
 * or cut as the supervisor's tail cuts long lines.
 */
import assert from "node:assert/strict";
import { classifyExit, rateLimited, rateLimitPatterns } from "../../src/run/exits.ts";
import { mulberry32 } from "../helpers/prng.ts";

const patterns = rateLimitPatterns();

/** What the CLIs print when the provider refuses for a limit (one event each). */
const LIMIT_EVENTS = [
  {
    type: "result",
    subtype: "success",
    is_error: true,
    api_error_status: 429,
    api_error_type: "rate_limit_error",
    result: "API Error: Request rejected (429) · This request would exceed your account's rate limit.",
  },
  {
    type: "error",
    message: "You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro) or try again later.",
  },
  { type: "turn.failed", error: { message: "You’ve hit your usage limit. Try again later." } },
  { type: "error", severity: "error", message: "[API Error: 429 RESOURCE_EXHAUSTED: Quota exceeded]" },
].map((e) => JSON.stringify(e));

/** A ticket's words about rate limits (what a backlog of an API project says). */
const TICKET_WORDS = [
  "API returns 429 Too Many Requests when a client exceeds its quota",
  "Handle rate_limit_error from the Anthropic API with a retry",
  "Show 'usage limit reached' to the user; Quota exceeded banner",
  "Map RESOURCE_EXHAUSTED to HTTP 429",
  "Log when the rate limit is exceeded; too many requests per IP",
  "You’ve hit your usage limit: copy for the billing page",
];

/** The conversation's events, in each CLI's shape, carrying some text (the model's, a tool's). */
const CONVERSATION: ((text: string) => unknown)[] = [
  // Claude Code: a tool's result (get_context returns the ticket), the model's answer, the final result.
  (t) => ({
    type: "user",
    message: { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: t }] },
  }),
  (t) => ({
    type: "user",
    message: { content: [{ type: "tool_result", is_error: true, content: `curl: ${t}` }] },
  }),
  (t) => ({ type: "assistant", message: { content: [{ type: "text", text: `I cannot finish: ${t}` }] } }),
  (t) => ({ type: "result", subtype: "success", is_error: false, result: t }),
  // Codex: the model's message, a command's output.
  (t) => ({ type: "item.completed", item: { id: "item_3", type: "agent_message", text: t } }),
  (t) => ({
    type: "item.completed",
    item: { type: "command_execution", command: "npm test", aggregated_output: t, exit_code: 1, status: "failed" },
  }),
  // Gemini CLI: a message, a failed tool's result.
  (t) => ({ type: "message", role: "assistant", content: t, delta: true }),
  (t) => ({ type: "tool_result", tool_id: "run_shell_command-1", status: "error", output: t }),
  // Any CLI's final event whose error field is there but empty.
  (t) => ({ type: "result", status: "success", error: null, response: t }),
  (t) => ({ type: "result", subtype: "success", is_error: false, error: "", result: t }),
];

/** The supervisor keeps a line's first 4,000 characters (`agent_process.ts`). */
const cut = (line: string) => (line.length > 4_000 ? `${line.slice(0, 4_000)} […]` : line);

Deno.test("run exits: a ticket's words about rate limits, in any CLI's conversation event, whole or cut, are never the agent's limit", () => {
  const rng = mulberry32(21);
  for (let i = 0; i < 400; i++) {
    const words = TICKET_WORDS[Math.floor(rng() * TICKET_WORDS.length)];
    const event = CONVERSATION[Math.floor(rng() * CONVERSATION.length)];
    // The words at the start, or deep in a long body (a cut line keeps only its start).
    const padding = "ticket body ".repeat(Math.floor(rng() * 400));
    const text = rng() < 0.5 ? `${words}\n${padding}` : `${padding}${words}`;
    const output = [JSON.stringify({ type: "system", subtype: "init" }), cut(JSON.stringify(event(text)))].join("\n");
    assert.equal(rateLimited(output, patterns), false, output.slice(0, 300));
    assert.equal(classifyExit({ output, reachedBaton: true, patterns }), "work");
  }
});

Deno.test("run exits: the CLIs' own limit events are the agent's limit, after any conversation, whole or cut", () => {
  for (const limit of LIMIT_EVENTS) {
    for (const event of CONVERSATION) {
      const output = [cut(JSON.stringify(event("working on it"))), cut(limit)].join("\n");
      assert.equal(classifyExit({ output, reachedBaton: true, patterns }), "rate_limited", limit);
    }
    const long = JSON.stringify({ ...JSON.parse(limit), padding: "x".repeat(5_000) });
    assert.equal(rateLimited(cut(long), patterns), true, `cut: ${limit}`);
  }
  // Plain text on stderr is the CLI's own words.
  assert.equal(rateLimited("Error: Claude AI usage limit reached|1767225600", patterns), true);
});
