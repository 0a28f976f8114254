/**
 * What every `baton` command pays before it runs: Deno reads every module
 * reachable from `src/cli/main.ts` through static imports and through
 * dynamic imports it can read (a string literal) before the first line of
 * the command runs (src/late_import.ts). The commands' own implementations
 * — the dashboard server, the supervisor, the merge queue, the demos,
 * importing tickets, the doctor — load only when their command runs.
 *
 * Nor do the parts of opening an engine that only some openings need: the
 * full `.workflow/` loader (the YAML parser and the validator, for a
 * configuration-cache miss) and the realtime markdown write-back (the
 * markdown parser): the CLI, `baton guard` and `baton-mcp` open through
 * `src/open/late.ts`.
 *
 * The library is the other way round: `openEngine` is public, and a tool
 * author's `deno compile` or `deno cache` sees only what the walk sees, so
 * everything opening an engine may load stays in its walk.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** The modules Deno walks before `entry` runs, relative to the repository (npm packages by name). */
async function startupWalk(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, new URL(entry, ROOT).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    redirects: Record<string, string>;
    modules: { specifier: string; dependencies?: { code?: { specifier: string } }[] }[];
  };
  // Code only: a type (\`typeof import("…")\`) is not loaded by \`deno run\`.
  const deps = new Map(
    info.modules.map((m) => [m.specifier, (m.dependencies ?? []).flatMap((d) => d.code?.specifier ?? [])]),
  );
  const seen = new Set<string>();
  const todo = [...info.roots];
  while (todo.length) {
    let m = todo.pop()!;
    while (info.redirects[m]) m = info.redirects[m];
    if (seen.has(m)) continue;
    seen.add(m);
    todo.push(...(deps.get(m) ?? []));
  }
  return [...seen].map((m) => m.startsWith(ROOT.href) ? m.slice(ROOT.href.length) : m.replace(/^npm:\/?/, "npm:"));
}

const HEAVY = [
  /^src\/serve\//,
  /^src\/run\//,
  /^src\/merge\//,
  /^src\/demo\//,
  /^src\/sync\/(import|new_ticket)\.ts$/,
  /^src\/storage\/demo\.ts$/,
  /^src\/cli\/(doctor|demo|dashboard|init|agents_use)\.ts$/,
  /^npm:(hono|@hono\/|@modelcontextprotocol\/)/,
];

/** What only a configuration-cache miss or a realtime repository needs. */
const OPTIONAL = [
  /^src\/config\/load\.ts$/,
  /^src\/sync\/realtime\.ts$/,
  /^src\/markdown\//,
  /^npm:(yaml|valibot|mdast-|micromark)/,
];

Deno.test("cli start-up: a command walks the engine and the command table, not every command's implementation", async () => {
  const walked = await startupWalk("src/cli/main.ts");
  // The walk does reach what every command needs: the engine's opener, storage, the command table.
  for (const m of ["src/open/late.ts", "src/storage/sqlite.ts", "src/cli/commands/mod.ts", "src/engine/core.ts"]) {
    assert.ok(walked.includes(m), `${m} walked (${walked.length} modules)`);
  }
  assert.deepEqual(walked.filter((m) => HEAVY.some((re) => re.test(m))), []);
  assert.deepEqual(walked.filter((m) => OPTIONAL.some((re) => re.test(m))), []);
});

Deno.test("cli and mcp start-up: the YAML loader and the markdown write-back are not walked before the first line", async () => {
  for (const entry of ["src/cli/guard_main.ts", "mcp.ts"]) {
    const walked = await startupWalk(entry);
    assert.ok(walked.length > 5, `${entry}: ${walked.length} modules walked`);
    assert.deepEqual(walked.filter((m) => OPTIONAL.some((re) => re.test(m))), [], entry);
  }
});

Deno.test("library: opening an engine names every module it may load, for a tool author's deno compile and cache", async () => {
  for (const entry of ["src/open/library.ts", "mod.ts"]) {
    const walked = await startupWalk(entry);
    for (const m of ["src/config/load.ts", "src/sync/realtime.ts", "npm:yaml@2.9.1", "src/storage/sqlite.ts"]) {
      assert.ok(walked.includes(m), `${m} is in the walk of ${entry}`);
    }
  }
});

Deno.test("cli, guard and mcp start-up: no Node built-in is walked (node:util alone cost ~18 ms of every start)", async () => {
  for (const entry of ["src/cli/main.ts", "src/cli/guard_main.ts", "mcp.ts"]) {
    const walked = await startupWalk(entry);
    assert.ok(walked.length > 5, `${entry}: ${walked.length} modules walked`);
    assert.deepEqual(walked.filter((m) => m.startsWith("node:")), [], entry);
  }
});

Deno.test("the realtime write-back (opened with the engine in a realtime repository) walks no YAML parser", async () => {
  // Every CLI command and each baton-mcp opens it there; it reads a ticket's status checklist, never its front matter
  // (reading front matter as YAML, for import, loads ~60 ms of modules).
  const walked = await startupWalk("src/sync/realtime.ts");
  assert.ok(walked.includes("src/markdown/parse_ticket.ts"));
  assert.deepEqual(walked.filter((m) => /^npm:yaml|^src\/markdown\/(front_matter|read_ticket)\.ts$/.test(m)), []);
  // Import reads front matter: it walks the parser.
  assert.ok((await startupWalk("src/sync/import.ts")).includes("npm:yaml@2.9.1"));
});
