// deno-lint-ignore-file no-explicit-any
/**
 * The live view of agents (issue 22): the tool calls each agent CLI reports
 * in its event stream, read from its `baton run` log. The fixtures are logs
 * that `baton run` wrote for the real CLIs (Claude Code 2.1.332
 * `--output-format stream-json`, Codex 0.171.0 `exec --json`, Gemini CLI
 * 0.61.0 `--output-format stream-json`) in tests/agents/, each doing one
 * phase: context, start, write a file, commit, complete. The dashboard's
 * Agents page shows the last calls of every agent holding work.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { agentToolCalls } from "../../src/agents/stream_events.ts";
import { ensureLogsDir, logBase, logsDir } from "../../src/repo/agent_logs.ts";
import { launch } from "../helpers/browser.ts";
import { skipHeavy } from "../helpers/heavy.ts";
import { tempRepo } from "../helpers/repo.ts";
import { serve } from "../helpers/serve.ts";

declare const document: any;

const FIXTURES = new URL("../fixtures/agent_streams/", import.meta.url).pathname;
const fixture = (cli: string) => Deno.readTextFileSync(`${FIXTURES}${cli}.log`);

Deno.test("agent streams: each real CLI's event stream gives its tool calls in order", () => {
  const expected: Record<string, [RegExp, RegExp][]> = {
    claude: [
      [/^baton\.get_context$/, /^$/],
      [/^baton\.start_phase$/, /^$/],
      [/^Write$/, /T-1-implementation\.md$/],
      [/^Bash$/, /git add T-1-implementation\.md && git commit/],
      [/^baton\.complete_phase$/, /Implementation of T-1: done/],
    ],
    codex: [
      [/^baton\.get_context$/, /^$/],
      [/^baton\.start_phase$/, /^$/],
      [/^edit$/, /^add .*T-1-design\.md$/],
      [/^shell$/, /git add T-1-design\.md && git commit/],
      [/^baton\.complete_phase$/, /Design of T-1: done/],
    ],
    gemini: [
      // Gemini CLI's injected wait_for_previous is not shown as an argument.
      [/^baton\.get_context$/, /^$/],
      [/^baton\.start_phase$/, /^$/],
      [/^write_file$/, /T-1-design\.md$/],
      [/^run_shell_command$/, /git add T-1-design\.md && git commit/],
      [/^baton\.complete_phase$/, /Design of T-1: done/],
    ],
  };
  for (const [cli, want] of Object.entries(expected)) {
    const calls = agentToolCalls(fixture(cli), 10);
    assert.equal(calls.length, want.length, `${cli}: ${JSON.stringify(calls)}`);
    calls.forEach((c, i) => {
      assert.match(c.tool, want[i][0], `${cli} call ${i}`);
      assert.match(c.detail, want[i][1], `${cli} call ${i}`);
    });
    // The most recent ones, when asked for fewer; a tail cut mid-line still parses.
    assert.deepEqual(agentToolCalls(fixture(cli), 2), calls.slice(-2));
    const text = fixture(cli);
    assert.deepEqual(
      agentToolCalls(text.slice(text.length / 2)),
      calls.slice(-agentToolCalls(text.slice(text.length / 2)).length),
    );
  }
  assert.deepEqual(agentToolCalls('plain output\n{not json\n{"type":"result"}\n'), []);
});

Deno.test({
  name: "agent streams: the Agents page shows the last tool calls of each agent holding work, in a real browser",
  ignore: skipHeavy,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const repo = await tempRepo();
    const e = await openEngine(repo);
    e.upsertTicket({ id: "0001", title: "Parser" });
    e.upsertTicket({ id: "0002", title: "Lexer" });
    const a = e.claimNext({ agentId: "designer-1a2b3c", capabilities: ["designer"] })!;
    const b = e.claimNext({ agentId: "designer-4d5e6f", capabilities: ["designer"] })!;
    const dir = logsDir(e.cfg);
    ensureLogsDir(dir);
    Deno.writeTextFileSync(`${logBase(dir, a.ticket.id, a.phase.name, "designer-1a2b3c")}.log`, fixture("claude"));
    Deno.writeTextFileSync(`${logBase(dir, b.ticket.id, b.phase.name, "designer-4d5e6f")}.log`, fixture("codex"));
    e.close();
    const server = await serve(repo);
    const browser = await launch();
    try {
      const api = await (await fetch(new URL("/api/agents", server.url))).json();
      const tools = (id: string) => api.agents.find((x: any) => x.id === id).tools.map((t: any) => t.tool);
      assert.deepEqual(tools("designer-1a2b3c"), [
        "baton.get_context",
        "baton.start_phase",
        "Write",
        "Bash",
        "baton.complete_phase",
      ]);
      assert.deepEqual(tools("designer-4d5e6f"), [
        "baton.get_context",
        "baton.start_phase",
        "edit",
        "shell",
        "baton.complete_phase",
      ]);
      // Each agent's log is found by its id (the name holds the phase's slug and the agent's type, both hyphenated).
      assert.equal(api.agents.find((x: any) => x.id === "designer-1a2b3c").log, "0001-design-designer-1a2b3c.log");
      assert.deepEqual(api.runs.map((r: any) => r.agentId).sort(), ["designer-1a2b3c", "designer-4d5e6f"]);
      const page = await browser.context.newPage();
      await page.goto(new URL("/agents", server.url).href);
      const list = page.getByRole("list", { name: "last tool calls of designer-1a2b3c" });
      await list.waitFor();
      assert.equal(await list.locator("li").count(), 5);
      assert.match(await list.locator("li").nth(3).innerText(), /^Bash git add T-1-implementation\.md && git commit/);
      assert.equal(await page.evaluate(() => document.body.innerText.includes("undefined")), false);
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});
