/**
 * The `baton` command line: finds the command in the table
 * (`commands/`), parses its arguments (`src/args.ts`), runs it
 * over the library, prints. `cli.ts` is the entrypoint; tests spawn it.
 *
 * @module
 */
import { BatonError, formatLocation, treatmentOf } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import { VERSION } from "../version.ts";
import {
  type Command,
  type CommandContext,
  commandHelp,
  COMMON,
  emitTableWith,
  emitWith,
  helpLines,
  type Io,
  parseCommand,
  usage,
} from "./command.ts";
import { COMMANDS } from "./commands/mod.ts";

export type { Io } from "./command.ts";

/** Top-level help, built from the command table (kept in tests/snapshots/help.txt and the README). */
export const HELP: string = (() => {
  const lines = [
    `baton ${VERSION} — coordinate many AI coding agents on one repository's backlog`,
    "",
    "Usage: baton <command> [options]",
  ];
  let group = "";
  for (const c of COMMANDS) {
    if (c.hidden) continue;
    if (c.group !== group) lines.push("", group = c.group);
    lines.push(...helpLines(c));
  }
  lines.push("", "Options for every command");
  for (const [k, o] of Object.entries(COMMON)) {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${k}${o.value ? ` ${o.value}` : ""}`;
    lines.push(`  ${flag.padEnd(12)}  ${o.help}`);
  }
  lines.push("", "Exit codes: 0 ok, 1 error, 2 usage, 3 conflict or nothing to claim, 4 not found.", "");
  return lines.join("\n");
})();

const stdio: Io = { out: (l) => console.log(l), err: (l) => console.error(l) };

/**
 * The exit code of an error: its row of the error table (`ERROR_TABLE`).
 * @param e what was thrown
 * @returns 2 usage, 3 conflict or nothing to claim, 4 not found, 1 anything else
 */
export function exitCode(e: unknown): number {
  return treatmentOf(e).exit;
}

/**
 * Runs one `baton` invocation.
 * @param args command line arguments (without the program name)
 * @param io where to print
 * @returns the exit code
 */
export async function run(args: string[], io: Io = stdio): Promise<number> {
  try {
    return await dispatch(args, io);
  } catch (e) {
    // A script that asked for JSON reads the failure as JSON too (stdout), with its code; people read stderr.
    if (args.includes("--json") && !args.slice(0, args.indexOf("--json")).includes("--")) {
      const body = e instanceof BatonError
        ? e.toJSON()
        : { code: "internal", message: e instanceof Error ? e.message : String(e) };
      io.out(JSON.stringify({ error: body }));
    }
    if (e instanceof BatonError) {
      const where = e.location ? formatLocation(e.location) : "";
      io.err(`error: ${e.message}${where && !e.message.includes(where) ? ` (${where})` : ""}`);
      if (e.code === "config_not_found") io.err("hint: run 'baton init' in the repository first");
      if (e.code === "invalid_argument") io.err("hint: see 'baton --help'");
      return exitCode(e);
    }
    io.err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

/** Global options may also come before the command: `baton --repo DIR status`. */
function hoistGlobals(argv: string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && (argv[i] === "--repo" || argv[i].startsWith("--repo=") || argv[i] === "--json")) {
    leading.push(argv[i]);
    if (argv[i] === "--repo" && i + 1 < argv.length) leading.push(argv[++i]);
    i++;
  }
  return [...argv.slice(i), ...leading];
}

/** The command named by the first words, and the arguments after them. */
function lookup(args: string[]): { cmds: Command[]; rest: string[] } {
  const [first, second, ...more] = args;
  const family = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  if (family.length === 0) {
    const cmd = COMMANDS.find((c) => c.name === first);
    if (!cmd) throw usage(`unknown command "${first}"`);
    return { cmds: [cmd], rest: args.slice(1) };
  }
  const sub = family.find((c) => c.name === `${first} ${second}`);
  if (sub) return { cmds: [sub], rest: more };
  const exact = COMMANDS.find((c) => c.name === first);
  if (second === "--help" || second === "-h") return { cmds: exact ? [exact, ...family] : family, rest: [] };
  // `merge --until-idle` is the command `merge`; `merge status` one of its family.
  if (exact && (second === undefined || second.startsWith("-"))) return { cmds: [exact], rest: args.slice(1) };
  const names = family.map((c) => c.name.slice(first.length + 1));
  throw usage(`${first} needs ${names.slice(0, -1).join(", ")} or ${names.at(-1)}${second ? `, got "${second}"` : ""}`);
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  const args = hoistGlobals(argv);
  const [command] = args;
  if (command === undefined) {
    io.err(HELP);
    return 2;
  }
  if (command === "--help" || command === "-h" || command === "help") {
    io.out(HELP);
    return 0;
  }
  if (command === "--version" || command === "-V") {
    io.out(VERSION);
    return 0;
  }
  const { cmds, rest } = lookup(args);
  if (cmds.length > 1) {
    io.out(commandHelp(cmds));
    return 0;
  }
  const cmd = cmds[0];
  const { values, positionals } = parseCommand(cmd, rest);
  if (values.help) {
    io.out(commandHelp([cmd]));
    return 0;
  }
  const json = values.json === true;
  const repo = (values.repo as string | undefined) ?? Deno.cwd();
  const ctx: CommandContext = {
    io,
    values,
    positionals,
    json,
    repo,
    async withEngine(fn) {
      const { openEngineLate } = await import("../open/late.ts");
      const e: Engine = await openEngineLate(repo);
      try {
        return (await fn(e)) ?? 0;
      } finally {
        e.close();
      }
    },
    emit: (value, human) => emitWith(io, json, value, human),
    emitTable: (rows, headers, cells) => emitTableWith(io, json, rows, headers, cells),
  };
  return (await cmd.run(ctx)) ?? 0;
}
