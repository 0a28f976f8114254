/**
 * No value Baton writes into a ticket can create a heading, a checkbox or a
 * metadata line (issue 26, item 7). Random values built from the pieces of
 * an attack (newlines, `## Status`, `- [x]`, `**Priority**:`, backticks,
 * fences, rules, setext underlines, HTML) are written as every workflow-log
 * field, as artifacts and as template values; the ticket must parse the same
 * before and after (status, metadata, dependencies, headings, checkboxes),
 * read back what was written, and not change on a second write.
 */
import assert from "node:assert/strict";
import { parseTicket, readWorkflowLog, renderTemplate, writeWorkflowLog } from "../../src/markdown/mod.ts";
import { logFieldText } from "../../src/markdown/workflow_log.ts";
import { indexLines, scan, TASK } from "../../src/markdown/source.ts";
import type { MetadataField } from "../../src/config/schema.ts";
import { BatonError, importTickets, openEngine, syncAll } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { mulberry32 } from "../helpers/prng.ts";

const FIELDS: MetadataField[] = [
  { field: "priority", type: "enum", values: ["Critical", "High", "Medium", "Low"], markdown_key: "Priority" },
  { field: "components", type: "list", markdown_key: "Target Component(s)" },
  { field: "complexity", type: "string", markdown_key: "Estimated Complexity" },
];
const PHASES = ["Design", "Design Review", "Prototype", "Implementation", "Test Writing", "Implementation Review"];
const TICKET = Deno.readTextFileSync(
  new URL("../fixtures/tickets/0083_database_agent_orchestration.md", import.meta.url),
);
const PATH = "tickets/0083_database_agent_orchestration.md";

/** The pieces an attacker joins: each can open a block at the start of a line. */
const PIECES = [
  "\n",
  "\r\n",
  "\n\n",
  "## Status",
  "# Title",
  "###### h6",
  "- [x] Design",
  "* [ ] Build",
  "+ [X] Review",
  "1. [x] step",
  "2) item",
  "## Metadata",
  "- **Priority**: Critical",
  "**Priority**: Critical",
  "## Priority: Critical",
  "Priority: Low",
  "`",
  "``",
  "```",
  "~~~",
  "---",
  "===",
  "***",
  "___",
  "- - -",
  "> quote",
  "<!--",
  "-->",
  "<div>",
  "| a | b |",
  "|---|---|",
  "   ",
  "\t",
  "word",
  "docs/a.md",
  "\u2028",
];

const rng = mulberry32;

function value(next: () => number): string {
  const n = 1 + Math.floor(next() * 8);
  let s = "";
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(next() * PIECES.length)];
  return s;
}

/** What a ticket says, as Baton and a reader see it. */
function reading(text: string) {
  const t = parseTicket(text, { path: PATH, fields: FIELDS, phaseNames: PHASES });
  const headings = scan(indexLines(text)).headings.map((h) => `${h.depth} ${h.title}`);
  const boxes = text.split(/\r?\n/).filter((l) => TASK.test(l));
  return { metadata: t.metadata, status: t.status, deps: t.dependencies, headings, boxes, parent: t.parentId };
}

Deno.test("markdown writer: no workflow-log value or artifact creates a heading, a checkbox or a metadata line (property)", () => {
  const before = reading(TICKET);
  const next = rng(26);
  for (let run = 0; run < 500; run++) {
    const phase = PHASES[run % PHASES.length];
    const entry = {
      notes: value(next),
      reviewerNotes: value(next),
      artifacts: [value(next), value(next)],
      started: "2026-12-05 10:00",
    };
    const once = writeWorkflowLog(TICKET, phase, entry).text;
    const after = reading(once);
    assert.deepEqual(after.metadata, before.metadata, `run ${run}: metadata changed by ${JSON.stringify(entry)}`);
    assert.deepEqual(after.status, before.status, `run ${run}: status changed by ${JSON.stringify(entry)}`);
    assert.deepEqual(after.deps, before.deps, `run ${run}: dependencies changed by ${JSON.stringify(entry)}`);
    assert.deepEqual(after.boxes, before.boxes, `run ${run}: a checkbox appeared: ${JSON.stringify(entry)}`);
    assert.deepEqual(after.headings, before.headings, `run ${run}: a heading appeared: ${JSON.stringify(entry)}`);
    // What was written reads back, and writing it again changes nothing.
    const back = readWorkflowLog(once, phase)!;
    assert.equal(back.fields.Notes, logFieldText(entry.notes), `run ${run}: notes read back`);
    assert.equal(back.fields["Reviewer Notes"], logFieldText(entry.reviewerNotes), `run ${run}: reviewer notes`);
    assert.equal(writeWorkflowLog(once, phase, entry).changed, false, `run ${run}: not idempotent`);
  }
});

