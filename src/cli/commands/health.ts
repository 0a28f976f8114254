/**
 * Keeping it healthy: `sweep`, `doctor`, `backup`, `restore`, `demo`.
 *
 * @module
 */
import { type Command, type CommandContext, int, usage } from "../command.ts";
import { paint } from "../format.ts";
import { importLate } from "../../late_import.ts";

const GROUP = "Keeping it healthy";
const FILE = { name: "FILE", help: "a database file path" };

/** `demo --storage`: processes claim rows of one database at once; no row is claimed twice. */
async function storageDemo(c: CommandContext): Promise<number> {
  const agents = int(c.values.agents, "--agents", 1)!;
  if (agents > 64) throw usage(`--agents must be at most 64, got ${agents}`);
  const items = int(c.values.items, "--items", 0)!;
  const mode = c.values["journal-mode"] as string;
  if (!["wal", "truncate", "delete"].includes(mode)) {
    throw usage(`--journal-mode must be wal, truncate or delete, got "${mode}"`);
  }
  const { runStorageDemo } = await importLate<typeof import("../../storage/demo.ts")>(
    new URL("../../storage/demo.ts", import.meta.url),
  );
  const self = new URL("../../../cli.ts", import.meta.url).pathname;
  const r = await runStorageDemo({
    agents,
    items,
    mode: mode as "wal",
    print: c.io.out,
    spawnAgent: (path, agent) =>
      new Deno.Command(Deno.execPath(), {
        args: Deno.build.standalone
          ? ["demo-agent", path, agent, mode]
          : ["run", "-A", self, "demo-agent", path, agent, mode],
        stdout: "null",
        stderr: "piped",
      }),
  });
  return r.duplicates === 0 && r.integrity === "ok" ? 0 : 1;
}

/** `sweep`. */
function sweep(c: CommandContext): Promise<number> {
  return c.withEngine((e) => {
    const n = e.sweepStale();
    const pruned = e.prune();
    c.emit({ released: n, pruned }, () =>
      [
        `released ${n} stale claim(s)`,
        `pruned ${pruned.idempotencyKeys} idempotency key(s), ${pruned.claimMissDays} claim-miss counter(s), ` +
        `${pruned.agents} agent(s), ${pruned.declarations} declaration(s), ${pruned.auditRows} audit row(s)`,
      ].join("\n"));
  });
}

/** `doctor`. */
async function doctor(c: CommandContext): Promise<number | void> {
  const { doctor } = await importLate<typeof import("../doctor.ts")>(new URL("../doctor.ts", import.meta.url));
  const r = await doctor(c.repo);
  c.emit(
    r,
    () =>
      r.checks.map((k) => `${k.ok ? paint("ok  ", "green") : paint("FAIL", "red")}  ${k.name}: ${k.detail}`).join(
        "\n",
      ),
  );
  return r.checks.every((k) => k.ok) ? 0 : 1;
}

/** `backup`. */
async function backup(c: CommandContext): Promise<number | void> {
  const { backupDatabase } = await importLate<typeof import("../../engine/backup.ts")>(
    new URL("../../engine/backup.ts", import.meta.url),
  );
  const r = await backupDatabase(c.repo, c.positionals[0]);
  c.emit(r, () => r.message);
}

/** `restore`. */
async function restore(c: CommandContext): Promise<number | void> {
  const { restoreDatabase } = await importLate<typeof import("../../engine/backup.ts")>(
    new URL("../../engine/backup.ts", import.meta.url),
  );
  const r = await restoreDatabase(c.repo, c.positionals[0]);
  c.emit(r, () => r.message);
}

/** `demo`. */
async function demo(c: CommandContext): Promise<number | void> {
  if (c.values.storage) return await storageDemo(c);
  const { mainDemo } = await importLate<typeof import("../demo.ts")>(new URL("../demo.ts", import.meta.url));
  return await mainDemo(c);
}

