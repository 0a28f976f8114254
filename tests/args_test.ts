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
import { COMMON, parseCommand } from "../src/cli/command.ts";
import { parseMcpArgs } from "../src/mcp/main.ts";
import { mulberry32 } from "./helpers/prng.ts";

/** Arguments a user could type for these options: each option in every form, values, stray dashes. */
function alphabet(options: Record<string, ArgOption>): string[] {
  const words = ["0083", "a.txt", "-", "--", "-1", "--nope", "-x", "", "v=w", "--=x", "-h=1", "ticket 0083", "é"];
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
  try {
    // deno-lint-ignore no-explicit-any
    const r = parseArgs({ args, options: options as any, allowPositionals, strict: true });
    return { ok: true, values: { ...r.values }, positionals: r.positionals };
  } catch {
    return { ok: false };
  }
}

/** Every command's option table (the CLI's, as `parseCommand` builds it) and `baton-mcp`'s. */
function tables(): { name: string; options: Record<string, ArgOption>; allowPositionals: boolean }[] {
  const out = COMMANDS.map((c) => ({
    name: c.name,
    options: Object.fromEntries(
      Object.entries({ ...COMMON, ...c.options }).map(([k, o]) => [
        k,
        Object.fromEntries(
          Object.entries({ type: o.type, short: o.short, multiple: o.multiple, default: o.default })
            .filter(([, v]) => v !== undefined),
        ) as unknown as ArgOption,
      ]),
    ),
    allowPositionals: true,
  }));
  out.push({
    name: "baton-mcp",
    options: {
      repo: { type: "string" },
      http: { type: "boolean", default: false },
      port: { type: "string" },
      token: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
      file: { type: "string", short: "f" },
      tag: { type: "string", multiple: true, short: "t" },
    },
    allowPositionals: false,
  });
  return out;
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
  assert.deepEqual(parseArgv(["--repo=-x", "--", "--json"], options).positionals, ["--json"]);
  assert.equal(parseArgv(["--repo=-x"], options).values.repo, "-x");
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
