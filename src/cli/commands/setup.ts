/**
 * Setting up: `init`, `agents use`, `import`, `sync`, `new`.
 *
 * @module
 */
import { type Command, type CommandContext, list, usage } from "../command.ts";
import { gitUser } from "../human.ts";
import { importLate } from "../../late_import.ts";
import type { SeededPhase } from "../../engine/types.ts";

const GROUP = "Setting up";

/** `init`. */
async function init(c: CommandContext): Promise<number | void> {
  const { init } = await importLate<typeof import("../init.ts")>(new URL("../init.ts", import.meta.url));
  const agent = c.values.agent as string | undefined;
  const { isPresetName, PRESET_NAMES } = await importLate<typeof import("../../agents/presets.ts")>(
    new URL("../../agents/presets.ts", import.meta.url),
  );
  if (agent !== undefined && !isPresetName(agent)) {
    throw usage(`--agent must be one of ${PRESET_NAMES.join(", ")}, got "${agent}"`);
  }
  const r = await init(c.repo, c.values.example as string | undefined);
  const hooks = await initHooks(c);
  if (agent !== undefined) {
    const { usePreset, useText } = await importLate<typeof import("../agents_use.ts")>(
      new URL("../agents_use.ts", import.meta.url),
    );
    const used = usePreset(c.repo, agent);
    c.emit({ ...r, agents: used, hooks }, () =>
      [
        `created ${r.created.join(", ") || "nothing (everything already exists)"}`,
        r.skipped.length ? `kept existing ${r.skipped.join(", ")}` : "",
        r.gitignore ? `added the database files to ${r.gitignore}` : "",
        useText(used),
        hooks.text,
      ].filter(Boolean).join("\n"));
    return;
  }
  c.emit({ ...r, hooks }, () =>
    [
      `created ${r.created.join(", ") || "nothing (everything already exists)"}`,
      r.skipped.length ? `kept existing ${r.skipped.join(", ")}` : "",
      r.gitignore ? `added the database files to ${r.gitignore}` : "",
      hooks.text,
      "",
      "Register baton-mcp with your agents, e.g. in .mcp.json:",
      r.mcpJson,
    ].filter((l, i) => l !== "" || i === 4).join("\n"));
}

/**
 * `init` offers Baton's git hooks: `--hooks` installs them, `--no-hooks`
 * does not, and otherwise a terminal is asked (default yes) while a script
 * gets a line saying how.
 */
async function initHooks(c: CommandContext): Promise<{ installed: boolean; text: string }> {
  const { gitTry } = await import("../../repo/git.ts");
  if (c.values["no-hooks"] === true) return { installed: false, text: "" };
  if (!gitTry(c.repo, "rev-parse", "--git-dir").ok) {
    return { installed: false, text: c.values.hooks === true ? "not a git repository: no git hooks installed" : "" };
  }
  let yes = c.values.hooks === true;
  if (!yes && !c.json && Deno.stdin.isTerminal() && Deno.stdout.isTerminal()) {
    const answer = prompt(
      "Install Baton's git hooks (agents' commits fenced to their claims, their files declared, trailers, progress; " +
        "your own hooks still run first)? [Y/n]",
    );
    yes = answer === null || answer.trim() === "" || /^y/i.test(answer.trim());
  }
  const { hooksStatus, installHooks } = await import("../hooks.ts");
  if (!yes) {
    // Installed already (init run again): said as it is, not as missing.
    const now = hooksStatus(c.repo);
    if (now.state !== "not-installed") {
      return { installed: true, text: `git hooks: installed in ${now.dir} (baton hooks status says more)` };
    }
    return { installed: false, text: "git hooks: not installed ('baton hooks install' installs them)" };
  }
  const h = installHooks(c.repo);
  return {
    installed: true,
    text: [
      `git hooks: installed in ${h.dir} (core.hooksPath); the hooks of ${h.chain} run first`,
      ...h.notes.map((n) => `  note: ${n}`),
    ]
      .join("\n"),
  };
}

/** `agents use`. */
async function agentsUse(c: CommandContext): Promise<void> {
  const { usePreset, useText } = await importLate<typeof import("../agents_use.ts")>(
    new URL("../agents_use.ts", import.meta.url),
  );
  const types = c.values.types === undefined ? undefined : list(c.values.types);
  const r = usePreset(c.repo, c.positionals[0], types);
  c.emit(r, () => useText(r));
}

