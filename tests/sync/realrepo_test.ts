/**
 * Baton on a repository shaped like the one it broke on (issue 13): its
 * shared `.workflow/` loads unchanged, import puts every ticket where its
 * markdown says, `sync` right after `import` writes nothing, and work
 * followed by `sync` changes only the lines Baton's facts belong on.
 */
import assert from "node:assert/strict";
import { type Engine, importTickets, loadWorkflowConfig, openEngine, syncAll } from "../../mod.ts";
import { changedFiles, changedLines, realRepo, ticketBytes } from "../helpers/realrepo.ts";
import { baton } from "../helpers/cli.ts";

const dana = { kind: "human" as const, name: "dana" };

/** Each ticket's placement: completed, or which phases are open (available / awaiting review / blocked). */
function placement(engine: Engine, id: string): string {
  const t = engine.ticket(id);
  if (t.status === "completed") return "completed";
  const open = t.phases.filter((p) => ["available", "awaiting_review", "blocked"].includes(p.status));
  if (!open.length && t.phases.every((p) => p.status === "completed" || p.status === "skipped")) {
    return "waits for its children";
  }
  return open.map((p) => `${p.name}:${p.status}`).join(", ");
}

/** Works one phase as an agent of `type`: claim, start, complete. */
function work(
  engine: Engine,
  ticketId: string,
  phase: string,
  type: string,
  summary: string,
  artifacts: string[] = [],
) {
  const p = engine.ticket(ticketId).phases.find((x) => x.name === phase)!;
  assert.equal(p.status, "available", `${ticketId}/${phase}`);
  const c = engine.claim(p.id, { agentId: `${type}-1`, capabilities: [type] });
  engine.start(c.phase.id, { agentId: `${type}-1`, token: c.token });
  engine.complete(c.phase.id, { agentId: `${type}-1`, token: c.token, summary, artifacts });
}

Deno.test("realrepo: the shared .workflow/ loads unchanged (legacy keys, empty and foreign sections)", async () => {
  const repo = await realRepo();
  const cfg = loadWorkflowConfig(repo);
  assert.equal(cfg.workflow.phases.length, 14);
  assert.deepEqual(cfg.foreignSections, ["github", "traceability"]);
  // markdown_sync: {status_update: realtime, workflow_log_update: batch}: each part its own timing.
  assert.equal(cfg.config.markdown_sync.status_update, "realtime");
  assert.equal(cfg.config.markdown_sync.workflow_log_update, "batch");
  assert.equal(cfg.config.file_conflicts.mode, "advisory", "`file_conflicts:` left empty means its defaults");
  const doctor = await baton(["doctor"], { cwd: repo });
  assert.match(
    doctor.stdout,
    /ok\s+config sections: not Baton's \(other tools' settings, ignored\): github, traceability/,
  );
  assert.match(doctor.stdout, /ok\s+config: 14 phases/);
});

Deno.test("realrepo: import puts every ticket where its markdown says", async () => {
  const repo = await realRepo();
  const engine = await openEngine(repo);
  const r = importTickets(engine);
  assert.equal(r.imported.length, 34);
  assert.deepEqual(r.errors, []);
  const expected: Record<string, string> = {
    // Merged / Complete checked, or every box checked (conditional boxes left unchecked on 0066/0069/0073).
    "0012": "completed",
    "0018": "completed",
    "0023": "completed",
    "0031": "completed",
    // Done by their files, but a parent waits for its children (0035b1, 0086), which are not.
    "0035": "waits for its children",
    "0052": "completed",
    "0052b": "completed",
    "0060": "waits for its children",
    "0066": "completed",
    "0069": "completed",
    "0071": "completed",
    "0073": "completed",
    "0078": "completed",
    // Design approved: Skeleton next (Math Review skipped without math; with math it waits for a human).
    "0035b1": "Skeleton:available",
    "0055": "Skeleton:available",
    "0086": "Skeleton:available",
    "0081": "Math Review:awaiting_review",
    // Old-format tickets ("Prototype Complete" maps to no phase here): placed by the nearest earlier label.
    "0044": "Skeleton:available",
    "0047": "Skeleton:available",
    // Mid-flight, test-first: the language group phases, never the sequential phases they override.
    "0074": "C++ Test Writing:available",
    "0082": "C++ Implementation:available",
    "0098": "Python Implementation:available",
    "0079": "C++ Implementation:available, Python Implementation:available",
    "0027": "Quality Gate:awaiting_review",
    "0085": "Quality Gate:awaiting_review",
    "0077": "Implementation Review:awaiting_review",
    "0063": "Tutorial:blocked", // waits for 0027
    // Not started.
    "0057": "Design:available",
    "0089": "Design:available",
    "0093": "Design:available",
    "0095": "Design:available",
    // Design done, the review waits: for a human (0084, blocked on a vendor), for a dependency (0090, 0097).
    "0084": "Design Review:awaiting_review",
    "0090": "Design Review:blocked",
    "0097": "Design Review:blocked",
  };
  const actual = Object.fromEntries(Object.keys(expected).map((id) => [id, placement(engine, id)]));
  assert.deepEqual(actual, expected);
  assert.equal(engine.listTickets({ status: "completed" }).length, 11);
  // Imported completions are no work: no completion time, no agent.
  const merged = engine.ticket("0012");
  assert.ok(merged.phases.every((p) => p.completedAt === null && p.claimedBy === null));
  // The sequential phases a group replaces are skipped with the reason.
  const seeded = engine.audit({ ticketId: "0074" }).filter((a) => a.action === "phase.seeded");
  const reason = (phase: string) => seeded.find((a) => a.details?.phase === phase)?.details?.reason;
  assert.equal(reason("Test Writing"), "overridden by C++ Test Writing");
  assert.equal(reason("Implementation"), "overridden by C++ Implementation");
  assert.equal(reason("Python Test Writing"), "its condition does not hold");
  // The queue never offers finished work.
  assert.ok(engine.queue("cpp-architect").every((q) => engine.ticket(q.ticketId).status === "active"));
  engine.close();
});

