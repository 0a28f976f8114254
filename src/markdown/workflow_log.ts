/**
 * The `## Workflow Log` section: one `### <Phase> Phase` block per phase,
 * with `Started`, `Completed`, `Artifacts`, `Commits`, `Notes` and `Reviewer Notes`
 * fields, filled in place.
 *
 * @module
 */
import { done, type Edit } from "./edit.ts";
import {
  BOLD_KEY,
  boxChecked,
  endLine,
  type Heading,
  headingText,
  indexLines,
  lineCount,
  lineText,
  LIST_MARKER,
  type ListItemNode,
  type ListNode,
  type MdNode,
  parseLines,
  PLAIN_KEY,
  type Scan,
  scan,
  sectionEnd,
  type Src,
  startLine,
  TASK,
  THEMATIC,
} from "./source.ts";
import { norm, plain, splitList } from "./text.ts";
import { codeSpan, codeSpanText, escapeLineStart, oneLine } from "./escape.ts";
import type { EditResult, WorkflowLogEntry } from "./types.ts";

const LOG_FIELDS = ["Started", "Completed", "Artifacts", "Commits", "Notes", "Reviewer Notes"] as const;
/** Fields that hold a list, merged item by item (items already listed stay; new ones are added). */
const LIST_FIELDS: readonly LogField[] = ["Artifacts", "Commits"];
type LogField = typeof LOG_FIELDS[number];

function entryValue(entry: WorkflowLogEntry, f: LogField): string | string[] | undefined {
  switch (f) {
    case "Started":
      return entry.started;
    case "Completed":
      return entry.completed;
    case "Artifacts":
      return entry.artifacts;
    case "Commits":
      return entry.commits;
    case "Notes":
      return entry.notes;
    default:
      return entry.reviewerNotes;
  }
}

function blockHeading(phase: string): string {
  return /\bphase$/i.test(phase.trim()) ? phase.trim() : `${phase.trim()} Phase`;
}

/**
 * The phase a log block's heading is about, decorations removed:
 * `### Tutorial Phase (if Generate Tutorial: Yes)` and `### Design Phase – Completed`
 * are about Tutorial and Design.
 */
