/**
 * The CLI's command table: each command says its name, group, usage line,
 * summary, arguments, options (with help text) and examples, and how it
 * runs. Parsing, `baton --help`, `baton COMMAND --help` and dispatch all
 * come from the table.
 *
 * @module
 */
import { type ArgOption, parseArgv } from "../args.ts";
import { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import { isoDates } from "../json.ts";
import { table } from "./format.ts";

/** Where output goes (tests run the real process; this keeps printing in one place). */
export interface Io {
  /** A line on stdout. */
  out(line: string): void;
  /** A line on stderr. */
  err(line: string): void;
}

/** One option of a command. */
export interface OptionDef {
  /** `string` takes a value, `boolean` is a flag. */
  type: "string" | "boolean";
  /** What the value is called in help (`TEXT`, `N`). */
  value?: string;
  /** What the option does. */
  help: string;
  /** May be given several times. */
  multiple?: boolean;
  /** Its value when not given. */
  default?: string | boolean;
  /** A one-letter alias. */
  short?: string;
}

/** What a command's `run` gets. */
export interface CommandContext {
  /** Where to print. */
  io: Io;
  /** Option values by name. */
  values: Record<string, unknown>;
  /** The arguments. */
  positionals: string[];
  /** `--json`: one JSON document on stdout. */
  json: boolean;
  /** `--repo`, else the current directory. */
  repo: string;
  /** Opens the engine, runs `fn`, always closes it; `fn`'s number (default 0) is the exit code. */
  withEngine(fn: (e: Engine) => number | void | Promise<number | void>): Promise<number>;
  /** Prints `value` as JSON with `--json`, else `human()`. */
  emit(value: unknown, human: () => string): void;
  /** {@link CommandContext.emit} for a list shown as a table: one row of cells per item. */
  emitTable<T>(rows: T[], headers: string[], cells: (row: T) => (string | number | null | undefined)[]): void;
}

/** One command. */
export interface Command {
  /** As typed: `approve`, or `dep add`. */
  name: string;
  /** The section of `baton --help` it is listed under. */
  group: string;
  /** The usage line, e.g. `approve GATE [--notes TEXT] [--by NAME]`. */
  usage: string;
  /** What it does, for `baton --help` (lines; empty: the usage says it all). */
  summary: string[];
  /** A longer description for `baton COMMAND --help`. */
  description?: string;
  /** Its arguments, in order, with what each is. */
  args?: { name: string; help: string }[];
  /** How many arguments it takes: [at least, at most]. */
  positionals: [number, number];
  /** Its options. */
  options?: Record<string, OptionDef>;
  /** Example invocations (without the leading `baton `). */
  examples?: string[];
  /** Not listed in `baton --help` (internal helpers). */
  hidden?: boolean;
  /** Runs it; returns the exit code (default 0). */
  run(ctx: CommandContext): Promise<number | void> | number | void;
}

/** The options every command takes. */
export const COMMON: Record<string, OptionDef> = {
  repo: { type: "string", value: "DIR", help: "the repository (default: found from the current directory)" },
  json: { type: "boolean", default: false, help: "one JSON document on stdout (read-only commands)" },
  help: { type: "boolean", short: "h", default: false, help: "help for the command" },
};

/** A usage error: exit code 2. */
export function usage(message: string): BatonError {
  return new BatonError("invalid_argument", message);
}

/** An integer argument or option value, at least `min`. */
export function int(v: unknown, name: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  // Digits only (not `1e3`, not `0x10`), and no more than a safe integer: SQLite and every count take it as it is.
  const n = Number(v);
  if (typeof v !== "string" || !/^\s*[+-]?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    throw usage(`${name} must be an integer ≥ ${min}, got "${v}"`);
  }
  return n;
}

/** A comma-separated list option (`a,b , c` → `["a", "b", "c"]`). */
export function list(v: unknown): string[] {
  return typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : [];
}

/**
 * The options a command's arguments are parsed against: the common ones and its own.
 * @param cmd the command
 * @returns its options, by long name
 */
export function commandOptions(cmd: Command): Record<string, ArgOption> {
  return { ...COMMON, ...cmd.options }; // an OptionDef is an ArgOption with its help text
}

/** Parses a command's arguments (`src/args.ts`); usage errors are `invalid_argument`. */
export function parseCommand(cmd: Command, args: string[]): { values: Record<string, unknown>; positionals: string[] } {
  const r = parseArgv(args, commandOptions(cmd));
  const values = r.values as Record<string, unknown>;
  const [min, max] = cmd.positionals;
  if (!values.help && (r.positionals.length < min || r.positionals.length > max)) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw usage(`expected ${want} argument(s), got ${r.positionals.length}`);
  }
  return { values, positionals: r.positionals };
}

/** Column where summaries start in `baton --help`. */
const SUMMARY_COL = 35;

/** A command's line(s) in `baton --help`. */
export function helpLines(cmd: Command): string[] {
  const pad = " ".repeat(SUMMARY_COL);
  if (cmd.summary.length === 0) return [`  ${cmd.usage}`];
  const [first, ...rest] = cmd.summary;
  const head = cmd.usage.length <= SUMMARY_COL - 4
    ? [`  ${cmd.usage.padEnd(SUMMARY_COL - 2)}${first}`]
    : [`  ${cmd.usage}`, pad + first];
  return [...head, ...rest.map((l) => pad + l)];
}

/** `baton COMMAND --help`: usage, description, arguments, options, examples. */
export function commandHelp(cmds: Command[]): string {
  const out: string[] = ["Usage:", ...cmds.map((c) => `  baton ${c.usage}`)];
  for (const c of cmds) {
    if (cmds.length > 1) out.push("", `baton ${c.name}:`);
    out.push("", c.description ?? c.summary.join(" ") ?? "");
    if (c.args?.length) {
      const w = Math.max(...c.args.map((a) => a.name.length));
      out.push("", "Arguments:", ...c.args.map((a) => `  ${a.name.padEnd(w)}  ${a.help}`));
    }
    const opts = Object.entries(c.options ?? {}).filter(([k]) => !(k in COMMON));
    if (opts.length) {
      const shown = opts.map((
        [k, o],
      ) => [`--${k}${o.value ? ` ${o.value}` : ""}${o.multiple ? " (repeatable)" : ""}`, o.help]);
      const w = Math.max(...shown.map(([s]) => s.length));
      out.push("", "Options:", ...shown.map(([s, h]) => `  ${s.padEnd(w)}  ${h}`));
    }
    if (c.examples?.length) out.push("", "Examples:", ...c.examples.map((e) => `  baton ${e}`));
  }
  out.push("", "Options for every command: --repo DIR, --json, -h/--help");
  return out.join("\n");
}

/** Prints `value` (ISO dates) as JSON, or `human()`. */
export function emitWith(io: Io, json: boolean, value: unknown, human: () => string): void {
  io.out(json ? JSON.stringify(isoDates(value), null, 2) : human());
}

/** {@link emitWith} for a list shown as a table. */
export function emitTableWith<T>(
  io: Io,
  json: boolean,
  rows: T[],
  headers: string[],
  cells: (row: T) => (string | number | null | undefined)[],
): void {
  emitWith(io, json, rows, () => table(headers, rows.map(cells)));
}
