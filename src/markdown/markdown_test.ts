import assert from "node:assert/strict";
import type { MetadataField } from "../config/schema.ts";
import type { BatonError } from "../errors.ts";
import { DEFAULT_ID_REGEX } from "../config/defaults.ts";
import { parseConfig } from "../config/config_file.ts";
import {
  checkThrough,
  contentHash,
  parseTicket,
  positionForPhase,
  readWorkflowLog,
  renderTemplate,
  ticketIdFromPath,
  writeWorkflowLog,
} from "./mod.ts";
import { workflowLogBlocks } from "./workflow_log.ts";

// The example workflow's metadata.
const FIELDS: MetadataField[] = [
  { field: "priority", type: "enum", values: ["Critical", "High", "Medium", "Low"], markdown_key: "Priority" },
  { field: "components", type: "list", markdown_key: "Target Component(s)" },
  { field: "languages", type: "list", markdown_key: "Languages" },
  { field: "needs_docs", type: "boolean", default: true, markdown_key: "Needs Docs" },
  { field: "tutorial", type: "boolean", markdown_key: "Generate Tutorial" },
  { field: "complexity", type: "string", markdown_key: "Estimated Complexity" },
];

// Phases of the ticket template the fixtures come from.
const PHASES = [
  "Design",
  "Design Review",
  "Prototype",
  "Prototype Review",
  "Implementation",
  "Test Writing",
  "Quality Gate",
  "Implementation Review",
  "Documentation Update",
];

const DIR = "tests/fixtures/tickets";

function fixture(name: string): string {
  return Deno.readTextFileSync(new URL(`../../${DIR}/${name}`, import.meta.url));
}

function parse(name: string, extra: Partial<Parameters<typeof parseTicket>[1]> = {}) {
  return parseTicket(fixture(name), { path: `${DIR}/${name}`, fields: FIELDS, ...extra });
}

// ---------------------------------------------------------------------------
// Ids

Deno.test("ticketIdFromPath: real ids from file names, subfolders and Windows paths", () => {
  const cases: [string, string | null][] = [
    ["tickets/0083_database_agent_orchestration.md", "0083"],
    ["tickets/0056k_python_wheel_packaging.md", "0056k"],
    ["tickets/0035b1_collision_pipeline_refactor.md", "0035b1"],
    ["tickets/debug/D0001_crash_on_empty_config.md", "D0001"],
    ["C:\\repo\\tickets\\debug\\D0002-hang.md", "D0002"],
    ["0083.md", "0083"],
    ["0083 database.md", "0083"],
    ["0083", "0083"],
    ["tickets/notes_without_id.md", null],
    ["tickets/README.md", null],
    ["tickets/0083x2y3_odd.md", null],
    ["0083/notes.md", null], // the directory's name is not the file's
  ];
  for (const [path, want] of cases) assert.equal(ticketIdFromPath(path, DEFAULT_ID_REGEX), want, path);
});

Deno.test("ticketIdFromPath: custom regex, capture group or whole match; a bad regex is invalid_argument", () => {
  assert.equal(ticketIdFromPath("tickets/BUG-12_x.md", "^BUG-(\\d+)"), "12");
  assert.equal(ticketIdFromPath("tickets/BUG-12_x.md", "^BUG-\\d+"), "BUG-12");
  assert.throws(() => ticketIdFromPath("x.md", "(["), { code: "invalid_argument" });
});

Deno.test("DEFAULT_ID_REGEX is the default tickets.id_regex", () => {
  assert.equal(parseConfig("", "config.yaml").tickets.id_regex, DEFAULT_ID_REGEX);
});

// ---------------------------------------------------------------------------
// parseTicket: the three metadata styles

Deno.test("parseTicket: bulleted metadata under ## Metadata (the seed ticket)", async () => {
  const text = fixture("0083_database_agent_orchestration.md");
  const t = parse("0083_database_agent_orchestration.md");
  assert.equal(t.id, "0083");
  assert.equal(t.title, "Database-Backed Multi-Agent Orchestration");
  assert.equal(t.titleLine, 2);
  assert.deepEqual(t.metadata, {
    priority: "High",
    components: ["workflow infrastructure (standalone repo + MSD-CPP integration)"],
    languages: ["Python"],
    needs_docs: true, // absent: the default
    tutorial: false,
    complexity: "XL",
  });
  assert.deepEqual(t.rawMetadata, {
    Created: "2026-02-27",
    Author: "Daniel Newman",
    Priority: "High",
    "Estimated Complexity": "XL",
    "Target Component(s)": "workflow infrastructure (standalone repo + MSD-CPP integration)",
    Languages: "Python",
    "Generate Tutorial": "No",
    "Requires Math Design": "No",
    "GitHub Issue": "",
  });
  assert.equal(t.status.labels.length, 11);
  assert.deepEqual(t.status.labels[0], { label: "Draft", checked: true, line: 5, mapped: true, phase: null }); // "not started"
  assert.equal(t.status.position, "Draft");
  assert.deepEqual(t.dependencies, []);
  assert.equal(t.parentId, null);
  assert.deepEqual(t.warnings, [], "no mapping asked for, nothing wrong");
  // The hash is SHA-256 of the UTF-8 text, as crypto.subtle computes it.
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  assert.equal(t.contentHash, [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""));
  assert.equal(contentHash(text), t.contentHash);
  assert.notEqual(contentHash(text + " "), t.contentHash);
});

Deno.test("parseTicket: bare bold lines (0056k), code blocks and body text are not metadata", () => {
  const t = parse("0056k_python_wheel_packaging.md", { phaseNames: PHASES });
  assert.equal(t.id, "0056k");
  assert.equal(t.title, "Python Wheel Packaging");
  assert.deepEqual(t.metadata, {
    priority: "Medium", // "medium": the enum's canonical spelling
    components: ["python bindings", "build system (CMake, scikit-build)"], // commas inside parentheses stay
    languages: ["C++", "Python"],
    needs_docs: true,
    tutorial: true, // "Yes (educational value)"
    complexity: "Medium",
  });
  assert.equal(t.rawMetadata.Priority, "medium", "the body's **Priority**: Low is not metadata");
  assert.equal(t.rawMetadata["Generate Tutorial"], "Yes (educational value)");
  assert.equal(t.parentId, "0056");
  assert.deepEqual(t.dependencies, [
    { id: "0056c", type: "blocked_by", line: 20 },
    { id: "0056d", type: "blocked_by", line: 20 },
  ]);
  assert.equal(t.status.position, "Design Complete — Awaiting Review");
  assert.equal(t.status.phase, "Design");
  assert.equal(t.status.mapped, true);
});

