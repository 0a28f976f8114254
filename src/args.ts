/**
 * Command-line arguments: options and positionals, for `baton`, `baton
 * guard` and `baton-mcp`. The same rules as `node:util`'s `parseArgs` in
 * strict mode (long options, `--name=value`, one-letter aliases and groups
 * of them, `--` ending the options, a value that looks like an option
 * refused unless written `--name=-x`), in one small module: loading
 * `node:util` costs every process ~18 ms before it can do anything
 * (issue 21). `tests/args_test.ts` checks that both agree on random
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
  const byShort = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short) byShort.set(o.short, name);

  const positional = (arg: string) => {
    if (!allowPositionals) throw usage(`unexpected argument "${arg}": this command takes only options`);
    positionals.push(arg);
  };
  const set = (name: string, value: string | true) => {
    const o = options[name];
    if (o.multiple) ((values[name] ??= []) as (string | true)[]).push(value);
    else values[name] = value;
  };
  /** One option as written (`raw`), with its value when written inline; may take the next argument. */
  const option = (raw: string, name: string, inline: string | undefined, rest: readonly string[], at: number) => {
    const o = Object.hasOwn(options, name) ? options[name] : undefined;
    if (!o) {
      throw usage(`unknown option "${raw}" (an argument starting with "-" goes after "--", as in: -- "${raw}")`);
    }
    const shown = o.short ? `-${o.short}, --${name}` : `--${name}`;
    if (o.type === "boolean") {
      if (inline !== undefined) throw usage(`option ${shown} takes no value, got "${raw}=${inline}"`);
      set(name, true);
      return 0;
    }
    if (inline !== undefined) {
      set(name, inline);
      return 0;
    }
    const next = rest[at + 1];
    if (next === undefined) throw usage(`option ${shown} needs a value`);
    if (next.length > 1 && next[0] === "-") {
      throw usage(
        `option ${shown} needs a value, got "${next}" (a value starting with "-" is written --${name}=${next})`,
      );
    }
    set(name, next);
    return 1;
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      for (const p of args.slice(i + 1)) positional(p);
      break;
    }
    if (arg.length < 2 || arg[0] !== "-") {
      positional(arg);
    } else if (arg[1] === "-") {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      i += option(eq < 0 ? arg : arg.slice(0, eq), name, eq < 0 ? undefined : arg.slice(eq + 1), args, i);
    } else {
      // `-h`, a group of flags `-ab`, or a letter and its value `-nVALUE`.
      for (let k = 1; k < arg.length; k++) {
        const letter = arg[k];
        const name = byShort.get(letter) ?? letter;
        const last = k === arg.length - 1;
        if (Object.hasOwn(options, name) && options[name].type === "string" && !last) {
          option(`-${letter}`, name, arg.slice(k + 1), args, i);
          break;
        }
        // Only a lone `-x` (or the last letter of a group) may take the next argument.
        i += option(`-${letter}`, name, undefined, last ? args : [], last ? i : -1);
      }
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
