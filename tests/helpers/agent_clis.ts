/**
 * The real agent CLIs (Claude Code, Codex, Gemini CLI, pinned in
 * `tools/agent-clis/`) in a test: where they are installed, a `PATH` on
 * which `baton`, `baton-mcp` and the CLI are found as a user has them, and
 * the user's own configuration (a temporary home) pointing the CLI at a
 * scripted model server of `model_servers.ts`. What Baton's preset writes
 * is not here: tests run the preset unchanged.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import type { PresetName } from "../../src/agents/presets.ts";
import { baton } from "./cli.ts";
import { type ModelServer, phaseFile, type PhaseOfPrompt, startModelServer, type Step } from "./model_servers.ts";
import { approveGatesUntil, git, runRepo, startRun } from "./run_repo.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = `${ROOT}tools/agent-clis/node_modules/.bin`;

/**
 * The installed CLI binary, or null (`npm ci --prefix tools/agent-clis` installs it).
 * @param name the preset's CLI
 * @returns the path
 */
export function cliBinary(name: PresetName): string | null {
  try {
    const path = Deno.realPathSync(`${BIN}/${name}`);
    return Deno.statSync(path).isFile ? path : null;
  } catch {
    return null;
  }
}

/**
 * Why a CLI's tests are skipped ("" when it is installed).
 * @param name the preset's CLI
 * @returns the reason, for `ignore` and a message
 */
export function missingCli(name: PresetName): string {
  if (cliBinary(name)) return "";
  const why = `${name} is not installed in tools/agent-clis: run npm ci --prefix tools/agent-clis (CI does)`;
  console.error(`SKIPPED: ${why}`);
  return why;
}

/**
 * A directory for the `PATH` holding `baton` and `baton-mcp` (this
 * checkout, through Deno) and the CLI under its own name.
 * @param name the preset's CLI
 * @returns the directory
 */
export async function binDir(name: PresetName): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "baton-bin-" });
  const deno = Deno.execPath();
  for (const [cmd, entry] of [["baton", "cli.ts"], ["baton-mcp", "mcp.ts"]]) {
    await Deno.writeTextFile(`${dir}/${cmd}`, `#!/bin/sh\nexec "${deno}" run -A "${ROOT}${entry}" "$@"\n`);
    await Deno.chmod(`${dir}/${cmd}`, 0o755);
  }
  await Deno.symlink(`${BIN}/${name}`, `${dir}/${name}`);
  return dir;
}

/**
 * The user's environment for one CLI: a temporary home whose configuration
 * points the CLI at the model server (with a fake key), with telemetry,
 * updates and other network use off, and the `PATH` of {@link binDir}.
 * @param name the preset's CLI
 * @param server the scripted model server
 * @returns the environment for `baton run`
 */
export async function userEnv(name: PresetName, server: ModelServer): Promise<Record<string, string>> {
  const home = await Deno.makeTempDir({ prefix: `baton-home-${name}-` });
  const bin = await binDir(name);
  const env: Record<string, string> = {
    HOME: home,
    PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    TERM: "dumb",
    NO_COLOR: "1",
  };
  await Deno.writeTextFile(`${home}/.gitconfig`, "[user]\n\tname = Agent\n\temail = agent@baton.invalid\n");
  if (name === "claude") {
    Object.assign(env, {
      CLAUDE_CONFIG_DIR: `${home}/.claude`,
      ANTHROPIC_BASE_URL: server.url,
      ANTHROPIC_API_KEY: "sk-ant-scripted",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
    });
  } else if (name === "codex") {
    const codexHome = `${home}/.codex`;
    await Deno.mkdir(codexHome);
    await Deno.writeTextFile(
      `${codexHome}/config.toml`,
      [
        `model = "scripted"`,
        `model_provider = "scripted"`,
        // What Codex knows of a model (its tools: apply_patch as a freeform tool), from its built-in catalog.
        `model_catalog_json = ${JSON.stringify(`${ROOT}tests/fixtures/codex-model-catalog.json`)}`,
        `check_for_update_on_startup = false`,
        `[analytics]`,
        `enabled = false`,
        `[features]`,
        `plugins = false`,
        `remote_plugin = false`,
        `apps = false`,
        `[model_providers.scripted]`,
        `name = "scripted"`,
        `base_url = ${JSON.stringify(server.url)}`,
        `env_key = "SCRIPTED_API_KEY"`,
        `wire_api = "responses"`,
        `request_max_retries = 0`,
        `stream_max_retries = 0`,
        "",
      ].join("\n"),
    );
    Object.assign(env, { CODEX_HOME: codexHome, SCRIPTED_API_KEY: "sk-scripted" });
  } else {
    await Deno.mkdir(`${home}/.gemini`);
    await Deno.writeTextFile(
      `${home}/.gemini/settings.json`,
      JSON.stringify({
        security: { auth: { selectedType: "gemini-api-key" } },
        privacy: { usageStatisticsEnabled: false },
        telemetry: { enabled: false },
        general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
        tools: { useRipgrep: false },
        model: { name: "gemini-2.5-flash" },
      }),
    );
    Object.assign(env, {
      GEMINI_CLI_HOME: home,
      GOOGLE_GEMINI_BASE_URL: server.url,
      GEMINI_API_KEY: "scripted-key",
    });
  }
  return env;
}

/** The workflow of {@link runPresetBacklog}. */
const WORKFLOW = `phases:
  - name: Design
    agent_type: designer
  - name: Design Review
    agent_type: null
  - name: Implementation
    agent_type: implementer
`;

/** The agent phases of {@link WORKFLOW}. */
const AGENT_PHASES = ["Design", "Implementation"];