Deno.test("parseTicket: a plain Status or Priority line, bullet or table row in the header or Metadata is read; prose is not", () => {
  const forms = [
    "Status: Done\nPriority: High\n",
    "## Metadata\nStatus: Done\nPriority: High\n",
    "- Status: Done\n- Priority: High\n",
    "| Field | Value |\n|---|---|\n| Status | Done |\n| **Priority** | High |\n",
    "## Metadata\n\n| Status | Done |\n| Priority | High |\n",
    "**Status**: Done\n**Priority**: High\n",
  ];
  for (const form of forms) {
    const t = parseTicket(`# Ticket 0501: A finished ticket\n\n${form}\n## Summary\n\nText.\n`, {
      path: "tickets/0501_a.md",
      fields: FIELDS,
      phaseNames: PHASES,
    });
    assert.equal(t.status.complete, true, form);
    assert.equal(t.metadata.priority, "High", form);
    assert.deepEqual(t.warnings, [], form);
  }
  // Words before a colon in the header's prose, the body's `Status:` and a table of other keys are no metadata.
  const prose = parseTicket(
    "# Ticket 0502: Open\n\nNote: done means shipped.\n| Owner | Done |\n\n## Summary\n\nStatus: Done\n",
    { path: "tickets/0502_a.md", fields: FIELDS, phaseNames: PHASES },
  );
  assert.equal(prose.status.complete, false);
  assert.deepEqual(prose.rawMetadata, {});
  // A plain line among prose, or among keys the reading does not use, is about something else; dependencies in the
  // header count only bold (`Dependencies: express 4, Node 18` names packages, not tickets).
  for (
    const header of [
      "Upstream issue: https://github.com/x/y/issues/5\nStatus: Closed\n",
      "- Upstream issue: https://github.com/x/y/issues/5\n- Status: Closed\n",
      "We saw this in the field.\nStatus: Done upstream, not here.\n",
      "Dependencies: express 4, Node 18\n",
      "Requires: Node 18\n",
    ]
  ) {
    const t = parseTicket(`# Ticket 0503: Open\n\n${header}\n## Summary\n\nText.\n`, {
      path: "tickets/0503_a.md",
      fields: FIELDS,
      phaseNames: PHASES,
    });
    assert.equal(t.status.complete, false, header);
    assert.deepEqual(t.dependencies, [], header);
  }
});

Deno.test("parseTicket: plain lines under the title with a dependency on ticket ids are records, the dependency too (new-user helper #1); a block Baton reads only in part says so", () => {
  const t = parseTicket("# Ticket 0003: b\n\nPriority: High\nDepends On: 0001\n\n## Summary\n\nText.\n", {
    path: "tickets/0003-b.md",
    fields: FIELDS,
    phaseNames: PHASES,
  });
  assert.equal(t.metadata.priority, "High");
  assert.deepEqual(t.dependencies.map((d) => [d.id, d.type, d.line]), [["0001", "blocked_by", 4]]);
  assert.deepEqual(t.warnings, []);
  for (
    const header of ["Depends On: 0001\n", "Priority: Critical\nBlocks: 0007, 0009\n", "Depends On: #12 and 0013\n"]
  ) {
    const u = parseTicket(`# Ticket 0004: c\n\n${header}\n## Summary\n\nText.\n`, {
      path: "tickets/0004-c.md",
      fields: FIELDS,
      phaseNames: PHASES,
    });
    assert.ok(u.dependencies.length > 0, header);
  }
  // Lines that look like metadata beside one Baton does not read: nothing is taken from the block, and it is said.
  const partial = parseTicket("# Ticket 0005: d\n\nPriority: High\nOwner: bob\n\n## Summary\n\nText.\n", {
    path: "tickets/0005-d.md",
    fields: FIELDS,
    phaseNames: PHASES,
  });
  assert.equal(partial.metadata.priority, undefined);
  assert.deepEqual(partial.warnings.map((w) => [w.code, w.line]), [["metadata_ignored", 3]]);
  assert.match(partial.warnings[0].message, /Owner/);
});

Deno.test("parseTicket: headings as metadata (0035b1), status from ## Status: value", () => {
  const t = parse("0035b1_collision_pipeline_refactor.md", {
    phaseNames: PHASES,
    statusMap: { complete: "Documentation Update" },
  });
  assert.equal(t.id, "0035b1");
  assert.equal(t.title, "Collision Pipeline Refactor");
  assert.deepEqual(t.metadata, { priority: "High", languages: ["C++"], needs_docs: true, complexity: "Large" });
  assert.equal(t.rawMetadata.Status, "Complete");
  assert.equal(t.rawMetadata["Phase 1"], undefined, "## Phase 1: … in the body is no metadata");
  // status_map decides (here: the last phase); without the map "Complete" alone means finished.
  assert.deepEqual(t.status, {
    labels: [],
    position: "Complete",
    phase: "Documentation Update",
    mapped: true,
    complete: false,
    unplaced: [],
    done: ["Documentation Update"],
  });
  const unmapped = parse("0035b1_collision_pipeline_refactor.md", { phaseNames: PHASES });
  assert.equal(unmapped.status.complete, true);
  assert.deepEqual(t.dependencies, [
    { id: "0035a", type: "blocked_by", line: 8 },
    { id: "0034", type: "blocked_by", line: 8 },
    { id: "0036", type: "blocks", line: 9 },
  ]);
  assert.deepEqual(t.warnings, []);
});

Deno.test("parseTicket: a bug ticket in a subfolder (D0001)", () => {
  const t = parse("debug/D0001_crash_on_empty_config.md");
  assert.equal(t.id, "D0001");
  assert.equal(t.title, "Crash when config.yaml is empty");
  assert.deepEqual(t.metadata, {
    priority: "Critical",
    components: ["config loader"],
    languages: ["TypeScript"],
    needs_docs: false,
  });
  assert.deepEqual(t.dependencies, [{ id: "0083", type: "blocks", line: 15 }]);
  assert.equal(t.status.position, "Investigating");
});

Deno.test("parseTicket: conditional status labels, dependencies as links and bare ids, parent ticket", () => {
  const phases = ["Design", "Design Review", "C++ Design", "Python Design", "Implementation", "Code Review"];
  const t = parse("0090_multi_language_export.md", { phaseNames: phases, statusMap: { Draft: null } });
  assert.equal(t.title, "Multi-language Simulation Export");
  const byLabel = Object.fromEntries(t.status.labels.map((l) => [l.label, l]));
  assert.deepEqual(byLabel["Ready for C++ Design"], {
    label: "Ready for C++ Design",
    checked: true,
    line: 9,
    condition: "if C++ in Languages",
    mapped: true,
    phase: "Design Review", // announces C++ Design: the phase before it is done
  });
  assert.equal(byLabel["Ready for Python Design"].condition, "if Python in Languages");
  assert.equal(byLabel["Ready for Python Design"].phase, "C++ Design");
  assert.equal(t.status.position, "Ready for C++ Design");
  assert.equal(t.status.phase, "Design Review");
  assert.deepEqual(t.dependencies, [
    { id: "0056c", type: "blocked_by", line: 19 }, // link: the target's file name
    { id: "0041", type: "blocked_by", line: 19 }, // bare
    { id: "0042", type: "blocked_by", line: 19 }, // in backticks
    { id: "0043", type: "blocked_by", line: 20 }, // with a parenthesised note
    { id: "D0001", type: "blocked_by", line: 20 },
    { id: "0095", type: "blocks", line: 21 },
    { id: "0044", type: "blocked_by", line: 25 }, // a bare link in ## Dependencies
  ]);
  assert.equal(t.parentId, "0089");
  assert.ok(!t.dependencies.some((d) => d.id === "0089"), "the parent is no blocker");
  // The prose item of ## Dependencies is ignored; the last label ("Merged / Complete") is terminal and
  // needs no phase, so nothing warns.
  assert.deepEqual(t.warnings, []);
  assert.equal(t.status.labels.at(-1)?.terminal, true);
});

