/**
 * Keeping it healthy: `sweep`, `doctor`, `backup`, `restore`, `demo`.
 *
 * @module
 */
import { type Command, int, usage } from "../command.ts";
import { paint } from "../format.ts";

const GROUP = "Keeping it healthy";
const FILE = { name: "FILE", help: "a database file path" };

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
    run(c) {
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
    },
  },
  {
    name: "doctor",
    group: GROUP,
    usage: "doctor",
    summary: ["integrity, WAL size, config, orphaned declarations"],
    description: "Checks the configuration and the database; exits 1 when a check fails.",
    positionals: [0, 0],
    async run(c) {
      const { doctor } = await import("../doctor.ts");
      const r = await doctor(c.repo);
      c.emit(
        r,
        () =>
          r.checks.map((k) => `${k.ok ? paint("ok  ", "green") : paint("FAIL", "red")}  ${k.name}: ${k.detail}`).join(
            "\n",
          ),
      );
      return r.checks.every((k) => k.ok) ? 0 : 1;
    },
  },
  {
    name: "backup",
    group: GROUP,
    usage: "backup FILE",
    summary: ["a consistent copy, safe while others write"],
    args: [{ name: "FILE", help: "where to write the copy (must not exist)" }],
    positionals: [1, 1],
    examples: ["backup /tmp/baton-2026-12-01.db"],
    async run(c) {
      const { backupDatabase } = await import("../../engine/backup.ts");
      const r = await backupDatabase(c.repo, c.positionals[0]);
      c.emit(r, () => r.message);
    },
  },
  {
    name: "restore",
    group: GROUP,
    usage: "restore FILE",
    summary: ["replace the database (refused while others use it)"],
    args: [FILE],
    positionals: [1, 1],
    examples: ["restore /tmp/baton-2026-12-01.db"],
    async run(c) {
      const { restoreDatabase } = await import("../../engine/backup.ts");
      const r = await restoreDatabase(c.repo, c.positionals[0]);
      c.emit(r, () => r.message);
    },
  },
  {
    name: "demo",
    group: GROUP,
    usage: "demo [--agents N] [--items N]",
    summary: ["several processes claim from one database at once"],
    positionals: [0, 0],
    options: {
      agents: { type: "string", value: "N", default: "4", help: "agent processes (default 4, at most 64)" },
      items: { type: "string", value: "N", default: "200", help: "work items (default 200)" },
      "journal-mode": { type: "string", value: "MODE", default: "wal", help: "wal, truncate or delete" },
    },
    async run(c) {
      const agents = int(c.values.agents, "--agents", 1)!;
      if (agents > 64) throw usage(`--agents must be at most 64, got ${agents}`);
      const items = int(c.values.items, "--items", 0)!;
      const mode = c.values["journal-mode"] as string;
      if (!["wal", "truncate", "delete"].includes(mode)) {
        throw usage(`--journal-mode must be wal, truncate or delete, got "${mode}"`);
      }
      const { runDemo } = await import("../../demo.ts");
      const self = new URL("../../../cli.ts", import.meta.url).pathname;
      const r = await runDemo({
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
    },
  },
  {
    name: "demo-agent",
    group: GROUP,
    usage: "demo-agent DB AGENT MODE",
    summary: [],
    hidden: true,
    positionals: [3, 3],
    async run(c) {
      const [path, agent, mode] = c.positionals;
      const { demoAgent } = await import("../../demo.ts");
      await demoAgent(path, agent, mode as "wal");
    },
  },
];
