/**
 * No file outside the repository is read or written through a repository
 * path (issue 26): every module under `src/` reaches files through
 * `src/repo/files.ts`, except the few whose files are not the repository's
 * (listed below, each with why). A module that opens files another way fails
 * this test; so does a link that leads out, at every place a ticket, a
 * template, a context file, `.workflow/` or the database is reached.
 */
import assert from "node:assert/strict";
import { importTickets, openEngine, syncAll } from "../mod.ts";
import { EXAMPLE_PHASES, tempRepo } from "./helpers/repo.ts";
import { baton } from "./helpers/cli.ts";
import { finishedTicket, mergeRepo, startMerge } from "./helpers/merge_repo.ts";
import { createDashboard } from "../src/serve/handler.ts";
import { openLogForAppend, readLogFrom, writeSessionFile } from "../src/repo/agent_logs.ts";

const SRC = new URL("../src/", import.meta.url);

/** Modules that may call Deno's file APIs directly, and why their files are not reached by a repository path. */
const ALLOWED: Record<string, string> = {
  "repo/files.ts": "the one way into the repository's files",
  "repo/replace.ts": "replaces a ticket file at the path repo/files.ts resolved, without losing an edit",
  "repo/agent_logs.ts": "agent logs, in run.logs_dir as repo/files.ts resolved it",
  "repo/git.ts": "git's own files (.git/info/exclude, a worktree's .git), and git itself",
  "repo/hook_files.ts": "the git hooks' trailers file, in a worktree's git directory (git's, not the repository's)",
  "cli/hooks.ts": "git's hooks directories (<git dir>/baton/hooks, core.hooksPath): what git runs",
  "run/guard_server.ts": "the guard server's Unix socket in the git directory (not a repository file)",
  "cli/guard_serve.ts": "whether Baton's hooks directory, in the git directory, is still there (not a repository file)",
  "config/repo_root.ts": "finds the repository root, before there is one to resolve against",
  "config/cache.ts": "the validated-configuration cache in the user's cache directory",
  "config/example.ts": "the example workflow shipped with Baton",
  "engine/database.ts": "the database file, at the path repo/files.ts resolved (databasePath)",
  "engine/backup.ts": "the database file and a backup file the user names",
  "engine/maintenance.ts": "the size of the database's WAL",
  "storage/": "SQLite's files (database, WAL, wal-index, locks), through Baton's VFS",
  "mcp/main.ts": "a --token-file the user names",
  "agents/scripted_agent.ts": "the MCP configuration baton run wrote for it",
  "demo/main_demo.ts": "the demo's own temporary repository",
  "testing.ts": "test helpers: temporary repositories",
  "signals.ts": "(signal listeners, not files)",
  "processes.ts":
    "/proc/PID/stat: whether a recorded process still runs, and its group; /proc/uptime and the boot id: the machine's boot clock (not repository files)",
  "agents/registry_check.ts": "looks an agent's command up on the PATH (not a repository file)",
  "net.ts": "the private directory of serveGuarded's Unix socket (not a repository file)",
};

const FS_CALL =
  /\bDeno\.(readTextFile|readFile|writeTextFile|writeFile|open|readDir|stat|lstat|realPath|remove|rename|mkdir|link|symlink|truncate|create|copyFile|chmod|chown|makeTempFile|makeTempDir|readLink|utime)(Sync)?\s*\(/g;

Deno.test("repo files: no module under src/ opens files by another route than src/repo/files.ts", () => {
  const offenders: string[] = [];
  const walk = (dir: URL, rel: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) walk(new URL(`${e.name}/`, dir), r);
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") && !e.name.endsWith(".gen.ts")) {
        if (Object.keys(ALLOWED).some((a) => (a.endsWith("/") ? r.startsWith(a) : r === a))) continue;
        const text = Deno.readTextFileSync(new URL(e.name, dir)).replace(/^\s*\*.*$/gm, "");
        for (const m of text.matchAll(FS_CALL)) offenders.push(`${r}: Deno.${m[1]}${m[2] ?? ""}`);
        if (/from "node:fs/.test(text)) offenders.push(`${r}: imports node:fs`);
      }
    }
  };
  walk(SRC, "");
  assert.deepEqual(offenders, []);
});

