/**
 * Checks of `agents.registry` entries before anything runs (`baton doctor`):
 * the command exists, and an entry for a CLI Baton knows (Claude Code,
 * Codex, Gemini CLI) runs without a terminal, hands over the prompt and
 * gives the agent Baton's tools. An entry that fails these costs nothing
 * here; under `baton run` it costs a session per ticket (an interactive CLI
 * with no terminal exits at once).
 *
 * @module
 */

/** What of a registry entry the check reads (`agents.registry.<type>` in `config.yaml`). */
export interface CheckedEntry {
  /** The program (placeholders such as `{repo}` are not looked up). */
  command?: string;
  /** Its arguments. */
  args: string[];
  /** How the prompt is handed over. */
  prompt: "stdin" | "file";
}

/** One finding about a registry entry. */
export interface EntryFinding {
  /** `error`: no session of this type can work; `warning`: it may work without Baton's tools or stop for approval. */
  level: "error" | "warning";
  /** What is wrong and what to do. */
  message: string;
}

/** What the check may look at besides the entry. */
export interface EntryCheckEnv {
  /** The command's path, or null when it is not found (a name is looked up on the PATH). */
  which(command: string): string | null;
  /** A file of the repository (relative path), or null when there is none. */
  readRepoFile(path: string): string | null;
  /**
   * The file as the repository's HEAD commit has it (relative path), or null
   * when it is not committed: agents work in worktrees made from commits.
   * Absent: not checked.
   */
  committedRepoFile?(path: string): string | null;
}

const USE_PRESET = (cli: string) => `or let 'baton agents use ${cli}' write a tested entry`;

function has(args: string[], ...flags: string[]): boolean {
  return args.some((a) => flags.includes(a) || flags.some((f) => f.startsWith("--") && a.startsWith(`${f}=`)));
}

function claudeFindings(args: string[]): EntryFinding[] {
  const out: EntryFinding[] = [];
  if (!has(args, "-p", "--print")) {
    out.push({
      level: "error",
      message: "runs Claude Code interactively (no -p/--print): without a terminal it exits at once; add -p, " +
        USE_PRESET("claude"),
    });
  }
  if (!has(args, "--mcp-config")) {
    out.push({
      level: "warning",
      message: "passes no --mcp-config {mcp_config}: the session gets Baton's tools only from your own MCP settings",
    });
  }
  return out;
}

/** The server a session starts for Baton's tools, when it is a command the PATH must have and does not. */
function mcpServerMissing(command: unknown, where: string, env: EntryCheckEnv): EntryFinding[] {
  if (typeof command !== "string" || command.includes("/") || command.includes("{") || env.which(command)) return [];
  return [{
    level: "error",
    message: `${where} starts "${command}" for Baton's tools, which is not on the PATH: the session would work ` +
      "without them (put baton-mcp on the PATH: deno task compile builds dist/baton-mcp)",
  }];
}

function codexFindings(args: string[], env: EntryCheckEnv): EntryFinding[] {
  const out: EntryFinding[] = [];
  const server = args.find((a) => a.startsWith("mcp_servers.baton.command="));
  if (server) {
    let command: unknown = server.slice("mcp_servers.baton.command=".length);
    try {
      command = JSON.parse(command as string); // a TOML string, as the preset writes it
    } catch { /* bare */ }
    out.push(...mcpServerMissing(command, "mcp_servers.baton.command", env));
  }
  if (args[0] !== "exec" && args[0] !== "e") {
    out.push({
      level: "error",
      message: `runs Codex interactively (its first argument is not exec): add exec, ${USE_PRESET("codex")}`,
    });
  }
  if (has(args, "--full-auto")) {
    out.push({
      level: "error",
      message: "--full-auto no longer exists in Codex (it exits 2): use --sandbox danger-full-access and " +
        `-c approval_policy="never", ${USE_PRESET("codex")}`,
    });
  }
  if (!args.some((a) => a.startsWith("mcp_servers.baton"))) {
    out.push({
      level: "warning",
      message: "configures no mcp_servers.baton (-c …): the session gets Baton's tools only from ~/.codex/config.toml",
    });
  }
  return out;
}