Deno.test("parseTicket: unknown enum kept with a warning, empty values give defaults, bad values warn", () => {
  const t = parse("0091_flaky_lease_timer.md");
  assert.deepEqual(t.metadata, {
    priority: "Urgent", // kept as written
    components: ["engine", "leases"], // empties dropped
    needs_docs: true, // empty: the default
    // languages, complexity: empty without a default; tutorial: "Maybe" is no yes/no
  });
  assert.deepEqual(t.warnings, [
    {
      message: 'Priority: "Urgent" is not one of Critical, High, Medium, Low; kept as written',
      line: 4,
      field: "priority",
    },
    { message: 'Generate Tutorial: "Maybe" is not a yes/no value', line: 8, field: "tutorial" },
    { message: 'Depends On: no ticket id in "see the lease design doc"', line: 10 },
  ]);
});

Deno.test("parseTicket: a file name without an id gives id null and a warning; the title id is checked", () => {
  const t = parse("notes_without_id.md");
  assert.equal(t.id, null);
  assert.equal(t.title, "Clean Up Old Notes");
  assert.deepEqual(t.warnings, [{
    message: 'file name "notes_without_id.md" does not match the ticket id pattern',
    line: 1,
  }]);
  const mismatch = parseTicket("# Ticket 0057: Wrong\n", { path: "0056_x.md", fields: [] });
  assert.deepEqual(mismatch.warnings, [{ message: "title says ticket 0057 but the file name says 0056", line: 1 }]);
});

Deno.test("parseTicket: no title is markdown_invalid with file and line", () => {
  assert.throws(() => parse("0092_no_title.md"), (e: unknown) => {
    const err = e as { code: string; location: { file: string; line: number } };
    assert.equal(err.code, "markdown_invalid");
    assert.deepEqual(err.location, { file: `${DIR}/0092_no_title.md`, line: 1 });
    return true;
  });
  assert.throws(() => parseTicket("", { path: "0001_x.md", fields: [] }), { code: "markdown_invalid" });
  assert.throws(() => parseTicket("text\n\n#\n", { path: "0001_x.md", fields: [] }), {
    code: "markdown_invalid",
    location: { file: "0001_x.md", line: 3 },
  });
  // A heading in a code block is no title.
  assert.throws(() => parseTicket("```\n# not a title\n```\n", { path: "0001_x.md", fields: [] }), {
    code: "markdown_invalid",
  });
});

Deno.test("parseTicket: CRLF reads the same as LF", () => {
  const crlf = fixture("0093_crlf_line_endings.md");
  assert.ok(crlf.includes("\r\n") && !/[^\r]\n/.test(crlf), "the fixture is CRLF throughout");
  const a = parseTicket(crlf, { path: "0093_crlf_line_endings.md", fields: FIELDS, phaseNames: PHASES });
  const b = parseTicket(crlf.replaceAll("\r\n", "\n"), {
    path: "0093_crlf_line_endings.md",
    fields: FIELDS,
    phaseNames: PHASES,
  });
  assert.deepEqual({ ...a, contentHash: "" }, { ...b, contentHash: "" });
  assert.notEqual(a.contentHash, b.contentHash);
  assert.equal(a.title, "Windows Line Endings");
  assert.deepEqual(a.metadata.languages, ["C++"]);
  assert.deepEqual(a.dependencies, [{ id: "0090", type: "blocked_by", line: 15 }]);
});

Deno.test("parseTicket: title prefixes seen in practice are removed", () => {
  const cases: [string, string, string][] = [
    ["# Ticket 0056k: Python Wheels", "0056k_x.md", "Python Wheels"],
    ["# Feature Ticket: Orchestration", "0083_x.md", "Orchestration"],
    ["# Bug Ticket: Crash on start", "D0001_x.md", "Crash on start"],
    ["# Ticket: Cleanup", "0001_x.md", "Cleanup"],
    ["# Ticket 0012 - Dashes", "0012_x.md", "Dashes"],
    ["# 0012: Id first", "0012_x.md", "Id first"],
    ["# Ticket-Based Workflow Notes", "0012_x.md", "Ticket-Based Workflow Notes"],
    ["# Ticket Triage Rules", "0012_x.md", "Ticket Triage Rules"],
    ["# Add `--dry-run` to **sync** #", "0012_x.md", "Add `--dry-run` to **sync**"],
    ["# Ticket 0012:", "0012_x.md", "Ticket 0012:"], // nothing after the prefix: keep it
    ["Setext Title\n===", "0012_x.md", "Setext Title"],
  ];
  for (const [text, path, want] of cases) {
    assert.equal(parseTicket(text + "\n", { path, fields: [] }).title, want, text);
  }
});

Deno.test("parseTicket: metadata variants (plain bullets, colon inside bold, nested values, rules, duplicates)", () => {
  const fields: MetadataField[] = [
    ...FIELDS,
    { field: "points", type: "integer", markdown_key: "Story Points" },
    { field: "budget", type: "integer", default: 0, markdown_key: "Budget" },
  ];
  const text = [
    "---",
    "owner: dana",
    "---",
    "# Ticket 0100: Variants",
    "**Priority:** low",
    "**Story Points**: 1,000",
    "**Budget**: lots",
    "**Languages**:",
    "- C++",
    "- Python",
    "**Estimated Complexity**: M",
    "---",
    "## Metadata",
    "- Target Component(s): cli, engine",
    "- **Needs Docs**:",
    "- **Depends On**:",
    "  - [0098](0098_a.md)",
    "  - 0099",
    "- **Priority**: High",
    "",
    "## Summary",
    "**Generate Tutorial**: yes",
  ].join("\n");
  const t = parseTicket(text, { path: "0100_variants.md", fields });
  assert.deepEqual(t.metadata, {
    priority: "Low", // first occurrence wins
    components: ["cli", "engine"],
    languages: ["C++", "Python"],
    needs_docs: true,
    complexity: "M",
    points: 1000,
    budget: 0, // not an integer: the default, with a warning
  });
  assert.equal(t.rawMetadata.owner, "dana", "front matter is read (after the body: a key in both is the body's)");
  assert.deepEqual(t.dependencies.map((d) => d.id), ["0098", "0099"]);
  assert.deepEqual(t.warnings, [
    { message: 'Budget: "lots" is not an integer', line: 7, field: "budget" },
    { message: '"Priority" is given again (line 5 wins): "High"', line: 19 },
  ]);
});

