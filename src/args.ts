/**
 * Command-line arguments: options and positionals, for `baton`, `baton
 * guard` and `baton-mcp`. The same rules as `node:util`'s `parseArgs` in
 * strict mode (long options, `--name=value`, one-letter aliases and groups
 * of them, `--` ending the options, a value that looks like an option
 * refused unless written `--name=-x`), in one small module: loading
 * `node:util` alone takes ~18 ms to load (without it, `baton list` starts 17 ms
 * sooner and `baton-mcp` answers `initialize` 6 ms sooner: issue 21). `tests/args_test.ts` checks that both agree on random
 * command lines.
 *
 * @module
 */
import { BatonError } from "./errors.ts";

/** One option a command takes. */
export interface ArgOption {
  /** `string` takes a value, `boolean` is a flag. */
  type: "string" | "boolean";
  /** A one-letter alias (`h` for `-h`). */
  short?: string;
  /** May be given several times: its value is the list of them. */
  multiple?: boolean;
  /** Its value when not given. */
  default?: string | boolean | string[];
}

/** What {@link parseArgv} found. */
export interface ParsedArgv {
  /** Option values by name (null prototype): a string, `true`, a list for `multiple`, or the default. */
  values: Record<string, string | boolean | string[] | undefined>;
  /** The arguments that are not options, in order. */
  positionals: string[];
}

/**
 * Parses a command line against the options a command takes.
 *
 * @param args the arguments, without the program and command names
 * @param options the options, by long name
 * @param allowPositionals whether arguments other than options are allowed (default: true)
 * @returns the option values and the positionals
 * @throws {BatonError} `invalid_argument` naming the argument: an unknown option, a value given to a flag, a
 *   missing value, a value that looks like an option, or a positional where none is allowed
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgv } from "./args.ts";
 * const { values, positionals } = parseArgv(["0083", "--notes=ok", "-h"], {
 *   notes: { type: "string" },
 *   help: { type: "boolean", short: "h", default: false },
 * });
 * assert.deepEqual({ ...values }, { notes: "ok", help: true });
 * assert.deepEqual(positionals, ["0083"]);
 * ```
 */
export function parseArgv(
  args: readonly string[],
  options: Readonly<Record<string, ArgOption>>,
  allowPositionals = true,
): ParsedArgv {
  const values: ParsedArgv["values"] = Object.create(null);
  const positionals: string[] = [];
  // A letter names the first option that has it (as `parseArgs` does); an unknown letter names itself.
  const byShort = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short && !byShort.has(o.short)) byShort.set(o.short, name);
  const long = (letter: string) => byShort.get(letter) ?? letter;
  const takesValue = (name: string) => Object.hasOwn(options, name) && options[name].type === "string";

  const positional = (arg: string) => {
    if (!allowPositionals) throw usage(`unexpected argument "${arg}": this command takes only options`);
    positionals.push(arg);
  };
  const set = (name: string, value: string | true) => {
    const o = options[name];
    if (o.multiple) ((values[name] ??= []) as (string | true)[]).push(value);
    else values[name] = value;
  };
  const queue = [...args];
  /** One option as written (`raw`), with its value when written inline; a value-taking one may take the next. */
  const option = (raw: string, name: string, inline: string | undefined) => {
    const o = Object.hasOwn(options, name) ? options[name] : undefined;
    if (!o) {
      const hint = allowPositionals ? ` (an argument starting with "-" goes after "--", as in: -- "${raw}")` : "";
      throw usage(`unknown option "${raw}"${hint}`);
    }
    const shown = o.short ? `-${o.short}, --${name}` : `--${name}`;
    if (o.type === "boolean") {
      if (inline !== undefined) throw usage(`option ${shown} takes no value, got "${raw}=${inline}"`);
      set(name, true);
    } else if (inline !== undefined) {
      set(name, inline);
    } else {
      const next = queue.shift();
      if (next === undefined) throw usage(`option ${shown} needs a value`);
      if (next.length > 1 && next[0] === "-") {
        throw usage(
          `option ${shown} needs a value, got "${next}" (a value starting with "-" is written --${name}=${next})`,
        );
      }
      set(name, next);
    }
  };

  while (queue.length) {
    const arg = queue.shift()!;
    if (arg === "--") {
      queue.splice(0).forEach(positional);
    } else if (arg.length < 2 || arg[0] !== "-") {
      positional(arg);
    } else if (arg[1] === "-") {
      // `--name` or `--name=value` (an `=` right after the dashes is part of the name, as in `parseArgs`).
      const eq = arg.indexOf("=", 3);
      if (eq < 0) option(arg, arg.slice(2), undefined);
      else option(arg.slice(0, eq), arg.slice(2, eq), arg.slice(eq + 1));
    } else if (arg.length === 2) {
      option(arg, long(arg[1]), undefined);
    } else if (takesValue(long(arg[1]))) {
      option(arg.slice(0, 2), long(arg[1]), arg.slice(2)); // `-nVALUE`
    } else {
      // A group `-abc` is read as `-a -b -c` put back in front of the rest; a letter that takes a value takes the
      // rest of the group (`-abfFILE`: `-a -b -fFILE`), and a `-` in it makes a `--`, which ends the options.
      const expanded: string[] = [];
      for (let k = 1; k < arg.length; k++) {
        if (k < arg.length - 1 && takesValue(long(arg[k]))) {
          expanded.push(`-${arg.slice(k)}`);
          break;
        }
        expanded.push(`-${arg[k]}`);
      }
      queue.unshift(...expanded);
    }
  }
  for (const [name, o] of Object.entries(options)) {
    if (values[name] === undefined && o.default !== undefined) values[name] = o.default;
  }
  return { values, positionals };
}

function usage(message: string): BatonError {
  return new BatonError("invalid_argument", message);
}