Deno.test("realrepo: dependencies as written (Requires, bare ids, links, Blocks, Parent Ticket)", async () => {
  const repo = await realRepo();
  const engine = await openEngine(repo);
  const r = importTickets(engine);
  const deps = (id: string) => engine.ticket(id).dependencies.map((d) => d.dependsOn).sort();
  assert.deepEqual(deps("0052b"), ["0052"], "**Requires**: 0052");
  assert.deepEqual(deps("0081"), ["0052b", "0071"], "a link and a bare id with a letter");
  assert.deepEqual(deps("0082"), ["0052", "0052b"], "0052 says it **Blocks** 0082");
  assert.deepEqual(deps("0078"), ["0035", "0071"]);
  assert.equal(engine.ticket("0035b1").parentId, "0035");
  assert.ok(!r.warnings.some((w) => /no ticket id in/.test(w.message)), "bare ids are ids");
  const missing = r.warnings.filter((w) => /0999/.test(w.message));
  assert.equal(missing.length, 1);
  assert.match(missing[0].message, /ticket 0097 depends on 0999, which is not a known ticket/);
  assert.equal(missing[0].line, 30);
  const doctor = engine.healthChecks().find((c) => c.name === "dependencies")!;
  assert.equal(doctor.ok, false);
  assert.match(doctor.detail, /0097 → 0999/);
  engine.close();
});

Deno.test("realrepo: metadata as written, a BOM, a Latin-1 file, two files with one id", async () => {
  const repo = await realRepo();
  const engine = await openEngine(repo);
  const r = importTickets(engine);
  assert.equal(engine.ticket("0031").metadata.github_issue, 30, "#30");
  assert.equal(engine.ticket("0085").metadata.github_issue, 112, "#112");
  assert.equal(engine.ticket("0071").metadata.github_issue, 42);
  assert.equal(engine.ticket("0074").priority, "High", "`high` matched case-insensitively");
  assert.match(engine.ticket("0079").title, /^Windows Paths/, "BOM + CRLF");
  assert.equal(engine.ticket("0077").metadata.author, "Jørgen Müller", "Latin-1 read as Latin-1");
  const latin = r.warnings.find((w) => w.path.endsWith("0077_legacy_units_conversion.md") && /UTF-8/.test(w.message));
  assert.match(latin!.message, /not valid UTF-8: imported read-only/);
  assert.deepEqual(r.duplicates, [{
    id: "0091",
    paths: ["tickets/0091_gjk_epa_precision.md", "tickets/0091_vendor_sdk_update.md"],
  }]);
  engine.close();
  const doctor = await baton(["doctor"], { cwd: repo });
  assert.notEqual(doctor.code, 0);
  assert.match(
    doctor.stdout,
    /FAIL\s+ticket files: id 0091 is used by tickets\/0091_gjk_epa_precision\.md and tickets\/0091_vendor_sdk_update\.md/,
  );
});

