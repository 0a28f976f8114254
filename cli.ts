/**
 * `baton`: the command line for humans running the queue.
 *
 * This release has the storage foundation only; the queue commands (init,
 * import, status, gates, claim…) arrive with the workflow engine. What is
 * listed in `--help` works.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { BatonError } from "./src/errors.ts";

const VERSION = "0.1.0";
const HELP = `baton ${VERSION} — coordinate many AI coding agents on one repository's backlog

Usage:
  baton demo [--agents N] [--items N] [--journal-mode wal|truncate|delete]
      Start N agent processes that claim work items from one database file at
      once (in a temporary directory) and prove none was claimed twice.
  baton --help | --version

Exit codes: 0 ok, 1 error, 2 usage.
`;

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    console.log(HELP);
    return command ? 0 : 2;
  }
  if (command === "--version" || command === "-V") {
    console.log(VERSION);
    return 0;
  }
  if (command === "demo") {
    const { values } = parseArgs({
      args: rest,
      options: {
        agents: { type: "string", default: "4" },
        items: { type: "string", default: "200" },
        "journal-mode": { type: "string", default: "wal" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const agents = Number(values.agents), items = Number(values.items);
    const mode = values["journal-mode"];
    if (!Number.isInteger(agents) || agents < 1 || agents > 64) {
      throw usage(`--agents must be an integer from 1 to 64, got "${values.agents}"`);
    }
    if (!Number.isInteger(items) || items < 0) {
      throw usage(`--items must be a non-negative integer, got "${values.items}"`);
    }
    if (mode !== "wal" && mode !== "truncate" && mode !== "delete") {
      throw usage(`--journal-mode must be wal, truncate or delete, got "${mode}"`);
    }
    const { runDemo } = await import("./src/demo.ts");
    const self = new URL(import.meta.url).pathname;
    const r = await runDemo({
      agents,
      items,
      mode,
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
  if (command === "demo-agent") {
    const [path, agent, mode] = rest;
    const { demoAgent } = await import("./src/demo.ts");
    await demoAgent(path, agent, mode as "wal");
    return 0;
  }
  throw usage(`unknown command "${command}" (see 'baton --help')`);
}

function usage(message: string): BatonError {
  return new BatonError("invalid_argument", message);
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    if (e instanceof BatonError) {
      console.error(`error: ${e.message}`);
      Deno.exit(e.code === "invalid_argument" ? 2 : 1);
    }
    if (
      e instanceof TypeError &&
      /parseArgs|Unknown option|ERR_PARSE_ARGS/.test(`${(e as { code?: string }).code} ${e.message}`)
    ) {
      console.error(`error: ${e.message}`);
      Deno.exit(2);
    }
    throw e;
  }
}
