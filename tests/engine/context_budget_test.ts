/**
 * The agent context stays within its byte budget whatever its parts weigh
 * (issue 21's stop 31 left this noticed: the last error and the reviewer's
 * notes were never cut, and each may hold 64 KB against a budget of 20 KB).
 * A property over random contexts, and the case an agent meets: a phase
 * retried after a failure that recorded a long log.
 */
import assert from "node:assert/strict";
import { type AgentContext, fitToBudget } from "../../src/engine/context.ts";
import { engineFor } from "../helpers/repo.ts";

const enc = new TextEncoder();
const size = (x: unknown) => enc.encode(JSON.stringify(x)).length;

let seed = 21;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const LINES = [
  "ok 12 - claims",
  'error: expected "a" but got "b"',
  "\tat run (C:\\src\\x.ts:3)",
  "ünï — 日本 ✓",
  "",
  // Long lines of 3- and 4-byte characters: a cut measured in UTF-16 units instead of bytes kept almost nothing.
  "テストが失敗しました。".repeat(40),
  "😀🚀".repeat(120),
];
/** Text of about `n` bytes, in lines of what JSON escapes. */
function text(n: number, tag: string): string {
  const out = [`${tag} start`];
  for (let b = 0; b < n;) {
    const l = LINES[Math.floor(rand() * LINES.length)];
    out.push(l);
    b += enc.encode(l).length + 1;
  }
  out.push(`${tag} end`);
  return out.join("\n");
}
const sometimes = (n: number, tag: string) => rand() < 0.25 ? null : text(Math.floor(rand() * n), tag);

function randomContext(budget: number): AgentContext {
  return {
    phase: {
      id: 7,
      name: "Implementation",
      agentType: "implementer",
      status: "claimed",
      attempt: 2,
      description: "Write it.",
      heldBy: "impl-1",
    },
    ticket: { id: "0083", title: "Cache", priority: "High", path: "tickets/0083.md", metadata: { component: "db" } },
    reworkNotes: sometimes(64 * 1024, "notes"),
    lastError: sometimes(64 * 1024, "error"),
    previousPhases: Array.from({ length: Math.floor(rand() * 4) }, (_, i) => ({
      name: `P${i}`,
      status: "completed",
      summary: sometimes(64 * 1024, `summary${i}`),
      artifacts: [],
    })),
    openDependencies: [],
    overlaps: [],
    markdown: rand() < 0.3
      ? null
      : { path: "tickets/0083.md", content: text(Math.floor(rand() * 100_000), "md"), truncated: false },
    files: Array.from({ length: Math.floor(rand() * 3) }, (_, i) => ({
      path: `F${i}.md`,
      content: text(Math.floor(rand() * 30_000), `file${i}`),
      truncated: false,
    })),
    trimmed: [],
    bytes: 0,
    budgetBytes: budget,
  };
}

Deno.test("context property: within budget, the size exact, every cut part the start of what it was (the last error its end), and said", () => {
  for (let i = 0; i < 200; i++) {
    const budget = [4_000, 20_000, 60_000][i % 3];
    const ctx = randomContext(budget);
    const before = structuredClone(ctx);
    fitToBudget(ctx);
    const why = `case ${i}, budget ${budget}: ${ctx.trimmed.join("; ")}`;
    assert.equal(size(ctx), ctx.bytes, why);
    assert.ok(ctx.bytes <= budget, `${ctx.bytes} bytes, ${why}`);
    // What is kept of each text is what an agent can trust: the notes' start, the error's end (the failure is last).
    if (before.reworkNotes !== null) assert.ok(before.reworkNotes.startsWith(ctx.reworkNotes ?? ""), why);
    if (before.lastError !== null) assert.ok(before.lastError.endsWith(ctx.lastError ?? ""), why);
    if (before.markdown && ctx.markdown) assert.ok(before.markdown.content.startsWith(ctx.markdown.content), why);
    if (ctx.lastError !== before.lastError) assert.ok(ctx.trimmed.some((t) => t.startsWith("last error (")), why);
    if (ctx.reworkNotes !== before.reworkNotes) assert.ok(ctx.trimmed.some((t) => t.startsWith("rework notes (")), why);
    // A cut leaves the context full: each part is cut to its room, and a cut at a line's end gives up at most half of it.
    if (ctx.trimmed.length > 0) assert.ok(ctx.bytes >= budget / 2, `only ${ctx.bytes} bytes used, ${why}`);
    // Cut in order: the reviewer's notes only once everything else that may be cut is gone.
    if (ctx.reworkNotes !== before.reworkNotes) {
      assert.ok(!ctx.lastError, why);
      assert.equal(ctx.files.length + ctx.previousPhases.length, 0, why);
      assert.ok(ctx.markdown === null || ctx.markdown.content === "", why);
    }
  }
});

