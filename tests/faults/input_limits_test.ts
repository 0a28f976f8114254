/**
 * Inputs without limits (issue 26, item 10): a config file of 50 MB, titles
 * that show something else than they say (bidirectional overrides) or
 * nothing at all (zero-width characters), and metadata nested 1,000 deep.
 * Each is a coded error naming the field; none leaks where the server keeps
 * its files; nothing is stored.
 */
import assert from "node:assert/strict";
import { BatonError, openEngine } from "../../mod.ts";
import { engineFor, tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";
import { stdioSession } from "../helpers/mcp_clients.ts";

const PHASES = "phases:\n  - {name: Design, agent_type: designer}\n";

const invalid = (re: RegExp) => (e: unknown) =>
  e instanceof BatonError && e.code === "invalid_argument" && re.test(e.message);

/** `depth` objects inside each other. */
function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < depth; i++) v = { v };
  return v;
}

Deno.test("limits: a title with a bidirectional override, or that shows nothing, is refused", async () => {
  const { engine } = await engineFor({ phases: PHASES });
  for (const title of ["invoice\u202Efdp.exe", "a\u2066b\u2069", "\u200B\u200B", "\u200D \uFEFF", "\u2060"]) {
    assert.throws(() => engine.upsertTicket({ id: "0001", title }), invalid(/bidirectional|shows nothing/), title);
  }
  assert.equal(engine.listTickets().length, 0);
  // Right-to-left text itself is fine.
  engine.upsertTicket({ id: "0002", title: "תיקון מטמון" });
  engine.close();
});

Deno.test("limits: baton new refuses such a title and writes no file", async () => {
  const repo = await tempRepo({ phases: PHASES });
  const out = await baton(["new", "\u200B\u200C\u200B"], { cwd: repo });
  assert.equal(out.code, 2, out.stderr);
  assert.match(out.stderr, /invalid_argument|shows nothing/);
  const files: string[] = [];
  try {
    for await (const f of Deno.readDir(`${repo}/tickets`)) files.push(f.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  assert.deepEqual(files, []);
});

Deno.test("limits: metadata nested 1,000 deep is invalid_argument, not a database error", async () => {
  const { engine } = await engineFor({ phases: PHASES });
  assert.throws(() => engine.registerAgent("a", ["designer"], nested(1000)), invalid(/nested more than 32 levels/));
  assert.throws(() => engine.upsertTicket({ id: "0001", title: "A", metadata: nested(1000) }), invalid(/nested/));
  assert.throws(() => engine.registerAgent("a", ["designer"], nested(100_000)), invalid(/nested/));
  engine.registerAgent("b", ["designer"], nested(32));
  assert.equal(engine.agent("a"), null);
  engine.close();
});

Deno.test("limits: over MCP, deep metadata gets a coded error without the repository's path", async () => {
  const repo = await tempRepo({ phases: PHASES });
  const s = await stdioSession(repo);
  try {
    const r = await s.call("register_agent", { agent_id: "a", capabilities: ["designer"], metadata: nested(1000) });
    assert.equal(r.data.code, "invalid_argument", r.text);
    assert.ok(!r.text.includes(repo), `the error names the repository: ${r.text}`);
  } finally {
    await s.close();
  }
  const e = await openEngine(repo);
  assert.equal(e.agent("a"), null);
  e.close();
});

Deno.test("limits: a 50 MB config.yaml is refused at once as config_invalid", async () => {
  const repo = await tempRepo({ phases: PHASES });
  const big = "retry:\n  max_attempts: 3\n# " + "x".repeat(50 * 1024 * 1024) + "\n";
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, big);
  const out = await baton(["list"], { cwd: repo });
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /config\.yaml.*Baton reads at most 1,048,576/, out.stderr);
});
