/**
 * Write-back details (issue 13, part 5): the file is replaced atomically and
 * only if unchanged (an edit made at any moment of the replacement is kept),
 * realtime checkboxes with a batch log, `sync TICKET` and `--dry-run`, and
 * values Baton writes into markdown cannot inject structure.
 */
import assert from "node:assert/strict";
import { createTicketsWithFiles, importTickets, newTicket, openEngine, syncAll, syncTicket } from "../../mod.ts";
import { replaceHooks } from "../../src/repo/replace.ts";
import { exchangeOptions } from "../../src/repo/exchange.ts";
import { tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";

const PHASES = `phases:
  - {name: Design, agent_type: designer}
  - {name: Implementation, agent_type: implementer}
`;
const TICKET = `# Ticket 0001: Cache

## Status
- [x] Draft
- [ ] Design Complete
- [ ] Implementation Complete
- [ ] Merged / Complete

## Workflow Log

### Design Phase
- **Started**:
- **Completed**:
- **Notes**:
`;

/** Imports the tickets, has an agent do 0001's Design, and writes it back (Baton's lines in the file). */
function importDesignAndSync(engine: Awaited<ReturnType<typeof openEngine>>): void {
  importTickets(engine);
  const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "d", token: c.token, summary: "designed" });
  assert.deepEqual(syncAll(engine).written, ["0001"]);
}

async function repoWithTicket(config = ""): Promise<{ repo: string; file: string }> {
  const repo = await tempRepo({ phases: PHASES, config });
  await Deno.mkdir(`${repo}/tickets`);
  const file = `${repo}/tickets/0001_cache.md`;
  await Deno.writeTextFile(file, TICKET);
  return { repo, file };
}

for (const portable of [false, true]) {
  Deno.test(`replace${portable ? " (portable: renamed aside, then linked)" : ""}: an edit made at any moment of the replacement is kept, and reported as write_conflict`, async () => {
    exchangeOptions.enabled = !portable;
    for (const step of ["start", "aside", "linked"] as const) {
      const { repo, file } = await repoWithTicket();
      const engine = await openEngine(repo);
      importTickets(engine);
      const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
      engine.complete(c.phase.id, { agentId: "d", token: c.token, summary: "designed" });
      const human = TICKET.replace("## Workflow Log", "Edited by hand at the worst moment.\n\n## Workflow Log");
      replaceHooks.between = (at) => {
        if (at !== step) return;
        if (at === "linked") {
          // An editor that had the file open writes into the inode Baton set aside (or swapped out).
          const aside = [...Deno.readDirSync(`${repo}/tickets`)].find((e) => /\.baton-(old|new)-/.test(e.name))!;
          Deno.writeTextFileSync(`${repo}/tickets/${aside.name}`, human);
        } else Deno.writeTextFileSync(file, human); // an editor saving by path
      };
      try {
        assert.throws(() => syncTicket(engine, "0001"), { code: "write_conflict" }, step);
      } finally {
        replaceHooks.between = undefined;
      }
      assert.equal(await Deno.readTextFile(file), human, `the human's edit survives (${step})`);
      const leftovers = [...Deno.readDirSync(`${repo}/tickets`)].map((e) => e.name).filter((n) =>
        n.includes(".baton-")
      );
      assert.deepEqual(leftovers, [], `no temporary files left (${step})`);
      // The next sync, on the edited file, writes Baton's facts without losing the edit.
      assert.equal(syncTicket(engine, "0001").state, "written");
      assert.match(
        await Deno.readTextFile(file),
        /Edited by hand at the worst moment\.[\s\S]*- \*\*Notes\*\*: designed/,
      );
      engine.close();
    }
    exchangeOptions.enabled = true;
  });
}

Deno.test("replace: a shell's >> into the ticket file while it is replaced loses no word (ops helper, d3)", async () => {
  for (const portable of [false, true]) {
    exchangeOptions.enabled = !portable;
    const { repo, file } = await repoWithTicket();
    const engine = await openEngine(repo);
    importTickets(engine);
    const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
    engine.complete(c.phase.id, { agentId: "d", token: c.token, summary: "designed" });
    // The worst moment: the portable way has renamed the file aside (a >> creates a file of its own), the swap not
    // made yet.
    replaceHooks.between = (at) => {
      if (at !== "aside") return;
      const sh = new Deno.Command("sh", { args: ["-c", `echo "- Dana: call moved to Tuesday" >> '${file}'`] });
      assert.ok(sh.outputSync().success);
    };
    try {
      assert.throws(() => syncTicket(engine, "0001"), { code: "write_conflict" });
    } finally {
      replaceHooks.between = undefined;
      exchangeOptions.enabled = true;
    }
    const copies = leftovers(repo).filter((n) => n.includes(".baton-conflict-"));
    const all = [file, ...copies.map((n) => `${repo}/tickets/${n}`)].map((f) => Deno.readTextFileSync(f)).join("");
    for (const line of [...TICKET.split("\n").filter(Boolean), "- Dana: call moved to Tuesday"]) {
      assert.ok(all.includes(line), `${portable ? "portable" : "swap"}: lost ${JSON.stringify(line)}`);
    }
    if (!portable) {
      assert.deepEqual(leftovers(repo), [], "the file was never missing: nothing to merge by hand");
      assert.equal(Deno.readTextFileSync(file), TICKET + "- Dana: call moved to Tuesday\n");
    } else assert.equal(copies.length, 1, "the file before is kept beside the one the shell made");
    engine.close();
  }
});

