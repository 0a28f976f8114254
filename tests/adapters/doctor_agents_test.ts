/**
 * `baton doctor` checks each registry entry before anything runs (issue 22):
 * the real consumer's entry (`claude --agent NAME`, written for a
 * supervisor that added `--print` and the prompt itself) made `baton run`
 * spawn 66 sessions in ~10 s, each exiting at once, while doctor said
 * nothing. The CLI runs as a process; the agent CLIs are looked up on the
 * PATH it is given (tools/agent-clis' real binaries when installed).
 */
import assert from "node:assert/strict";
import { baton } from "../helpers/cli.ts";
import { tempRepo } from "../helpers/repo.ts";

const REAL_BIN = new URL("../../tools/agent-clis/node_modules/.bin/", import.meta.url).pathname;

/** A PATH holding claude, codex and gemini: the real ones when installed, else executables of those names. */
async function agentPath(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "baton-bin-" });
  for (const cli of ["claude", "codex", "gemini"]) {
    try {
      await Deno.symlink(await Deno.realPath(`${REAL_BIN}${cli}`), `${dir}/${cli}`);
    } catch {
      await Deno.writeTextFile(`${dir}/${cli}`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    }
  }
  return `${dir}:/usr/bin:/bin`;
}

Deno.test("doctor: registry entries that cannot work are errors before anything runs; tested entries pass", async () => {
  const repo = await tempRepo({
    config: `agents:
  registry:
    designer: { command: claude, args: [--agent, designer] }
    implementer: { command: codex, args: [exec, --full-auto] }
    tester: { command: no-such-agent-cli, args: [] }
    writer:
      command: claude
      args: [-p, --mcp-config, "{mcp_config}", --permission-mode, acceptEdits, --output-format, stream-json, --verbose]
      prompt: stdin
    reviewer: { command: gemini, args: [-p, "Do the phase."], prompt: stdin }
    planner: { command: claude, args: [-p, --mcp-config, "{mcp_config}"] }
`,
  });
  const out = await baton(["doctor"], { cwd: repo, env: { PATH: await agentPath() } });
  assert.notEqual(out.code, 0, "doctor fails when an entry cannot work");
  const line = (type: string) => out.stdout.split("\n").find((l) => l.includes(`agent ${type}`)) ?? "";
  assert.match(line("designer"), /runs Claude Code interactively \(no -p\/--print\).*baton agents use claude/);
  assert.match(line("implementer"), /--full-auto no longer exists in Codex/);
  assert.match(line("tester"), /command "no-such-agent-cli" is not found/);
  assert.doesNotMatch(line("writer"), /error|warning/, line("writer"));
  // Works, but stops at its first tool without yolo, and has no Baton tools without the project's settings.
  assert.match(line("reviewer"), /warning: asks for approval/);
  assert.match(line("reviewer"), /warning: \.gemini\/settings\.json names no mcpServers\.baton/);
  assert.doesNotMatch(line("reviewer"), /error:/);
  // The prompt goes to a file by default: a CLI that reads it from stdin gets nothing.
  assert.match(line("planner"), /error: gets no prompt: .*set prompt: stdin/);
});

Deno.test("doctor: a registry type no phase has (a typo) and a Gemini settings file worktrees will not have are errors", async () => {
  const repo = await tempRepo({
    phases:
      "phases:\n  - name: Implementation\n    agent_type: implementer\n  - name: Review\n    agent_type: reviewer\n",
    config: `agents:
  registry:
    implementr: { command: claude, args: [-p, --mcp-config, "{mcp_config}"], prompt: stdin }
    reviewer: { command: gemini, args: [-p, "Do the phase.", --approval-mode, yolo], prompt: stdin }
`,
  });
  const git = (...args: string[]) => new Deno.Command("git", { args, cwd: repo }).outputSync();
  git("init", "-q");
  git("-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "init");
  await Deno.mkdir(`${repo}/.gemini`, { recursive: true });
  await Deno.writeTextFile(
    `${repo}/.gemini/settings.json`,
    JSON.stringify({ mcpServers: { baton: { command: "baton-mcp" } } }),
  );
  const out = await baton(["doctor"], { cwd: repo, env: { PATH: await agentPath() } });
  assert.notEqual(out.code, 0, out.stdout);
  assert.match(out.stdout, /agents\.registry\.implementr is no phase's agent type .*did you mean implementer\?/);
  assert.match(out.stdout, /agent reviewer.*error: \.gemini\/settings\.json \(with Baton's server\) is not committed/);
  // Committed, it is what worktrees get: no error any more.
  git("add", ".gemini/settings.json");
  git("-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "gemini settings");
  const path = await agentPath();
  const again = await baton(["doctor"], { cwd: repo, env: { PATH: path } });
  assert.doesNotMatch(again.stdout, /is not committed/);
  // The settings start baton-mcp by name: without it on the PATH, the session has no Baton tools (new-user helper #4).
  assert.match(
    again.stdout,
    /agent reviewer.*error: \.gemini\/settings\.json starts "baton-mcp" for Baton's tools, which is not on the PATH/,
  );
  const bin = path.split(":")[0];
  await Deno.writeTextFile(`${bin}/baton-mcp`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const found = await baton(["doctor"], { cwd: repo, env: { PATH: path } });
  assert.doesNotMatch(found.stdout, /agent reviewer.*error/);
});
