/**
 * Import believes what a ticket's file says is done (issue 25, part 1), on
 * `tests/fixtures/progressrepo`: a three-language workflow whose design
 * review is an agent's, with a ticket for each shape a real repository's
 * files take: `Approved — Ready to Merge` checked with the rest or alone,
 * `X Approved` reviewed by an agent, `Draft` with an unplaceable label and a
 * `Current Phase` line, a workflow log's `Completed` dates, a label after
 * the last phase (`Awaiting Merge`), a label only `status_map` can place.
 */
import assert from "node:assert/strict";
import { type Engine, importTickets, openEngine, syncAll } from "../../mod.ts";
import { baton } from "../helpers/cli.ts";
import { changedFiles, fixtureRepo } from "../helpers/realrepo.ts";

const dana = { kind: "human" as const, name: "dana" };

/** A ticket's placement: completed, or its open phases (available / awaiting review / blocked / held). */
function placement(engine: Engine, id: string): string {
  const t = engine.ticket(id);
  if (t.status === "completed") return "completed";
  const open = t.phases.filter((p) =>
    ["available", "awaiting_review", "blocked", "claimed", "running"].includes(p.status)
  );
  return open.map((p) => `${p.name}:${p.status}`).join(", ");
}

function status(engine: Engine, id: string, phase: string): string {
  return engine.ticket(id).phases.find((p) => p.name === phase)!.status;
}

Deno.test("progress: every label class is placed where the file says, and no file is refused", async () => {
  const repo = await fixtureRepo("progressrepo");
  const engine = await openEngine(repo);
  const r = importTickets(engine);
  assert.deepEqual(r.errors, []);
  assert.equal(r.imported.length, 15);
  const expected: Record<string, string> = {
    // `Approved — Ready to Merge` checked: everything up to the phase of the next label (Documentation) done.
    "0101": "Documentation:available",
    // ...and when it is the only box checked: placed by the same rule, never refused.
    "0102": "Documentation:available",
    // `Design Approved` although an agent (design-reviewer) does the review: the review is done.
    "0103": "Integration Review:awaiting_review",
    // `Draft` + an unplaceable label + `Current Phase: Math Review`: in progress, never "not started".
    "0104": "Math Review:awaiting_review",
    // The log's `Quality Gate — Completed: 2026-02-13`: the gate is done, the next one waits.
    "0105": "Implementation Review:awaiting_review",
    // `QA Signed Off` maps to nothing: placed at least as far as the labels before it.
    "0110": "Implementation Review:awaiting_review",
    // `Awaiting Merge`: every phase done (this workflow lands nothing itself).
    "0111": "completed",
  };
  const actual = Object.fromEntries(Object.keys(expected).map((id) => [id, placement(engine, id)]));
  assert.deepEqual(actual, expected);
  // Nothing the files record as done is offered again.
  assert.deepEqual(engine.queue("design-reviewer"), []);
  assert.ok(!engine.queue("cpp-implementer").some((q) => ["0101", "0102", "0105", "0110"].includes(q.ticketId)));
  engine.close();
});

Deno.test("progress: a label that cannot be placed is a warning with its code and file:line, grouped", async () => {
  const repo = await fixtureRepo("progressrepo");
  const out = await baton(["import"], { cwd: repo });
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /errors 0/);
  assert.match(
    out.stdout,
    /warning\[status_unmapped\]: tickets\/0110_qa_signoff_label\.md:12: status "QA Signed Off" maps to no phase/,
  );
  // The same label in many files: one line, counted, with each place.
  assert.match(
    out.stdout,
    /warning\[status_unmapped\]: status "Tests Written" maps to no phase.*\(14×: tickets\/0101_bvh_refit\.md:10, /,
  );
  const json = JSON.parse((await baton(["import", "--warnings", "--json"], { cwd: repo })).stdout);
  const w = json.warnings.find((x: { path: string }) => x.path === "tickets/0104_anisotropic_friction.md");
  assert.deepEqual([w.line, w.code], [6, "status_unmapped"]);
});

