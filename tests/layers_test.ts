/**
 * The map of docs/ARCHITECTURE.md, checked: every import of every module
 * under src/ (static and dynamic, as `deno info --json` resolves them) must
 * be allowed by the doc's "Import rules" table, and mod.ts only re-exports.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const SRC = new URL("src/", ROOT).href;
const FOUNDATION = [
  "errors",
  "json",
  "lines",
  "duration",
  "net",
  "signals",
  "version",
  "late_import",
  "args",
  "processes",
];

/** The doc's table: floor → the floors it may import. */
function rules(): Map<string, Set<string>> {
  const doc = Deno.readTextFileSync(new URL("docs/ARCHITECTURE.md", ROOT));
  const section = doc.slice(doc.indexOf("## Import rules"));
  const out = new Map<string, Set<string>>();
  for (const line of section.split("\n")) {
    const m = /^\|\s*([a-z]+)\s*\|\s*([a-z, ]+?)\s*\|$/.exec(line);
    if (!m || m[1] === "floor") continue;
    out.set(m[1], new Set(m[2].split(",").map((s) => s.trim())));
  }
  return out;
}

/** The floor a module under src/ belongs to: its folder, or `foundation`/its name for a file directly in src/. */
function floorOf(specifier: string): string | null {
  if (!specifier.startsWith(SRC)) return null;
  const rest = specifier.slice(SRC.length);
  const slash = rest.indexOf("/");
  if (slash >= 0) return rest.slice(0, slash);
  const name = rest.replace(/\.ts$/, "");
  return FOUNDATION.includes(name) ? "foundation" : name;
}

/** Every module under src/ (tests excluded) and what it imports, from one `deno info --json`. */
/** Every module under src/ (tests excluded), as URLs. */
function srcFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: URL) => {
    for (const e of Deno.readDirSync(dir)) {
      const u = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) walk(u);
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) files.push(u.href);
    }
  };
  walk(new URL("src/", ROOT));
  return files;
}

async function importGraph(): Promise<Map<string, string[]>> {
  const files = srcFiles();
  const dir = await Deno.makeTempDir();
  const entry = `${dir}/all.ts`;
  await Deno.writeTextFile(entry, files.map((f) => `import ${JSON.stringify(f)};`).join("\n") + "\n");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  assert(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[] }[];
  };
  const graph = new Map<string, string[]>();
  for (const m of info.modules) {
    if (!m.specifier.startsWith(SRC)) continue;
    const deps = (m.dependencies ?? []).flatMap((d) => [d.code?.specifier, d.type?.specifier])
      .filter((s): s is string => !!s);
    graph.set(m.specifier, [...new Set(deps)]);
  }
  // Modules imported late (src/late_import.ts) are out of deno info's sight when a call gives no type: read them.
  for (const f of files) {
    for (const to of lateImports(Deno.readTextFileSync(new URL(f)), f)) graph.get(f)?.push(to);
  }
  const missed = files.filter((f) => !graph.has(f));
  assert.deepEqual(missed, [], "deno info saw every module under src/");
  return graph;
}