export function headingPhase(title: string): string {
  let t = norm(plain(title)).replace(/\s*\([^()]*\)\s*$/, "");
  t = t.split(/\s+-+\s+|:\s+/)[0];
  t = t.replace(/[^\p{L}\p{N}+#)]+$/u, "").trim();
  return t.replace(/\s+phase$/, "");
}

function samePhase(title: string, phase: string): boolean {
  return headingPhase(title) === headingPhase(phase);
}

/** The path an artifact item of the file names: its code span's text, else its text without inline markdown. */
function artifactKey(s: string): string {
  const t = s.replace(/^[-*+]\s+/, "").trim();
  return t.startsWith("`") ? codeSpanText(t) : plain(t);
}

/** The path an artifact value names (a path given already backticked counts as the path). */
function wantedKey(path: string): string {
  return oneLine(codeSpanText(oneLine(path)));
}

/** An artifact as written: one code span on one line, whatever the path holds. */
function tick(path: string): string {
  return codeSpan(wantedKey(path));
}

/** Lines of a new field: `- **Key**: value` plus continuation or nested artifact lines. */
function renderField(f: LogField, value: string | string[], marker: string, indent: string): string[] {
  if (marker === "") {
    // Bare lines of one paragraph: a value stays on its line, a list is written inline.
    if (LIST_FIELDS.includes(f)) {
      const items = (value as string[]).filter((a) => wantedKey(a) !== "").map(tick);
      return [`${indent}**${f}**:${items.length ? ` ${items.join(", ")}` : ""}`];
    }
    const text = valueLines(value as string).join(" ");
    return [`${indent}**${f}**:${text ? ` ${text}` : ""}`];
  }
  const pad = indent + " ".repeat(marker.length + 1);
  if (LIST_FIELDS.includes(f)) {
    const items = (value as string[]).filter((a) => wantedKey(a) !== "");
    return [`${indent}${marker} **${f}**:`, ...items.map((a) => `${pad}- ${tick(a)}`)];
  }
  const [first, ...rest] = valueLines(value as string);
  return [`${indent}${marker} **${f}**:${first ? ` ${first}` : ""}`, ...rest.map((l) => pad + l)];
}

/**
 * A value's lines, trimmed, blank lines dropped (a blank line would end the
 * field's paragraph), and every line after the first escaped where it
 * would open a block (`escape.ts`): a value stays the field's text.
 */
function valueLines(value: string): string[] {
  const lines = value.split(/\r?\n|[\r\u2028\u2029]/).map((l) => l.trim()).filter((l) => l !== "")
    .map((l, i) => i === 0 ? l : escapeLineStart(l));
  return lines.length > 0 ? lines : [""];
}

/**
 * A field's value as `readWorkflowLog` reads it back once written: lines
 * trimmed, blank lines dropped, line starts escaped, joined with `\n`.
 * @param value the value
 * @returns the text the file will hold
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logFieldText } from "./workflow_log.ts";
 * assert.equal(logFieldText("Done.\n\n## Status\n"), "Done.\n\\## Status");
 * ```
 */
export function logFieldText(value: string): string {
  return valueLines(value).join("\n");
}

interface FieldSpot {
  field: LogField;
  /** The field's list item; null for a bare `**Key**: value` line of a paragraph (a template without bullets). */
  item: ListItemNode | null;
  /** The key's line. */
  line: number;
  /** Offset just after the key and its colon. */
  valueStart: number;
  /** Last line of the item. */
  last: number;
  /** Last line of the value: the key line and the indented continuation lines of its paragraph. */
  valueLast: number;
  marker: string;
  indent: string;
}

/** Value lines of a field item: continuation lines indented under the bullet (lazy lines are a human's). */
function valueLast(src: Src, item: ListItemNode, off: number, pad: string): number {
  const first = startLine(item, off);
  const para = item.children[0];
  const paraLast = para && para.type === "paragraph" ? endLine(para, off) : first;
  let last = first;
  while (last < paraLast && lineText(src, last + 1).startsWith(pad)) last++;
  return last;
}

/** No `## Workflow Log` yet: one with the block, before `## Human Feedback` (or at the end of the file). */
function addSection(text: string, src: Src, scanned: Scan, block: string[]): EditResult {
  const n = lineCount(src);
  const eol = src.eol;
  const feedback = scanned.headings.find((h) => norm(plain(h.title)) === "human feedback");
  const lines = [`## Workflow Log`, "", ...block];
  if (feedback) {
    let p = feedback.line - 1;
    while (p > 0 && lineText(src, p).trim() === "") p--;
    const rule = p > 0 && THEMATIC.test(lineText(src, p)) ? lineText(src, p).trim() : null;
    const before = feedback.line > 1 && lineText(src, feedback.line - 1).trim() !== "" ? eol : "";
    const block = [...lines, "", ...(rule ? [rule, ""] : [])].join(eol) + eol;
    const at = src.starts[feedback.line - 1];
    return done(text, [{ start: at, end: at, text: before + block }], []);
  }
  if (scanned.openAt > 0) return unclosed(text, scanned.openAt);
  let prefix = "";
  if (text !== "" && !text.endsWith("\n")) prefix = eol;
  if (text !== "" && lineText(src, text.endsWith("\n") ? n - 1 : n).trim() !== "") prefix += eol;
  return done(text, [{ start: text.length, end: text.length, text: prefix + lines.join(eol) + eol }], []);
}

/** A `## Workflow Log` section and, when it has one, a phase's block in it with the fields it holds. */
interface LogBlock {
  secEnd: number;
  sectionDepth: number;
  off: number;
  /** The block's first line (its heading); 0 when the section has no block for the phase. */
  blockStart: number;
  spots: Map<LogField, FieldSpot>;
  lastItem: { last: number; marker: string; indent: string } | null;
}

/** Finds a phase's block in the log section and the fields in it. */
function locateBlock(src: Src, scanned: Scan, section: Heading, phase: string): LogBlock {
  const n = lineCount(src);
  const secEnd = sectionEnd(scanned, section, n);
  const { root, off } = parseLines(src, section.line, secEnd);
  const kids = root.children;
  const headings = kids.filter((k): k is Extract<MdNode, { type: "heading" }> => k.type === "heading");
  const sectionDepth = headings[0]?.depth ?? section.depth;
  const block = headings.find((h, i) => i > 0 && h.depth > sectionDepth && samePhase(headingText(src, h, off), phase));

  const spots = new Map<LogField, FieldSpot>();
  let lastItem: { last: number; marker: string; indent: string } | null = null;
  if (!block) return { secEnd, sectionDepth, off, blockStart: 0, spots, lastItem };
  // The block: from its heading to the next heading of its level or higher (or the section's end).
  const blockStart = startLine(block, off);
  let blockEnd = secEnd;
  for (const h of headings) {
    const l = startLine(h, off);
    if (l > blockStart && h.depth <= block.depth) {
      blockEnd = l - 1;
      break;
    }
  }
  for (const node of kids) {
    const l = startLine(node, off);
    if (l <= blockStart || l > blockEnd) continue;
    if (node.type === "paragraph") {
      // A template's bare `**Key**: value` lines: each its own field, its value on its line.
      for (let i = l; i <= endLine(node, off); i++) {
        const m = BOLD_KEY.exec(lineText(src, i));
        if (!m || m[2]) continue;
        const field = LOG_FIELDS.find((f) => norm(f) === norm(m[4]));
        const spot = { last: i, marker: "", indent: "" };
        lastItem = spot;
        if (!field || spots.has(field)) continue;
        spots.set(field, {
          field,
          item: null,
          line: i,
          valueStart: src.starts[i - 1] + m[1].length,
          valueLast: i,
          ...spot,
        });
      }
      continue;
    }
    if (node.type !== "list") continue;
    for (const item of node.children) {
      const il = startLine(item, off);
      const t = lineText(src, il);
      const m = BOLD_KEY.exec(t);
      const bullet = /^(\s*)([-*+]|\d{1,9}[.)])/.exec(t)!;
      const spot = { last: endLine(item, off), marker: bullet[2], indent: bullet[1] };
      lastItem = spot;
      if (!m || !m[2]) continue;
      const field = LOG_FIELDS.find((f) => norm(f) === norm(m[4]));
      if (!field || spots.has(field)) continue;
      const pad = spot.indent + " ".repeat(spot.marker.length + 1);
      spots.set(field, {
        field,
        item,
        line: il,
        valueStart: src.starts[il - 1] + m[1].length,
        valueLast: valueLast(src, item, off, pad),
        ...spot,
      });
    }
  }

  return { secEnd, sectionDepth, off, blockStart, spots, lastItem };
}

/**
 * Fills the `### <Phase> Phase` block of the `## Workflow Log` section.
 *
 * Fields (`- **Started**:`, `- **Completed**:`, `- **Artifacts**:`,
 * `- **Notes**:`, `- **Reviewer Notes**:`) are updated in place; a field the
 * entry leaves undefined is untouched; a missing field is added after the
 * fields that come before it. A field's value is its line plus the
 * continuation lines indented under it (multi-line values are written that
 * way, blank lines dropped); unindented lines after it and nested lists are
 * a human's and kept. Artifacts are merged: paths already listed stay, new
 * ones are appended to the nested list as backticked paths. Other lines in
 * the block (human notes, other fields) are kept. A missing block is added
 * at the end of the section (before trailing blank lines and `---`); a
 * missing section is added before `## Human Feedback` (or at the end of the
 * file). Nothing outside the block changes; line endings follow the file.
 * Applying the same entry twice gives the same text.
 *
 * @param text the ticket's markdown
 * @param phase the phase name (`Design` → block `### Design Phase`)
 * @param entry the values to write
 * @returns the new text and whether it changed
 * @throws nothing: any text gets a block (the section is created when missing)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeWorkflowLog } from "./workflow_log.ts";
 * const t = "# T\n\n## Workflow Log\n\n### Design Phase\n- **Started**:\n- **Notes**: keep me\n";
 * const r = writeWorkflowLog(t, "Design", { started: "2026-03-01 10:00", artifacts: ["docs/design.md"] });
 * assert(r.text ===
 *   "# T\n\n## Workflow Log\n\n### Design Phase\n- **Started**: 2026-03-01 10:00\n- **Artifacts**:\n" +
 *     "  - `docs/design.md`\n- **Notes**: keep me\n");
 * assert(!writeWorkflowLog(r.text, "Design", { started: "2026-03-01 10:00" }).changed);
 * ```
 */
export function writeWorkflowLog(text: string, phase: string, entry: WorkflowLogEntry): EditResult {
  const src = indexLines(text);
  const n = lineCount(src);
  const eol = src.eol;
  const scanned = scan(src);
  const provided = LOG_FIELDS.filter((f) => entryValue(entry, f) !== undefined);
  const newBlock = (): string[] => [
    `### ${blockHeading(phase)}`,
    ...provided.flatMap((f) => renderField(f, entryValue(entry, f)!, "-", "")),
  ];

  const section = scanned.headings.find((h) => norm(plain(h.title)) === "workflow log");
  if (!section) return addSection(text, src, scanned, newBlock());

  const { secEnd, sectionDepth, off, blockStart, spots, lastItem } = locateBlock(src, scanned, section, phase);
  if (!blockStart) {
    // After the last line with content, before trailing blanks and rules.
    let last = secEnd;
    while (last > section.endLine && (lineText(src, last).trim() === "" || THEMATIC.test(lineText(src, last)))) last--;
    if (scanned.openAt > 0 && scanned.openAt <= last) return unclosed(text, scanned.openAt);
    const at = src.ends[last - 1];
    const depth = Math.max(sectionDepth + 1, 3);
    const lines = newBlock();
    lines[0] = `${"#".repeat(depth)} ${blockHeading(phase)}`;
    return done(text, [{ start: at, end: at, text: eol + eol + lines.join(eol) }], []);
  }

  const edits: Edit[] = [];
  const inserts = new Map<number, string[]>(); // offset → lines to insert there (in field order)
  const insertAt = (offset: number, lines: string[]) => inserts.set(offset, [...(inserts.get(offset) ?? []), ...lines]);
  for (const f of provided) {
    const value = entryValue(entry, f)!;
    const spot = spots.get(f);
    if (!spot) {
      const before = LOG_FIELDS.slice(0, LOG_FIELDS.indexOf(f)).map((x) => spots.get(x)).filter((x) => x);
      const after = LOG_FIELDS.slice(LOG_FIELDS.indexOf(f) + 1).map((x) => spots.get(x)).filter((x) => x);
      const style = before.at(-1) ?? after[0] ?? lastItem ?? { marker: "-", indent: "" };
      const lines = renderField(f, value, style.marker, style.indent);
      if (before.length > 0) {
        const anchor = before.reduce((a, b) => (b!.last > a!.last ? b : a))!;
        insertAt(src.ends[anchor.last - 1], lines.map((x) => eol + x));
      } else if (after.length > 0) {
        const first = after.reduce((a, b) => (b!.line < a!.line ? b : a))!;
        insertAt(src.starts[first.line - 1], lines.map((x) => x + eol));
      } else if (lastItem) {
        insertAt(src.ends[lastItem.last - 1], lines.map((x) => eol + x));
      } else {
        // No list in the block yet: right under the heading; keep a human paragraph that follows apart.
        const next = blockStart + 1 <= n ? lineText(src, blockStart + 1) : "";
        const sep = next.trim() !== "" && !LIST_MARKER.test(next) ? [eol] : [];
        insertAt(src.ends[blockStart - 1], [...lines.map((x) => eol + x), ...sep]);
      }
      continue;
    }
    if (LIST_FIELDS.includes(f)) {
      artifactEdits(src, spot, value as string[], off, insertAt);
      continue;
    }
    const pad = spot.indent + " ".repeat(spot.marker.length + 1);
    const [first, ...rest] = valueLines(value as string);
    const rendered = spot.item === null
      ? (first ? ` ${[first, ...rest].join(" ")}` : "") // a bare line: the value stays on it
      : (first ? ` ${first}` : "") + rest.map((l) => eol + pad + l).join("");
    const end = src.ends[spot.valueLast - 1];
    if (text.slice(spot.valueStart, end) !== rendered) edits.push({ start: spot.valueStart, end, text: rendered });
  }
  for (const [offset, lines] of inserts) edits.push({ start: offset, end: offset, text: lines.join("") });
  return done(text, edits, []);
}

/** A block written after an unclosed code fence or comment would be swallowed by it: refuse. */
function unclosed(text: string, line: number): EditResult {
  return done(text, [], [{
    message: "a code block or HTML comment opened here is never closed; the workflow log was not written",
    line,
  }]);
}

function artifactEdits(
  src: Src,
  spot: FieldSpot,
  wanted: string[],
  off: number,
  insertAt: (offset: number, lines: string[]) => void,
): void {
  const have = new Set<string>();
  const inline = lineText(src, spot.line).slice(spot.valueStart - src.starts[spot.line - 1]);
  for (const a of splitList(inline)) have.add(artifactKey(a));
  if (spot.item === null) {
    // A bare line: new paths go on it, after those it lists.
    const missing = wanted.filter((a) => {
      const k = wantedKey(a);
      if (k === "" || have.has(k)) return false;
      have.add(k);
      return true;
    }).map(tick);
    if (missing.length) insertAt(src.ends[spot.line - 1], [`${inline.trim() ? "," : ""} ${missing.join(", ")}`]);
    return;
  }
  const sub = spot.item.children.filter((c): c is ListNode => c.type === "list").at(-1);
  let subMarker = "-";
  let subIndent = spot.indent + " ".repeat(spot.marker.length + 1);
  if (sub) {
    for (const it of sub.children) {
      const t = lineText(src, startLine(it, off));
      have.add(artifactKey(t.replace(/^\s*(?:[-*+]|\d{1,9}[.)])[ \t]*/, "")));
    }
    const b = /^(\s*)([-*+]|\d{1,9}[.)])/.exec(lineText(src, startLine(sub.children[0], off)))!;
    subIndent = b[1];
    subMarker = /\d/.test(b[2]) ? "-" : b[2];
  }
  const missing: string[] = [];
  for (const a of wanted) {
    const k = wantedKey(a);
    if (k === "" || have.has(k)) continue;
    have.add(k);
    missing.push(`${subIndent}${subMarker} ${tick(a)}`);
  }
  if (missing.length === 0) return;
  const anchorLine = sub ? endLine(sub, off) : endLine(spot.item.children[0], off);
  insertAt(src.ends[anchorLine - 1], missing.map((x) => src.eol + x));
}