Deno.test("parseTicket: broken markdown gives warnings, not errors", () => {
  const text = [
    "# Ticket 0101: Broken",
    "## Status",
    "- [x] Draft",
    "- [~] Half done",
    "- [x] Ready for Design",
    "**Priority**: [P0|P1]",
    "**Depends On**: [](), 0041",
    "```",
    "## Priority: Low",
    "unterminated fence",
  ].join("\n");
  const t = parseTicket(text, { path: "0101_broken.md", fields: FIELDS, phaseNames: PHASES });
  assert.equal(t.title, "Broken");
  assert.deepEqual(t.status.labels.map((l) => l.label), ["Draft", "Ready for Design"]);
  assert.deepEqual(t.dependencies.map((d) => d.id), ["0041"]);
  const expected: [number, RegExp][] = [
    [4, /^status checkbox "\[~\]" is neither \[ \] nor \[x\]; ignored$/],
    [6, /^Priority: "\[P0\|P1\]" is not one of/],
    [7, /^Depends On: no ticket id in "\[\]\(\)"$/],
  ];
  assert.equal(t.warnings.length, expected.length, JSON.stringify(t.warnings));
  expected.forEach(([line, re], i) => {
    assert.equal(t.warnings[i].line, line);
    assert.match(t.warnings[i].message, re);
  });
  assert.equal(t.metadata.priority, "[P0|P1]");
});

// ---------------------------------------------------------------------------
// parseTicket: status mapping

Deno.test("status mapping: status_map first, then the longest phase name, with the direction rule", () => {
  const labels = [
    "Draft",
    "Ready for Design",
    "Design Complete — Awaiting Review",
    "Design Approved — Ready for Prototype",
    "Prototype Complete — Awaiting Review",
    "Ready for Implementation",
    "Implementation Complete — Awaiting Test Writing",
    "Test Writing Complete — Awaiting Quality Gate",
    "Quality Gate Passed — Awaiting Review",
    "Approved — Ready to Merge",
    "Merged / Complete",
  ];
  const text = `# Ticket 0102: Map\n## Status\n${labels.map((l) => `- [x] ${l}`).join("\n")}\n`;
  const t = parseTicket(text, {
    path: "0102_map.md",
    fields: [],
    phaseNames: PHASES,
    statusMap: { "draft": null, "APPROVED - READY TO MERGE": "Implementation Review", "Merged / Complete": "Docs" },
  });
  assert.deepEqual(t.status.labels.map((l) => [l.label, l.mapped, l.phase]), [
    ["Draft", true, null], // status_map: null is "before any phase"
    ["Ready for Design", true, null], // announces the first phase
    ["Design Complete — Awaiting Review", true, "Design"],
    ["Design Approved — Ready for Prototype", true, "Design Review"], // longest name, announced
    ["Prototype Complete — Awaiting Review", true, "Prototype"],
    ["Ready for Implementation", true, "Prototype Review"],
    ["Implementation Complete — Awaiting Test Writing", true, "Implementation"],
    ["Test Writing Complete — Awaiting Quality Gate", true, "Test Writing"], // equal length: the first
    ["Quality Gate Passed — Awaiting Review", true, "Quality Gate"],
    ["Approved — Ready to Merge", true, "Implementation Review"], // map keys: any case, any dash
    ["Merged / Complete", true, "Docs"],
  ]);
  assert.equal(t.status.position, "Merged / Complete");
  assert.deepEqual(t.warnings, [{
    message: 'status "Merged / Complete" is mapped to unknown phase "Docs"',
    line: 13,
    code: "status_unmapped",
  }]);
});

Deno.test("status mapping: unmapped labels warn; without a map or phases nothing is mapped or warned", () => {
  const text = "# Ticket 0103: X\n## Status\n- [x] Triage\n- [ ] Design Complete\n";
  const t = parseTicket(text, { path: "0103_x.md", fields: [], phaseNames: ["Design"] });
  assert.equal(t.status.position, "Triage");
  assert.equal(t.status.phase, null);
  assert.equal(t.status.mapped, false);
  assert.deepEqual(t.warnings, [{
    message: 'status "Triage" maps to no phase: a ticket checked there is placed by the labels before it and its ' +
      "other signals, never further back (add it to tickets.status_map; null means before any phase)",
    line: 3,
    code: "status_unmapped",
  }]);
  const bare = parseTicket(text, { path: "0103_x.md", fields: [] });
  assert.deepEqual(bare.warnings, []);
  assert.equal(bare.status.mapped, false);
  // Whole words only: "Redesign" is not "Design".
  const word = parseTicket("# T\n## Status\n- [x] Redesign done\n", {
    path: "0104_x.md",
    fields: [],
    phaseNames: ["Design"],
  });
  assert.equal(word.status.mapped, false);
  // Nothing checked: no position.
  const none = parseTicket("# T\n## Status\n- [ ] Draft\n", {
    path: "0104_x.md",
    fields: [],
    statusMap: { Draft: null },
  });
  // Nothing checked places the ticket before its first phase: that is a placement, so mapped is true.
  assert.deepEqual({ ...none.status, labels: [] }, {
    labels: [],
    position: null,
    phase: null,
    mapped: true,
    complete: false,
    unplaced: [],
    done: [],
  });
});

Deno.test("positionForPhase: the label to show for the last phase done", () => {
  const phases = ["Design", "Design Review", "Implementation", "Code Review"];
  const t = parse("0093_crlf_line_endings.md", { phaseNames: phases, statusMap: { Draft: null } });
  assert.equal(positionForPhase(t.status, null, phases), "Ready for Design");
  assert.equal(positionForPhase(t.status, "Design", phases), "Design Complete — Awaiting Review");
  assert.equal(positionForPhase(t.status, "Design Review", phases), "Design Approved — Ready for Implementation");
  assert.equal(positionForPhase(t.status, "Implementation", phases), "Implementation Complete — Awaiting Review");
  assert.equal(positionForPhase(t.status, "Code Review", phases), "Implementation Complete — Awaiting Review");
  assert.equal(positionForPhase(t.status, "Nope", phases), null);
});

// ---------------------------------------------------------------------------
// checkThrough

Deno.test("checkThrough: checks through the position, unchecks the rest, changes only the box characters", () => {
  const text = fixture("0083_database_agent_orchestration.md");
  const r = checkThrough(text, "Design Approved — Ready for Prototype");
  assert.ok(r.changed);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.text.length, text.length);
  const diffs = [...text].flatMap((ch, i) => (ch !== r.text[i] ? [i] : []));
  assert.deepEqual(diffs.map((i) => text.slice(i - 4, i + 2)), ["\n- [ ]", "\n- [ ]", "\n- [ ]"]);
  const t = parseTicket(r.text, { path: "0083_x.md", fields: [] });
  assert.deepEqual(t.status.labels.map((l) => l.checked), [
    true,
    true,
    true,
    true,
    false,
    false,
    false,
    false,
    false,
    false,
    false,
  ]);
  assert.equal(t.status.position, "Design Approved — Ready for Prototype");
  // Already there: nothing changes.
  assert.equal(checkThrough(r.text, "design approved - ready for prototype").changed, false);
  // Back to an earlier position unchecks.
  const back = checkThrough(r.text, "Ready for Design");
  assert.deepEqual(parseTicket(back.text, { path: "0083_x.md", fields: [] }).status.position, "Ready for Design");
});

