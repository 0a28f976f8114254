/**
 * Claude Code, the real program (pinned in tools/agent-clis/, installed by CI),
 * does Baton's work under `baton run` with the preset `baton agents use
 * claude` writes, unchanged: a scripted model server on loopback plays each
 * phase through the CLI's own tools (Baton's MCP tools, its file editor,
 * its shell for git), while a human approves the gates through the CLI.
 * Skipped, saying why, only when the CLI is not installed.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { assertPresetRun, missingCli, runPresetBacklog } from "../helpers/agent_clis.ts";
import { phaseScript } from "../helpers/model_servers.ts";

Deno.test({
  name: "claude: baton run --until-idle completes a backlog with the claude preset, every session with Baton's tools",
  ignore: !!missingCli("claude"),
  fn: async () => {
    const r = await runPresetBacklog("claude", { tickets: 2 });
    try {
      console.log(`claude: ${await assertPresetRun(r, { hooks: true })}`);
    } finally {
      await r.server.close();
    }
  },
});

Deno.test({
  name: "claude: a provider's rate limit releases the phase without an attempt; a ticket about 429s whose agent " +
    "gives up is the work's failure, not a limit",
  ignore: !!missingCli("claude"),
  fn: async () => {
    let limited = false;
    const r = await runPresetBacklog("claude", {
      titles: ["API returns 429 Too Many Requests when a client exceeds its quota", "Unrelated feature"],
      config: "run:\n  rate_limit_wait_seconds: 1\n",
      script: (p) => {
        if (p?.ticket === "T-1") {
          // The agent reads the ticket, starts, and gives up quoting it (exit 0 without completing).
          return [
            { kind: "baton", tool: "get_context", args: {} },
            { kind: "baton", tool: "start_phase", args: {} },
            { kind: "text", text: "I cannot finish: which middleware returns 429 Too Many Requests? Stopping." },
          ];
        }
        if (p?.ticket === "T-2" && !limited) {
          limited = true; // the provider refuses T-2's first session once
          return [{ kind: "limit" }];
        }
        return phaseScript(p);
      },
    });
    try {
      const why = `\n--- supervisor output ---\n${r.out}\n${r.err}`;
      const limits = [
        ...r.out.matchAll(
          /\((\S+)\/Design\): designer exited with code \d+ on a usage or rate limit \(API Error: Request rejected \(429\)/g,
        ),
      ];
      assert.deepEqual(limits.map((m) => m[1]), ["T-2"], `one limit, T-2's${why}`);
      assert.match(r.out, /\(T-1\/Design\): agent exited with code 0 without completing/, why);
      assert.equal(r.code, 1, `T-1 failed for good: an escalation${why}`);
      const e = await openEngine(r.repo);
      try {
        const [t1, t2] = [e.ticket("T-1"), e.ticket("T-2")];
        assert.equal(t1.phases[0].status, "failed");
        assert.equal(t2.status, "completed", why);
        assert.equal(t2.phases[0].attempts, 1, "the limited session cost no attempt");
      } finally {
        e.close();
      }
    } finally {
      await r.server.close();
    }
  },
});