/** What a phase's block of the workflow log says now (`readWorkflowLog`). */
export interface WorkflowLogValues {
  /** Each field written in the block: its value (lines trimmed, joined with `\n`; empty when blank). */
  fields: Partial<Record<"Started" | "Completed" | "Notes" | "Reviewer Notes", string>>;
  /** The paths listed under `Artifacts`. */
  artifacts: string[];
  /** The commits listed under `Commits`. */
  commits: string[];
}

/**
 * Reads the `### <Phase> Phase` block of the `## Workflow Log`: the values
 * its fields hold now (so that a write-back can tell a human's value from an
 * empty field).
 *
 * @param text the ticket's markdown
 * @param phase the phase name (the heading may carry a condition or decorations)
 * @returns the values, or null when the log has no block for the phase
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readWorkflowLog } from "@baton/baton";
 * const t = "# T\n## Workflow Log\n### Design Phase – Completed\n- **Completed**: 2026-01-02 09:10\n- **Notes**:\n";
 * assert.deepEqual(readWorkflowLog(t, "Design")?.fields, { Completed: "2026-01-02 09:10", Notes: "" });
 * ```
 */
export function readWorkflowLog(text: string, phase: string): WorkflowLogValues | null {
  const src = indexLines(text);
  const scanned = scan(src);
  const section = scanned.headings.find((h) => norm(plain(h.title)) === "workflow log");
  if (!section) return null;
  const { blockStart, spots, off } = locateBlock(src, scanned, section, phase);
  if (!blockStart) return null;
  const out: WorkflowLogValues = { fields: {}, artifacts: [], commits: [] };
  for (const [f, spot] of spots) {
    if (f === "Artifacts" || f === "Commits") {
      const inline = text.slice(spot.valueStart, src.ends[spot.line - 1]);
      const subs = (spot.item?.children ?? []).filter((c): c is ListNode => c.type === "list").flatMap((l) =>
        l.children.map((it) => lineText(src, startLine(it, off)).replace(/^\s*(?:[-*+]|\d{1,9}[.)])[ \t]*/, ""))
      );
      out[f === "Artifacts" ? "artifacts" : "commits"] = [...splitList(inline), ...subs].map(artifactKey).filter((a) =>
        a !== ""
      );
      continue;
    }
    const lines = [];
    for (let l = spot.line; l <= spot.valueLast; l++) {
      lines.push((l === spot.line ? text.slice(spot.valueStart, src.ends[l - 1]) : lineText(src, l)).trim());
    }
    out.fields[f] = lines.filter((l) => l !== "").join("\n");
  }
  return out;
}

