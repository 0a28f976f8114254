/**
 * `baton init --agent` and `baton agents use` (issue 22), through the CLI as
 * a process: the registry entries of the workflow's agent types, written
 * into config.yaml with its comments and other keys kept; the CLI's files;
 * a project's own .gemini/settings.json merged, not replaced; refusals.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { baton } from "../helpers/cli.ts";
import { agentPreset } from "../../src/agents/presets.ts";
import { usePreset } from "../../src/cli/agents_use.ts";

const TYPES = ["designer", "implementer", "test-writer", "security-reviewer", "docs-writer"];

async function freshRepo(): Promise<string> {
  const repo = await Deno.makeTempDir({ prefix: "baton-agents-use-" });
  await new Deno.Command("git", { args: ["init", "-q", repo] }).output();
  return repo;
}

Deno.test("init --agent claude: every agent type runs the preset; its files exist; comments stay", async () => {
  const repo = await freshRepo();
  const r = await baton(["init", "--agent", "claude"], { cwd: repo });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /designer, implementer, test-writer, security-reviewer, docs-writer now run Claude Code/);
  const text = await Deno.readTextFile(`${repo}/.workflow/config.yaml`);
  assert.match(
    text,
    /max_concurrent: 3 # example: at most 3 implementation phases at once/,
    "the comment stays beside",
  );
  assert.match(text, /^# Baton configuration for this repository/, "the header comment stays");
  const registry = parse(text).agents.registry;
  const entry = agentPreset("claude").entry;
  for (const t of TYPES) {
    assert.equal(registry[t].command, "claude");
    assert.deepEqual(registry[t].args, entry.args);
    assert.deepEqual(registry[t].env, entry.env);
    assert.equal(registry[t].prompt, "stdin");
  }
  assert.equal(registry.implementer.max_concurrent, 3, "other keys stay");
  assert.match(
    text,
    /^priority_order: \[Critical, High, Medium, Low\]$/m,
    "a flow sequence it does not own is as written",
  );
  const mcp = JSON.parse(await Deno.readTextFile(`${repo}/.workflow/agents/claude/mcp.json`));
  assert.equal(mcp.mcpServers.baton.alwaysLoad, true);
  const settings = JSON.parse(await Deno.readTextFile(`${repo}/.workflow/agents/claude/settings.json`));
  assert.match(settings.hooks.PostToolUse[0].hooks[0].command, /baton heartbeat "\$BATON_AGENT_ID" --progress/);
  // The configuration loads: baton status works on it.
  assert.equal((await baton(["status"], { cwd: repo })).code, 0);
});

Deno.test("agents use codex --types: only those types change; a second run changes nothing", async () => {
  const repo = await freshRepo();
  assert.equal((await baton(["init", "--agent", "claude"], { cwd: repo })).code, 0);
  const r = await baton(["agents", "use", "codex", "--types", "test-writer,docs-writer"], { cwd: repo });
  assert.equal(r.code, 0, r.stderr);
  const text = await Deno.readTextFile(`${repo}/.workflow/config.yaml`);
  const registry = parse(text).agents.registry;
  assert.equal(registry["test-writer"].command, "codex");
  assert.equal(registry["docs-writer"].command, "codex");
  assert.equal(registry["test-writer"].env, undefined, "Claude's env went with Claude's entry");
  assert.equal(registry.designer.command, "claude");
  assert.ok(registry["test-writer"].args.includes("mcp_servers.baton.required=true"));
  assert.equal((await baton(["agents", "use", "codex", "--types", "test-writer,docs-writer"], { cwd: repo })).code, 0);
  assert.equal(await Deno.readTextFile(`${repo}/.workflow/config.yaml`), text, "idempotent");
});

Deno.test("agents use gemini: merged into the project's own .gemini/settings.json, which must be committed", async () => {
  const repo = await freshRepo();
  assert.equal((await baton(["init"], { cwd: repo })).code, 0);
  await Deno.mkdir(`${repo}/.gemini`);
  const own = { model: { name: "gemini-2.5-pro" }, mcpServers: { other: { command: "other-mcp" } } };
  await Deno.writeTextFile(`${repo}/.gemini/settings.json`, JSON.stringify(own));
  const r = await baton(["agents", "use", "gemini"], { cwd: repo });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /merged \.gemini\/settings\.json/);
  assert.match(r.stdout, /Commit \.gemini\/settings\.json/);
  const merged = JSON.parse(await Deno.readTextFile(`${repo}/.gemini/settings.json`));
  assert.deepEqual(merged.model, own.model, "the project's settings stay");
  assert.deepEqual(merged.mcpServers.other, own.mcpServers.other);
  assert.equal(merged.mcpServers.baton.command, "baton-mcp");
  assert.equal(merged.hooks.AfterTool.length, 1);
  const again = await baton(["agents", "use", "gemini"], { cwd: repo });
  assert.match(again.stdout, /unchanged \.gemini\/settings\.json/);
});

Deno.test("agents use: an unknown CLI or agent type is a usage error, and nothing is written", async () => {
  const repo = await freshRepo();
  assert.equal((await baton(["init"], { cwd: repo })).code, 0);
  const before = await Deno.readTextFile(`${repo}/.workflow/config.yaml`);
  const a = await baton(["agents", "use", "cursor"], { cwd: repo });
  assert.equal(a.code, 2);
  assert.match(a.stderr, /No preset for "cursor" \(presets: claude, codex, gemini\)/);
  const b = await baton(["agents", "use", "claude", "--types", "reviewer"], { cwd: repo });
  assert.equal(b.code, 2);
  assert.match(b.stderr, /Not an agent type of the workflow: reviewer/);
  const c = await baton(["init", "--agent", "cursor"], { cwd: await freshRepo() });
  assert.equal(c.code, 2);
  assert.equal(await Deno.readTextFile(`${repo}/.workflow/config.yaml`), before);
});

/**
 * Runs `usePreset` while an "editor" saves `file` right after Baton's `at`-th read of it (any read API), and says
 * what became of the save. With `at` past the last read, nobody saves: the count of reads.
 */