Deno.test("checkThrough: a position matching no label changes nothing (never checks everything)", () => {
  const text = fixture("0083_database_agent_orchestration.md");
  for (const position of ["Shipped", "", "Design"]) {
    const r = checkThrough(text, position);
    assert.equal(r.changed, false, position);
    assert.equal(r.text, text);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0].message, /matches no label; nothing changed/);
  }
  const none = checkThrough("# T\n\nNo checklist.\n", "Draft");
  assert.equal(none.changed, false);
  assert.match(none.warnings[0].message, /no status checklist/);
});

Deno.test("checkThrough: conditions, [X], null, CRLF, other checklists untouched", () => {
  const text = [
    "# T",
    "## Status",
    "- [X] Draft",
    "- [ ] Ready for Python Design (if Python in Languages)",
    "- [x] Merged",
    "## Acceptance Criteria",
    "- [ ] works",
    "",
  ].join("\r\n");
  const r = checkThrough(text, "Ready for Python Design");
  assert.equal(
    r.text,
    text.replace("- [ ] Ready", "- [x] Ready").replace("- [x] Merged", "- [ ] Merged"),
    "[X] kept as written; the acceptance criteria untouched; CRLF kept",
  );
  assert.equal(checkThrough(text, "Ready for Python Design (if Python in Languages)").text, r.text);
  const cleared = checkThrough(text, null);
  assert.equal(cleared.text, text.replace("[X]", "[ ]").replace("- [x] Merged", "- [ ] Merged"));
});

// ---------------------------------------------------------------------------
// writeWorkflowLog

Deno.test("writeWorkflowLog: updates fields in place, merges artifacts, keeps the rest of the block", () => {
  const text = fixture("0083_database_agent_orchestration.md");
  const r = writeWorkflowLog(text, "Design", {
    started: "2026-03-01 09:00",
    completed: "2026-03-01 12:30",
    artifacts: ["docs/designs/0083_database_agent_orchestration/design.md", "`docs/extra.md`"],
    notes: "Chose SQLite WAL.\n\nSee the design.",
  });
  assert.ok(r.changed);
  const block = r.text.slice(r.text.indexOf("### Design Phase"), r.text.indexOf("### Design Review Phase"));
  assert.equal(
    block,
    [
      "### Design Phase",
      "- **Started**: 2026-03-01 09:00",
      "- **Completed**: 2026-03-01 12:30",
      "- **Artifacts**:",
      "  - `docs/designs/0083_database_agent_orchestration/design.md`",
      "  - `docs/designs/0083_database_agent_orchestration/0083_database_agent_orchestration.puml`",
      "  - `docs/extra.md`",
      "- **Design Decisions**:",
      "- **Notes**: Chose SQLite WAL.",
      "  See the design.",
      "",
      "",
    ].join("\n"),
  );
  assert.equal(r.text.slice(0, r.text.indexOf("### Design Phase")), text.slice(0, text.indexOf("### Design Phase")));
  assert.equal(
    r.text.slice(r.text.indexOf("### Design Review Phase")),
    text.slice(text.indexOf("### Design Review Phase")),
  );
  // Idempotent.
  const again = writeWorkflowLog(r.text, "Design", {
    started: "2026-03-01 09:00",
    completed: "2026-03-01 12:30",
    artifacts: ["docs/designs/0083_database_agent_orchestration/design.md", "`docs/extra.md`"],
    notes: "Chose SQLite WAL.\n\nSee the design.",
  });
  assert.equal(again.changed, false);
  assert.equal(again.text, r.text);
  // A new value replaces the old one, continuation lines included.
  const notes = writeWorkflowLog(r.text, "Design", { notes: "Short." });
  assert.ok(notes.text.includes("- **Notes**: Short.\n\n### Design Review Phase"));
});

Deno.test("writeWorkflowLog: human lines inside a block survive updates", () => {
  const text = fixture("0090_multi_language_export.md");
  const human = "Human line: talk to the physics team before implementing.";
  assert.ok(text.includes(human));
  const r = writeWorkflowLog(text, "Design", { notes: "Chose HDF5 after all.", artifacts: ["docs/x.md"] });
  assert.ok(r.text.includes(`- **Notes**: Chose HDF5 after all.\n${human}\n`));
  assert.ok(r.text.includes("  - `docs/designs/0090/design.md`\n  - `docs/x.md`\n"));
  const r2 = writeWorkflowLog(r.text, "Design", { notes: "Two\nlines" });
  assert.ok(r2.text.includes(`- **Notes**: Two\n  lines\n${human}\n`));
  const r3 = writeWorkflowLog(r2.text, "Design", { notes: "Two\nlines" });
  assert.equal(r3.changed, false);
  // Fields the entry does not name are untouched.
  assert.ok(r3.text.includes("- **Started**: 2026-02-01 10:00\n- **Completed**: 2026-02-02 16:30\n"));
  assert.equal(
    r3.text.slice(r3.text.indexOf("## Human Feedback")),
    text.slice(text.indexOf("## Human Feedback")),
  );
});

Deno.test("writeWorkflowLog: missing fields are added in field order", () => {
  const text = "# T\n\n## Workflow Log\n\n### Design Phase\n- **Artifacts**:\n- **Reviewer Notes**: ok\n  more\n";
  const r = writeWorkflowLog(text, "Design", { started: "s", completed: "c", notes: "n", reviewerNotes: "ok\nmore" });
  assert.equal(
    r.text,
    "# T\n\n## Workflow Log\n\n### Design Phase\n- **Started**: s\n- **Completed**: c\n- **Artifacts**:\n" +
      "- **Notes**: n\n- **Reviewer Notes**: ok\n  more\n",
  );
  assert.equal(writeWorkflowLog(r.text, "Design", { started: "s", notes: "n" }).changed, false);
  // A block with no list yet: the fields go under the heading, a human paragraph kept apart.
  const bare = "# T\n## Workflow Log\n### Design Phase\nWritten by hand.\n";
  assert.equal(
    writeWorkflowLog(bare, "Design", { started: "s" }).text,
    "# T\n## Workflow Log\n### Design Phase\n- **Started**: s\n\nWritten by hand.\n",
  );
});

