/**
 * Presets for the agent CLIs Baton is tested with (Claude Code, Codex,
 * Gemini CLI): the registry entry `baton run` spawns for each agent type,
 * and the files that CLI reads (its MCP configuration, permissions, hooks),
 * as data. `baton init --agent NAME` and `baton agents use NAME` write
 * them; `tests/agents/` runs every preset, unchanged, against the real
 * CLIs.
 *
 * What every preset does, each in its CLI's own way:
 * - **Baton's tools in the first model request.** Claude Code waits for
 *   MCP servers (`MCP_CONNECTION_NONBLOCKING=0`, up to
 *   `MCP_CONNECT_TIMEOUT_MS`) and sends a server's tools with the first
 *   request only when it is `alwaysLoad` (otherwise they are deferred
 *   behind its tool search); Codex waits for a server marked `required`;
 *   Gemini CLI waits for its servers' discovery (`timeout`).
 * - **The claim reaches `baton-mcp`.** The claim token travels as
 *   `BATON_CLAIM` (Gemini CLI drops variables whose names contain TOKEN, KEY
 *   or SECRET); Codex passes only the variables its `env_vars` lists.
 * - **Edits and commits, nothing more by default.** The agent may edit files
 *   in its worktree and run `git add` and `git commit`; running anything
 *   else is the user's choice ({@link AgentPreset.allowMore}).
 * - **Progress from the agent's own tool calls.** A post-tool hook runs
 *   `baton heartbeat --progress`, so the stall clock measures work.
 *
 * The files name `baton` and `baton-mcp`, which must be on the `PATH`
 * (`deno task compile` builds them).
 *
 * @module
 */

/** The CLIs with a preset. */
export const PRESET_NAMES = ["claude", "codex", "gemini"] as const;

/** A CLI with a preset. */
export type PresetName = typeof PRESET_NAMES[number];

/** A registry entry (`agents.registry.<type>` in `config.yaml`). */
export interface PresetEntry {
  /** The program. */
  command: string;
  /** Its arguments (placeholders: `{repo}`, `{worktree}`, `{mcp_config}`, …). */
  args: string[];
  /** The prompt goes on stdin. */
  prompt: "stdin";
  /** Extra environment (placeholders are filled here too). */
  env: Record<string, string>;
}

/** A file a preset writes, relative to the repository root. */
export interface PresetFile {
  /** Where, e.g. `.workflow/agents/claude/settings.json`. */
  path: string;
  /** What. */
  content: string;
  /**
   * A JSON file the project may have already (its own settings): the
   * preset's keys are merged into it (objects key by key, arrays gain the
   * preset's items), every other key stays.
   */
  merge?: boolean;
  /** Must be committed: agents read it from their worktrees, which are checked out from the repository. */
  commit?: boolean;
}

/** One CLI's preset. */
export interface AgentPreset {
  /** `claude`, `codex` or `gemini`. */
  name: PresetName;
  /** The CLI's name for people. */
  title: string;
  /** The npm package that installs it. */
  npm: string;
  /** The registry entry for every agent type. */
  entry: PresetEntry;
  /** The CLI's own configuration files. */
  files: PresetFile[];
  /** How to let its agents run more than git (for the docs and `baton agents use`). */
  allowMore: string;
}

/** The environment variables a `baton-mcp` started by an agent needs (the claim and the repository). */
export const CLAIM_ENV = ["BATON_AGENT_ID", "BATON_PHASE_ID", "BATON_CLAIM", "BATON_REPO"] as const;

/** How long a CLI may wait for `baton-mcp` to start (ms). */
export const MCP_STARTUP_MS = 30_000;

/** The hook command: one progress record per tool the agent used. */
export const PROGRESS_HOOK = 'baton heartbeat "$BATON_AGENT_ID" --progress "used a tool" >/dev/null';

/** Where a preset's files live. */
export const PRESET_DIR = ".workflow/agents";

const json = (v: unknown) => JSON.stringify(v, null, 2) + "\n";