Deno.test("progress: the workflow log's Completed fields count on import as sync reads them", async () => {
  const repo = await fixtureRepo("progressrepo");
  const engine = await openEngine(repo);
  importTickets(engine);
  assert.equal(status(engine, "0105", "Quality Gate"), "completed");
  assert.equal(status(engine, "0105", "C++ Implementation"), "completed");
  assert.equal(status(engine, "0105", "Documentation"), "pending");
  // Sync right after import has nothing to write and nothing to disagree about.
  const s = syncAll(engine);
  assert.deepEqual([s.written, s.warnings], [[], []]);
  engine.close();
  assert.deepEqual((await changedFiles(repo)).filter((l) => l.includes("tickets/")), []);
});

Deno.test("progress: a changed status_map places unchanged files again, never over Baton's work", async () => {
  const repo = await fixtureRepo("progressrepo");
  const engine = await openEngine(repo);
  importTickets(engine);
  assert.equal(status(engine, "0110", "Implementation Review"), "awaiting_review");
  // An agent holds 0102's Documentation when the map changes to say it is done.
  const doc = engine.ticket("0102").phases.find((p) => p.name === "Documentation")!;
  engine.claim(doc.id, { agentId: "docs-1", capabilities: ["docs-updater"] });
  engine.close();
  const cfg = `${repo}/.workflow/config.yaml`;
  await Deno.writeTextFile(
    cfg,
    (await Deno.readTextFile(cfg)).replace(
      'pattern: "*.md"',
      'pattern: "*.md"\n  status_map:\n    "QA Signed Off": Implementation Review\n    "Approved — Ready to Merge": Documentation',
    ),
  );
  const again = await openEngine(repo);
  const r = importTickets(again);
  assert.ok(!r.unchanged.includes("0110"), "the file is read again");
  assert.deepEqual(r.advanced.find((a) => a.id === "0110"), { id: "0110", phases: ["Implementation Review"] });
  assert.equal(placement(again, "0110"), "Documentation:available");
  // 0101 had its Documentation open and untouched: the map completes it. 0102's is held: Baton's record stands.
  assert.equal(placement(again, "0101"), "completed");
  assert.equal(status(again, "0102", "Documentation"), "claimed");
  const behind = r.warnings.find((w) =>
    w.path === "tickets/0102_contact_cache_eviction.md" && w.code === "status_behind"
  );
  assert.match(behind!.message, /Documentation as done, but Baton has work recorded there \(Documentation: claimed\)/);
  // Files that place nothing further stay unchanged, and a second import is a no-op.
  assert.ok(r.unchanged.includes("0106"));
  const audit = again.audit().length;
  const third = importTickets(again);
  assert.deepEqual([third.updated, third.advanced, third.unchanged.length], [[], [], 15]);
  assert.equal(again.audit().length, audit);
  again.close();
});

Deno.test("progress: re-import never moves a ticket back, nor over a rejection Baton recorded", async () => {
  const repo = await fixtureRepo("progressrepo");
  const engine = await openEngine(repo);
  importTickets(engine);
  // A human unticks boxes of 0101: what was done stays done.
  const p101 = `${repo}/tickets/0101_bvh_refit.md`;
  await Deno.writeTextFile(p101, (await Deno.readTextFile(p101)).replaceAll("- [x]", "- [ ]"));
  // A human rejects 0105's Implementation Review: the implementation goes back for rework.
  const gate = engine.gates({ ticketId: "0105" })[0];
  engine.rejectGate(gate.id, { actor: dana, notes: "Sleep threshold too low for the debris scene." });
  const reworked = status(engine, "0105", "C++ Implementation");
  assert.notEqual(reworked, "completed");
  // ...and edits the file's notes: its log still says the implementation and the gate were completed.
  const p105 = `${repo}/tickets/0105_sleep_threshold.md`;
  await Deno.writeTextFile(
    p105,
    (await Deno.readTextFile(p105)).replace("## Human Feedback", "## Human Feedback\nRaise it."),
  );
  const r = importTickets(engine);
  assert.deepEqual(r.updated.sort(), ["0101", "0105"]);
  assert.equal(placement(engine, "0101"), "Documentation:available");
  assert.equal(status(engine, "0105", "C++ Implementation"), reworked, "the rejection stands");
  assert.ok(r.warnings.some((w) => w.code === "status_behind" && w.path === "tickets/0105_sleep_threshold.md"));
  engine.close();
});