Deno.test("writeWorkflowLog: a template's bare **Key**: lines are filled in place, never written twice", () => {
  const text = "# T\n\n## Workflow Log\n\n### Design Phase\n**Started**:\n**Completed**:\n**Artifacts**:\n" +
    "**Notes**: kickoff held\nthe rest is a human's line\n\n### Implementation Phase\n**Started**:\n";
  const entry = { started: "2026-03-01 10:00", completed: "2026-03-02 09:00", artifacts: ["docs/a.md", "docs/b.md"] };
  const r = writeWorkflowLog(text, "Design", { ...entry, notes: "designed\nin two steps", reviewerNotes: "fine" });
  assert.equal(
    r.text,
    "# T\n\n## Workflow Log\n\n### Design Phase\n**Started**: 2026-03-01 10:00\n**Completed**: 2026-03-02 09:00\n" +
      "**Artifacts**: `docs/a.md`, `docs/b.md`\n**Notes**: designed in two steps\n**Reviewer Notes**: fine\n" +
      "the rest is a human's line\n\n### Implementation Phase\n**Started**:\n",
  );
  assert.deepEqual(readWorkflowLog(r.text, "Design"), {
    fields: {
      Started: "2026-03-01 10:00",
      Completed: "2026-03-02 09:00",
      Notes: "designed in two steps",
      "Reviewer Notes": "fine",
    },
    artifacts: ["docs/a.md", "docs/b.md"],
    commits: [],
  });
  assert.equal(writeWorkflowLog(r.text, "Design", { ...entry, artifacts: ["docs/b.md"] }).changed, false);
  const more = writeWorkflowLog(r.text, "Design", { artifacts: ["docs/c.md"] }).text;
  assert.match(more, /\*\*Artifacts\*\*: `docs\/a\.md`, `docs\/b\.md`, `docs\/c\.md`\n/);
  const blocks = workflowLogBlocks(r.text);
  assert.equal(blocks[0].completed, "2026-03-02 09:00", "import reads what write-back wrote");
});

Deno.test("writeWorkflowLog: creates the block at the end of the section, before rules and the next section", () => {
  const text = fixture("0056k_python_wheel_packaging.md");
  const r = writeWorkflowLog(text, "Design Review", { started: "2026-01-20", reviewerNotes: "Approved." });
  const end = text.indexOf("- **Notes**:\n") + "- **Notes**:".length;
  assert.equal(
    r.text,
    text.slice(0, end) + "\n\n### Design Review Phase\n- **Started**: 2026-01-20\n- **Reviewer Notes**: Approved." +
      text.slice(end),
  );
  assert.ok(r.text.includes("Approved.\n\n---\n\n## Human Feedback"));
  assert.equal(writeWorkflowLog(r.text, "Design Review", { started: "2026-01-20" }).changed, false);
  // A phase name ending in "Phase" is not doubled; matching is case-insensitive.
  const p = writeWorkflowLog(r.text, "design review phase", { started: "2026-01-20" });
  assert.equal(p.changed, false);
});

Deno.test("writeWorkflowLog: creates the section before ## Human Feedback, or at the end", () => {
  const withFeedback = "# T\n\n## Summary\nS.\n\n---\n\n## Human Feedback\n\nF.\n";
  const r = writeWorkflowLog(withFeedback, "Design", { started: "s" });
  assert.equal(
    r.text,
    "# T\n\n## Summary\nS.\n\n---\n\n## Workflow Log\n\n### Design Phase\n- **Started**: s\n\n---\n\n## Human Feedback\n\nF.\n",
  );
  assert.equal(writeWorkflowLog(r.text, "Design", { started: "s" }).changed, false);
  const tight = writeWorkflowLog("# T\nS.\n## Human Feedback\n", "Design", { started: "s" });
  assert.equal(tight.text, "# T\nS.\n\n## Workflow Log\n\n### Design Phase\n- **Started**: s\n\n## Human Feedback\n");
  const plainEnd = writeWorkflowLog(fixture("0035b1_collision_pipeline_refactor.md"), "Design", { started: "s" });
  assert.ok(plainEnd.text.endsWith("translation unit.\n\n## Workflow Log\n\n### Design Phase\n- **Started**: s\n"));
  assert.equal(writeWorkflowLog("# T", "Design", {}).text, "# T\n\n## Workflow Log\n\n### Design Phase\n");
});

Deno.test("writeWorkflowLog: CRLF files get CRLF lines", () => {
  const text = fixture("0093_crlf_line_endings.md");
  const r = writeWorkflowLog(text, "Design", { started: "s", artifacts: ["a.md"], notes: "one\ntwo" });
  assert.ok(r.changed);
  assert.ok(!/[^\r]\n/.test(r.text), "no bare LF");
  assert.ok(r.text.includes("### Design Phase\r\n- **Started**: s\r\n- **Artifacts**:\r\n  - `a.md`\r\n"));
  const r2 = writeWorkflowLog(r.text, "Design", { notes: "three\nfour", artifacts: ["b.md"] });
  assert.ok(!/[^\r]\n/.test(r2.text));
  assert.ok(r2.text.includes("  - `a.md`\r\n  - `b.md`\r\n- **Notes**: three\r\n  four\r\n"));
  assert.equal(writeWorkflowLog(r2.text, "Design", { notes: "three\nfour", artifacts: ["b.md"] }).changed, false);
});

Deno.test("writeWorkflowLog: refuses to write into a code block left open (it would vanish)", () => {
  const text = "# T\n\n## Workflow Log\n\n### Design Phase\n- **Started**: s\n\n```\nunclosed\n";
  const r = writeWorkflowLog(text, "Implementation", { started: "s" });
  assert.equal(r.changed, false);
  assert.deepEqual(r.warnings, [{
    message: "a code block or HTML comment opened here is never closed; the workflow log was not written",
    line: 8,
  }]);
  // The existing block, before the fence, can still be updated.
  assert.ok(writeWorkflowLog(text, "Design", { started: "t" }).text.includes("- **Started**: t\n"));
  const noSection = writeWorkflowLog("# T\n<!-- open\n", "Design", { started: "s" });
  assert.equal(noSection.changed, false);
});

Deno.test("parseTicket: the workflow log and human feedback are never metadata, at any heading level", () => {
  const text =
    "# T\n## Status\n- [x] Draft\n#### Workflow Log\n- **Priority**: Low\n### Human Feedback\n**Languages**: Go\n";
  const t = parseTicket(text, { path: "0001_t.md", fields: FIELDS });
  assert.deepEqual(t.rawMetadata, {});
  assert.deepEqual(t.metadata, { needs_docs: true });
});

// ---------------------------------------------------------------------------
// Round trip: only the checkboxes and the workflow log change