Deno.test("context: a phase retried after a failure with a long log gets the log's end within the budget", async () => {
  const { engine } = await engineFor({
    phases: "phases:\n  - {name: Build, agent_type: builder}\n",
    config: "retry:\n  backoff_seconds: 0\ncontext:\n  budget_bytes: 20000\n",
  });
  engine.upsertTicket({ id: "0001", title: "Build" });
  const first = engine.claimNext({ agentId: "b-1", capabilities: ["builder"] })!;
  const log = text(60_000, "log") + "\nFAILED: 3 tests (see above)";
  engine.fail(first.phase.id, { agentId: "b-1", token: first.token, error: log });
  engine.claimNext({ agentId: "b-2", capabilities: ["builder"] })!;
  const ctx = engine.context({ agentId: "b-2" });
  assert.equal(size(ctx), ctx.bytes);
  assert.ok(ctx.bytes <= 20000, `${ctx.bytes} bytes`);
  assert.ok(ctx.lastError!.endsWith("FAILED: 3 tests (see above)"), "the failure itself is kept");
  assert.ok(enc.encode(ctx.lastError!).length > 10_000, "most of the budget goes to the log");
  assert.ok(
    ctx.trimmed.some((t) =>
      new RegExp(`^last error \\(cut to \\d+ of ${enc.encode(log).length} bytes, its end kept\\)$`).test(t)
    ),
    ctx.trimmed.join("; "),
  );
  engine.close();
});

Deno.test("context: a last error of emoji and CJK without a line break for a long stretch keeps most of its room", () => {
  for (const unit of ["😀", "日本語", "é"]) {
    const error = `${unit.repeat(9000)}\nFAILED`;
    const ctx = randomContext(20_000);
    Object.assign(ctx, { lastError: error, reworkNotes: null, previousPhases: [], markdown: null, files: [] });
    fitToBudget(ctx);
    assert.ok(ctx.bytes <= 20_000, `${unit}: ${ctx.bytes}`);
    assert.ok(error.endsWith(ctx.lastError!), unit);
    assert.ok(enc.encode(ctx.lastError!).length > 10_000, `${unit}: ${enc.encode(ctx.lastError!).length} bytes kept`);
  }
});

Deno.test("baton run's prompt still says a phase is rework, or retried, when the budget left no room for the words", async () => {
  const { agentPrompt } = await import("../../src/run/prompt.ts");
  const ctx = randomContext(1_000);
  Object.assign(ctx, { reworkNotes: "Rename the flag.", lastError: text(5_000, "error"), markdown: null, files: [] });
  Object.assign(ctx, { previousPhases: [] });
  // What is never cut (the phase, the ticket and its metadata) leaves the error no room at all.
  ctx.ticket.metadata.notes = "x".repeat(1_000 - size({ ...ctx, lastError: "", bytes: 1_000 }) - 40);
  fitToBudget(ctx);
  assert.equal(ctx.lastError, "", ctx.trimmed.join("; "));
  assert.ok(ctx.trimmed.includes("last error (removed)"));
  const prompt = agentPrompt(ctx, { dir: "/w", branch: null });
  assert.match(prompt, /The previous attempt failed:\n\(cut to fit the context's budget\)/);
  assert.match(prompt, /This is rework\. The reviewer said:\nRename the flag\./);
});