Deno.test("realrepo: warnings are grouped, counted in the summary, and kept on an unchanged re-import", async () => {
  const repo = await realRepo();
  const first = await baton(["import"], { cwd: repo });
  // Exit 1: the two files of id 0091 are not imported (the repository's one duplicate).
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stdout, /skipped: tickets\/0091_gjk_epa_precision\.md: ticket id 0091 is also used by/);
  const summary = /imported 34, updated 0, unchanged 0, skipped 2, errors 0, warnings (\d+)/.exec(first.stdout);
  assert.ok(summary, first.stdout);
  // One line per distinct message, with a count and the first tickets.
  const grouped = first.stdout.split("\n").filter((l) => /Prototype Complete — Awaiting Review/.test(l));
  assert.equal(grouped.length, 1, first.stdout);
  // With its code, and every place as file:line.
  assert.match(grouped[0], /^warning\[status_unmapped\]: /);
  assert.match(grouped[0], /\(13×: tickets\/0012_aabb_tree_broadphase\.md:8, .*, …\)/);
  const again = await baton(["import"], { cwd: repo });
  assert.match(again.stdout, /imported 0, updated 0, unchanged 34/);
  const withWarnings = await baton(["import", "--warnings"], { cwd: repo });
  assert.match(withWarnings.stdout, new RegExp(`warnings ${summary[1]}\\b`));
  assert.match(withWarnings.stdout, /13×/);
});

Deno.test("realrepo: sync right after import leaves every file byte-identical, and so does a second sync", async () => {
  const repo = await realRepo();
  const before = await ticketBytes(repo);
  const engine = await openEngine(repo);
  importTickets(engine);
  const first = syncAll(engine);
  assert.deepEqual(first.written, []);
  assert.deepEqual(first.errors, [], "nothing to write, so the Latin-1 file is no error either");
  assert.deepEqual(syncAll(engine).written, []);
  engine.close();
  const cli = await baton(["sync", "--dry-run"], { cwd: repo });
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /would write 0/);
  assert.equal((await baton(["sync"], { cwd: repo })).code, 0);
  assert.deepEqual(await changedFiles(repo), []);
  assert.deepEqual(await ticketBytes(repo), before);
});

Deno.test("realrepo: work then sync changes only the intended lines", async () => {
  const repo = await realRepo();
  const engine = await openEngine(repo);
  importTickets(engine);
  // A test writer writes 0074's C++ tests; a human passes 0027's quality gate with notes.
  work(engine, "0074", "C++ Test Writing", "test-writer", "Tests for SAP written.", ["msd/collision/test/SapTest.cpp"]);
  assert.equal(placement(engine, "0074"), "C++ Implementation:available", "the impl group waits for the tests group");
  const qg = engine.findGate("0027/Quality Gate");
  engine.approveGate(qg.id, { actor: dana, notes: "Wall time is fine now." });
  const r = syncAll(engine);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.written.sort(), ["0027", "0074"]);
  engine.close();
  assert.deepEqual((await changedFiles(repo)).sort(), [
    " M tickets/0027_ci_matrix_gcc_clang_msvc.md",
    " M tickets/0074_multithreaded_sweep_and_prune.md",
  ]);
  const d74 = await changedLines(repo, "tickets/0074_multithreaded_sweep_and_prune.md");
  assert.deepEqual(d74.filter((l) => /\[[ x]\]/.test(l)), [
    "-- [ ] C++ Tests Written (if C++ in Languages)",
    "+- [x] C++ Tests Written (if C++ in Languages)",
    "-- [ ] Test Writing Complete — Ready for Implementation",
    "+- [x] Test Writing Complete — Ready for Implementation",
  ]);
  const log74 = d74.filter((l) => !/\[[ x]\]/.test(l));
  assert.deepEqual(log74.filter((l) => l.startsWith("-")), ["-- **Started**:", "-- **Completed**:", "-- **Notes**:"]);
  const added = log74.filter((l) => l.startsWith("+"));
  assert.deepEqual(added.map((l) => l.replace(/\d{4}-\d\d-\d\dT\d\d:\d\dZ/, "TIME")), [
    "+- **Started**: TIME",
    "+- **Completed**: TIME",
    "+- **Artifacts**:",
    "+  - `msd/collision/test/SapTest.cpp`",
    "+- **Notes**: Tests for SAP written.",
  ]);
  // The human-written Design and Skeleton blocks, dates and notes included, are untouched: the diff has
  // nothing else. 0027: the gate's box and its log block (a human's earlier lines stay).
  const d27 = await changedLines(repo, "tickets/0027_ci_matrix_gcc_clang_msvc.md");
  assert.deepEqual(d27.filter((l) => /\[[ x]\]/.test(l)), [
    "-- [ ] Quality Gate Passed — Awaiting Review",
    "+- [x] Quality Gate Passed — Awaiting Review",
  ]);
  assert.ok(d27.every((l) => !/2026-01-/.test(l)), "no human date is touched");
});

