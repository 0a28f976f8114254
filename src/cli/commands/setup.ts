/**
 * Setting up: `init`, `import`, `sync`, `new`.
 *
 * @module
 */
import type { Command } from "../command.ts";

const GROUP = "Setting up";

/** The commands of this group. */
export const SETUP: Command[] = [
  {
    name: "init",
    group: GROUP,
    usage: "init [--example NAME]",
    summary: ["create .workflow/ from the example, ignore the database in git"],
    description:
      "Creates .workflow/ (config.yaml, phases.yaml, a README and the ticket template) from the shipped example, never overwriting a file, and adds the database files to .gitignore.",
    positionals: [0, 0],
    options: { example: { type: "string", value: "NAME", help: "which example (only `default` ships)" } },
    examples: ["init", "init --repo ../other-repo"],
    async run(c) {
      const { init } = await import("../init.ts");
      const r = await init(c.repo, c.values.example as string | undefined);
      c.emit(r, () =>
        [
          `created ${r.created.join(", ") || "nothing (everything already exists)"}`,
          r.skipped.length ? `kept existing ${r.skipped.join(", ")}` : "",
          r.gitignore ? `added the database files to ${r.gitignore}` : "",
          "",
          "Register baton-mcp with your agents, e.g. in .mcp.json:",
          r.mcpJson,
        ].filter((l, i) => l !== "" || i === 3).join("\n"));
    },
  },
  {
    name: "import",
    group: GROUP,
    usage: "import",
    summary: ["import markdown tickets into the database"],
    description:
      "Reads every ticket file under tickets.directory matching tickets.pattern. Unchanged files are skipped; one bad file never stops the import; the database stays authoritative for the status of tickets it already has. Exits 1 when a file had an error.",
    positionals: [0, 0],
    examples: ["import", "import --json"],
    run(c) {
      return c.withEngine(async (e) => {
        const { importTickets } = await import("../../sync/import.ts");
        const tty = !c.json && Deno.stderr.isTerminal();
        const r = importTickets(e, {
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
            `imported ${r.imported.length}, updated ${r.updated.length}, unchanged ${r.unchanged.length}, skipped ${r.skipped.length}, errors ${r.errors.length}`,
            ...r.errors.map((x) => `error: ${x.path}${x.line ? `:${x.line}` : ""}: ${x.message}`),
            ...r.skipped.map((x) => `skipped: ${x.path}: ${x.message}`),
            ...r.warnings.map((x) => `warning: ${x.path}${x.line ? `:${x.line}` : ""}: ${x.message}`),
          ].join("\n"));
        return r.errors.length ? 1 : 0;
      });
    },
  },
  {
    name: "sync",
    group: GROUP,
    usage: "sync",
    summary: ["write status and workflow logs back to the markdown"],
    description:
      "Writes each ticket's status checkboxes and workflow log back to its markdown file, changing only those lines. Exits 1 when a file could not be written.",
    positionals: [0, 0],
    examples: ["sync"],
    run(c) {
      return c.withEngine(async (e) => {
        const { syncAll } = await import("../../sync/write_back.ts");
        const r = syncAll(e);
        c.emit(r, () =>
          [
            `written ${r.written.length}, unchanged ${r.unchanged.length}, errors ${r.errors.length}`,
            ...r.errors.map((x) => `error: ${x.path}: ${x.message}`),
            ...r.warnings.map((x) => `warning: ${x.path}${x.line ? `:${x.line}` : ""}: ${x.message}`),
          ].join("\n"));
        return r.errors.length ? 1 : 0;
      });
    },
  },
  {
    name: "new",
    group: GROUP,
    usage: "new TITLE [--priority P] [--summary TEXT]",
    summary: ["write a ticket from .workflow/templates/ticket.md and import it"],
    args: [{ name: "TITLE", help: "the ticket's title (quote it)" }],
    positionals: [1, 1],
    options: {
      priority: { type: "string", value: "P", help: "a priority from priority_order (default Medium)" },
      summary: { type: "string", value: "TEXT", help: "the ticket's summary" },
    },
    examples: ['new "Cache the config" --priority High --summary "Reading .workflow/ costs 35 ms"'],
    run(c) {
      return c.withEngine(async (e) => {
        const { newTicket } = await import("../../sync/new_ticket.ts");
        const t = newTicket(e, {
          title: c.positionals[0],
          priority: c.values.priority as string | undefined,
          summary: c.values.summary as string | undefined,
        });
        c.emit(t, () => `created ticket ${t.id}: ${t.path}`);
      });
    },
  },
];