/** One `### <Phase> Phase` block of the `## Workflow Log`, as a reader of progress sees it. */
export interface WorkflowLogBlock {
  /** The heading's text, as written. */
  heading: string;
  /** The phase it is about, decorations removed and lower-cased ({@link headingPhase}). */
  phase: string;
  /** 1-based line of the heading. */
  line: number;
  /** The `Completed` field's value ("" when empty or absent). */
  completed: string;
  /** The `Status` field's value ("" when empty or absent), e.g. `Approved`, `Changes Requested`. */
  status: string;
}

/**
 * Every phase block of the `## Workflow Log`, with its `Completed` and
 * `Status` values: what the file records as done.
 *
 * @param text the ticket's markdown
 * @param read its lines and headings, when the caller has read them already (`parseTicket`)
 * @returns the blocks in file order (empty without a log)
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { workflowLogBlocks } from "./workflow_log.ts";
 * const t = "# T\n## Workflow Log\n### Quality Gate Phase\n- **Completed**: 2026-02-13\n- **Status**: Passed\n";
 * assert.deepEqual(workflowLogBlocks(t), [
 *   { heading: "Quality Gate Phase", phase: "quality gate", line: 3, completed: "2026-02-13", status: "Passed" },
 * ]);
 * ```
 */
export function workflowLogBlocks(
  text: string,
  read?: { src: Src; scanned: Scan },
): WorkflowLogBlock[] {
  const src = read?.src ?? indexLines(text);
  const scanned = read?.scanned ?? scan(src);
  const section = scanned.headings.find((h) => norm(plain(h.title)) === "workflow log");
  if (!section) return [];
  const secEnd = sectionEnd(scanned, section, lineCount(src));
  const { root, off } = parseLines(src, section.line, secEnd);
  const headings = root.children.filter((k): k is Extract<MdNode, { type: "heading" }> => k.type === "heading");
  const sectionDepth = headings[0]?.depth ?? section.depth;
  const out: WorkflowLogBlock[] = [];
  headings.forEach((h, i) => {
    if (i === 0 || h.depth <= sectionDepth) return;
    const start = startLine(h, off);
    let end = secEnd;
    for (const o of headings) {
      const l = startLine(o, off);
      if (l > start && o.depth <= h.depth) {
        end = l - 1;
        break;
      }
    }
    const heading = headingText(src, h, off);
    const fields = blockFields(src, root.children, off, start, end);
    out.push({
      heading,
      phase: headingPhase(heading),
      line: start,
      completed: fields.get("completed") ?? "",
      status: fields.get("status") ?? "",
    });
  });
  return out;
}

