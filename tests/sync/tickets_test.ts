/**
 * Markdown tickets through the engine: import of every fixture format,
 * idempotent re-import, the database winning on status, duplicates, bad
 * files, write-back that touches only checkboxes and the workflow log, new
 * tickets from a template, and realtime write-back.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { importTickets, newTicket, syncAll } from "../../mod.ts";
import { EXAMPLE_PHASES, tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";

const FIXTURES = new URL("../fixtures/tickets/", import.meta.url).pathname;
const human = { kind: "human" as const, name: "dana" };

// A workflow shaped like seed 000's lifecycle (its status labels and workflow log blocks).
const PHASES = `phases:
  - {name: Design, agent_type: designer}
  - {name: Design Review, agent_type: null}
  - {name: Prototype, agent_type: prototyper}
  - {name: Implementation, agent_type: implementer}
  - {name: Test Writing, agent_type: test-writer}
  - {name: Implementation Review, agent_type: null}
  - {name: Documentation Update, agent_type: docs-writer}
ticket_metadata:
  - {field: priority, type: enum, values: [Critical, High, Medium, Low], default: Medium, markdown_key: Priority}
  - {field: components, type: list, markdown_key: "Target Component(s)"}
  - {field: languages, type: list, markdown_key: Languages}
  - {field: needs_docs, type: boolean, default: true, markdown_key: Needs Docs}
  - {field: tutorial, type: boolean, markdown_key: Generate Tutorial}
  - {field: complexity, type: string, markdown_key: Estimated Complexity}
`;

// The debug ticket D0001 has its own lifecycle labels; a real repository maps them (see the test below).
const DEBUG_LABELS = `tickets:
  status_map:
    Reported: null
    Investigating: null
    Fixed: Implementation
`;

async function repoWithFixtures(config = DEBUG_LABELS): Promise<string> {
  const repo = await tempRepo({ phases: PHASES, config });
  await Deno.mkdir(`${repo}/tickets/debug`, { recursive: true });
  for (const e of Deno.readDirSync(FIXTURES)) {
    if (e.isFile) await Deno.copyFile(`${FIXTURES}${e.name}`, `${repo}/tickets/${e.name}`);
  }
  for (const e of Deno.readDirSync(`${FIXTURES}debug`)) {
    await Deno.copyFile(`${FIXTURES}debug/${e.name}`, `${repo}/tickets/debug/${e.name}`);
  }
  return repo;
}

Deno.test("import: every format, with per-file errors and warnings, and one bad file never stops it", async () => {
  const repo = await repoWithFixtures();
  const engine = await openEngine(repo);
  const progress: [number, number][] = [];
  const r = importTickets(engine, { onProgress: (d, t) => progress.push([d, t]) });
  assert.deepEqual(
    r.imported.sort(),
    ["0035b1", "0056k", "0083", "0090", "0091", "0093", "D0001"],
    JSON.stringify(r.errors),
  );
  assert.deepEqual(r.errors.map((e) => [e.path, e.code]), [["tickets/0092_no_title.md", "markdown_invalid"]]);
  assert.ok(r.errors[0].line, "errors carry a line");
  assert.deepEqual(r.skipped.map((s) => s.path), ["tickets/notes_without_id.md"]);
  assert.match(r.skipped[0].message, /id_regex/);
  assert.ok(progress.length > 0 && progress.at(-1)![0] === progress.at(-1)![1]);

  const seed = engine.ticket("0083");
  assert.equal(seed.title, "Database-Backed Multi-Agent Orchestration");
  assert.equal(seed.priority, "High");
  assert.equal(seed.metadata.complexity, "XL");
  assert.deepEqual(seed.metadata.languages, ["Python"]);
  assert.equal(seed.metadata.tutorial, false);
  assert.equal(seed.phases[0].status, "blocked", "seed 000 is a Draft; D0001 says it blocks 0083");
  assert.deepEqual(seed.dependencies.map((d) => d.dependsOn), ["D0001"]);

  const k = engine.ticket("0056k");
  assert.equal(k.title, "Python Wheel Packaging");
  assert.equal(k.priority, "Medium", "enum matched case-insensitively");
  assert.equal(k.metadata.tutorial, true, "Yes (educational value)");
  assert.deepEqual(k.metadata.languages, ["C++", "Python"]);
  assert.equal(k.parentId, "0056");
  assert.deepEqual(k.dependencies.map((d) => d.dependsOn).sort(), ["0056c", "0056d"]);
  assert.equal(k.phases.find((p) => p.name === "Design")!.status, "completed", "position: Design Complete");
  assert.equal(k.phases.find((p) => p.name === "Design Review")!.status, "blocked", "it waits for 0056c/0056d");

  const h = engine.ticket("0035b1");
  assert.equal(h.priority, "High", "heading style");
  assert.deepEqual(h.dependencies.map((d) => d.dependsOn).sort(), ["0034", "0035a"]);

  const multi = engine.ticket("0090");
  assert.equal(multi.title, "Multi-language Simulation Export", "Feature Ticket: prefix removed");
  assert.deepEqual(multi.dependencies.map((d) => d.dependsOn).sort(), [
    "0041",
    "0042",
    "0043",
    "0044",
    "0056c",
    "D0001",
  ]);
  assert.equal(multi.parentId, "0089");

  const bug = engine.ticket("D0001");
  assert.equal(bug.path, "tickets/debug/D0001_crash_on_empty_config.md");
  assert.ok(engine.ticket("0093").title.length > 0, "CRLF file imported");

  const flaky = engine.ticket("0091");
  assert.equal(flaky.priority, "Urgent", "an unknown enum value is kept");
  assert.ok(r.warnings.some((w) => w.path.endsWith("0091_flaky_lease_timer.md") && /Urgent/.test(w.message)));
  assert.equal(flaky.metadata.needs_docs, true, "an empty value means the default");
  assert.equal(h.status, "completed", "## Status: Complete is a finished ticket");
  engine.close();
});

Deno.test("import: a ticket whose checked labels map to no phase is imported with a coded warning at its line", async () => {
  const repo = await repoWithFixtures("");
  const engine = await openEngine(repo);
  const r = importTickets(engine);
  assert.ok(!r.errors.some((x) => x.path.endsWith("D0001_crash_on_empty_config.md")));
  const w = r.warnings.filter((x) => x.path.endsWith("D0001_crash_on_empty_config.md") && x.line === 6);
  assert.equal(w[0]?.code, "status_unmapped");
  assert.match(w[0].message, /status "Investigating" maps to no phase/);
  // Nothing before its labels places it further: not started, as far as anything in the file proves.
  assert.equal(engine.ticket("D0001").phases[0].name, "Design");
  engine.close();
});

Deno.test("import: unchanged files are unchanged, a changed file updates and moves its ticket forward", async () => {
  const repo = await repoWithFixtures();
  const engine = await openEngine(repo);
  importTickets(engine);
  const again = importTickets(engine);
  assert.deepEqual(again.imported, []);
  assert.deepEqual(again.updated, []);
  assert.equal(again.unchanged.length, 7);
  const auditBefore = engine.audit().length;
  assert.equal(importTickets(engine).unchanged.length, 7);
  assert.equal(engine.audit().length, auditBefore, "a no-op import writes nothing");

  // A human edits metadata and dependencies; another also ticks a status box.
  const path = `${repo}/tickets/0056k_python_wheel_packaging.md`;
  let text = await Deno.readTextFile(path);
  text = text.replace("**Priority**: medium", "**Priority**: Critical").replace(
    ", [0056d_numpy_interop](../0056d_numpy_interop.md)",
    "",
  ).replace("- [ ] Design Approved — Ready for Implementation", "- [x] Design Approved — Ready for Implementation");
  await Deno.writeTextFile(path, text);
  const r = importTickets(engine);
  assert.deepEqual(r.updated, ["0056k"]);
  const k = engine.ticket("0056k");
  assert.equal(k.priority, "Critical");
  assert.deepEqual(k.dependencies.map((d) => d.dependsOn), ["0056c"]);
  // The human's tick is the gate's decision, recorded in the file: the ticket moves forward, never back.
  assert.equal(k.phases.find((p) => p.name === "Design Review")!.status, "completed");
  assert.deepEqual(r.advanced, [{ id: "0056k", phases: ["Design Review"] }]);
  engine.close();
});

Deno.test("import: duplicate ids are reported with both paths and neither is imported", async () => {
  const repo = await tempRepo({ phases: PHASES });
  await Deno.mkdir(`${repo}/tickets/old`, { recursive: true });
  await Deno.writeTextFile(`${repo}/tickets/0100_new.md`, "# Ticket 0100: New\n");
  await Deno.writeTextFile(`${repo}/tickets/old/0100_old.md`, "# Ticket 0100: Old\n");
  await Deno.writeTextFile(`${repo}/tickets/0101_fine.md`, "# Ticket 0101: Fine\n");
  const engine = await openEngine(repo);
  const r = importTickets(engine);
  assert.deepEqual(r.duplicates, [{ id: "0100", paths: ["tickets/0100_new.md", "tickets/old/0100_old.md"] }]);
  assert.deepEqual(r.imported, ["0101"]);
  assert.throws(() => engine.ticket("0100"), { code: "not_found" });
  engine.close();
});

Deno.test("round trip: import, work several phases, write back: only checkboxes and the workflow log change", async () => {
  const repo = await repoWithFixtures();
  const engine = await openEngine(repo);
  importTickets(engine);
  const path = `${repo}/tickets/0083_database_agent_orchestration.md`;
  const original = await Deno.readTextFile(path);
  // The debug ticket D0001 says it blocks 0083: take that out of the way for this test.
  engine.removeDependency("0083", "D0001");
  const work = (caps: string[], summary: string, artifacts: string[]) => {
    const phase = engine.ticket("0083").phases.find((p) => p.status === "available")!;
    const c = engine.claim(phase.id, { agentId: "agent-1", capabilities: caps });
    assert.equal(c.ticket.id, "0083");
    engine.start(c.phase.id, { agentId: "agent-1", token: c.token });
    engine.complete(c.phase.id, { agentId: "agent-1", token: c.token, summary, artifacts });
  };
  work(["designer"], "Design written.", ["docs/designs/0083/design.md"]);
  engine.approveGate(engine.gates({ ticketId: "0083" })[0].id, { actor: human, notes: "Approved with minor notes." });
  work(["prototyper"], "Prototype shows WAL works.", []);
  const r = syncAll(engine);
  assert.ok(r.written.includes("0083"), JSON.stringify(r));
  const after = await Deno.readTextFile(path);
  assert.notEqual(after, original);
  // Prototype is done: every label up to the last that means so ("Ready for Implementation": this
  // workflow has no prototype review) is checked, the rest unchecked.
  assert.match(
    after,
    /- \[x\] Prototype Complete — Awaiting Review\n- \[x\] Ready for Implementation\n- \[ \] Implementation Complete/,
  );
  // Everything outside the status checkboxes and the Workflow Log section is byte for byte the same.
  const outside = (t: string) => {
    const lines = t.split("\n").filter((l) => !/^- \[[ x]\] /.test(l));
    const joined = lines.join("\n");
    const start = joined.indexOf("## Workflow Log");
    const end = joined.indexOf("## Human Feedback");
    return joined.slice(0, start) + joined.slice(end);
  };
  assert.equal(outside(after), outside(original));
  assert.equal(after.slice(after.indexOf("## Human Feedback")), original.slice(original.indexOf("## Human Feedback")));
  // The log has what happened.
  const log = after.slice(after.indexOf("## Workflow Log"), after.indexOf("## Human Feedback"));
  assert.match(log, /### Design Phase\n- \*\*Started\*\*: 2\d{3}-/);
  assert.match(log, /docs\/designs\/0083\/design\.md/);
  assert.match(log, /Design written\./);
  assert.match(log, /Approved with minor notes\./);
  assert.match(log, /Prototype shows WAL works\./);
  // Write-back is idempotent and the re-import sees an unchanged file.
  assert.deepEqual(syncAll(engine).written, []);
  assert.ok(importTickets(engine).unchanged.includes("0083"));
  engine.close();
});

Deno.test("write-back refuses a position with no label instead of checking everything", async () => {
  const repo = await tempRepo({ phases: PHASES });
  await Deno.mkdir(`${repo}/tickets`);
  const text = "# Ticket 0200: Odd labels\n\n## Status\n- [ ] Drafting\n- [ ] Shipping\n\n## Workflow Log\n";
  await Deno.writeTextFile(`${repo}/tickets/0200_odd.md`, text);
  const engine = await openEngine(repo, {});
  importTickets(engine);
  const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "a", token: c.token });
  const r = syncAll(engine);
  assert.ok(r.warnings.some((w) => /no status label matches/.test(w.message)));
  const after = await Deno.readTextFile(`${repo}/tickets/0200_odd.md`);
  assert.match(after, /- \[ \] Drafting\n- \[ \] Shipping/, "no box was checked");
  engine.close();
});

Deno.test("new ticket from the template; realtime mode writes back after each transition", async () => {
  const repo = await tempRepo({ phases: PHASES, config: "markdown_sync:\n  mode: realtime\n" });
  await Deno.mkdir(`${repo}/.workflow/templates`, { recursive: true });
  await Deno.copyFile(
    new URL("../../.workflow.example/templates/ticket.md", import.meta.url),
    `${repo}/.workflow/templates/ticket.md`,
  );
  const engine = await openEngine(repo);
  engine.upsertTicket({ id: "0041", title: "existing" });
  const t = newTicket(engine, { title: "Add a result cache!", priority: "High", summary: "Cache results." });
  assert.equal(t.id, "0042");
  assert.equal(t.path, "tickets/0042_add_a_result_cache.md");
  assert.equal(t.priority, "High");
  const file = `${repo}/${t.path}`;
  const text = await Deno.readTextFile(file);
  assert.match(text, /^# Ticket 0042: Add a result cache!/);
  assert.match(text, /Cache results\./);
  assert.throws(() => newTicket(engine, { title: " " }), { code: "invalid_argument" });
  // Realtime: completing Design checks its box and logs it, with no explicit sync.
  const c = engine.claim(t.phases[0].id, { agentId: "a", capabilities: ["designer"] });
  engine.complete(c.phase.id, { agentId: "a", token: c.token, summary: "Designed the cache." });
  const after = await Deno.readTextFile(file);
  assert.match(after, /- \[x\] Design Complete — Awaiting Review/);
  assert.match(after, /### Design Phase[\s\S]*Designed the cache\./);
  engine.close();
});

Deno.test("planner batch with markdown files: all or nothing, never overwriting", async () => {
  const { createTicketsWithFiles } = await import("../../mod.ts");
  const repo = await tempRepo({ phases: PHASES });
  const engine = await openEngine(repo);
  const made = createTicketsWithFiles(engine, [
    { ref: "a", title: "Parser", metadata: { priority: "High" } },
    { ref: "b", title: "Writer", dependencies: [{ on: "a" }] },
  ], { kind: "agent", id: "planner" });
  assert.deepEqual(made.map((t) => t.path), ["tickets/0001_parser.md", "tickets/0002_writer.md"]);
  assert.match(
    await Deno.readTextFile(`${repo}/tickets/0001_parser.md`),
    /# Ticket 0001: Parser[\s\S]*Priority\*\*: High/,
  );
  assert.equal(importTickets(engine).unchanged.length, 2, "the files match what the database holds");
  // A human already has a file with the id the batch asks for: nothing of the batch is kept.
  await Deno.writeTextFile(`${repo}/tickets/0004_taken.md`, "# Ticket 0004: mine\n");
  assert.throws(
    () => createTicketsWithFiles(engine, [{ title: "Fine" }, { id: "0004", title: "Taken" }]),
    { code: "invalid_argument", message: /tickets\/0004_taken\.md already uses id 0004/ },
  );
  assert.deepEqual(engine.listTickets().map((t) => t.id), ["0001", "0002"]);
  assert.deepEqual([...Deno.readDirSync(`${repo}/tickets`)].map((e) => e.name).sort(), [
    "0001_parser.md",
    "0002_writer.md",
    "0004_taken.md",
  ]);
  assert.equal(await Deno.readTextFile(`${repo}/tickets/0004_taken.md`), "# Ticket 0004: mine\n");
  // Generated ids go above every id a file uses.
  assert.deepEqual(createTicketsWithFiles(engine, [{ title: "Fine" }]).map((t) => t.id), ["0005"]);
  engine.close();
});

Deno.test("the example template: every label maps; approvals wait for the human; Merged / Complete on completion", async () => {
  const repo = await tempRepo({ phases: EXAMPLE_PHASES }); // the shipped example workflow
  await Deno.mkdir(`${repo}/.workflow/templates`, { recursive: true });
  await Deno.copyFile(
    new URL("../../.workflow.example/templates/ticket.md", import.meta.url),
    `${repo}/.workflow/templates/ticket.md`,
  );
  await Deno.mkdir(`${repo}/tickets`);
  const engine = await openEngine(repo);
  const t = newTicket(engine, { title: "Cache results", priority: "High" });
  const file = `${repo}/${t.path}`;
  const r = importTickets(engine, { warnings: true });
  assert.deepEqual(r.warnings, [], "every label of the template maps, Draft and Merged / Complete included");
  const box = async (label: string) => new RegExp(`- \\[x\\] ${label}`).test(await Deno.readTextFile(file));
  const step = (type: string) => {
    const c = engine.claimNext({ agentId: type, capabilities: [type] })!;
    engine.complete(c.phase.id, { agentId: type, token: c.token, summary: `${type} done` });
  };
  step("designer");
  syncAll(engine);
  assert.ok(await box("Design Complete — Awaiting Review"));
  assert.equal(await box("Design Approved"), false, "nobody approved it yet");
  engine.rejectGate(engine.findGate(t.id).id, { actor: human, notes: "cover eviction" });
  syncAll(engine);
  assert.equal(await box("Design Complete — Awaiting Review"), false, "sent back: unchecked");
  step("designer");
  engine.approveGate(engine.findGate(t.id).id, { actor: human });
  syncAll(engine);
  assert.ok(await box("Design Approved"));
  step("implementer");
  step("test-writer");
  engine.approveGate(engine.findGate(t.id).id, { actor: human });
  step("docs-writer");
  assert.equal(engine.ticket(t.id).status, "completed");
  syncAll(engine);
  for (const l of ["Implementation Complete", "Tests Complete", "Code Review Approved", "Merged / Complete"]) {
    assert.ok(await box(l), l);
  }
  assert.deepEqual(syncAll(engine).written, [], "and then nothing more to write");
  engine.close();
});

Deno.test("import: 'Blocks: X' written before X's file exists makes X wait once X is imported, as when both come together", async () => {
  const t = (id: string, title: string, extra = "") => `# Ticket ${id}: ${title}\n\n${extra}## Status\n- [ ] Done\n`;
  const waitsFor = async (together: boolean) => {
    const repo = await tempRepo({ phases: "phases:\n  - {name: Design, agent_type: designer}\n" });
    await Deno.mkdir(`${repo}/tickets`);
    const engine = await openEngine(repo);
    try {
      await Deno.writeTextFile(`${repo}/tickets/0001_schema.md`, t("0001", "Schema", "**Blocks**: 0002\n\n"));
      if (!together) {
        const first = importTickets(engine);
        assert.match(first.warnings.map((w) => w.message).join("\n"), /0002 waits once it is imported/);
      }
      await Deno.writeTextFile(`${repo}/tickets/0002_api.md`, t("0002", "API"));
      importTickets(engine);
      const deps = engine.dependencies("0002").map((d) => `${d.ticketId} waits for ${d.dependsOn}`);
      assert.deepEqual(importTickets(engine).updated, [], "a third import has nothing to do");
      return { deps, status: engine.ticket("0002").phases[0].status };
    } finally {
      engine.close();
    }
  };
  const apart = await waitsFor(false);
  assert.deepEqual(apart, await waitsFor(true));
  assert.deepEqual(apart, { deps: ["0002 waits for 0001"], status: "blocked" });
});

for (const legacy of [false, true]) {
  Deno.test(`import: a human's edit of X does not drop the wait that another file's 'Blocks: X' declared (X would be offered before its blocker is done)${legacy ? ", also for a file imported before Baton remembered what it blocks" : ""}`, async () => {
    const t = (id: string, title: string, extra = "") => `# Ticket ${id}: ${title}\n\n${extra}## Status\n- [ ] Done\n`;
    const repo = await tempRepo({ phases: "phases:\n  - {name: Design, agent_type: designer}\n" });
    await Deno.mkdir(`${repo}/tickets`);
    const engine = await openEngine(repo);
    try {
      await Deno.writeTextFile(`${repo}/tickets/0001_schema.md`, t("0001", "Schema", "**Blocks**: 0002\n\n"));
      await Deno.writeTextFile(`${repo}/tickets/0002_api.md`, t("0002", "API", "**Depends On**: 0003\n\n"));
      await Deno.writeTextFile(`${repo}/tickets/0003_auth.md`, t("0003", "Auth"));
      importTickets(engine);
      if (legacy) {
        const f = engine.ticketFiles(["0001"])[0];
        const { blocks: _, ...ledger } = f.ledger as Record<string, unknown>;
        engine.setTicketFile("0001", { path: f.path!, contentHash: f.contentHash!, ledger });
      }
      const waits = () => engine.dependencies("0002").map((d) => d.dependsOn).sort();
      assert.deepEqual(waits(), ["0001", "0003"]);
      // The human edits 0002 only: a new paragraph, and its own dependency on 0003 dropped.
      await Deno.writeTextFile(`${repo}/tickets/0002_api.md`, t("0002", "API", "Use REST, not gRPC.\n\n"));
      assert.deepEqual(importTickets(engine).updated, ["0002"]);
      assert.deepEqual(waits(), ["0001"], "0001's file still says it blocks 0002");
      assert.equal(engine.ticket("0002").phases[0].status, "blocked");
      assert.deepEqual(engine.claimNext({ agentId: "d", capabilities: ["designer"] })?.ticket.id, "0001");
      // Once 0001's file no longer says so, 0002 stops waiting for it (said). What a file imported before blocked is
      // not known: the wait stays until 0002's own file is imported again.
      await Deno.writeTextFile(`${repo}/tickets/0001_schema.md`, t("0001", "Schema"));
      const ended = importTickets(engine).warnings.filter((w) => w.code === "dependency_ended");
      assert.deepEqual(
        ended.map((w) => [w.path, w.message]),
        legacy ? [] : [[
          "tickets/0001_schema.md",
          "0002 no longer waits for 0001: tickets/0001_schema.md no longer says it blocks 0002",
        ]],
      );
      assert.deepEqual(waits(), legacy ? ["0001"] : []);
      if (legacy) {
        await Deno.writeTextFile(`${repo}/tickets/0002_api.md`, t("0002", "API", "Use REST.\n\n"));
        importTickets(engine);
        assert.deepEqual(waits(), []);
      }
    } finally {
      engine.close();
    }
  });
}

Deno.test("import: a dependency cycle is an error at the line that closes it, with its code (ops helper d9)", async () => {
  const t = (id: string, title: string, extra = "") => `# Ticket ${id}: ${title}\n\n${extra}## Status\n- [ ] Done\n`;
  const repo = await tempRepo({ phases: "phases:\n  - {name: Design, agent_type: designer}\n" });
  await Deno.mkdir(`${repo}/tickets`);
  await Deno.writeTextFile(`${repo}/tickets/0001_a.md`, t("0001", "A", "**Depends On**: 0002\n\n"));
  await Deno.writeTextFile(`${repo}/tickets/0002_b.md`, t("0002", "B", "Some words.\n\n**Depends On**: 0001\n\n"));
  const engine = await openEngine(repo);
  try {
    const r = importTickets(engine);
    assert.deepEqual(r.errors.map((e) => [e.path, e.line, e.code]), [["tickets/0002_b.md", 5, "dependency_cycle"]]);
    assert.match(r.errors[0].message, /0002 -> 0001 -> 0002/);
  } finally {
    engine.close();
  }
});

Deno.test("import: with tickets.directory '.', Baton's logs and worktrees, other checkouts inside the repository and git's own files are not tickets; paths carry no './'", async () => {
  const repo = await tempRepo({
    phases: "phases:\n  - {name: Design, agent_type: designer}\n",
    config: 'tickets:\n  directory: "."\n',
  });
  const git = async (cwd: string, ...args: string[]) => {
    const o = await new Deno.Command("git", { args, cwd, stdout: "null", stderr: "piped" }).output();
    assert(o.success, new TextDecoder().decode(o.stderr));
  };
  await git(repo, "init", "-q", "-b", "main");
  await git(repo, "config", "user.email", "t@example.com");
  await git(repo, "config", "user.name", "t");
  await Deno.mkdir(`${repo}/tickets`);
  await Deno.writeTextFile(`${repo}/tickets/0001_alpha.md`, "# Ticket 0001: Alpha\n\n- **Priority**: High\n");
  await Deno.writeTextFile(`${repo}/tickets/0002_beta.md`, "# Ticket 0002: Beta\n");
  await git(repo, "add", "-A");
  await git(repo, "commit", "-qm", "tickets");
  // What `baton run` leaves: a worktree per ticket (a linked checkout) and the agents' prompts among its logs.
  await git(repo, "worktree", "add", "-q", ".workflow/worktrees/0001", "-b", "baton/0001");
  await Deno.mkdir(`${repo}/.workflow/logs`, { recursive: true });
  await Deno.writeTextFile(`${repo}/.workflow/logs/0001-design-agent-1.prompt.md`, "# Ticket 0001: Alpha\n");
  // A human's own checkout inside the repository, a nested repository, and a file in git's directory.
  await git(repo, "worktree", "add", "-q", "wt-feature", "-b", "feature");
  await Deno.mkdir(`${repo}/vendor/lib`, { recursive: true });
  await git(`${repo}/vendor/lib`, "init", "-q");
  await Deno.writeTextFile(`${repo}/vendor/lib/0003_theirs.md`, "# Ticket 0003: Theirs\n");
  await Deno.writeTextFile(`${repo}/.git/0004_internal.md`, "# Ticket 0004: Internal\n");
  const engine = await openEngine(repo);
  try {
    const r = importTickets(engine);
    assert.deepEqual(r.duplicates, []);
    assert.deepEqual(r.imported, ["0001", "0002"]);
    assert.deepEqual(r.errors, []);
    assert.equal(engine.ticket("0001").path, "tickets/0001_alpha.md");
    // A human's edit reaches Baton (it used to be lost among the duplicates the worktrees made).
    await Deno.writeTextFile(`${repo}/tickets/0002_beta.md`, "# Ticket 0002: Beta, renamed\n");
    const again = importTickets(engine);
    assert.deepEqual(again.updated, ["0002"]);
    assert.deepEqual(again.duplicates, []);
    assert.equal(engine.ticket("0002").title, "Beta, renamed");
    // A new ticket's file goes at the root too, named as import names it.
    const t = newTicket(engine, { title: "Gamma" });
    assert.equal(t.path, `${t.id}_gamma.md`);
    assert.deepEqual(importTickets(engine).unchanged.sort(), ["0001", "0002", t.id].sort());
  } finally {
    engine.close();
  }
});

Deno.test("import: a tickets.id_regex that reads other ids from tracked files imports no second ticket for a file: an error at each, exit 1, nothing written", async () => {
  const repo = await tempRepo({ phases: "phases:\n  - {name: Design, agent_type: designer}\n" });
  await Deno.mkdir(`${repo}/tickets`);
  await Deno.writeTextFile(`${repo}/tickets/0041_alpha.md`, "# Ticket 0041: Alpha\n");
  await Deno.writeTextFile(`${repo}/tickets/0042_beta.md`, "# Ticket 0042: Beta\n");
  let engine = await openEngine(repo);
  assert.deepEqual(importTickets(engine).imported, ["0041", "0042"]);
  engine.close();
  // The new pattern also captures the slug: every file would read as a new ticket.
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, 'tickets:\n  id_regex: "^(\\\\d+_[a-z]+)"\n');
  const cli = await baton(["import", "--json"], { cwd: repo });
  assert.equal(cli.code, 1, cli.stdout + cli.stderr);
  const r = JSON.parse(cli.stdout);
  assert.deepEqual(r.imported, []);
  assert.deepEqual(r.errors.map((e: { path: string; code: string }) => [e.path, e.code]), [
    ["tickets/0041_alpha.md", "config_invalid"],
    ["tickets/0042_beta.md", "config_invalid"],
  ]);
  assert.match(r.errors[0].message, /is ticket 0041's file, but tickets\.id_regex .* reads the id 0041_alpha/);
  engine = await openEngine(repo);
  assert.deepEqual(engine.listTickets().map((t) => t.id), ["0041", "0042"]);
  engine.close();
});

Deno.test("import: an open ticket's file that tickets.directory or tickets.pattern no longer chooses is named as such, not as gone; a duplicate id has a code and exit 1", async () => {
  const repo = await tempRepo({ phases: "phases:\n  - {name: Design, agent_type: designer}\n" });
  await Deno.mkdir(`${repo}/tickets`);
  await Deno.writeTextFile(`${repo}/tickets/0041_alpha.md`, "# Ticket 0041: Alpha\n");
  await Deno.writeTextFile(`${repo}/tickets/0042_beta.md`, "# Ticket 0042: Beta\n");
  const engine0 = await openEngine(repo);
  importTickets(engine0);
  engine0.close();
  // Renamed with an extension the pattern does not choose.
  await Deno.rename(`${repo}/tickets/0041_alpha.md`, `${repo}/tickets/0041_alpha.MD`);
  let engine = await openEngine(repo);
  let w = importTickets(engine).warnings.filter((x) => x.code === "ticket_file_unmatched");
  assert.deepEqual(w.map((x) => x.path), ["tickets/0041_alpha.MD"]);
  assert.match(w[0].message, /has ticket 0041's id, but tickets\.pattern \("\*\*\/\*\.md"\) does not choose it/);
  engine.close();
  await Deno.rename(`${repo}/tickets/0041_alpha.MD`, `${repo}/tickets/0041_alpha.md`);
  // tickets.directory moved without the files: both are still there, and no longer read.
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "tickets:\n  directory: backlog\n");
  await Deno.mkdir(`${repo}/backlog`);
  engine = await openEngine(repo);
  w = importTickets(engine).warnings.filter((x) => x.code === "ticket_file_unmatched");
  assert.deepEqual(w.map((x) => x.path), ["tickets/0041_alpha.md", "tickets/0042_beta.md"]);
  assert.match(w[0].message, /not among the ticket files \(tickets\.directory "backlog"/);
  engine.close();
  // Two files with one id: skipped with a code, and `baton import` exits 1.
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "");
  await Deno.writeTextFile(`${repo}/tickets/0042_copy.md`, "# Ticket 0042: Beta, a copy with an edit\n");
  const cli = await baton(["import", "--json"], { cwd: repo });
  assert.equal(cli.code, 1, cli.stdout);
  const r = JSON.parse(cli.stdout);
  assert.deepEqual(r.skipped.map((s: { code: string }) => s.code), ["duplicate_id", "duplicate_id"]);
});

Deno.test("import: a file that takes the id of a finished ticket made without a file is another ticket: refused at the file, the finished ticket unchanged (review)", async () => {
  const repo = await tempRepo({ phases: "phases:\n  - {name: Design, agent_type: designer}\n" });
  await Deno.mkdir(`${repo}/tickets`);
  const engine = await openEngine(repo);
  try {
    const [planned] = engine.createTickets([{ title: "Planned, no file" }]);
    const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
    engine.complete(c.phase.id, { agentId: "d", token: c.token });
    assert.equal(engine.ticket(planned.id).status, "completed");
    await Deno.writeTextFile(
      `${repo}/tickets/${planned.id}_rate_limiting.md`,
      `# Ticket ${planned.id}: Rate limiting\n`,
    );
    const r = importTickets(engine);
    assert.deepEqual(r.errors.map((e) => [e.path, e.code]), [[
      `tickets/${planned.id}_rate_limiting.md`,
      "invalid_argument",
    ]]);
    assert.match(r.errors[0].message, /was made without a file and is completed/);
    assert.equal(engine.ticket(planned.id).title, "Planned, no file");
    assert.equal(engine.ticket(planned.id).path, null);
  } finally {
    engine.close();
  }
});