Deno.test("realtime checkboxes, batch log: a completion checks its box at once; the log waits for sync", async () => {
  const { repo, file } = await repoWithTicket(
    "markdown_sync:\n  status_update: realtime\n  workflow_log_update: batch\n",
  );
  const engine = await openEngine(repo);
  importTickets(engine);
  const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "d", token: c.token, summary: "designed" });
  const now = await Deno.readTextFile(file);
  assert.match(now, /- \[x\] Design Complete/);
  assert.match(now, /### Design Phase\n- \*\*Started\*\*:\n/, "the log is not written yet");
  assert.deepEqual(syncAll(engine).written, ["0001"]);
  assert.match(await Deno.readTextFile(file), /- \*\*Notes\*\*: designed/);
  engine.close();
});

Deno.test("cli: sync --dry-run prints the diff and writes nothing; sync TICKET syncs one ticket", async () => {
  const { repo, file } = await repoWithTicket();
  await Deno.writeTextFile(`${repo}/tickets/0002_other.md`, TICKET.replace("0001: Cache", "0002: Other"));
  const engine = await openEngine(repo);
  importTickets(engine);
  for (let i = 0; i < 2; i++) {
    const c = engine.claimNext({ agentId: `d${i}`, capabilities: ["designer"] })!;
    engine.complete(c.phase.id, { agentId: `d${i}`, token: c.token, summary: "designed" });
  }
  engine.close();
  const dry = await baton(["sync", "--dry-run"], { cwd: repo });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /--- a\/tickets\/0001_cache\.md\n\+\+\+ b\/tickets\/0001_cache\.md\n@@ /);
  assert.match(dry.stdout, /^-- \[ \] Design Complete$/m);
  assert.match(dry.stdout, /^\+- \[x\] Design Complete$/m);
  assert.match(dry.stdout, /would write 2/);
  assert.equal(await Deno.readTextFile(file), TICKET, "a dry run writes nothing");
  const one = await baton(["sync", "0002"], { cwd: repo });
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /written 1, unchanged 0/);
  assert.equal(await Deno.readTextFile(file), TICKET, "only 0002 was synced");
  assert.match(await Deno.readTextFile(`${repo}/tickets/0002_other.md`), /- \[x\] Design Complete/);
});

Deno.test("values Baton writes into markdown cannot inject structure: control characters are refused", async () => {
  const { repo } = await repoWithTicket();
  await Deno.mkdir(`${repo}/.workflow/templates`);
  await Deno.copyFile(
    new URL("../../.workflow.example/templates/ticket.md", import.meta.url),
    `${repo}/.workflow/templates/ticket.md`,
  );
  const engine = await openEngine(repo);
  importTickets(engine);
  const before = [...Deno.readDirSync(`${repo}/tickets`)].map((e) => e.name).sort();
  assert.throws(
    () => newTicket(engine, { title: "Cache\n## Status\n- [x] Merged / Complete\n# Ticket 9999: x" }),
    { code: "invalid_argument", message: /one line/ },
  );
  assert.throws(() => newTicket(engine, { title: "Cache", priority: "High\n- **Needs Docs**: No" }), {
    code: "invalid_argument",
  });
  assert.throws(
    () => createTicketsWithFiles(engine, [{ title: "Fine" }, { title: "Bad\r\n## Status" }]),
    { code: "invalid_argument" },
  );
  assert.deepEqual([...Deno.readDirSync(`${repo}/tickets`)].map((e) => e.name).sort(), before, "no file written");
  assert.deepEqual(engine.listTickets().map((t) => t.id), ["0001"], "no ticket created");
  engine.close();
});