/** What {@link runPresetBacklog} saw. */
export interface PresetRun {
  repo: string;
  /** The supervisor's exit code and output. */
  code: number;
  out: string;
  err: string;
  server: ModelServer;
  tickets: string[];
  /** Gates approved through the CLI while it ran. */
  approved: number;
  ms: number;
}

/**
 * A small backlog run to the end by `baton run --until-idle` with one CLI's
 * preset, as `baton agents use NAME` writes it, for every agent type, the
 * CLI talking to a scripted model server, and a human approving the gates
 * through the CLI while it runs. The workflow: Design, a human gate,
 * Implementation (two agent sessions and a gate per ticket, on one branch).
 * @param name the preset's CLI
 * @param opts how many tickets (default 2) or their titles (T-1, T-2…), a deadline for the run (ms), more
 *   environment for the supervisor, more of `config.yaml`, the model's script (default: each phase done)
 * @returns what happened (the caller closes `server`)
 */
export async function runPresetBacklog(
  name: PresetName,
  opts: {
    tickets?: number;
    titles?: string[];
    timeoutMs?: number;
    env?: Record<string, string>;
    config?: string;
    script?: (p: PhaseOfPrompt | null) => Step[];
  } = {},
): Promise<PresetRun> {
  const titles = opts.titles ?? Array.from({ length: opts.tickets ?? 2 }, (_, i) => `Feature T-${i + 1}`);
  const tickets = titles.map((_, i) => `T-${i + 1}`);
  const repo = await runRepo(tickets.map((id, i) => ({ id, title: titles[i] })), {
    phases: WORKFLOW,
    config: opts.config,
  });
  const used = await baton(["agents", "use", name], { cwd: repo });
  if (used.code !== 0) throw new Error(`baton agents use ${name}: ${used.stderr}`);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", `agents run ${name}`);
  // Who commits, in the repository's own configuration (its worktrees share it): a CLI may hand its shell tool a
  // filtered environment and home (Gemini CLI where GITHUB_SHA is set).
  git(repo, "config", "user.name", "Agent");
  git(repo, "config", "user.email", "agent@baton.invalid");
  const server = startModelServer(name, { script: opts.script });
  const env = { ...await userEnv(name, server), ...opts.env };
  const t0 = Date.now();
  const run = startRun(repo, ["--until-idle"], env);
  const deadline = setTimeout(() => run.child.kill("SIGKILL"), opts.timeoutMs ?? 150_000);
  try {
    const approved = approveGatesUntil(repo, run.done);
    const r = await run.done;
    return { repo, ...r, server, tickets, approved: await approved, ms: Date.now() - t0 };
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * Checks a {@link runPresetBacklog} run: the supervisor exited 0; every
 * ticket is completed; every session it spawned ended with its phase
 * completed, none failed or went stale; each ticket branch carries the
 * commit of each of its phases (with its file); every session's first model
 * request already listed Baton's tools; and, for a CLI whose preset has a
 * post-tool hook, the agent's tool calls became progress records.
 * @param r the run
 * @param opts whether the preset records progress from hooks
 * @returns a one-line summary for the test's output
 */
export async function assertPresetRun(r: PresetRun, opts: { hooks: boolean }): Promise<string> {
  const why = `\n--- supervisor output ---\n${r.out}\n${r.err}`;
  assert.equal(r.code, 0, `baton run --until-idle exited ${r.code}${why}`);
  const spawned = [...r.out.matchAll(/spawned (\S+) for (\S+?)\/(.+?) in /g)].map((m) => m[1]);
  const completed = [...r.out.matchAll(/^\S+ (\S+) \([^)]*\) exited 0: phase completed$/gm)].map((m) => m[1]);
  assert.equal(spawned.length, r.tickets.length * AGENT_PHASES.length, `one session per agent phase${why}`);
  assert.deepEqual([...completed].sort(), [...spawned].sort(), `every session ended with its phase completed${why}`);
  assert.equal(r.approved, r.tickets.length, "each ticket's gate was approved through the CLI");
  const e = await openEngine(r.repo);
  let progress = 0;
  try {
    for (const id of r.tickets) assert.equal(e.ticket(id).status, "completed", `${id} is completed${why}`);
    const audit = e.audit({ limit: 100_000 });
    const bad = audit.filter((a) => ["phase.fail", "phase.stale"].includes(a.action));
    assert.deepEqual(bad.map((a) => a.action), [], "no phase failed or went stale");
    progress = audit.filter((a) => a.action === "agent.progress").length;
  } finally {
    e.close();
  }
  for (const id of r.tickets) {
    const log = git(r.repo, "log", "--format=%s", `baton/${id}`);
    for (const phase of AGENT_PHASES) {
      assert.match(log, new RegExp(`^${phase} of ${id}$`, "m"), `baton/${id} carries the ${phase} commit`);
      const file = phaseFile({ phaseId: "", phase, ticket: id });
      assert.match(git(r.repo, "show", `baton/${id}:${file}`), new RegExp(`${phase} of ${id}`));
    }
  }
  const first = r.server.firstTurns();
  assert.equal(first.length, spawned.length, "one conversation per session");
  assert.ok(first.every((t) => t.hasBaton), "every session's first model request listed Baton's tools");
  // Each session used the edit and the shell tool once: two progress records from the hook.
  if (opts.hooks) assert.ok(progress >= spawned.length * 2, `progress from the hooks: ${progress}`);
  return `${r.tickets.length} tickets, ${spawned.length} sessions, ${r.approved} gates, ${progress} progress records ` +
    `from hooks, ${r.server.requests.length} model requests, ${(r.ms / 1000).toFixed(1)} s`;
}