/**
 * The fields a log block writes, by lower-cased key, first value kept: list items `- **Key**: value` and
 * `- Key: value`, bare `**Key**: value` lines of a paragraph (the style of a template without bullets), and a
 * checked `- [x] Completed …` / `- [x] Done` item, read as `Completed`. Never inside code.
 */
function blockFields(src: Src, kids: MdNode[], off: number, start: number, end: number): Map<string, string> {
  const out = new Map<string, string>();
  const put = (key: string, value: string) => {
    const k = norm(key), v = plain(value).trim();
    if (v !== "" && !out.has(k)) out.set(k, v);
  };
  const items = (list: ListNode, nested: boolean): void => {
    for (const item of list.children) {
      const t = lineText(src, startLine(item, off));
      const task = nested ? null : TASK.exec(t);
      const bold = task ? null : BOLD_KEY.exec(t);
      // Plain `Key: value` items only at the block's own level (nested ones are a field's details).
      const key = task || bold || nested ? null : PLAIN_KEY.exec(t);
      if (task) {
        // `- [x] Completed`, `- [x] Done: 2024-01-02`: the item is the completion, not a sub-task ("Complete the parser").
        const done = DONE_ITEM.exec(plain(task[3] ?? ""));
        if (boxChecked(task[2]) === true && done) put("completed", done[1] || done[2] || plain(task[3] ?? ""));
      } else if (bold) put(bold[4], bold[5]);
      else if (key) put(key[3], key[4]);
      for (const sub of item.children) if (sub.type === "list") items(sub, true);
    }
  };
  for (const node of kids) {
    const l = startLine(node, off);
    if (l <= start || l > end) continue;
    if (node.type === "list") items(node, false);
    else if (node.type === "paragraph") {
      for (let i = l; i <= endLine(node, off); i++) {
        const m = BOLD_KEY.exec(lineText(src, i));
        if (m && !m[2]) put(m[4], m[5]);
      }
    }
  }
  return out;
}