function useWhileSaving(repo: string, name: string, file: string, at: number, save: (old: string) => string) {
  const real = { text: Deno.readTextFileSync, bytes: Deno.readFileSync };
  const d = Deno as { readTextFileSync: typeof Deno.readTextFileSync; readFileSync: typeof Deno.readFileSync };
  let reads = 0, saved = false;
  const after = (p: string | URL) => {
    if (String(p) !== file || ++reads !== at) return;
    saved = true;
    Deno.writeFileSync(file, new TextEncoder().encode(save(real.text(file))));
  };
  d.readTextFileSync = (p) => {
    const t = real.text(p);
    after(p);
    return t;
  };
  d.readFileSync = (p) => {
    const b = real.bytes(p);
    after(p);
    return b;
  };
  let code = "ok";
  try {
    usePreset(repo, name);
  } catch (e) {
    code = (e as { code?: string }).code ?? String(e);
  } finally {
    Object.assign(d, { readTextFileSync: real.text, readFileSync: real.bytes });
  }
  return { saved, reads, code, kept: real.text(file).includes("HUMAN EDIT") };
}

Deno.test("agents use: a human's save at any moment of the run is kept (or the run is a write_conflict), never overwritten", async () => {
  const cases = [
    { name: "claude", file: ".workflow/config.yaml", save: (old: string) => `${old}# HUMAN EDIT\n` },
    {
      name: "gemini",
      file: ".gemini/settings.json",
      save: (old: string) => JSON.stringify({ ...JSON.parse(old), x: "HUMAN EDIT" }),
    },
  ];
  for (const c of cases) {
    const setup = async () => {
      const repo = await Deno.realPath(await freshRepo());
      assert.equal((await baton(["init"], { cwd: repo })).code, 0);
      await Deno.mkdir(`${repo}/.gemini`, { recursive: true });
      await Deno.writeTextFile(`${repo}/.gemini/settings.json`, JSON.stringify({ model: { name: "m" } }));
      return repo;
    };
    const first = await setup();
    const { reads } = useWhileSaving(first, c.name, `${first}/${c.file}`, Infinity, c.save);
    assert.ok(reads >= 1, `${c.file} is read`);
    for (let at = 1; at <= reads; at++) {
      const repo = await setup();
      const r = useWhileSaving(repo, c.name, `${repo}/${c.file}`, at, c.save);
      assert.ok(r.saved, `${c.file}: saved after read ${at} of ${reads}`);
      assert.ok(r.kept || r.code === "write_conflict", `${c.file}, save after read ${at}: ${JSON.stringify(r)}`);
      if (r.code === "write_conflict") {
        assert.ok(r.kept, `${c.file}, save after read ${at}: the conflict keeps the human's version`);
      }
    }
  }
});

Deno.test("agents use with a merge queue: no registry entry for its landing type, which no agent does", async () => {
  const repo = await freshRepo();
  assert.equal((await baton(["init"], { cwd: repo })).code, 0);
  const cfg = `${repo}/.workflow/config.yaml`;
  await Deno.writeTextFile(cfg, `${await Deno.readTextFile(cfg)}\nmerge:\n  check: "true"\n`);
  const r = await baton(["agents", "use", "claude"], { cwd: repo });
  assert.equal(r.code, 0, r.stderr);
  const registry = parse(await Deno.readTextFile(cfg)).agents.registry;
  assert.deepEqual(Object.keys(registry).sort(), [...TYPES].sort());
  assert.equal(registry["merge-queue"], undefined);
  const refused = await baton(["agents", "use", "codex", "--types", "merge-queue"], { cwd: repo });
  assert.equal(refused.code, 2, refused.stdout + refused.stderr);
});