/** The modules a source file imports with `importLate(new URL("…", import.meta.url))`, as absolute URLs (doc comments aside). */
function lateImports(text: string, from: string): string[] {
  const code = text.replace(/^\s*\*.*$/gm, "");
  return [
    ...code.matchAll(/importLate(?:<[^>]*>)?\(\s*new URL\("([^"]+)", import\.meta\.url\)/g),
    // A worker's module is loaded at run time too: the compiler sees it only through --include.
    ...code.matchAll(/new Worker\(\s*new URL\("([^"]+)", import\.meta\.url\)/g),
  ]
    .map((m) => new URL(m[1], from).href);
}

/** The imports the rules refuse, as `from → to` lines. */
function violations(graph: Map<string, string[]>, allowed: Map<string, Set<string>>): string[] {
  const out: string[] = [];
  for (const [from, deps] of graph) {
    const a = floorOf(from)!;
    const may = allowed.get(a);
    for (const to of deps) {
      if (to.startsWith("file:") && !to.startsWith(SRC)) {
        out.push(`${from.slice(SRC.length)} → ${to} (outside src/)`);
        continue;
      }
      const b = floorOf(to);
      if (b === null || b === a) continue;
      if (!may) out.push(`${from.slice(SRC.length)}: its floor "${a}" is not in docs/ARCHITECTURE.md`);
      else if (!may.has(b)) {
        out.push(`${from.slice(SRC.length)} → ${to.slice(SRC.length)} ("${a}" may not import "${b}")`);
      }
    }
  }
  return out;
}

Deno.test("layers: every import under src/ follows docs/ARCHITECTURE.md", async () => {
  const allowed = rules();
  for (const floor of ["engine", "storage", "markdown", "mcp", "cli", "serve", "run", "sync"]) {
    assert(allowed.has(floor), `the doc's table has a row for ${floor}`);
  }
  const graph = await importGraph();
  assert.deepEqual(violations(graph, allowed), []);
});

Deno.test("layers: the rules named in the issue hold, and a violation is caught", async () => {
  const allowed = rules();
  for (const up of ["sync", "mcp", "cli", "serve", "run", "merge"]) assert(!allowed.get("engine")!.has(up));
  assert(!allowed.get("markdown")!.has("engine"));
  assert.deepEqual([...allowed.get("storage")!], ["foundation"]);
  for (const adapter of ["mcp", "run", "serve", "merge"]) {
    for (const other of ["mcp", "run", "serve", "merge", "cli", "demo"]) {
      if (other !== adapter) assert(!allowed.get(adapter)!.has(other), `${adapter} may not import ${other}`);
    }
  }
  // The checker itself: an engine module importing the MCP server, and storage importing the engine, are refused.
  const graph = await importGraph();
  graph.set(`${SRC}engine/claims.ts`, [`${SRC}mcp/server.ts`]);
  graph.set(`${SRC}storage/sqlite.ts`, [`${SRC}engine/core.ts`]);
  assert.deepEqual(violations(graph, allowed), [
    'engine/claims.ts → mcp/server.ts ("engine" may not import "mcp")',
    'storage/sqlite.ts → engine/core.ts ("storage" may not import "engine")',
  ]);
});

Deno.test("layers: mod.ts only re-exports", () => {
  const text = Deno.readTextFileSync(new URL("mod.ts", ROOT));
  const rest = text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "")
    .replace(/export\s+(?:type\s+)?(?:\*|\{[^}]*\})\s+from\s+"[^"]+";/g, "");
  assert.equal(rest.trim(), "", `mod.ts has more than re-exports: ${rest.trim().slice(0, 200)}`);
});

Deno.test("layers: each binary names every module it imports late (the compiler cannot see them either)", async () => {
  const task = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))).tasks.compile as string;
  const graph = await importGraph();
  const binaries = task.split("&&").map((c) => c.trim());
  assert.equal(binaries.length, 2, task);
  const checked: string[] = [];
  for (const command of binaries) {
    const entry = new URL(command.split(/\s+/).at(-1)!, ROOT).href;
    const includes = new Set([...command.matchAll(/--include (\S+)/g)].map((m) => new URL(m[1], ROOT).href));
    const text = (f: string) => Deno.readTextFileSync(new URL(f));
    // The binary's modules: its entry's imports, what it includes, and everything they import, late or not.
    const seen = new Set<string>();
    const todo = [
      ...[...text(entry).matchAll(/from "(\.\/src\/[^"]+)"/g)].map((m) => new URL(m[1], entry).href),
      ...lateImports(text(entry), entry),
      ...[...includes].filter((f) => f.startsWith(SRC) && f.endsWith(".ts")),
    ];
    const missing: string[] = [];
    while (todo.length) {
      const f = todo.pop()!;
      if (seen.has(f) || !graph.has(f)) continue;
      seen.add(f);
      todo.push(...graph.get(f)!);
      for (const late of lateImports(text(f), f)) {
        if (!includes.has(late)) missing.push(`${f.slice(ROOT.href.length)} → ${late.slice(ROOT.href.length)}`);
      }
    }
    for (const late of lateImports(text(entry), entry)) if (!includes.has(late)) missing.push(late);
    assert.deepEqual([...new Set(missing)], [], `${command.split(" --output ")[1]}: add them to its --include`);
    checked.push(`${entry.slice(ROOT.href.length)}: ${seen.size}`);
  }
  // Both binaries were walked, each through more than its entry.
  assert.ok(checked.every((c) => Number(c.split(": ")[1]) > 20), checked.join(", "));
});
