/**
 * Gemini CLI, the real program (pinned in tools/agent-clis/, installed by CI),
 * does Baton's work under `baton run` with the preset `baton agents use
 * gemini` writes, unchanged: a scripted model server on loopback plays each
 * phase through the CLI's own tools (Baton's MCP tools, its file editor,
 * its shell for git), while a human approves the gates through the CLI.
 * Skipped, saying why, only when the CLI is not installed.
 */
import { assertPresetRun, missingCli, runPresetBacklog } from "../helpers/agent_clis.ts";

Deno.test({
  name: "gemini: baton run --until-idle completes a backlog with the gemini preset, every session with Baton's tools",
  ignore: !!missingCli("gemini"),
  fn: async () => {
    // As on GitHub Actions, where Gemini CLI passes MCP servers only the variables on its allow list.
    const r = await runPresetBacklog("gemini", { tickets: 2, env: { GITHUB_SHA: "0".repeat(40) } });
    try {
      console.log(`gemini: ${await assertPresetRun(r, { hooks: true })}`);
    } finally {
      await r.server.close();
    }
  },
});
