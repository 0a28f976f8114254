/**
 * The startup race (issue 22): does an agent session's first model request
 * already carry Baton's tools? For each CLI, `baton run --until-idle` runs N
 * sessions (N tickets of a one-phase workflow, two at a time) while a busy
 * loop keeps the other core busy, against a scripted model server that
 * records every request; a session whose first request lacks Baton's tools
 * started without them. Each CLI runs twice: **before**, with the settings
 * of the README's old entries (no waiting for MCP servers), and **after**,
 * with the preset `baton agents use` writes.
 *
 * - Claude Code before: `claude -p --mcp-config {mcp_config} --permission-mode acceptEdits --allowedTools mcp__baton`
 *   (the generated config, no alwaysLoad, no timeouts). Its tools are then deferred behind a tool search when they
 *   are known at all: "listed" counts requests that name them anywhere.
 * - Codex before: the preset without `required = true` (the README's `--full-auto` entry exits 2 at once).
 * - Gemini CLI: the README had no entry; only the preset runs.
 *
 * Usage: deno run -A bench/startup_race.ts [--sessions N] [--cli claude,codex,gemini] [--no-busy]
 * Needs the CLIs: npm ci --prefix tools/agent-clis.
 */
import { parseArgs } from "node:util";
import { cliBinary, userEnv } from "../tests/helpers/agent_clis.ts";
import { startModelServer } from "../tests/helpers/model_servers.ts";
import { git, runRepo, startRun } from "../tests/helpers/run_repo.ts";
import { baton } from "../tests/helpers/cli.ts";
import type { PresetName } from "../src/agents/presets.ts";

const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "20" },
    cli: { type: "string", default: "claude,codex,gemini" },
    "no-busy": { type: "boolean", default: false },
  },
});
const N = Number(values.sessions);
const PHASES = "phases:\n  - name: Implementation\n    agent_type: implementer\n";

/** The registry entry of a "before" run, as YAML. */
function beforeEntry(cli: PresetName): string | null {
  if (cli === "claude") {
    return `{ command: claude, args: [-p, --mcp-config, "{mcp_config}", --permission-mode, acceptEdits, --allowedTools, mcp__baton], prompt: stdin, max_concurrent: 2 }`;
  }
  return null;
}

/** A busy loop on one core, bounded: killed at the end, and it stops by itself after 30 min. */
function busy(): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "const end = Date.now() + 1_800_000; while (Date.now() < end) {}"],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

interface Result {
  sessions: number;
  without: number;
  notListed: number;
  completed: number;
  seconds: number;
}

async function round(cli: PresetName, mode: "before" | "after"): Promise<Result> {
  const tickets = Array.from({ length: N }, (_, i) => ({ id: `R-${i + 1}`, title: `Race ${i + 1}` }));
  const repo = await runRepo(tickets, { phases: PHASES, perType: { implementer: "max_concurrent: 2" } });
  const before = mode === "before" ? beforeEntry(cli) : null;
  if (before) {
    const path = `${repo}/.workflow/config.yaml`;
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, text.replace(/^ {4}implementer: .*$/m, `    implementer: ${before}`));
  } else {
    const used = await baton(["agents", "use", cli, "--types", "implementer"], { cwd: repo });
    if (used.code !== 0) throw new Error(used.stderr);
    if (cli === "codex" && mode === "before") {
      const path = `${repo}/.workflow/config.yaml`;
      const text = await Deno.readTextFile(path);
      await Deno.writeTextFile(
        path,
        text.replace("mcp_servers.baton.required=true", "mcp_servers.baton.required=false"),
      );
    }
  }
  // One attempt per ticket: a session without Baton's tools fails its phase instead of being retried.
  const cfg = `${repo}/.workflow/config.yaml`;
  await Deno.writeTextFile(cfg, (await Deno.readTextFile(cfg)).replace("max_attempts: 3", "max_attempts: 1"));
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", `${mode}: ${cli}`);
  const server = startModelServer(cli);
  const env = await userEnv(cli, server);
  const t0 = Date.now();
  const run = startRun(repo, ["--until-idle"], env);
  const deadline = setTimeout(() => run.child.kill("SIGKILL"), 30 * 60_000);
  const r = await run.done;
  clearTimeout(deadline);
  await server.close();
  const first = server.firstTurns();
  return {
    sessions: first.length,
    without: first.filter((t) => !t.hasBaton).length,
    notListed: first.filter((t) => !t.mentionsBaton).length,
    completed: (r.out.match(/exited 0: phase completed/g) ?? []).length,
    seconds: (Date.now() - t0) / 1000,
  };
}

const load = values["no-busy"] ? null : busy();
try {
  console.log(
    `startup race: ${N} tickets per run, 2 agents at a time, ${load ? "the other core busy" : "no busy loop"}; ` +
      `${navigator.hardwareConcurrency} CPUs, load ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}`,
  );
  for (const cli of values.cli!.split(",") as PresetName[]) {
    if (!cliBinary(cli)) {
      console.log(`${cli}: not installed (npm ci --prefix tools/agent-clis)`);
      continue;
    }
    for (const mode of ["before", "after"] as const) {
      if (mode === "before" && cli === "gemini") continue;
      const r = await round(cli, mode);
      console.log(
        `${cli} ${mode}: ${r.without} of ${r.sessions} sessions started without Baton's tools` +
          (cli === "claude" ? ` (${r.notListed} did not even list them as deferred)` : "") +
          `; ${r.completed} phases completed; ${r.seconds.toFixed(0)} s`,
      );
    }
  }
} finally {
  try {
    load?.kill("SIGKILL");
  } catch { /* gone */ }
}