Deno.test("realrepo: a value a human wrote is never overwritten; the disagreement is a warning", async () => {
  const repo = await realRepo(async (dir) => {
    const f = `${dir}/tickets/0074_multithreaded_sweep_and_prune.md`;
    const text = await Deno.readTextFile(f);
    await Deno.writeTextFile(
      f,
      text.replace(
        "### C++ Test Writing Phase\n- **Started**:",
        "### C++ Test Writing Phase\n- **Started**: 2026-03-04 (Marcus, by hand)",
      ),
    );
  });
  const engine = await openEngine(repo);
  importTickets(engine);
  work(engine, "0074", "C++ Test Writing", "test-writer", "Done.");
  const r = syncAll(engine);
  assert.deepEqual(r.written, ["0074"]);
  const w = r.warnings.find((x) => /C\+\+ Test Writing Started/.test(x.message));
  assert.ok(w, JSON.stringify(r.warnings));
  assert.match(w.message, /ticket 0074: .*the file says "2026-03-04 \(Marcus, by hand\)".*kept the file's/);
  const text = await Deno.readTextFile(`${repo}/tickets/0074_multithreaded_sweep_and_prune.md`);
  assert.match(text, /- \*\*Started\*\*: 2026-03-04 \(Marcus, by hand\)/);
  assert.deepEqual(syncAll(engine).written, [], "and the next sync writes nothing");
  engine.close();
});

Deno.test("realrepo: a rejection unchecks only what Baton sent back, and the log says so", async () => {
  const repo = await realRepo();
  const engine = await openEngine(repo);
  importTickets(engine);
  const gate = engine.findGate("0085");
  engine.rejectGate(gate.id, { actor: dana, notes: "The builder leaks scenes on reload." });
  const r = syncAll(engine);
  assert.deepEqual(r.written, ["0085"]);
  engine.close();
  const d = await changedLines(repo, "tickets/0085_python_scene_builder_api.md");
  const boxes = d.filter((l) => /\[[ x]\]/.test(l));
  assert.ok(boxes.length > 0 && boxes.every((l) => l.startsWith("-- [x]") || l.startsWith("+- [ ]")), boxes.join("\n"));
  assert.ok(boxes.some((l) => /Implementation Complete/.test(l)));
  assert.ok(d.some((l) => l.startsWith("+") && /rejected by dana: The builder leaks scenes on reload\./.test(l)));
});

Deno.test("realrepo: a file that is not UTF-8 is never rewritten", async () => {
  const repo = await realRepo();
  const before = await Deno.readFile(`${repo}/tickets/0077_legacy_units_conversion.md`);
  const engine = await openEngine(repo);
  importTickets(engine);
  engine.approveGate(engine.findGate("0077").id, { actor: dana });
  const r = syncAll(engine, { ticketIds: ["0077"] });
  assert.deepEqual(r.errors.map((e) => [e.path, e.code]), [[
    "tickets/0077_legacy_units_conversion.md",
    "markdown_invalid",
  ]]);
  assert.match(r.errors[0].message, /not valid UTF-8/);
  engine.close();
  assert.deepEqual(await Deno.readFile(`${repo}/tickets/0077_legacy_units_conversion.md`), before);
});

Deno.test("realrepo: no phase is ever open before everything it follows is done, as work proceeds", async () => {
  const repo = await realRepo();
  const engine = await openEngine(repo);
  importTickets(engine);
  const defs = new Map(engine.cfg.workflow.phases.map((p) => [p.name, p]));
  const follows = (name: string, seen = new Set<string>()): Set<string> => {
    for (const a of defs.get(name)!.after) if (!seen.has(a)) follows(a, seen.add(a));
    return seen;
  };
  const check = () => {
    for (const t of engine.listTickets({ status: "active" })) {
      const d = engine.ticket(t.id);
      for (const p of d.phases.filter((x) => x.status === "available" || x.status === "awaiting_review")) {
        for (const before of follows(p.name)) {
          const b = d.phases.find((x) => x.name === before)!;
          assert.ok(
            ["completed", "skipped"].includes(b.status),
            `${t.id}: ${p.name} is open but ${before} is ${b.status}`,
          );
        }
      }
    }
  };
  check();
  // Work everything to the end: agents take what is available, humans approve what waits.
  for (let round = 0; round < 60; round++) {
    let moved = false;
    for (const t of engine.listTickets({ status: "active" })) {
      for (const p of engine.ticket(t.id).phases) {
        if (p.status === "available" && p.agentType) {
          work(engine, t.id, p.name, p.agentType, "ok");
          moved = true;
        } else if (p.status === "awaiting_review" || (p.status === "available" && !p.agentType)) {
          const g = engine.gates({ ticketId: t.id }).find((x) => x.phaseName === p.name);
          if (g) engine.approveGate(g.id, { actor: dana }), moved = true;
        }
        check();
      }
    }
    if (!moved) break;
  }
  // Everything finishes but 0097 (waits for 0999, which does not exist).
  assert.deepEqual(engine.listTickets({ status: "active" }).map((t) => t.id), ["0097"]);
  engine.close();
});