Deno.test("repo files: a ticket linked to a file outside is never read or written; the dashboard does not serve it", async () => {
  const repo = await tempRepo({
    phases: EXAMPLE_PHASES,
    files: { "tickets/0002_ok.md": "# Ticket 0002: Ok\n\n## Status\n- [ ] Draft\n" },
  });
  const secret = `${await Deno.makeTempDir()}/secret.md`;
  await Deno.writeTextFile(secret, "# Ticket 0001: Secret\n\nTOP-SECRET-CONTENT\n\n## Status\n- [ ] Draft\n");
  await Deno.symlink(secret, `${repo}/tickets/0001_t.md`);
  const engine = await openEngine(repo);
  const r = importTickets(engine);
  assert.deepEqual(r.imported, ["0002"], "the linked ticket is not imported");
  // Recorded before the link was made (a ticket whose file was replaced by a link later): never read through it.
  engine.setTicketFile("0002", { path: "tickets/0002_ok.md", contentHash: "x" });
  await Deno.remove(`${repo}/tickets/0002_ok.md`);
  await Deno.symlink(secret, `${repo}/tickets/0002_ok.md`);
  const ctx = engine.context({ phaseId: engine.ticket("0002").phases[0].id });
  assert.equal(ctx.markdown, null, "the agent's context does not read through the link");
  const sync = syncAll(engine);
  assert.ok(sync.errors.some((e) => /leads outside the repository/.test(e.message)), JSON.stringify(sync.errors));
  assert.match(await Deno.readTextFile(secret), /TOP-SECRET-CONTENT/);
  engine.close();
  // The dashboard's ticket page and API.
  const e2 = await openEngine(repo);
  const d = createDashboard(e2);
  const res = await d.handler(
    new Request("http://127.0.0.1:8766/api/ticket/0002", { headers: { host: "127.0.0.1:8766" } }),
  );
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.doesNotMatch(body, /TOP-SECRET-CONTENT/);
  d.close();
  e2.close();
});

Deno.test("repo files: a linked tickets/ directory or a database path through a link is refused with a coded error", async () => {
  const outside = await Deno.makeTempDir();
  await Deno.writeTextFile(`${outside}/0001_t.md`, "# Ticket 0001: T\n\n## Status\n- [ ] Draft\n");
  const repo = await tempRepo({ phases: EXAMPLE_PHASES });
  await Deno.symlink(outside, `${repo}/tickets`);
  const imp = await baton(["import"], { cwd: repo });
  assert.notEqual(imp.code, 0);
  assert.match(imp.stderr, /tickets leads outside the repository/);
  assert.deepEqual([...Deno.readDirSync(outside)].map((e) => e.name), ["0001_t.md"], "nothing written outside");

  const repo2 = await tempRepo({ phases: EXAMPLE_PHASES, config: "database:\n  path: data/baton.db\n" });
  const elsewhere = await Deno.makeTempDir();
  await Deno.symlink(elsewhere, `${repo2}/data`);
  const list = await baton(["list"], { cwd: repo2 });
  assert.equal(list.code, 3, list.stderr); // forbidden
  assert.match(list.stderr, /data\/baton\.db leads outside the repository/);
  assert.deepEqual([...Deno.readDirSync(elsewhere)], [], "no database created outside");
});