function geminiFindings(args: string[], env: EntryCheckEnv): EntryFinding[] {
  const out: EntryFinding[] = [];
  if (!has(args, "-p", "--prompt")) {
    out.push({
      level: "error",
      message: `runs Gemini CLI interactively (no -p/--prompt): add -p, ${USE_PRESET("gemini")}`,
    });
  }
  const approval = args.indexOf("--approval-mode");
  if (
    !has(args, "-y", "--yolo") && !(approval >= 0 && args[approval + 1] === "yolo") &&
    !has(args, "--approval-mode=yolo")
  ) {
    out.push({
      level: "warning",
      message: "asks for approval before its tools run (no --approval-mode yolo): a headless session stops there",
    });
  }
  const settings = env.readRepoFile(".gemini/settings.json");
  let baton = false;
  try {
    const server = settings ? JSON.parse(settings)?.mcpServers?.baton : undefined;
    baton = Boolean(server);
    if (server) out.push(...mcpServerMissing(server.command, ".gemini/settings.json", env));
  } catch { /* not JSON: Gemini CLI reports it */ }
  if (!baton) {
    out.push({
      level: "warning",
      message: ".gemini/settings.json names no mcpServers.baton: the session gets Baton's tools only from your " +
        "user settings",
    });
  } else if (env.committedRepoFile && env.committedRepoFile(".gemini/settings.json") !== settings) {
    // Gemini CLI reads it from its working directory: a worktree has the committed file, not this one.
    out.push({
      level: "error",
      message: ".gemini/settings.json (with Baton's server) is not committed as it is: each agent works in a " +
        "worktree made from a commit, where Gemini CLI starts without Baton's tools; commit it",
    });
  }
  return out;
}

/**
 * Checks one registry entry.
 *
 * @param entry the entry (`agents.registry.<type>`)
 * @param env how to find commands and read repository files
 * @returns the findings (empty: nothing wrong found; an entry without a command is not run by `baton run`)
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkAgentEntry } from "./registry_check.ts";
 * const f = checkAgentEntry(
 *   { command: "claude", args: ["--agent", "designer"], prompt: "stdin" },
 *   { which: (c) => `/usr/bin/${c}`, readRepoFile: () => null },
 * );
 * assert.equal(f[0].level, "error");
 * assert.match(f[0].message, /interactively/);
 * ```
 */
export function checkAgentEntry(entry: CheckedEntry, env: EntryCheckEnv): EntryFinding[] {
  if (!entry.command) return [];
  const out: EntryFinding[] = [];
  if (!entry.command.includes("{") && !env.which(entry.command)) {
    out.push({
      level: "error",
      message: `command "${entry.command}" is not found (not on the PATH, or not executable)`,
    });
  }
  const name = entry.command.slice(entry.command.lastIndexOf("/") + 1);
  const known = name === "claude" || name === "codex" || name === "gemini";
  if (known && entry.prompt === "file" && !entry.args.some((a) => a.includes("{prompt_file}"))) {
    out.push({
      level: "error",
      message: "gets no prompt: it is written to {prompt_file}, which no argument names (set prompt: stdin)",
    });
  }
  if (name === "claude") out.push(...claudeFindings(entry.args));
  else if (name === "codex") out.push(...codexFindings(entry.args, env));
  else if (name === "gemini") out.push(...geminiFindings(entry.args, env));
  return out;
}

/**
 * Looks a command up the way a process spawn does: a path is taken as it is,
 * a name is searched on `PATH`; either must be an executable file.
 *
 * @param command the command
 * @param path the `PATH` to search (default: this process's)
 * @returns its path, or null
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { whichCommand } from "./registry_check.ts";
 * assert.equal(whichCommand("no-such-command-anywhere"), null);
 * ```
 */
export function whichCommand(command: string, path = Deno.env.get("PATH") ?? ""): string | null {
  const executable = (p: string) => {
    try {
      const st = Deno.statSync(p);
      return st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0;
    } catch {
      return false;
    }
  };
  if (command.includes("/")) return executable(command) ? command : null;
  for (const dir of path.split(":")) {
    if (dir && executable(`${dir}/${command}`)) return `${dir}/${command}`;
  }
  return null;
}
