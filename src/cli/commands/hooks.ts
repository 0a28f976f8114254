/**
 * Git hooks and guards: `hooks install`, `hooks uninstall`, `hooks status`,
 * and `guard` (what the installed hooks, and agents' own hooks, call).
 *
 * @module
 */
import type { Command, CommandContext } from "../command.ts";
import { usage } from "../command.ts";
import { type HooksReport, hooksStatus, installHooks, uninstallHooks } from "../hooks.ts";
import { GUARD_MODES, type GuardMode, type GuardRequest, runGuard } from "../guard.ts";

const GROUP = "Git hooks";

function report(r: HooksReport): string {
  const what = {
    installed: `Baton's hooks are installed in ${r.dir} (core.hooksPath)`,
    updated: `Baton's hooks in ${r.dir} are rewritten`,
    uninstalled: `Baton's hooks are removed; core.hooksPath is ${
      r.hooksPath === null ? "unset" : `"${r.hooksPath}"`
    } again`,
    "not-installed": `Baton's hooks are not installed`,
    bypassed: `Baton's hooks are in ${r.dir}, but git does not run them`,
  }[r.state];
  const lines = [what];
  if (r.chain !== null && r.state !== "uninstalled") {
    lines.push(`  the hooks of ${r.chain} run first, as before (a failing pre-commit or commit-msg still blocks)`);
  }
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join("\n");
}

/** The `guard` request from the command line. */
export function guardRequest(positionals: string[], values: Record<string, unknown>): GuardRequest {
  const [mode, ...args] = positionals;
  if (!(GUARD_MODES as readonly string[]).includes(mode)) {
    throw usage(`guard needs ${GUARD_MODES.slice(0, -1).join(", ")} or ${GUARD_MODES.at(-1)}, got "${mode}"`);
  }
  if (mode === "paths" && args.length === 0) throw usage("guard paths needs at least one path");
  if (mode === "commit-msg" && args.length !== 1) throw usage("guard commit-msg needs the message file");
  if (mode === "serve" && args.length !== 0) throw usage("guard serve takes no arguments");
  const code = values["refuse-code"] === undefined ? 1 : Number(values["refuse-code"]);
  if (!Number.isInteger(code) || code < 1 || code > 125) throw usage("--refuse-code is a number from 1 to 125");
  return {
    mode: mode as GuardMode,
    args,
    declare: values["no-declare"] !== true,
    json: values.json === true,
    refuseCode: code,
  };
}

/** The `guard` command (also parsed by `guard_main.ts`, which `cli.ts` starts without the rest of the table). */
export const GUARD: Command = {
  name: "guard",
  group: GROUP,
  usage: "guard pre-commit | commit-msg MSGFILE | post-commit [SHA] | paths PATH... | serve",
  summary: ["what git hooks and agents' tool hooks call: fencing, overlaps, trailers, progress"],
  description: "The one entry point of Baton's guards. The committer is an agent when BATON_AGENT_ID, " +
    "BATON_PHASE_ID and BATON_CLAIM (or BATON_CLAIM_TOKEN) are set, as baton run sets them; else a human. " +
    "pre-commit: refuses an agent whose claim is no longer its own (released, expired, taken over), declares " +
    "the staged files for its claim, and refuses (hooks.mode blocking) or warns about staged files another " +
    "live claim declared, naming ticket, phase and agent; a human only gets warnings unless hooks.block_humans. " +
    "commit-msg: adds Baton-Ticket, Baton-Phase and Baton-Agent trailers to an agent's commit. post-commit: " +
    "records the commit (its SHA in the audit) as the phase's progress. paths: the pre-commit check for the " +
    "given files, for an agent CLI's pre-tool hook (declares them unless --no-declare). Exit 0 to go ahead " +
    "(warnings on stderr), 1 (or --refuse-code) when refused. serve: answers the hooks from one process over " +
    "<git common dir>/baton/guard.sock until idle for hooks.server_idle_minutes (a hook that had to start baton " +
    "guard starts it, unless hooks.server is off; baton run answers them itself).",
  positionals: [1, Infinity],
  options: {
    "no-declare": { type: "boolean", help: "paths: check only, do not declare the paths for the claim" },
    "refuse-code": { type: "string", value: "N", help: "the exit code of a refusal (default 1)" },
  },
  examples: ["guard paths src/db.ts --refuse-code 2", "guard pre-commit"],
  run: (c: CommandContext) =>
    runGuard(guardRequest(c.positionals, c.values), Deno.cwd(), (fn) => c.withEngine(fn), c.io),
};

/** The commands of this group. */
export const HOOKS: Command[] = [
  {
    name: "hooks install",
    group: GROUP,
    usage: "hooks install",
    summary: ["git hooks that fence agents' commits, declare their files, add trailers, record progress"],
    description: "Puts pre-commit, commit-msg and post-commit scripts (and pass-throughs for git's other hooks) in " +
      "<git dir>/baton/hooks and points core.hooksPath there (shared by every worktree). Nothing that was there " +
      "moves: each script first runs the hook of the same name in the hooks directory git used before " +
      "(.git/hooks, core.hooksPath, husky's .husky/_, the pre-commit framework's), and its failure still blocks. " +
      "The scripts call 'baton guard' (see there). Run it again after a tool resets core.hooksPath.",
    positionals: [0, 0],
    examples: ["hooks install"],
    run: (c) => {
      const r = installHooks(c.repo);
      c.emit(r, () => report(r));
    },
  },
  {
    name: "hooks uninstall",
    group: GROUP,
    usage: "hooks uninstall",
    summary: ["remove Baton's git hooks: core.hooksPath back to what it was"],
    positionals: [0, 0],
    run: (c) => {
      const r = uninstallHooks(c.repo);
      c.emit(r, () => report(r));
    },
  },
  {
    name: "hooks status",
    group: GROUP,
    usage: "hooks status",
    summary: ["whether git runs Baton's hooks, and what they chain to"],
    positionals: [0, 0],
    run: (c) => {
      const r = hooksStatus(c.repo);
      c.emit(r, () => report(r));
      return r.state === "bypassed" || r.outdated?.length ? 1 : 0;
    },
  },
  GUARD,
];