Deno.test("repo files: readRepoTextHead reads at most its limit, cut after a whole line, or a whole character", async () => {
  const { readRepoTextHead } = await import("../src/repo/files.ts");
  const root = await Deno.makeTempDir();
  await Deno.writeTextFile(`${root}/small.md`, "# Small\n\nAll of it.\n");
  assert.deepEqual(readRepoTextHead(root, "small.md", 1024), {
    text: "# Small\n\nAll of it.\n",
    size: 20,
    whole: true,
  });
  // Lines of 2-byte and 4-byte characters: the cut is after the last whole line within the limit.
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i}: é ✓ 😀\n`).join("");
  await Deno.writeTextFile(`${root}/lines.md`, lines);
  const size = new TextEncoder().encode(lines).length;
  const first = new TextEncoder().encode(lines.slice(0, lines.indexOf("\n") + 1)).length;
  for (const limit of [1, 17, first, 100, 1000, size - 1]) {
    const head = readRepoTextHead(root, "lines.md", limit);
    assert.equal(head.whole, false);
    assert.equal(head.size, size);
    assert.ok(new TextEncoder().encode(head.text).length <= limit, `limit ${limit}`);
    assert.ok(lines.startsWith(head.text), `limit ${limit}: a prefix`);
    assert.ok(!head.text.includes("\uFFFD"), `limit ${limit}: no broken character`);
    // Within the first line's length there is no whole line to keep: the line is cut at a character.
    if (limit >= first) assert.ok(head.text.endsWith("\n"), `limit ${limit}: whole lines`);
  }
  assert.equal(readRepoTextHead(root, "lines.md", size).whole, true);
  // One line longer than the limit: cut inside it, never inside a character.
  const long = "😀é".repeat(10_000);
  await Deno.writeTextFile(`${root}/long.md`, long);
  for (const limit of [1, 2, 3, 4, 5, 6, 7, 1001, 1002, 1003]) {
    const head = readRepoTextHead(root, "long.md", limit);
    assert.ok(!head.text.includes("\uFFFD"), `limit ${limit}: no broken character`);
    assert.ok(long.startsWith(head.text), `limit ${limit}: a prefix`);
    assert.ok(new TextEncoder().encode(head.text).length <= limit);
  }
  // A link out of the repository is refused as everywhere else.
  const outside = `${await Deno.makeTempDir()}/secret.md`;
  await Deno.writeTextFile(outside, "TOP-SECRET\n");
  await Deno.symlink(outside, `${root}/link.md`);
  assert.throws(
    () => readRepoTextHead(root, "link.md", 1024),
    (e: Error & { code?: string }) => e.code === "forbidden",
  );
});

Deno.test("dashboard: a ticket file of megabytes: the Ticket page renders its first 64 KB and says how much there is", async () => {
  const { createDashboard } = await import("../src/serve/handler.ts");
  const { MARKDOWN_SHOWN_BYTES } = await import("../src/serve/api.ts");
  const log = Array.from({ length: 40_000 }, (_, i) => `- 2026-12-05 build ${i}: \`npm test\` passed in *3.2 s*\n`)
    .join("");
  const text = "# Ticket 0083: A pasted log\n\n## Summary\nThe *head* of the ticket.\n\n## Log\n" + log +
    "TAIL-MARKER\n";
  const repo = await tempRepo({ phases: EXAMPLE_PHASES, files: { "tickets/0083_log.md": text } });
  const engine = await openEngine(repo);
  importTickets(engine);
  const d = createDashboard(engine);
  try {
    const res = await d.handler(
      new Request("http://127.0.0.1:8766/api/ticket/0083", { headers: { host: "127.0.0.1:8766" } }),
    );
    const body = await res.json();
    assert.equal(res.status, 200);
    const size = new TextEncoder().encode(text).length;
    assert.ok(size > 2 * 1024 * 1024, `the file is ${size} bytes`);
    assert.equal(body.markdownCut.fileBytes, size);
    assert.ok(body.markdownCut.shownBytes <= MARKDOWN_SHOWN_BYTES && body.markdownCut.shownBytes > 60_000);
    assert.match(body.markdown, /<em>head<\/em>/);
    assert.doesNotMatch(body.markdown, /TAIL-MARKER/);
    // A ticket of ordinary size is shown whole, and says nothing of a cut.
    engine.upsertTicket({ id: "0084", title: "Small" });
    await Deno.writeTextFile(`${repo}/tickets/0084_small.md`, "# Ticket 0084: Small\n\nAll of it.\n");
    engine.setTicketFile("0084", { path: "tickets/0084_small.md", contentHash: "x" });
    const small = await (await d.handler(
      new Request("http://127.0.0.1:8766/api/ticket/0084", { headers: { host: "127.0.0.1:8766" } }),
    )).json();
    assert.equal(small.markdownCut, null);
    assert.match(small.markdown, /All of it/);
  } finally {
    d.close();
    engine.close();
  }
});