/** `demo-agent`. */
async function demoAgentCommand(c: CommandContext): Promise<number | void> {
  const [path, agent, mode] = c.positionals;
  const { demoAgent } = await importLate<typeof import("../../storage/demo.ts")>(
    new URL("../../storage/demo.ts", import.meta.url),
  );
  await demoAgent(path, agent, mode as "wal");
}

/** `scripted-agent`. */
async function scriptedAgent(): Promise<number | void> {
  // The example agent (src/agents/scripted_agent.ts) runs as it is imported; it reads its own arguments.
  await importLate<typeof import("../../agents/scripted_agent.ts")>(
    new URL("../../agents/scripted_agent.ts", import.meta.url),
  );
}

/** The commands of this group. */
export const HEALTH: Command[] = [
  {
    name: "sweep",
    group: GROUP,
    usage: "sweep",
    summary: ["release claims whose lease expired; prune old bookkeeping"],
    description:
      "Releases claims whose lease expired, and applies the retention policy (retention: and audit.retain_days in config.yaml).",
    positionals: [0, 0],
    run: sweep,
  },
  {
    name: "doctor",
    group: GROUP,
    usage: "doctor",
    summary: ["integrity, WAL size, config, orphaned declarations"],
    description: "Checks the configuration and the database; exits 1 when a check fails.",
    positionals: [0, 0],
    run: doctor,
  },
  {
    name: "backup",
    group: GROUP,
    usage: "backup FILE",
    summary: ["a consistent copy, safe while others write"],
    args: [{ name: "FILE", help: "where to write the copy (must not exist)" }],
    positionals: [1, 1],
    examples: ["backup /tmp/baton-2026-12-01.db"],
    run: backup,
  },
  {
    name: "restore",
    group: GROUP,
    usage: "restore FILE",
    summary: ["replace the database (refused while others use it)"],
    args: [FILE],
    positionals: [1, 1],
    examples: ["restore /tmp/baton-2026-12-01.db"],
    run: restore,
  },
  {
    name: "demo",
    group: GROUP,
    usage: "demo [--keep] [--serve] | demo --storage [--agents N] [--items N]",
    summary: ["Baton's main job in a temporary repository: scripted agents, gates, rework"],
    description:
      "Makes a temporary git repository from .workflow.example/ with eight tickets, runs `baton run --until-idle` with " +
      "scripted agents (several at once, one worktree each) while a scripted human approves the gates and rejects one " +
      "design once, then shows the status, the metrics, a ticket's markdown and a ticket branch's git log. It checks " +
      "its own end state (exit 1 when it is wrong). --storage runs the storage demo instead: processes claiming rows " +
      "of one database at once.",
    positionals: [0, 0],
    options: {
      keep: { type: "boolean", help: "keep the repository to explore (its path is printed)" },
      serve: { type: "boolean", help: "serve the dashboard on the demo's repository (port 8766), live, until Ctrl-C" },
      storage: { type: "boolean", help: "the storage demo: several processes claim from one database at once" },
      agents: { type: "string", value: "N", default: "4", help: "--storage: agent processes (default 4, at most 64)" },
      items: { type: "string", value: "N", default: "200", help: "--storage: work items (default 200)" },
      "journal-mode": { type: "string", value: "MODE", default: "wal", help: "--storage: wal, truncate or delete" },
    },
    run: demo,
  },
  {
    name: "demo-agent",
    group: GROUP,
    usage: "demo-agent DB AGENT MODE",
    summary: [],
    hidden: true,
    positionals: [3, 3],
    run: demoAgentCommand,
  },
  {
    name: "scripted-agent",
    group: GROUP,
    usage: "scripted-agent --mcp-config FILE",
    summary: [],
    hidden: true,
    positionals: [0, 1],
    options: { "mcp-config": { type: "string", value: "FILE", help: "the MCP config baton run wrote" } },
    run: scriptedAgent,
  },
];