function roundTrip(name: string): void {
  const original = fixture(name);
  const path = `${DIR}/${name}`;
  const before = parseTicket(original, { path, fields: FIELDS, phaseNames: PHASES });
  const target = before.status.labels[3].label;
  let text = checkThrough(original, target).text;
  text = writeWorkflowLog(text, "Design", {
    started: "2026-03-01T09:00:00Z",
    completed: "2026-03-01T12:00:00Z",
    artifacts: ["docs/design.md"],
    notes: "Design done.",
  }).text;
  text = writeWorkflowLog(text, "Design Review", { started: "2026-03-02", reviewerNotes: "Approved by dana." }).text;
  const eol = original.includes("\r\n") ? "\r\n" : "\n";
  const after = parseTicket(text, { path, fields: FIELDS, phaseNames: PHASES });

  // Metadata and dependencies read the same; the position moved.
  assert.deepEqual(after.metadata, before.metadata);
  assert.deepEqual(after.dependencies, before.dependencies);
  assert.equal(after.status.position, target);

  // Byte for byte: up to the first checkbox, ...
  const firstBox = original.indexOf("- [");
  assert.equal(text.slice(0, firstBox), original.slice(0, firstBox));
  // ... the checkbox lines differ only between their brackets, ...
  const lastLabel = before.status.labels.at(-1)!;
  const boxesEnd = original.split(eol).slice(0, lastLabel.line).join(eol).length;
  for (let i = firstBox; i < boxesEnd; i++) {
    if (original[i] !== text[i]) {
      assert.equal(original.slice(i - 1, i + 2).length === 3 && original[i - 1], "[", `${i}`);
    }
  }
  // ... everything between the checklist and the workflow log, ...
  const logAt = (s: string) => s.indexOf(`## Workflow Log${eol}`);
  assert.equal(text.slice(boxesEnd, logAt(text)), original.slice(boxesEnd, logAt(original)));
  // ... every original line of the workflow log except the fields written, in order, ...
  const fb = (s: string) => s.indexOf("## Human Feedback");
  const logLines = (s: string) => s.slice(logAt(s), fb(s)).split(eol);
  const written = /^- \*\*(Started|Completed|Notes|Reviewer Notes)\*\*:/;
  const out = logLines(text);
  let j = 0;
  for (const line of logLines(original)) {
    if (written.test(line)) continue;
    while (j < out.length && out[j] !== line) j++;
    assert.ok(j < out.length, `kept: ${JSON.stringify(line)}`);
    j++;
  }
  // ... and everything from ## Human Feedback on.
  assert.equal(text.slice(fb(text)), original.slice(fb(original)));
  // Line endings kept.
  if (eol === "\r\n") assert.ok(!/[^\r]\n/.test(text));
  // Idempotent as a whole.
  let again = checkThrough(text, target).text;
  again = writeWorkflowLog(again, "Design", {
    started: "2026-03-01T09:00:00Z",
    completed: "2026-03-01T12:00:00Z",
    artifacts: ["docs/design.md"],
    notes: "Design done.",
  }).text;
  again = writeWorkflowLog(again, "Design Review", { started: "2026-03-02", reviewerNotes: "Approved by dana." }).text;
  assert.equal(again, text);
}

Deno.test("round trip (seed ticket): only checkbox lines and the workflow log change", () => {
  roundTrip("0083_database_agent_orchestration.md");
});

Deno.test("round trip (CRLF ticket): only checkbox lines and the workflow log change, CRLF kept", () => {
  roundTrip("0093_crlf_line_endings.md");
});

Deno.test("round trip (bare-bold ticket): only checkbox lines and the workflow log change", () => {
  roundTrip("0056k_python_wheel_packaging.md");
});

// ---------------------------------------------------------------------------
// renderTemplate

Deno.test("renderTemplate: {{name}} filled, unknown and single-brace placeholders kept, no re-expansion", () => {
  assert.equal(
    renderTemplate("# Ticket {{id}}: {{ title }}\n{{unknown}} {Your comments} {id}", { id: "0090", title: "Cache" }),
    "# Ticket 0090: Cache\n{{unknown}} {Your comments} {id}",
  );
  assert.equal(renderTemplate("{{a}}", { a: "{{b}}", b: "no" }), "{{b}}");
  assert.equal(renderTemplate("{{a}}", { a: "$& $1 $$" }), "$& $1 $$");
  assert.equal(renderTemplate("{{toString}} {{dotted.name}}", { "dotted.name": "ok" }), "{{toString}} ok");
});

