/**
 * `src/args.ts` against `node:util`'s `parseArgs` (strict), which Baton
 * used before: on random command lines built from the options the real
 * commands take, both accept the same ones with the same values and
 * positionals, and both refuse the same ones.
 */
import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { type ArgOption, parseArgv } from "../src/args.ts";
import { BatonError } from "../src/errors.ts";
import { COMMANDS } from "../src/cli/commands/mod.ts";
import { commandOptions, parseCommand } from "../src/cli/command.ts";
import { MCP_OPTIONS, parseMcpArgs } from "../src/mcp/main.ts";
import { mulberry32 } from "./helpers/prng.ts";

/** Arguments a user could type for these options: each option in every form, values, stray dashes. */
function alphabet(options: Record<string, ArgOption>): string[] {
  const words = [
    ...["0083", "a.txt", "-", "--", "---", "-1", "--nope", "-x", "", "v=w", "--=x", "-h=1", "ticket 0083", "é", "-é"],
    ...["-h-", "-h-x", "--constructor", "--__proto__", "--toString=1", "-\u{1F600}"],
  ];
  for (const [name, o] of Object.entries(options)) {
    words.push(`--${name}`, `--${name}=`, `--${name}=v`, `--${name}=-v`);
    if (o.short) words.push(`-${o.short}`, `-${o.short}${o.short}`, `-${o.short}v`, `-${o.short}x`, `-x${o.short}`);
  }
  return words;
}

type Outcome = { ok: true; values: Record<string, unknown>; positionals: string[] } | { ok: false };

function ours(args: string[], options: Record<string, ArgOption>, allowPositionals: boolean): Outcome {
  try {
    const r = parseArgv(args, options, allowPositionals);
    return { ok: true, values: { ...r.values }, positionals: r.positionals };
  } catch (e) {
    assert(e instanceof BatonError && e.code === "invalid_argument", `not a usage error: ${e}`);
    assert.match(e.message, /^(unknown option|option |unexpected argument)/);
    return { ok: false };
  }
}

function nodes(args: string[], options: Record<string, ArgOption>, allowPositionals: boolean): Outcome {
  // node:util refuses keys present with an undefined value (`short: undefined`).
  const defined = Object.fromEntries(
    Object.entries(options).map((
      [k, o],
    ) => [k, Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))]),
  );
  try {
    // deno-lint-ignore no-explicit-any
    const r = parseArgs({ args, options: defined as any, allowPositionals, strict: true });
    return { ok: true, values: { ...r.values }, positionals: r.positionals };
  } catch {
    return { ok: false };
  }
}

/**
 * Every command's option table (as `parseCommand` builds it), `baton-mcp`'s, and one made up with what no real table
 * has yet: a one-letter alias that takes a value, and one given several times.
 */
function tables(): { name: string; options: Record<string, ArgOption>; allowPositionals: boolean }[] {
  return [
    ...COMMANDS.map((c) => ({ name: c.name, options: commandOptions(c), allowPositionals: true })),
    { name: "baton-mcp", options: { ...MCP_OPTIONS }, allowPositionals: false },
    {
      name: "made up",
      options: {
        repo: { type: "string" },
        http: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        file: { type: "string", short: "f" },
        tag: { type: "string", multiple: true, short: "t" },
      },
      allowPositionals: false,
    },
  ];
}

Deno.test("args: on random command lines over every command's options, node:util parseArgs and parseArgv agree", () => {
  const random = mulberry32(21);
  let accepted = 0, refused = 0;
  for (const t of tables()) {
    const words = alphabet(t.options);
    for (let n = 0; n < 150; n++) {
      const args = Array.from({ length: Math.floor(random() * 6) }, () => words[Math.floor(random() * words.length)]);
      const want = nodes(args, t.options, t.allowPositionals);
      const got = ours(args, t.options, t.allowPositionals);
      assert.deepEqual(got, want, `${t.name} ${JSON.stringify(args)}`);
      if (want.ok) accepted++;
      else refused++;
    }
  }
  // Both kinds were tried, in numbers: the property says something about each.
  assert(accepted > 1000 && refused > 1000, `accepted ${accepted}, refused ${refused}`);
});

Deno.test("args: each refusal says what is wrong with which argument", () => {
  const options: Record<string, ArgOption> = {
    repo: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  };
  const cases: [string[], RegExp][] = [
    [["--nope"], /^unknown option "--nope" \(an argument starting with "-" goes after "--"/],
    [["-q"], /^unknown option "-q"/],
    [["--json=yes"], /^option --json takes no value, got "--json=yes"$/],
    [["--repo"], /^option --repo needs a value$/],
    [
      ["--repo", "--json"],
      /^option --repo needs a value, got "--json" \(a value starting with "-" is written --repo=--json\)$/,
    ],
    [["-h=1"], /^unknown option "-="/],
  ];
  for (const [args, want] of cases) {
    assert.throws(
      () => parseArgv(args, options),
      (e) => e instanceof BatonError && want.test(e.message),
      args.join(" "),
    );
  }
  assert.throws(() => parseArgv(["x"], options, false), /^BatonError: unexpected argument "x"/);
  // Where no argument is taken, the hint about "--" would mislead.
  assert.throws(() => parseArgv(["--nope"], options, false), (e) => (e as Error).message === 'unknown option "--nope"');
  assert.throws(() => parseArgv(["--=x"], options), /^BatonError: unknown option "--=x"/);
  // As in parseArgs: a "-" inside a group of letters is a "--", which ends the options.
  assert.deepEqual(parseArgv(["-h-x", "--json"], options).positionals, ["-x", "--json"]);
  assert.deepEqual(parseArgv(["--repo=-x", "--", "--json"], options).positionals, ["--json"]);
  assert.equal(parseArgv(["--repo=-x"], options).values.repo, "-x");
});

Deno.test("args: every command's one-letter aliases are single letters, each naming one option", () => {
  for (const t of tables()) {
    const letters = Object.values(t.options).flatMap((o) => o.short ?? []);
    assert.ok(letters.every((l) => l.length === 1), `${t.name}: ${letters}`);
    assert.equal(new Set(letters).size, letters.length, `${t.name}: ${letters}`);
  }
});

Deno.test("args: the CLI's and baton-mcp's usage errors come from the parser, as invalid_argument", () => {
  const list = COMMANDS.find((c) => c.name === "list")!;
  assert.throws(() => parseCommand(list, ["--nope"]), (e) => e instanceof BatonError && e.code === "invalid_argument");
  const complete = COMMANDS.find((c) => c.name === "complete")!;
  const many = parseCommand(complete, ["7", "--artifact", "a.txt", "--artifact=b.txt", "--agent", "a", "--token", "t"]);
  assert.deepEqual(many.values.artifact, ["a.txt", "b.txt"]);
  assert.throws(() => parseMcpArgs(["--port"], () => undefined), /option --port needs a value/);
  assert.throws(() => parseMcpArgs(["stray"], () => undefined), /unexpected argument "stray"/);
});