Deno.test("repo files: a link in the logs directory is never appended to, read or written through (merge, agent and session files)", async () => {
  const outside = await Deno.makeTempDir();
  const secret = `${outside}/secret.txt`;
  await Deno.writeTextFile(secret, "TOP-SECRET-CONTENT\n");
  const repo = await mergeRepo("", { check: "echo CHECK-OUTPUT-LINE" });
  const e = await openEngine(repo);
  finishedTicket(e, repo, "0001", { "a.txt": "ok\n" });
  const logs = `${repo}/.workflow/logs`;
  await Deno.mkdir(logs, { recursive: true });
  // Batch ids count from 1: the first batch's log name is known in advance.
  await Deno.symlink(secret, `${logs}/merge-batch-1.log`);
  const merge = startMerge(repo);
  const done = await merge.done;
  assert.notEqual(done.code, 0, "the worker stops rather than write through the link");
  assert.match(done.err, /merge-batch-1\.log is a link or not a regular file/);
  assert.equal(await Deno.readTextFile(secret), "TOP-SECRET-CONTENT\n", "nothing appended outside");
  // The dashboard shows the batch being built without reading the link.
  const building = e.mergeStatus({ recent: 1 }).building;
  assert.equal(building?.id, 1, "the batch the worker left is still being built");
  const d = createDashboard(e);
  const res = await d.handler(new Request("http://127.0.0.1:8766/api/merge", { headers: { host: "127.0.0.1:8766" } }));
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.doesNotMatch(body, /TOP-SECRET-CONTENT/);
  d.close();
  e.close();
  // The same for every file Baton keeps there: an agent's log and its session files (prompt, MCP configuration).
  const agentLog = `${logs}/0001-design-designer-1a2b3c.log`;
  await Deno.symlink(secret, agentLog);
  assert.throws(() => openLogForAppend(agentLog), { code: "forbidden" });
  assert.throws(() => readLogFrom(agentLog), { code: "forbidden" });
  assert.throws(() => readLogFrom(`${logs}/merge-batch-1.log`, -100), { code: "forbidden" });
  const prompt = `${logs}/0001-design-designer-1a2b3c.prompt.md`;
  await Deno.symlink(secret, prompt);
  writeSessionFile(prompt, "the prompt, with the claim token\n");
  assert.equal(await Deno.readTextFile(secret), "TOP-SECRET-CONTENT\n", "the link was replaced, not written through");
  assert.equal((await Deno.lstat(prompt)).isFile, true);
  assert.equal((await Deno.stat(prompt)).mode! & 0o777, 0o600);
  assert.equal(await Deno.readTextFile(prompt), "the prompt, with the claim token\n");
  // A regular log still works: created owner-only, appended, read from an offset.
  const own = `${logs}/0002-design-designer-4d5e6f.log`;
  for (const line of ["one\n", "two\n"]) {
    const f = openLogForAppend(own);
    f.writeSync(new TextEncoder().encode(line));
    f.close();
  }
  assert.equal((await Deno.stat(own)).mode! & 0o777, 0o600);
  assert.deepEqual(readLogFrom(own, 4), { text: "two\n", size: 8 });
  assert.deepEqual(readLogFrom(own, -4), { text: "two\n", size: 8 });
  assert.deepEqual((await Array.fromAsync(Deno.readDir(logs))).filter((x) => x.name.endsWith(".new")), []);
});

Deno.test("repo files: a link to another ticket file (an alias) is not a second ticket, whatever the way to it; a link tickets.pattern picks to a file it does not is the ticket", async () => {
  const importing = async (config: string, files: (repo: string) => Promise<void>) => {
    const repo = await tempRepo({ phases: "phases:\n  - {name: Design, agent_type: designer}\n", config });
    await files(repo);
    const engine = await openEngine(repo);
    try {
      return importTickets(engine).imported.sort();
    } finally {
      engine.close();
    }
  };
  const ticket = (id: string) => `# Ticket ${id}: T${id}\n`;
  // An alias beside its ticket, and a ticket kept elsewhere in the repository with a link to it.
  assert.deepEqual(
    await importing("", async (repo) => {
      await Deno.mkdir(`${repo}/tickets`);
      await Deno.mkdir(`${repo}/docs`);
      await Deno.writeTextFile(`${repo}/tickets/0900_real.md`, ticket("0900"));
      await Deno.symlink("0900_real.md", `${repo}/tickets/0901_alias.md`);
      await Deno.writeTextFile(`${repo}/docs/0902_kept.md`, ticket("0902"));
      await Deno.symlink("../docs/0902_kept.md", `${repo}/tickets/0902_kept.md`);
    }),
    ["0900", "0902"],
  );
  // The same, through a tickets/ directory that is itself a link.
  assert.deepEqual(
    await importing("", async (repo) => {
      await Deno.mkdir(`${repo}/docs/tickets`, { recursive: true });
      await Deno.symlink("docs/tickets", `${repo}/tickets`);
      await Deno.writeTextFile(`${repo}/docs/tickets/0900_real.md`, ticket("0900"));
      await Deno.symlink("0900_real.md", `${repo}/docs/tickets/0901_alias.md`);
    }),
    ["0900"],
  );
  // A board of links: tickets/active/*.md (the pattern) lead to tickets/all/, which the pattern leaves out.
  assert.deepEqual(
    await importing('tickets:\n  pattern: "active/*.md"\n', async (repo) => {
      await Deno.mkdir(`${repo}/tickets/all`, { recursive: true });
      await Deno.mkdir(`${repo}/tickets/active`);
      await Deno.writeTextFile(`${repo}/tickets/all/0042_login.md`, ticket("0042"));
      await Deno.writeTextFile(`${repo}/tickets/all/0043_logout.md`, ticket("0043"));
      await Deno.symlink("../all/0042_login.md", `${repo}/tickets/active/0042_login.md`);
    }),
    ["0042"],
  );
});