Deno.test("workflow log: headings with conditions and decorations are the phase's block (no second block)", () => {
  const text = [
    "# Ticket 0063: Wheels",
    "## Workflow Log",
    "### Design Phase – Completed",
    "- **Started**: 2026-01-02 09:10",
    "- **Completed**: 2026-01-03 17:00",
    "",
    "### Tutorial Phase (if Generate Tutorial: Yes)",
    "- **Started**:",
    "- **Notes**:",
    "",
    "## Human Feedback",
    "",
  ].join("\n");
  assert.equal(readWorkflowLog(text, "Design")?.fields.Completed, "2026-01-03 17:00");
  const r = writeWorkflowLog(text, "Tutorial", { started: "2026-12-01T10:00Z", notes: "Notebook written." });
  assert.equal(r.text.match(/### Tutorial Phase/g)?.length, 1, r.text);
  assert.match(
    r.text,
    /### Tutorial Phase \(if Generate Tutorial: Yes\)\n- \*\*Started\*\*: 2026-12-01T10:00Z\n- \*\*Notes\*\*: Notebook written\./,
  );
  assert.match(
    r.text,
    /### Design Phase – Completed\n- \*\*Started\*\*: 2026-01-02 09:10/,
    "the other block is untouched",
  );
});

Deno.test("parseTicket: nesting that would make parsing superlinear is refused with a code and the line", () => {
  for (
    const [body, line, re] of [
      [">".repeat(100_000) + " deep", 4, /nests blockquotes and lists 100000 deep; Baton reads at most 32 levels/],
      ["- ".repeat(10_000) + "x", 4, /nests blockquotes and lists 10000 deep/],
      [Array.from({ length: 40 }, (_, i) => " ".repeat(i * 2) + "- x").join("\n"), 4 + 32, /33 deep/],
      [Array.from({ length: 2500 }, (_, i) => `- item ${i}`).join("\n"), 4 + 2000, /more than 2000 list items/],
    ] as const
  ) {
    const text = `# Ticket 0001: Deep\n\n## Metadata\n${body}\n- **Priority**: High\n`;
    assert.throws(() => parseTicket(text, { path: "0001_deep.md", fields: FIELDS }), (e: BatonError) => {
      assert.equal(e.code, "markdown_invalid");
      assert.equal(e.location?.line, line);
      assert.match(e.message, re);
      return true;
    });
  }
  // Ordinary nesting is fine, and prose outside the sections Baton reads is never limited.
  const ok = `# Ticket 0001: Fine\n\n## Metadata\n- **Priority**: High\n  - nested\n    - twice\n\n## Summary\n${
    ">".repeat(50_000)
  } quoted\n`;
  assert.equal(parseTicket(ok, { path: "0001_fine.md", fields: FIELDS }).metadata.priority, "High");
});

Deno.test("parseTicket: front matter is read as YAML: a quoted value spanning lines is one value, bad YAML is refused at its line, long front matter counts", () => {
  const opts = (path: string) => ({ path, fields: FIELDS, phaseNames: PHASES });
  // A quoted value whose lines go on below (indented, as YAML wants): one value, whatever its lines say.
  const quoted = parseTicket(
    '---\nsummary: "first line\n  status: done\n  more"\nstatus: open\n---\n# Ticket 0301: Quoted\n',
    opts("tickets/0301_q.md"),
  );
  assert.equal(quoted.status.complete, false, "status is open: the done is inside a quoted value");
  assert.equal(quoted.rawMetadata.status, "open");
  assert.equal(quoted.rawMetadata.summary, "first line status: done more");
  assert.deepEqual(quoted.warnings, []);
  // Not YAML (a quote never closed, one whose next line is not indented, a tab indenting a key): refused, not guessed.
  const bad = [
    'summary: "never closed\nstatus: done\n',
    'summary: "a\nstatus: done\n  b"\n',
    "status: open\n\tpriority: High\n",
  ];
  for (const fm of bad) {
    assert.throws(
      () => parseTicket(`---\n${fm}---\n# Ticket 0302: Bad\n`, opts("tickets/0302_b.md")),
      (e: BatonError) => {
        assert.equal(e.code, "markdown_invalid");
        assert.match(e.message, /the front matter is not valid YAML/);
        assert.equal(e.location?.file, "tickets/0302_b.md");
        assert.ok(e.location!.line! >= 2 && e.location!.line! <= 4, `${e.location?.line}`);
        return true;
      },
      fm,
    );
  }
  const list = parseTicket("---\n- status: done\n---\n# Ticket 0303: List\n", opts("tickets/0303_l.md"));
  assert.equal(list.status.complete, false);
  assert.deepEqual(list.warnings.map((w) => w.message), [
    "the front matter is not a mapping of keys to values; ignored",
  ]);
  const long = parseTicket(
    `---\n${
      Array.from({ length: 250 }, (_, i) => `note_${i}: ${i}`).join("\n")
    }\nstatus: done\n---\n# Ticket 0801: Long\n`,
    opts("tickets/0801_l.md"),
  );
  assert.equal(long.status.complete, true, "status: done on line 252 counts");
  assert.equal(long.title, "Long");
});

Deno.test("parseTicket: front matter: comments cut, a # inside quotes kept, lists joined, the body's value wins", () => {
  const text = [
    "---",
    'title: "Fix #12 crash" # from the tracker',
    "owner: dana # moved by hand",
    "depends_on: [0098, '0099']",
    "labels:",
    "  - cache",
    "  - perf",
    "status: open",
    "---",
    "# Ticket 0100: Fix the crash",
    "**Status**: Draft",
  ].join("\n");
  const t = parseTicket(text, { path: "0100_crash.md", fields: [] });
  assert.equal(t.rawMetadata.title, "Fix #12 crash");
  assert.equal(t.rawMetadata.owner, "dana");
  assert.equal(t.rawMetadata.labels, "cache, perf");
  assert.deepEqual(t.dependencies.map((d) => d.id), ["0098", "0099"]);
  assert.equal(t.rawMetadata.Status, "Draft", "the body's status, not the front matter's");
});

Deno.test("conflictMarkerLine: git's conflicts (plain, diff3, CRLF) are found; headings and examples in code fences are not", async () => {
  const { conflictMarkerLine } = await import("./conflict.ts");
  const conflict = "<<<<<<< HEAD\n- [ ] Draft\n=======\n- [x] Draft\n>>>>>>> teammate\n";
  assert.equal(conflictMarkerLine(`# T\n\n## Status\n${conflict}`), 4);
  const diff3 = "<<<<<<< ours\na\n||||||| base\nb\n=======\nc\n>>>>>>> theirs\n";
  assert.equal(conflictMarkerLine(diff3), 1);
  assert.equal(conflictMarkerLine(`x\r\n${conflict.replaceAll("\n", "\r\n")}`), 2);
  assert.equal(conflictMarkerLine("Title\n=======\n\ntext\n"), null, "a setext heading");
  assert.equal(conflictMarkerLine("<<<<<<< HEAD\nno end\n"), null);
  assert.equal(
    conflictMarkerLine("# Resolving conflicts\n\n```\n" + conflict + "```\n"),
    null,
    "an example in a fence",
  );
  assert.equal(conflictMarkerLine("~~~md\n" + conflict + "~~~\n\n" + conflict), 9, "after the fence, a real one");
  // A fence line that is itself in conflict: the fences no longer pair up, the conflict below is real.
  const fenceInConflict = "```ts\ncode\n<<<<<<< HEAD\n```javascript\n=======\n```typescript\n>>>>>>> t\n```\n\n" +
    "## Status\n" + conflict;
  assert.equal(conflictMarkerLine(fenceInConflict), 3);
  // CommonMark: a fence line with an info string does not close a fence; the example stays inside it.
  assert.equal(conflictMarkerLine("```\nsteps:\n```text\n" + conflict + "```\n"), null);
  assert.equal(conflictMarkerLine("```md\nan unclosed fence\n\n" + conflict), 4, "no closing fence: not an example");
  const nine = "<<<<<<<<< HEAD\na\n=========\nb\n>>>>>>>>> t\n";
  assert.equal(conflictMarkerLine(nine), 1, "conflict-marker-size 9");
});

Deno.test("logCompleted: every form of a done log block is read (a log of empty fields alone is skipped unparsed)", () => {
  const ticket = (log: string, heading = "## Workflow Log") =>
    `# Ticket 0700: Log forms\n\n## Summary\n\nText.\n\n${heading}\n\n### Design Phase\n- **Started**: 2026-01-01\n${log}\n`;
  const done: [string, string][] = [
    ["bold key, colon outside", "- **Completed**: 2026-01-02"],
    ["bold key, colon inside", "- **Completed:** 2026-01-02"],
    ["space before the colon", "- **Completed** : 2026-01-02"],
    ["underscores", "- __Completed__: 2026-01-02"],
    ["plain key", "- Completed: 2026-01-02"],
    ["paragraph line", "\n**Completed**: 2026-01-02"],
    ["status only", "- **Status**: Approved"],
    ["plain status", "- Status: Complete"],
    ["checked done item", "- [x] Done"],
    ["checked completed item, X", "- [X] Completed 2026-01-02"],
    ["checked with a check mark", "- [\u2713] Done"],
    // Spaces of other kinds around the key and the colon (pasted from a web page or a word processor).
    ["a no-break space in the key", "- **Completed\u00a0**: 2026-01-02"],
    ["a no-break space after the colon", "- **Completed**:\u00a02026-01-02"],
    ["plain key, no-break space", "- Completed:\u00a02026-01-02"],
    ["plain status, no-break space before the colon", "- Status\u00a0: Complete"],
    ["an ideographic space", "- **Status**:\u3000Approved"],
    ["a zero-width no-break space", "- **Completed**:\ufeff2026-01-02"],
    ["a vertical tab", "- **Completed**:\v2026-01-02"],
    ["paragraph line, no-break space", "\n**Completed**:\u00a02026-01-02"],
  ];
  for (const [name, line] of done) {
    for (
      const heading of [
        "## Workflow Log",
        "## **Workflow Log**",
        "## Workflow  Log",
        "Workflow Log\n---",
        "## Workflow <!-- x --> Log",
        "## Workflow [Log](#log)",
        "## [Workflow](#a) [Log](#b)",
      ]
    ) {
      for (const eol of ["\n", "\r\n"]) {
        const text = ticket(line, heading).replaceAll("\n", eol);
        const t = parseTicket(text, { path: "tickets/0700_log.md", fields: FIELDS, phaseNames: PHASES });
        assert.deepEqual(t.logCompleted.map((c) => c.phase), ["Design"], `${name} under ${JSON.stringify(heading)}`);
      }
    }
  }
  for (const empty of ["- **Completed**:", "- **Completed**:\u00a0", "- [ ] Done", "- Notes: done elsewhere"]) {
    const t = parseTicket(ticket(empty), { path: "tickets/0700_log.md", fields: FIELDS, phaseNames: PHASES });
    assert.deepEqual(t.logCompleted, [], empty);
  }
});
