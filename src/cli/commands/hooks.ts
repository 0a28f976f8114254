/**
 * Git hooks: `hooks install`, `hooks uninstall`, and `hooks run` (what the
 * installed hooks call).
 *
 * @module
 */
import type { Command, CommandContext } from "../command.ts";
import { usage } from "../command.ts";
import { HOOK_NAMES, type HookName, installHooks, runHook, uninstallHooks } from "../hooks.ts";

const GROUP = "Git hooks";

/** `hooks install`. */
function install(c: CommandContext): void {
  const r = installHooks(c.repo);
  c.emit(r, () =>
    [
      `Baton's hooks are in ${r.dir}:`,
      ...r.changes.map((x) =>
        `  ${x.hook}: ${
          x.action === "chained"
            ? `installed; the hook that was there runs first (${x.hook}.baton-chained)`
            : x.action === "updated"
            ? "updated"
            : "installed"
        }`
      ),
    ].join("\n"));
}

/** `hooks uninstall`. */
function uninstall(c: CommandContext): void {
  const r = uninstallHooks(c.repo);
  c.emit(r, () =>
    r.changes.length === 0 ? `no Baton hooks in ${r.dir}` : [
      `${r.dir}:`,
      ...r.changes.map((x) =>
        `  ${x.hook}: ${
          x.action === "restored"
            ? "removed; the hook that was there is back"
            : x.action === "removed"
            ? "removed"
            : "not Baton's: left alone"
        }`
      ),
    ].join("\n"));
}

/** `hooks run HOOK [ARGS…]`. */
function run(c: CommandContext): Promise<number> {
  const [hook, ...args] = c.positionals;
  if (!(HOOK_NAMES as readonly string[]).includes(hook)) throw usage(`no such hook: "${hook}"`);
  return runHook(hook as HookName, args, Deno.cwd(), c.withEngine, c.io);
}

/** The commands of this group. */
export const HOOKS: Command[] = [
  {
    name: "hooks install",
    group: GROUP,
    usage: "hooks install",
    summary: ["git hooks that fence agents' commits, declare their files, add trailers, record progress"],
    description:
      "Installs pre-commit, commit-msg and post-commit hooks in the repository's hooks directory (core.hooksPath " +
      "if set; shared by every worktree). A hook already there is moved to HOOK.baton-chained and runs first: its " +
      "failure still blocks the commit. For an agent (BATON_AGENT_ID, BATON_PHASE_ID and BATON_CLAIM in its " +
      "environment, as baton run sets them), pre-commit refuses the commit when the claim is no longer the agent's, " +
      "declares the staged files for the claim, and refuses (hooks.mode or file_conflicts.mode blocking) or warns " +
      "about staged files another live claim declared; commit-msg adds Baton-Ticket, Baton-Phase and Baton-Agent " +
      "trailers; post-commit records the commit (its SHA in the audit) as the phase's progress. A human's commits " +
      "only get warnings, unless hooks.block_humans is true.",
    positionals: [0, 0],
    examples: ["hooks install"],
    run: install,
  },
  {
    name: "hooks uninstall",
    group: GROUP,
    usage: "hooks uninstall",
    summary: ["remove Baton's git hooks and put back the hooks they chained to"],
    positionals: [0, 0],
    run: uninstall,
  },
  {
    name: "hooks run",
    group: GROUP,
    usage: "hooks run HOOK [ARGS...]",
    summary: ["what the installed hooks call (pre-commit, commit-msg MSGFILE, post-commit)"],
    positionals: [1, 2],
    hidden: true,
    run,
  },
];