/** The phases the workflow gained, given to open tickets, one line per phase. */
function newPhaseLines(added: SeededPhase[]): string[] {
  const by = new Map<string, string[]>();
  for (const a of added) {
    const key = a.retypedTo !== undefined
      ? `retyped\0${a.phase}\0${a.retypedTo}`
      : a.retired
      ? `retired\0${a.phase}`
      : a.reopened
      ? `reopened\0${a.phase}`
      : `new\0${a.phase} (${a.status})`;
    by.set(key, [...(by.get(key) ?? []), a.ticketId]);
  }
  return [...by].map(([key, ids]) => {
    const [kind, phase, type] = key.split("\0");
    const on = `${ids.length} open ticket(s)`;
    if (kind === "retyped") {
      return `phase ${phase} is for ${type} now on ${on} that had not started it: ${ids.join(", ")}`;
    }
    if (kind === "retired") {
      return `phase ${phase} skipped on ${on} that had not started it (no longer in the workflow, or replaced): ` +
        ids.join(", ");
    }
    if (kind === "reopened") return `phase ${phase}, back in the workflow, to be done on ${on}: ${ids.join(", ")}`;
    return `new phase ${phase} added to ${on}: ${ids.join(", ")}`;
  });
}

/** `import`. */
function importCommand(c: CommandContext): Promise<number> {
  return c.withEngine(async (e) => {
    const { importTickets } = await importLate<typeof import("../../sync/import.ts")>(
      new URL("../../sync/import.ts", import.meta.url),
    );
    const tty = !c.json && Deno.stderr.isTerminal();
    const r = importTickets(e, {
      warnings: c.values.warnings === true,
      onProgress: tty
        ? (done, total) => {
          const width = 30, filled = Math.round((done / Math.max(1, total)) * width);
          Deno.stderr.writeSync(
            new TextEncoder().encode(`\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total}`),
          );
          if (done === total) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
        }
        : undefined,
    });
    c.emit(r, () =>
      [
        `imported ${r.imported.length}, updated ${r.updated.length}, unchanged ${r.unchanged.length}, skipped ${r.skipped.length}, errors ${r.errors.length}, warnings ${r.warnings.length}`,
        ...r.advanced.map((a) => `moved forward: ${a.id} (${a.phases.join(", ")} done, as its file says)`),
        ...newPhaseLines(r.newPhases),
        ...r.errors.map((x) => `error: ${x.path}${x.line ? `:${x.line}` : ""}: ${x.message}`),
        ...r.skipped.map((x) => `skipped: ${x.path}: ${x.message}`),
        ...r.warningGroups.map((g) => {
          const kind = g.code ? `warning[${g.code}]` : "warning";
          if (g.count === 1) return `${kind}: ${g.locations[0]}: ${g.message}`;
          const more = g.count > g.locations.length ? ", …" : "";
          return `${kind}: ${g.message} (${g.count}×: ${g.locations.join(", ")}${more})`;
        }),
      ].join("\n"));
    // Two files with one id: neither is imported (a human's words in either stay out of Baton until fixed).
    return r.errors.length || r.duplicates.length ? 1 : 0;
  });
}

/** `sync`. */
function sync(c: CommandContext): Promise<number> {
  return c.withEngine(async (e) => {
    const { syncAll } = await importLate<typeof import("../../sync/write_back.ts")>(
      new URL("../../sync/write_back.ts", import.meta.url),
    );
    const ms = e.cfg.config.markdown_sync;
    if (c.positionals[0]) e.ticket(c.positionals[0]);
    const r = syncAll(e, {
      ticketIds: c.positionals[0] ? [c.positionals[0]] : undefined,
      status: ms.status_update !== "off",
      log: ms.workflow_log_update !== "off",
      dryRun: c.values["dry-run"] === true,
    });
    c.emit(r, () =>
      [
        ...r.diffs,
        `${
          c.values["dry-run"] ? "would write" : "written"
        } ${r.written.length}, unchanged ${r.unchanged.length}, errors ${r.errors.length}`,
        ...r.errors.map((x) => `error: ${x.path}: ${x.message}`),
        ...r.warnings.map((x) => `warning: ${x.path}${x.line ? `:${x.line}` : ""}: ${x.message}`),
      ].join("\n"));
    return r.errors.length ? 1 : 0;
  });
}

/** `new`. */
function newTicketCommand(c: CommandContext): Promise<number> {
  return c.withEngine(async (e) => {
    const { newTicket } = await importLate<typeof import("../../sync/new_ticket.ts")>(
      new URL("../../sync/new_ticket.ts", import.meta.url),
    );
    const priority = c.values.priority as string | undefined;
    const order = e.cfg.config.priority_order;
    if (priority !== undefined && !order.some((p) => p.toLowerCase() === priority.toLowerCase())) {
      throw usage(`--priority must be one of ${order.join(", ")} (priority_order), got "${priority}"`);
    }
    const from = c.values.from as string | undefined;
    const t = newTicket(e, {
      title: c.positionals[0],
      priority: c.values.priority as string | undefined,
      summary: c.values.summary as string | undefined,
      discoveredFrom: from,
      actor: from !== undefined ? { kind: "human", name: (await gitUser()) ?? "cli" } : undefined,
    });
    c.emit(t, () => `created ticket ${t.id}: ${t.path}${from ? ` (discovered from ${from})` : ""}`);
  });
}