Deno.test("cli: with a cold configuration cache, a realtime repository is loaded and written back by the parts baton imports late", async () => {
  // `baton` opens through src/open/late.ts: the YAML loader (a cache miss) and the write-back are imported when needed.
  const { repo, file } = await repoWithTicket(
    "markdown_sync:\n  status_update: realtime\n  workflow_log_update: realtime\n",
  );
  const cache = await Deno.makeTempDir();
  const env = { XDG_CACHE_HOME: cache };
  const imported = await baton(["import"], { cwd: repo, env });
  assert.equal(imported.code, 0, imported.stderr);
  assert.ok([...Deno.readDirSync(`${cache}/baton`)].length > 0, "the first command missed the cache and filled it");
  const claim = await baton(["claim", "--agent", "sh-1", "--capabilities", "designer", "--json"], { cwd: repo, env });
  assert.equal(claim.code, 0, claim.stderr);
  const c = JSON.parse(claim.stdout);
  const phaseId = String(c.phase?.id ?? c.phaseId);
  assert.match(await Deno.readTextFile(file), /### Design Phase\n- \*\*Started\*\*: \S/, "the claim was written back");
  const done = await baton(["complete", phaseId, "--agent", "sh-1", "--token", c.token, "--summary", "designed"], {
    cwd: repo,
    env: { XDG_CACHE_HOME: await Deno.makeTempDir() }, // a miss again: the YAML loader imported late once more
  });
  assert.equal(done.code, 0, done.stderr);
  const now = await Deno.readTextFile(file);
  assert.match(now, /- \[x\] Design Complete/);
  assert.match(now, /- \*\*Notes\*\*: designed/);
});

Deno.test("write-back keeps a UTF-8 byte-order mark, and changes only its own parts of the file", async () => {
  const { repo, file } = await repoWithTicket();
  const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
  const body = new TextEncoder().encode(TICKET);
  await Deno.writeFile(file, new Uint8Array([...bom, ...body]));
  const engine = await openEngine(repo);
  assert.deepEqual(importTickets(engine).imported, ["0001"], "the mark does not hide the ticket's heading");
  assert.equal(engine.ticket("0001").title, "Cache");
  const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "d", token: c.token, summary: "designed" });
  assert.deepEqual(syncAll(engine).written, ["0001"]);
  const after = await Deno.readFile(file);
  assert.deepEqual([...after.subarray(0, 3)], [...bom], "the mark is still first");
  const text = new TextDecoder().decode(after); // without the mark
  assert.equal(
    text.replace("- [x] Design Complete", "- [ ] Design Complete").replace(
      /- \*\*(Started|Completed|Notes)\*\*:.*\n/g,
      "- **$1**:\n",
    ),
    TICKET,
  );
  assert.deepEqual(syncAll(engine).written, [], "nothing more to write: the file's hash is of its text");
  engine.close();
});