function claude(): AgentPreset {
  const settings = `${PRESET_DIR}/claude/settings.json`;
  const mcp = `${PRESET_DIR}/claude/mcp.json`;
  return {
    name: "claude",
    title: "Claude Code",
    npm: "@anthropic-ai/claude-code",
    entry: {
      command: "claude",
      args: [
        "-p",
        "--mcp-config",
        `{repo}/${mcp}`,
        "--strict-mcp-config",
        "--settings",
        `{repo}/${settings}`,
        "--permission-mode",
        "acceptEdits",
        "--output-format",
        "stream-json",
        "--verbose",
      ],
      prompt: "stdin",
      // Wait for MCP servers to connect (up to MCP_CONNECT_TIMEOUT_MS) before the first model request.
      env: { MCP_CONNECTION_NONBLOCKING: "0", MCP_CONNECT_TIMEOUT_MS: String(MCP_STARTUP_MS) },
    },
    files: [{
      path: mcp,
      // alwaysLoad: Baton's tools are in the first request's tool list, not deferred behind a tool search.
      // baton-mcp inherits the claim from the agent's environment.
      content: json({ mcpServers: { baton: { type: "stdio", command: "baton-mcp", args: [], alwaysLoad: true } } }),
    }, {
      path: settings,
      content: json({
        permissions: { allow: ["mcp__baton", "Bash(git add:*)", "Bash(git commit:*)"] },
        hooks: {
          PostToolUse: [{
            matcher: "Write|Edit|MultiEdit|NotebookEdit|Bash",
            hooks: [{ type: "command", command: PROGRESS_HOOK }],
          }],
        },
      }),
    }],
    allowMore: `add rules to permissions.allow in ${settings} (e.g. "Bash(deno test:*)")`,
  };
}

/** A TOML string (JSON's escapes are TOML's for what Baton writes). */
const toml = (s: string) => JSON.stringify(s);

function codex(): AgentPreset {
  const mcp = "mcp_servers.baton";
  return {
    name: "codex",
    title: "Codex CLI",
    npm: "@openai/codex",
    entry: {
      command: "codex",
      args: [
        "exec",
        "--json",
        // Its workspace-write sandbox makes .git read-only, and a worktree's .git is the main repository's.
        "--sandbox",
        "danger-full-access",
        "-c",
        `approval_policy=${toml("never")}`,
        "-c",
        `${mcp}.command=${toml("baton-mcp")}`,
        "-c",
        `${mcp}.env_vars=[${CLAIM_ENV.map(toml).join(", ")}]`,
        "-c",
        `${mcp}.required=true`,
        "-c",
        `${mcp}.startup_timeout_sec=${MCP_STARTUP_MS / 1000}`,
        "-C",
        "{worktree}",
        "-",
      ],
      prompt: "stdin",
      env: {},
    },
    files: [],
    allowMore: "its sandbox is off (danger-full-access) so that it can commit; add -c options to the entry's args",
  };
}

function gemini(): AgentPreset {
  // Gemini CLI reads MCP servers from its settings: the project's .gemini/settings.json (committed, so that every
  // worktree has it) is the one place Baton can add to without touching the user's own settings.
  const settings = ".gemini/settings.json";
  return {
    name: "gemini",
    title: "Gemini CLI",
    npm: "@google/gemini-cli",
    entry: {
      command: "gemini",
      args: ["--approval-mode", "yolo", "--output-format", "stream-json", "-p", "Do the phase described above."],
      prompt: "stdin",
      // Headless runs need a trusted folder (else yolo falls back to asking, and nobody answers): each worktree is.
      env: { GEMINI_CLI_TRUST_WORKSPACE: "true" },
    },
    files: [{
      path: settings,
      merge: true,
      commit: true,
      content: json({
        mcpServers: {
          baton: {
            command: "baton-mcp",
            args: [],
            // Named, so that they arrive even where Gemini CLI passes its MCP servers no environment of its own
            // (on GitHub Actions it drops every variable not on its allow list); it expands them when it loads.
            env: Object.fromEntries(CLAIM_ENV.map((n) => [n, `$${n}`])),
            timeout: MCP_STARTUP_MS,
            trust: true,
          },
        },
        hooks: {
          AfterTool: [{
            matcher: "write_file|replace|run_shell_command",
            hooks: [{ type: "command", command: PROGRESS_HOOK }],
          }],
        },
      }),
    }],
    allowMore:
      "--approval-mode yolo lets it run any command; list tools in tools.exclude of .gemini/settings.json to narrow it",
  };
}

/**
 * One CLI's preset.
 * @param name `claude`, `codex` or `gemini`
 * @returns the preset
 * @throws {TypeError} for a name without a preset
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { agentPreset } from "./presets.ts";
 * assert.equal(agentPreset("claude").entry.command, "claude");
 * ```
 */
export function agentPreset(name: string): AgentPreset {
  if (name === "claude") return claude();
  if (name === "codex") return codex();
  if (name === "gemini") return gemini();
  throw new TypeError(`No preset for "${name}" (presets: ${PRESET_NAMES.join(", ")})`);
}

/**
 * Whether a name has a preset.
 * @param name a CLI name
 * @returns true for `claude`, `codex`, `gemini`
 */
export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}