Deno.test("markdown writer: a template value that starts a line stays text (property)", () => {
  const template = "# Ticket {{id}}: {{title}}\n\n## Status\n- [ ] Design\n\n## Summary\n{{summary}}\n\n## Metadata\n" +
    "- **Priority**: {{priority}}\n";
  const opts = { path: "tickets/0001_x.md", fields: FIELDS, phaseNames: PHASES };
  const next = rng(7);
  for (let run = 0; run < 300; run++) {
    // One-line values (Baton refuses the others): the pieces without line breaks.
    const summary = value(next).replace(/[\r\n\u2028]+/g, " ").trim();
    const text = renderTemplate(template, { id: "0001", title: "T", summary, priority: "High" });
    const t = parseTicket(text, opts);
    assert.deepEqual(
      t.status,
      parseTicket(renderTemplate(template, { id: "0001", title: "T", summary: "x", priority: "High" }), opts).status,
      `summary ${JSON.stringify(summary)}`,
    );
    assert.equal(t.metadata.priority, "High", `summary ${JSON.stringify(summary)}`);
    assert.deepEqual(scan(indexLines(text)).headings.map((h) => h.title), [
      "Ticket 0001: T",
      "Status",
      "Summary",
      "Metadata",
    ]);
  }
});

Deno.test("markdown writer: the artifact attack of the report is refused, and a summary with headings syncs as text", async () => {
  const repo = await tempRepo({
    phases: "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Build, agent_type: builder}\n",
  });
  await Deno.mkdir(`${repo}/tickets`, { recursive: true });
  await Deno.writeTextFile(
    `${repo}/tickets/0001_attack.md`,
    "# Ticket 0001: Attack\n\n## Status\n- [ ] Design\n- [ ] Build\n\n## Metadata\n- **Priority**: Low\n\n" +
      "## Workflow Log\n\n### Design Phase\n- **Started**:\n- **Notes**:\n",
  );
  const e = await openEngine(repo);
  importTickets(e);
  const c = e.claimNext({ agentId: "a", capabilities: ["designer"] })!;
  const attack = "x`\n## Status\n- [x] Design\n- [x] Build\n## Metadata\n- **Priority**: Critical\n`";
  assert.throws(
    () => e.complete(c.phase.id, { agentId: "a", token: c.token, artifacts: [attack] }),
    (err) =>
      err instanceof BatonError && err.code === "invalid_argument" &&
      /An artifact path must be one line/.test(err.message),
  );
  e.complete(c.phase.id, {
    agentId: "a",
    token: c.token,
    summary: "Done.\n## Status\n- [x] Build\n## Metadata\n- **Priority**: Critical",
    artifacts: ["docs/a`b.md"],
  });
  syncAll(e);
  const text = await Deno.readTextFile(`${repo}/tickets/0001_attack.md`);
  const headings = scan(indexLines(text)).headings.map((h) => h.title);
  assert.deepEqual(headings, ["Ticket 0001: Attack", "Status", "Metadata", "Workflow Log", "Design Phase"], text);
  assert.match(text, /- \[x\] Design\n- \[ \] Build\n/, text);
  assert.match(text, /- \*\*Priority\*\*: Low\n/);
  assert.match(text, /``docs\/a`b\.md``/);
  e.close();
  // A second sync writes nothing.
  const e2 = await openEngine(repo);
  syncAll(e2);
  assert.equal(await Deno.readTextFile(`${repo}/tickets/0001_attack.md`), text);
  e2.close();
});