/** Runs a write-back of ticket 0001 that stops for good right after setting its file aside, and kills it (kill -9). */
async function killedAtAside(repo: string, step = "aside", portable = true): Promise<void> {
  const marker = `${repo}/aside-reached-${crypto.randomUUID()}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../helpers/sync_stops_aside.ts", import.meta.url).pathname,
      repo,
      "0001",
      marker,
      step,
      portable ? "portable" : "swap",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  while (!exited) {
    try {
      Deno.statSync(marker);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  child.kill("SIGKILL");
  await status;
}

/** A repository whose ticket 0001 holds a human's words and has Baton's Design to write back. */
async function repoToWriteBack(): Promise<{ repo: string; file: string }> {
  const { repo, file } = await repoWithTicket();
  await Deno.writeTextFile(
    file,
    TICKET.replace("## Workflow Log", "A human's words, not committed yet.\n\n## Workflow Log"),
  );
  const engine = await openEngine(repo);
  importTickets(engine);
  const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "d", token: c.token, summary: "designed" });
  engine.close();
  return { repo, file };
}

const leftovers = (repo: string) =>
  [...Deno.readDirSync(`${repo}/tickets`)].map((e) => e.name).filter((n) => n.includes(".baton-")).sort();

Deno.test("kill -9 of a write-back between setting the file aside and linking the new one: doctor says not to remove it, the next import or sync puts it back", async () => {
  for (const next of ["import", "sync"]) {
    const { repo, file } = await repoToWriteBack();
    await killedAtAside(repo);
    assert.throws(() => Deno.statSync(file), Deno.errors.NotFound, "the ticket file is missing, set aside");
    const doctor = await baton(["doctor"], { cwd: repo });
    assert.match(
      doctor.stdout,
      /set aside by an interrupted write, and tickets\/0001_cache\.md is missing \(do not remove it\); tickets\/0001_cache\.md\.baton-old-\d+ holds it: baton import or baton sync puts it back/,
    );
    const r = await baton([next], { cwd: repo });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    if (next === "import") {
      assert.match(r.stdout + r.stderr, /put back: an interrupted write-back had left it set aside/);
    } else {assert.match(
        await Deno.readTextFile(file),
        /- \*\*Notes\*\*: designed/,
        "and the sync wrote what Baton did",
      );}
    assert.match(await Deno.readTextFile(file), /A human's words, not committed yet\./, next);
    assert.deepEqual(leftovers(repo), [], `nothing left behind (${next})`);
  }
});

Deno.test("kill -9 of a write-back after writing its new text, before setting the file aside: the next sync or import removes the text it left (its writer gone), and the ticket file keeps every word", async () => {
  for (const next of ["sync", "import"]) {
    const { repo, file } = await repoToWriteBack();
    const before = await Deno.readTextFile(file);
    await killedAtAside(repo, "start");
    assert.equal(leftovers(repo).filter((n) => n.includes(".baton-new-")).length, 1, "the new text is left");
    assert.equal(await Deno.readTextFile(file), before, "the ticket file is untouched");
    const r = await baton([next], { cwd: repo });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /removed: the text an interrupted write-back had not linked in yet/, next);
    assert.deepEqual(leftovers(repo), [], `nothing left behind (${next})`);
    assert.match(await Deno.readTextFile(file), /A human's words, not committed yet\./, next);
  }
});

Deno.test("kill -9 of a write-back at any step of the swap: the ticket file is whole (the human's words and, once swapped, Baton's lines); the next sync or import removes what it left", async () => {
  for (const step of ["start", "aside", "linked"]) {
    const { repo, file } = await repoToWriteBack();
    const before = await Deno.readTextFile(file);
    await killedAtAside(repo, step, false);
    const now = await Deno.readTextFile(file);
    if (step === "linked") assert.match(now, /A human's words, not committed yet\.[\s\S]*- \*\*Notes\*\*: designed/);
    else assert.equal(now, before, `the ticket file is untouched (${step})`);
    assert.equal(leftovers(repo).filter((n) => n.includes(".baton-new-")).length, 1, step);
    const r = await baton(["import"], { cwd: repo });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(leftovers(repo), [], `nothing left behind (${step})`);
    assert.match(await Deno.readTextFile(file), /A human's words, not committed yet\./, step);
  }
});

Deno.test("a link named like a copy Baton left (NAME.baton-new-PID, NAME.baton-old-PID, its writer gone) is never followed: what it leads to is neither removed nor moved", async () => {
  const { repo } = await repoWithTicket();
  await Deno.mkdir(`${repo}/src`);
  await Deno.writeTextFile(`${repo}/src/important.ts`, "export const keep = 1;\n");
  await Deno.writeTextFile(`${repo}/src/other.ts`, "export const other = 2;\n");
  let dead = 4_194_000;
  while (
    dead > 1 && (() => {
      try {
        Deno.statSync(`/proc/${dead}`);
        return true;
      } catch {
        return false;
      }
    })()
  ) dead--;
  await Deno.symlink("../src/important.ts", `${repo}/tickets/0001_cache.md.baton-new-${dead}`);
  await Deno.symlink("../src/other.ts", `${repo}/tickets/0002_gone.md.baton-old-${dead}`);
  for (const cmd of ["import", "sync", "import"]) {
    const r = await baton([cmd], { cwd: repo });
    assert.equal(r.code, 0, `${cmd}: ${r.stdout}${r.stderr}`);
    assert.equal(await Deno.readTextFile(`${repo}/src/important.ts`), "export const keep = 1;\n", cmd);
    assert.equal(await Deno.readTextFile(`${repo}/src/other.ts`), "export const other = 2;\n", cmd);
    assert.throws(() => Deno.statSync(`${repo}/tickets/0002_gone.md`), Deno.errors.NotFound, "no ticket made of it");
  }
});

Deno.test("set-aside copies are put back only when there is one and the ticket has no other file: two copies, or a ticket renamed since, stay for a human", async () => {
  // Two interrupted write-backs, the human having put the file back by hand and edited it in between.
  const { repo, file } = await repoToWriteBack();
  await killedAtAside(repo);
  const [first] = leftovers(repo).filter((n) => n.includes(".baton-old-"));
  await Deno.writeTextFile(file, (await Deno.readTextFile(`${repo}/tickets/${first}`)) + "\nLater words.\n");
  await killedAtAside(repo);
  assert.equal(leftovers(repo).filter((n) => n.includes(".baton-old-")).length, 2);
  const sync = await baton(["sync"], { cwd: repo });
  assert.equal(sync.code, 1);
  assert.match(
    sync.stdout + sync.stderr,
    /several copies were set aside by interrupted write-backs \(.+\): rename the one to keep back to tickets\/0001_cache\.md/,
  );
  assert.throws(() => Deno.statSync(file), Deno.errors.NotFound, "neither copy is put back");
  const doctor = await baton(["doctor"], { cwd: repo });
  assert.match(doctor.stdout, /several copies were set aside/);
  // A ticket renamed since its write-back was interrupted: its old name does not come back beside the new one.
  const renamed = await repoToWriteBack();
  await killedAtAside(renamed.repo);
  const [copy] = leftovers(renamed.repo).filter((n) => n.includes(".baton-old-"));
  await Deno.copyFile(`${renamed.repo}/tickets/${copy}`, `${renamed.repo}/tickets/0001_cache_layer.md`);
  const imported = await baton(["import", "--json"], { cwd: renamed.repo });
  assert.equal(imported.code, 0, imported.stdout + imported.stderr);
  assert.deepEqual(JSON.parse(imported.stdout).duplicates, [], "one file holds ticket 0001");
  assert.throws(() => Deno.statSync(renamed.file), Deno.errors.NotFound, "the old name is not put back");
});

Deno.test("a ticket file deleted by hand: sync says which and where with Baton's code, doctor names it, the others are written", async () => {
  const { repo, file } = await repoWithTicket();
  const engine = await openEngine(repo);
  await Deno.writeTextFile(`${repo}/tickets/0002_other.md`, TICKET.replace("0001: Cache", "0002: Other"));
  importTickets(engine);
  for (const id of ["0001", "0002"]) {
    const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
    assert.equal(c.ticket.id, id);
    engine.complete(c.phase.id, { agentId: "d", token: c.token, summary: "designed" });
  }
  engine.close();
  await Deno.remove(file);
  const sync = await baton(["sync", "--json"], { cwd: repo });
  assert.equal(sync.code, 1);
  const out = JSON.parse(sync.stdout);
  assert.deepEqual(out.errors, [{
    path: "tickets/0001_cache.md",
    code: "not_found",
    message:
      "tickets/0001_cache.md, the file of ticket 0001, is gone: restore it, or, if it was renamed, run baton import",
  }]);
  assert.deepEqual(out.written, ["0002"]);
  const doctor = await baton(["doctor"], { cwd: repo });
  assert.match(doctor.stdout, /ticket 0001's file tickets\/0001_cache\.md is gone/);
  const imported = await baton(["import"], { cwd: repo });
  assert.match(
    imported.stdout + imported.stderr,
    /ticket 0001's file is gone; Baton keeps the ticket and still offers its work/,
  );
});

Deno.test("a human's edit made before a write-back is still imported: the write-back does not mark the file imported", async () => {
  const { repo, file } = await repoWithTicket("markdown_sync:\n  mode: realtime\n");
  await Deno.writeTextFile(`${repo}/tickets/0002_other.md`, TICKET.replace("0001: Cache", "0002: Other"));
  const engine = await openEngine(repo);
  importTickets(engine);
  // The human edits the ticket (a dependency, a new title) and has not imported it yet when an agent claims it.
  const edited = (await Deno.readTextFile(file)).replace("0001: Cache", "0001: Cache, sharded")
    .replace("## Status", "## Dependencies\n\n- Blocked by: 0002\n\n## Status");
  await Deno.writeTextFile(file, edited);
  const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
  assert.equal(c.ticket.id, "0001");
  engine.complete(c.phase.id, { agentId: "d", token: c.token, summary: "designed" });
  const now = await Deno.readTextFile(file);
  assert.match(now, /- \[x\] Design Complete/, "Baton's write-back went in");
  assert.match(now, /Blocked by: 0002/, "beside the human's edit");
  const r = importTickets(engine);
  assert.deepEqual(r.unchanged.sort(), ["0002"], "the edited file was read again");
  assert.equal(engine.ticket("0001").title, "Cache, sharded");
  assert.deepEqual(engine.ticket("0001").dependencies.map((d) => d.dependsOn), ["0002"]);
  assert.deepEqual(importTickets(engine).unchanged.sort(), ["0001", "0002"], "then it is imported");
  engine.close();
});

Deno.test("a file whose Baton lines a human discarded (git checkout, reset, stash) and imported gets them back at the next sync", async () => {
  const { repo, file } = await repoWithTicket();
  const engine = await openEngine(repo);
  importDesignAndSync(engine);
  const written = await Deno.readTextFile(file);
  await Deno.writeTextFile(file, TICKET); // `git checkout -- tickets/`, then `baton import`
  importTickets(engine);
  assert.deepEqual(syncAll(engine).written, ["0001"], "Baton's record is written again");
  assert.equal(await Deno.readTextFile(file), written);
  assert.deepEqual(syncAll(engine).written, [], "and then left alone");
  engine.close();
});

/** Runs git in `dir` (a test's own repository). */
function gitIn(dir: string, ...args: string[]): { code: number; out: string } {
  const o = new Deno.Command("git", {
    args: ["-c", "user.name=Dana", "-c", "user.email=d@example.com", ...args],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  return { code: o.code, out: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr) };
}

Deno.test("a ticket file left in conflict by a merge: not imported (a gate checked on one side is not approved), nothing written into it, both once resolved", async () => {
  const repo = await tempRepo({
    phases: "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Design Review, agent_type: null}\n" +
      "  - {name: Implementation, agent_type: implementer}\n",
    config: "markdown_sync:\n  mode: realtime\n",
  });
  await Deno.mkdir(`${repo}/tickets`);
  const file = `${repo}/tickets/0001_cache.md`;
  const ticket =
    "# Ticket 0001: Cache\n\n## Status\n- [x] Draft\n- [ ] Design Complete\n- [ ] Design Review Complete\n" +
    "- [ ] Implementation Complete\n\n## Summary\n\nA cache.\n";
  await Deno.writeTextFile(file, ticket);
  gitIn(repo, "init", "-q", "-b", "main");
  gitIn(repo, "add", "-A");
  gitIn(repo, "commit", "-qm", "tickets");
  gitIn(repo, "checkout", "-qb", "teammate"); // a teammate's branch: design done and reviewed
  await Deno.writeTextFile(
    file,
    ticket.replace(
      "- [ ] Design Complete\n- [ ] Design Review Complete",
      "- [x] Design Complete\n- [x] Design Review Complete",
    )
      .replace("A cache.", "A cache, sharded."),
  );
  gitIn(repo, "commit", "-qam", "teammate: reviewed");
  gitIn(repo, "checkout", "-q", "main");
  await Deno.writeTextFile(file, ticket.replace("- [x] Draft", "- [ ] Draft").replace("A cache.", "A small cache."));
  gitIn(repo, "commit", "-qam", "me: back to draft");
  assert.notEqual(gitIn(repo, "merge", "teammate").code, 0, "the merge stops on the conflict");
  const conflicted = await Deno.readTextFile(file);
  assert.match(conflicted, /^<<<<<<< HEAD$/m);

  const engine = await openEngine(repo);
  const r = importTickets(engine);
  assert.deepEqual(r.imported, []);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].path, "tickets/0001_cache.md");
  assert.equal(r.errors[0].line, conflicted.split("\n").indexOf("<<<<<<< HEAD") + 1);
  assert.match(r.errors[0].message, /unresolved merge conflict.*not imported until it is resolved/);

  // Resolved, keeping this side (back to draft): imported as the file says; the review was never approved.
  await Deno.writeTextFile(file, ticket.replace("- [x] Draft", "- [ ] Draft").replace("A cache.", "A small cache."));
  gitIn(repo, "commit", "-qam", "merged");
  importTickets(engine);
  assert.deepEqual(engine.ticket("0001").phases.map((p) => p.status), ["available", "pending", "pending"]);

  // In conflict again while an agent completes its design: nothing is written into the file, sync says why.
  gitIn(repo, "checkout", "-qb", "other");
  await Deno.writeTextFile(file, (await Deno.readTextFile(file)).replace("A small cache.", "A cache for reads."));
  gitIn(repo, "commit", "-qam", "other: summary");
  gitIn(repo, "checkout", "-q", "main");
  await Deno.writeTextFile(file, (await Deno.readTextFile(file)).replace("A small cache.", "A cache for writes."));
  gitIn(repo, "commit", "-qam", "main: summary");
  assert.notEqual(gitIn(repo, "merge", "other").code, 0);
  const before = await Deno.readTextFile(file);
  const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "d", token: c.token, summary: "designed" });
  assert.equal(await Deno.readTextFile(file), before, "nothing written into a file in conflict");
  const s = syncAll(engine);
  assert.deepEqual(s.written, []);
  assert.ok(s.warnings.some((w) => w.code === "merge_conflict" && /unresolved merge conflict/.test(w.message)));
  // Resolved: Baton's record goes in once, the human's resolution stays.
  await Deno.writeTextFile(file, before.replace(/<<<<<<< HEAD\n([^]*?)=======\n[^]*?>>>>>>> other\n/, "$1"));
  gitIn(repo, "commit", "-qam", "resolved");
  assert.deepEqual(syncAll(engine).written, ["0001"]);
  const after = await Deno.readTextFile(file);
  assert.match(after, /- \[x\] Design Complete/);
  assert.match(after, /A cache for writes\./);
  assert.doesNotMatch(after, /<<<<<<<|>>>>>>>/);
  engine.close();
});

Deno.test("Baton's discarded lines come back also for a ticket an older Baton wrote, and after a write-back that looked at the status only", async () => {
  for (const variant of ["older ledger", "status realtime, log batch"] as const) {
    const config = variant === "older ledger"
      ? ""
      : "markdown_sync:\n  status_update: realtime\n  workflow_log_update: batch\n";
    const { repo, file } = await repoWithTicket(config);
    await Deno.writeTextFile(`${repo}/tickets/0002_other.md`, TICKET.replace("0001: Cache", "0002: Other"));
    const engine = await openEngine(repo);
    importDesignAndSync(engine);
    const written = await Deno.readTextFile(file);
    if (variant === "older ledger") {
      // The ledger as a Baton before the written hash left it.
      const f = engine.ticketFiles(["0001"])[0];
      const { writtenHash: _, ...older } = f.ledger as Record<string, unknown>;
      engine.setTicketFile("0001", { path: f.path!, contentHash: f.contentHash!, ledger: older });
    }
    // The human discards Baton's log (keeps the checkbox) and imports.
    await Deno.writeTextFile(file, TICKET.replace("- [ ] Design Complete", "- [x] Design Complete"));
    importTickets(engine);
    // Something that wakes the realtime (status-only) write-back without work: a discovered-from link.
    engine.linkDiscovered("0001", "0002", "human:dana");
    assert.deepEqual(syncAll(engine).written, ["0001"], variant);
    assert.equal(await Deno.readTextFile(file), written, variant);
    assert.deepEqual(syncAll(engine).written, [], `${variant}: then left alone`);
    engine.close();
  }
});

Deno.test("a conflict git still holds unmerged is not imported even where it looks like an example (inside a code fence)", async () => {
  const repo = await tempRepo({ phases: PHASES });
  await Deno.mkdir(`${repo}/tickets`);
  const file = `${repo}/tickets/0001_cache.md`;
  const ticket = TICKET.replace("## Workflow Log", "## Example\n\n```ts\nconst size = 10;\n```\n\n## Workflow Log");
  await Deno.writeTextFile(file, ticket);
  gitIn(repo, "init", "-q", "-b", "main");
  gitIn(repo, "add", "-A");
  gitIn(repo, "commit", "-qm", "tickets");
  gitIn(repo, "checkout", "-qb", "teammate");
  await Deno.writeTextFile(file, ticket.replace("const size = 10;", "const size = 20;"));
  gitIn(repo, "commit", "-qam", "teammate");
  gitIn(repo, "checkout", "-q", "main");
  await Deno.writeTextFile(file, ticket.replace("const size = 10;", "const size = 30;"));
  gitIn(repo, "commit", "-qam", "mine");
  assert.notEqual(gitIn(repo, "merge", "teammate").code, 0);
  const engine = await openEngine(repo);
  const r = importTickets(engine);
  assert.deepEqual(r.imported, []);
  assert.match(r.errors[0]?.message ?? "", /unresolved merge conflict/);
  gitIn(repo, "checkout", "--ours", "tickets/0001_cache.md");
  gitIn(repo, "commit", "-qam", "resolved");
  assert.deepEqual(importTickets(engine).imported, ["0001"]);
  engine.close();
});

Deno.test("import --warnings lists a file in conflict that was imported before once, as a warning", async () => {
  const { repo, file } = await repoWithTicket();
  const engine = await openEngine(repo);
  importTickets(engine);
  // Imported since (by a Baton before conflicts were detected) with the markers in it: its hash is recorded.
  await Deno.writeTextFile(
    file,
    TICKET.replace("- [x] Draft", "<<<<<<< HEAD\n- [x] Draft\n=======\n- [ ] Draft\n>>>>>>> t"),
  );
  const { contentHash } = await import("../../src/markdown/ids.ts");
  const f = engine.ticketFiles(["0001"])[0];
  engine.setTicketFile("0001", {
    path: f.path!,
    contentHash: contentHash(await Deno.readTextFile(file)),
    ledger: f.ledger,
  });
  const r = importTickets(engine, { warnings: true });
  assert.deepEqual(r.unchanged, ["0001"]);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings.map((w) => [w.code, w.line]), [["merge_conflict", 4]]);
  engine.close();
});

Deno.test("a finished ticket whose file a human archived out of tickets/: sync has nothing to write (exit 0), doctor passes; one archived before its last record was written gets a warning, not an error for good", async () => {
  const { repo } = await repoWithTicket();
  await Deno.writeTextFile(`${repo}/tickets/0002_other.md`, TICKET.replace("0001: Cache", "0002: Other"));
  const engine = await openEngine(repo);
  importTickets(engine);
  const finish = (id: string, caps: string) => {
    const c = engine.claimNext({ agentId: "a", capabilities: [caps] })!;
    assert.equal(c.ticket.id, id);
    engine.complete(c.phase.id, { agentId: "a", token: c.token, summary: `${caps} done` });
  };
  finish("0001", "designer");
  finish("0002", "designer");
  finish("0001", "implementer");
  assert.deepEqual(syncAll(engine).written.sort(), ["0001", "0002"]);
  engine.close();
  // Done and written: the human moves it to an archive outside tickets.directory.
  await Deno.mkdir(`${repo}/archive`);
  await Deno.rename(`${repo}/tickets/0001_cache.md`, `${repo}/archive/0001_cache.md`);
  const archived = await Deno.readTextFile(`${repo}/archive/0001_cache.md`);
  const sync = await baton(["sync", "--json"], { cwd: repo });
  assert.equal(sync.code, 0, sync.stdout + sync.stderr);
  assert.deepEqual(JSON.parse(sync.stdout).errors, []);
  const doctor = await baton(["doctor"], { cwd: repo });
  assert.doesNotMatch(doctor.stdout, /0001/);
  assert.equal(doctor.code, 0, doctor.stdout);
  // 0002 is archived too before its last phase is done: that record has nowhere to go, and sync says so.
  await Deno.rename(`${repo}/tickets/0002_other.md`, `${repo}/archive/0002_other.md`);
  const again = await openEngine(repo);
  const c = again.claimNext({ agentId: "a", capabilities: ["implementer"] })!;
  again.complete(c.phase.id, { agentId: "a", token: c.token, summary: "implemented" });
  again.close();
  // Finished too: its last record stays in Baton, and sync says it could not write it, without failing for good.
  const sync2 = await baton(["sync", "--json"], { cwd: repo });
  assert.equal(sync2.code, 0, sync2.stdout);
  const out2 = JSON.parse(sync2.stdout);
  assert.deepEqual(out2.errors, []);
  assert.deepEqual(
    out2.warnings.map((w: { path: string; code: string }) => [w.path, w.code]),
    [["tickets/0002_other.md", "ticket_file_missing"]],
  );
  assert.equal((await baton(["doctor"], { cwd: repo })).code, 0);
  assert.equal(await Deno.readTextFile(`${repo}/archive/0001_cache.md`), archived); // nothing written anywhere
});

Deno.test("sync: a ticket file replaced by a directory is an error at the file, with Baton's code and no absolute path (tickets helper, s06)", async () => {
  const { repo, file } = await repoWithTicket();
  const engine = await openEngine(repo);
  importDesignAndSync(engine);
  const c = engine.claimNext({ agentId: "i", capabilities: ["implementer"] })!;
  engine.complete(c.phase.id, { agentId: "i", token: c.token });
  await Deno.remove(file);
  await Deno.mkdir(file);
  try {
    const r = syncAll(engine);
    assert.deepEqual(r.errors.map((e) => [e.path, e.code]), [["tickets/0001_cache.md", "markdown_invalid"]]);
    assert.ok(!r.errors[0].message.includes(repo), r.errors[0].message);
  } finally {
    engine.close();
  }
});

Deno.test("realtime write-back: what it warns about (a human's value kept over Baton's) is said by the writing process and by every later baton sync while it holds (ops helper d5)", async () => {
  const { repo, file } = await repoWithTicket(
    "markdown_sync:\n  status_update: realtime\n  workflow_log_update: realtime\n",
  );
  const engine = await openEngine(repo);
  try {
    importTickets(engine);
    const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
    engine.complete(c.phase.id, { agentId: "d", token: c.token, summary: "design v0" });
    assert.match(await Deno.readTextFile(file), /- \*\*Notes\*\*: design v0\n/);
    // The human annotates Baton's value; the design is then redone with a new summary.
    await Deno.writeTextFile(
      file,
      (await Deno.readTextFile(file)).replace("design v0", "design v0 (Dana: the cache part is wrong)"),
    );
    importTickets(engine);
    engine.returnForRework(c.phase.id, { actor: { kind: "human", name: "dana" }, notes: "stream it" });
    const again = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
    const said: string[] = [];
    const error = console.error;
    console.error = (...a: unknown[]) => said.push(a.join(" "));
    try {
      engine.complete(again.phase.id, { agentId: "d", token: again.token, summary: "design v1: streaming" });
    } finally {
      console.error = error;
    }
    assert.match(await Deno.readTextFile(file), /Dana: the cache part is wrong/, "the human's value is kept");
    const warning =
      /Design Notes: the file says "design v0 \(Dana: the cache part is wrong\)", Baton has "design v1: streaming"; kept the file's/;
    assert.ok(said.some((l) => warning.test(l)), `said by the writing process: ${JSON.stringify(said)}`);
    // Said once: the next commit that touches the ticket (the implementation claimed) does not say it again.
    said.length = 0;
    console.error = (...a: unknown[]) => said.push(a.join(" "));
    try {
      engine.claimNext({ agentId: "i", capabilities: ["implementer"] });
    } finally {
      console.error = error;
    }
    assert.deepEqual(said, []);
    for (let i = 0; i < 2; i++) {
      const r = syncAll(engine);
      assert.deepEqual(r.errors, []);
      assert.ok(r.warnings.some((w) => warning.test(w.message)), `baton sync says it (${i}): ${JSON.stringify(r)}`);
    }
  } finally {
    engine.close();
  }
});