/** The commands of this group. */
export const SETUP: Command[] = [
  {
    name: "init",
    group: GROUP,
    usage: "init [--example NAME] [--agent claude|codex|gemini] [--hooks|--no-hooks]",
    summary: ["create .workflow/ from the example, ignore the database in git"],
    description:
      "Creates .workflow/ (config.yaml, phases.yaml, a README and the ticket template) from the shipped example, never overwriting a file, and adds the database files to .gitignore. It offers Baton's git hooks (asks in a terminal; --hooks installs them, --no-hooks does not). With --agent, every agent type of the workflow runs that CLI under baton run (see agents use).",
    positionals: [0, 0],
    options: {
      example: { type: "string", value: "NAME", help: "which example (only `default` ships)" },
      agent: { type: "string", value: "CLI", help: "claude, codex or gemini: the agent CLI's preset for every type" },
      hooks: { type: "boolean", help: "install Baton's git hooks (see hooks install) without asking" },
      "no-hooks": { type: "boolean", help: "do not install them, nor ask" },
    },
    examples: ["init", "init --agent claude", "init --repo ../other-repo"],
    run: init,
  },
  {
    name: "agents use",
    group: GROUP,
    usage: "agents use claude|codex|gemini [--types T[,T…]]",
    summary: ["send agent types to an agent CLI: its registry entries, MCP config and hooks"],
    description:
      "Writes the preset of an agent CLI (Claude Code, Codex or Gemini CLI): agents.registry.<type> in .workflow/config.yaml for every agent type of the workflow (or those of --types), keeping the file's comments and other keys, and the CLI's files under .workflow/agents/ (a file you changed is kept). The preset waits for baton-mcp before the agent's first model request, passes the claim, lets the agent edit files in its worktree and commit with git, and records progress from its tool calls.",
    args: [{ name: "CLI", help: "claude, codex or gemini" }],
    positionals: [1, 1],
    options: { types: { type: "string", value: "T[,T…]", help: "only these agent types (default: all of them)" } },
    examples: ["agents use claude", "agents use codex --types test-writer"],
    run: agentsUse,
  },
  {
    name: "import",
    group: GROUP,
    usage: "import [--warnings]",
    summary: ["import markdown tickets into the database"],
    description:
      "Reads every ticket file under tickets.directory matching tickets.pattern and places each new ticket where its status says. Unchanged files are skipped; one bad file never stops the import; the database stays authoritative for the status of tickets it already has. Warnings are grouped by message. Exits 1 when a file had an error, or two files share an id (neither is imported).",
    positionals: [0, 0],
    options: { warnings: { type: "boolean", help: "read unchanged files too, to show their warnings" } },
    examples: ["import", "import --warnings", "import --json"],
    run: importCommand,
  },
  {
    name: "sync",
    group: GROUP,
    usage: "sync [TICKET] [--dry-run]",
    summary: ["write status and workflow logs back to the markdown"],
    description:
      "Writes what Baton did that the markdown lacks: status checkboxes of phases Baton completed, and the workflow log of work it handed out. Only those lines change; a value a human wrote is never overwritten (a disagreement is a warning); a file that is not UTF-8 is never rewritten. Parts whose markdown_sync timing is off are left alone. Exits 1 when a file could not be written.",
    args: [{ name: "TICKET", help: "only this ticket (default: every ticket with a file)" }],
    positionals: [0, 1],
    options: { "dry-run": { type: "boolean", help: "change nothing: print the diff that would be written" } },
    examples: ["sync", "sync 0083 --dry-run"],
    run: sync,
  },
  {
    name: "new",
    group: GROUP,
    usage: "new TITLE [--priority P] [--summary TEXT] [--from TICKET]",
    summary: ["write a ticket from .workflow/templates/ticket.md and import it"],
    args: [{ name: "TITLE", help: "the ticket's title (quote it)" }],
    positionals: [1, 1],
    options: {
      priority: { type: "string", value: "P", help: "a priority from priority_order (default Medium)" },
      summary: { type: "string", value: "TEXT", help: "the ticket's summary" },
      from: { type: "string", value: "TICKET", help: "the ticket this was found while working on (discovered-from)" },
    },
    examples: [
      'new "Cache the config" --priority High --summary "Reading .workflow/ costs 35 ms"',
      'new "The cache misses on Windows paths" --from 0042',
    ],
    run: newTicketCommand,
  },
];