Deno.test("progress: every way a file records Design done is read on import, and Design is never offered again", async () => {
  const { tempRepo } = await import("../helpers/repo.ts");
  const phases =
    "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Implementation, agent_type: implementer}\n";
  const log = (block: string) => `# Ticket 0001: Cache\n\n## Workflow Log\n\n### Design Phase\n${block}\n`;
  const forms: Record<string, string> = {
    "front matter status": "---\nid: 0001\nstatus: Design Complete # moved by hand\n---\n# Ticket 0001: Cache\n",
    "front matter status, quoted": '---\nstatus: "Design Complete"\ntags: [cache, perf]\n---\n# Ticket 0001: Cache\n',
    "front matter and body disagree: the body's":
      "---\nstatus: open\n---\n# Ticket 0001: Cache\n\n**Status**: Design Complete\n",
    "log: Status approved, dated": log("- **Status**: Approved 2024-01-03"),
    "log: a checked Done item with a date": log("- [x] Done: 2024-01-02"),
    "## Ticket Status checklist":
      "# Ticket 0001: Cache\n\n## Ticket Status\n- [x] Draft\n- [x] Design Complete\n- [ ] Implementation Complete\n",
    "check marks typed as ✓":
      "# Ticket 0001: Cache\n\n## Status\n- [✓] Draft\n- [✔] Design Complete\n- [ ] Implementation Complete\n",
    "log: bare bold lines": log("**Started**: 2024-01-01\n**Completed**: 2024-01-02\n**Notes**: signed off"),
    "log: plain bullets": log("- Started: 2024-01-01\n- Completed: 2024-01-02"),
    "log: a Status that accepts": log("- **Status**: Complete"),
    "log: a checked Completed item": log("- [x] Completed 2024-01-02"),
    "log: a nested field": log("- Design work\n  - **Completed**: 2024-01-02"),
  };
  /** A repository whose one ticket file is `text`, imported. */
  const imported = async (text: string) => {
    const repo = await tempRepo({ phases });
    await Deno.mkdir(`${repo}/tickets`);
    await Deno.writeTextFile(`${repo}/tickets/0001_cache.md`, text);
    const engine = await openEngine(repo);
    return { engine, result: importTickets(engine) };
  };
  for (const [form, text] of Object.entries(forms)) {
    const { engine, result: r } = await imported(text);
    assert.deepEqual(r.errors, [], form);
    assert.equal(placement(engine, "0001"), "Implementation:available", form);
    assert.equal(engine.claimNext({ agentId: "d", capabilities: ["designer"] }), null, `${form}: Design not offered`);
    engine.close();
  }
  // Not done, in the same forms: nothing is placed.
  const notDone: Record<string, string> = {
    "front matter status: to do": "---\nstatus: Ready for Design\n---\n# Ticket 0001: Cache\n",
    "log: an unchecked Completed item": log("- [ ] Completed"),
    "log: a Status that rejects": log("**Completed**: 2024-01-02\n**Status**: Changes Requested"),
    "log: a field in a code block": log("```\n**Completed**: 2024-01-02\n```"),
    "log: a checked sub-task": log("- [x] Complete the parser\n- [ ] Write the tests"),
    "log: a checked item that starts with Done": log("- [x] Done with the schema draft"),
    "log: a Status that approves with rework": log("- **Status**: Approved with comments; awaiting rework"),
    "log: a Status that passes it on": log("- Status: Passed to Ravi for review"),
    "log: a placeholder date": log("- Completed: YYYY-MM-DD"),
    "log: TBD": log("- **Completed**: TBD"),
    "log: a bracketed placeholder": log("**Started**: [date]\n**Completed**: [date]"),
    "log: a Status nested under Notes": log("- **Notes**:\n  - Status: approved by legal, design still open"),
  };
  for (const [form, text] of Object.entries(notDone)) {
    const { engine } = await imported(text);
    assert.equal(placement(engine, "0001"), "Design:available", form);
    engine.close();
  }
});