/** A checked log item that is the completion itself: the word alone, or with a value after a colon, or a date. */
const DONE_ITEM = /^(?:completed?|done|finished)(?:\s*[:\u2013\u2014-]\s*(.*)|\s+(?:on\s+)?(\d{4}-\d\d-\d\d.*))?$/i;

function words(s: string): string[] {
  return s.split(/[^\p{L}\p{N}+#]+/u).filter(Boolean);
}

/**
 * The phase a log block stands for: the phase it names; else, when it names
 * no phase of the workflow, the one phase whose name it contains or that
 * contains its name (a template's `Documentation Update Phase` for a
 * `Documentation` phase). Null when none, or more than one, fits.
 *
 * @param block the block's phase ({@link WorkflowLogBlock.phase})
 * @param phaseNames the workflow's phase names
 * @returns the phase name, or null
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logPhaseOf } from "./workflow_log.ts";
 * assert.equal(logPhaseOf("documentation update", ["Design", "Documentation"]), "Documentation");
 * assert.equal(logPhaseOf("implementation", ["C++ Implementation", "Python Implementation"]), null);
 * ```
 */
export function logPhaseOf(block: string, phaseNames: readonly string[]): string | null {
  const exact = phaseNames.find((p) => headingPhase(p) === block);
  if (exact !== undefined) return exact;
  const b = words(block);
  if (b.length === 0) return null;
  const fits = phaseNames.filter((p) => {
    const w = words(headingPhase(p));
    return w.length > 0 && (w.every((x) => b.includes(x)) || b.every((x) => w.includes(x)));
  });
  return fits.length === 1 ? fits[0] : null;
}

/** A log `Status` that says the work was not accepted (`Changes Requested`, `Rejected`, `In Progress`). */
export const LOG_NOT_DONE = /\b(?:changes|rejected|reject|revis\w*|fail\w*|blocked|pending|in progress|not|todo)\b/i;
