/**
 * The `## Status` checklist: which phase a label means, which label a phase
 * means, and setting the boxes to a position.
 *
 * @module
 */
import { done, type Edit } from "./edit.ts";
import {
  boxChecked,
  indexLines,
  lineCount,
  lineText,
  parseLines,
  type Scan,
  scan,
  sectionEnd,
  sectionKind,
  type Src,
  startLine,
  TASK,
} from "./source.ts";
import { norm, stripCondition } from "./text.ts";
import type { EditResult, StatusVocabulary, TicketStatus } from "./types.ts";

/** Words before a phase name that announce it (the phase before it is done, not it). */
export const ANNOUNCES = /(?:ready for|ready to start|ready to|awaiting|waiting for|waiting on|next:)\s*$/;
/**
 * A clause that announces landing the work (`Ready to Merge`, `Awaiting Merge`), which comes after every
 * phase of a workflow without a landing phase of its own.
 */
const ANNOUNCES_LANDING =
  /(?:^|\s)(?:ready for|ready to|awaiting|waiting for|waiting on|next:)\s*(?:merge|merging|landing|land|release|deploy(?:ment)?|ship(?:ping)?)$/;
/** A clause that approves without naming what (`Approved`, `Accepted for merge`): everything is reviewed. */
const BARE_APPROVAL =
  /^(?:approved|accepted|signed off|lgtm)(?:\s+(?:for|to)\s+(?:merge|merging|landing|release|ship))?[.!]?$/;
/** Words that say a review happened: the label means the gate is done, not the phase it reviewed. */
const APPROVES = /\b(?:approved|approval|accepted|passed|signed off|lgtm)\b/;
/** Labels that mean nothing has started. */
const NOT_STARTED = new Set(["draft", "new", "backlog", "todo", "to do", "open", "proposed", "idea", "not started"]);

/** Phase names that read as a human gate when only names are known. */
const GATE_NAME = /\b(?:review|approval|gate|sign[- ]?off)\b/i;

/**
 * The vocabulary of a workflow given only its phase names: each phase's
 * predecessor is the one before it in the list, and a phase named like a
 * gate (`… Review`, `… Approval`, `Quality Gate`) reviews the phase before it.
 */
export function vocabularyOf(phaseNames: string[]): StatusVocabulary {
  const gates = phaseNames.filter((n) => GATE_NAME.test(n));
  const approvedBy: Record<string, string> = {};
  phaseNames.forEach((n, i) => {
    if (i > 0 && gates.includes(n) && !gates.includes(phaseNames[i - 1])) approvedBy[phaseNames[i - 1]] ??= n;
  });
  return {
    phases: phaseNames,
    before: Object.fromEntries(phaseNames.map((n, i) => [n, i > 0 ? phaseNames[i - 1] : null])),
    approvedBy,
    gates,
    final: phaseNames.at(-1) ?? null,
  };
}

/**
 * How a label reads: `done` (it names a phase done), `announce` (`Ready for
 * X`: the phase before X), `approve` (`X Approved`: the phase reviewing X),
 * `beyond` (it names nothing of the workflow but something after it:
 * `Ready to Merge`, a bare `Approved`), `map` (`tickets.status_map`),
 * `not_started` (`Draft`), `none` (cannot be placed).
 */
export type LabelKind = "done" | "announce" | "approve" | "beyond" | "map" | "not_started" | "none";

/** The phase a clause names: the longest phase name in it, whole words (`Updated` matches `Update`). */
function namedPhase(clause: string, names: string[], normNames: string[]): { index: number; at: number } | null {
  let best: { index: number; at: number; len: number } | null = null;
  for (let index = 0; index < names.length; index++) {
    const name = normNames[index];
    if (name === "") continue;
    for (let at = clause.indexOf(name); at !== -1; at = clause.indexOf(name, at + 1)) {
      const before = at === 0 ? "" : clause[at - 1];
      const rest = clause.slice(at + name.length);
      const after = rest.replace(/^(?:d|ed|s)(?![\p{L}\p{N}])/u, "")[0] ?? "";
      if (/[\p{L}\p{N}]/u.test(before) || /[\p{L}\p{N}]/u.test(after)) continue;
      if (!best || name.length > best.len || (name.length === best.len && at < best.at)) {
        best = { index, at, len: name.length };
      }
      break;
    }
  }
  return best;
}

/**
 * What a status label says is done. In order: `tickets.status_map`; words
 * meaning "not started" (`Draft`, `Backlog`…); then the label's first
 * clause that names a phase (clauses are split at dashes: `Design Complete —
 * Awaiting Review` is about Design): announced (`Ready for X`: the phase
 * before X), approved (`X Approved`: the gate reviewing X), or done.
 *
 * @param label the label without its condition
 * @param condition its trailing condition, if any
 * @param statusMap `tickets.status_map`, keys normalized
 * @param vocab the workflow's phases
 * @returns whether it maps, and the last phase done there (null: before any phase)
 */
export function mapLabel(
  label: string,
  condition: string | undefined,
  statusMap: Map<string, string | null>,
  vocab: StatusVocabulary,
  normNames: string[] = vocab.phases.map(norm),
): { mapped: boolean; phase: string | null; kind: LabelKind } {
  for (const key of [label, condition !== undefined ? `${label} (${condition})` : undefined]) {
    if (key === undefined) continue;
    const k = norm(key);
    if (statusMap.has(k)) return { mapped: true, phase: statusMap.get(k) ?? null, kind: "map" };
  }
  const l = norm(label);
  if (NOT_STARTED.has(l.replace(/[^\p{L}\p{N} ]/gu, "").trim())) {
    return { mapped: true, phase: null, kind: "not_started" };
  }
  const clauses = l.split(/\s+[-\u2013\u2014]+\s+|\s*[\u2013\u2014]\s*|:\s+/);
  for (const clause of clauses) {
    const hit = namedPhase(clause, vocab.phases, normNames);
    if (!hit) continue;
    const phase = vocab.phases[hit.index];
    if (ANNOUNCES.test(clause.slice(0, hit.at))) {
      // `Ready to Merge` naming the landing phase comes after the workflow, as it does without one.
      const landing = vocab.final != null && vocab.final !== vocab.phases.at(-1) && phase === vocab.phases.at(-1);
      return { mapped: true, phase: vocab.before[phase] ?? null, kind: landing ? "beyond" : "announce" };
    }
    if (APPROVES.test(clause) && !vocab.gates.includes(phase)) {
      return { mapped: true, phase: vocab.approvedBy[phase] ?? phase, kind: "approve" };
    }
    return { mapped: true, phase, kind: "done" };
  }
  // Nothing of the workflow named: landing announced, or an approval of everything, come after its last phase.
  const final = vocab.final === undefined ? vocab.phases.at(-1) ?? null : vocab.final;
  if (final !== null && clauses.some((c) => ANNOUNCES_LANDING.test(c.trim()) || BARE_APPROVAL.test(c.trim()))) {
    return { mapped: true, phase: final, kind: "beyond" };
  }
  return { mapped: false, phase: null, kind: "none" };
}

/**
 * The status label to show when the last phase done is `donePhase`: the last
 * label, in order, whose mapped phase is at or before it (labels that map to
 * nothing are skipped; the scan stops at the first label beyond it). The
 * reverse of the mapping in {@link parseTicket}, for {@link checkThrough}.
 *
 * @param status the parsed status (labels carry their mapped phases)
 * @param donePhase the last phase done (null: none)
 * @param phaseNames the workflow's phase names, in order
 * @returns the label, or null when none fits
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTicket } from "./read_ticket.ts";
 * import { positionForPhase } from "./status.ts";
 * const t = parseTicket("# T\n## Status\n- [ ] Ready for Design\n- [ ] Design Complete\n- [ ] Ready for Build\n", {
 *   path: "0001_t.md",
 *   fields: [],
 *   phaseNames: ["Design", "Review", "Build"],
 * });
 * assert(positionForPhase(t.status, "Design", ["Design", "Review", "Build"]) === "Design Complete");
 * assert(positionForPhase(t.status, "Review", ["Design", "Review", "Build"]) === "Ready for Build");
 * assert(positionForPhase(t.status, null, ["Design", "Review", "Build"]) === "Ready for Design");
 * ```
 */
export function positionForPhase(status: TicketStatus, donePhase: string | null, phaseNames: string[]): string | null {
  const rank = (p: string | null): number => (p === null ? -1 : phaseNames.indexOf(p));
  const target = rank(donePhase);
  if (donePhase !== null && target < 0) return null;
  let found: string | null = null;
  for (const l of status.labels) {
    if (!l.mapped || l.terminal) continue; // the terminal label stands for "complete", not a phase
    const r = rank(l.phase);
    if (l.phase !== null && r < 0) continue;
    if (r > target) break;
    found = l.label;
  }
  return found;
}

export interface TaskLine {
  line: number;
  label: string;
  condition?: string;
  /** Offset of the character between the brackets. */
  box: number;
  ch: string;
}

export function statusTasks(src: Src, scanned: Scan): TaskLine[] | null {
  const h = scanned.headings.find((x) => sectionKind(x.title) === "status");
  if (!h) return null;
  const { root, off } = parseLines(src, h.line, sectionEnd(scanned, h, lineCount(src)));
  const out: TaskLine[] = [];
  for (const node of root.children) {
    if (node.type !== "list") continue;
    for (const item of node.children) {
      const line = startLine(item, off);
      const m = TASK.exec(lineText(src, line));
      if (!m || boxChecked(m[2]) === null) continue;
      const { label, condition } = stripCondition((m[3] ?? "").trim());
      const t: TaskLine = { line, label, box: src.starts[line - 1] + m[1].length + 1, ch: m[2] };
      if (condition !== undefined) t.condition = condition;
      out.push(t);
    }
  }
  return out;
}

/**
 * Sets the `## Status` checklist to a position: every label up to and
 * including `position` checked, every later one unchecked. Only the character
 * between the brackets of those lines changes (`[X]` stays as written). The
 * position matches a label case-insensitively, with or without its
 * condition, dashes and spacing normalised. When it matches no label (or
 * there is no checklist) nothing changes and a warning says why; a null
 * position unchecks every box.
 *
 * @param text the ticket's markdown
 * @param position the label to check through (null: none)
 * @returns the new text, whether it changed, and warnings
 * @throws nothing: a position that fits no label, or a missing checklist, is a warning
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkThrough } from "./status.ts";
 * const r = checkThrough("# T\n## Status\n- [x] Draft\n- [ ] Ready\n- [x] Done\n", "Ready");
 * assert(r.text === "# T\n## Status\n- [x] Draft\n- [x] Ready\n- [ ] Done\n" && r.changed);
 * assert(!checkThrough(r.text, "Nowhere").changed);
 * ```
 */
export function checkThrough(text: string, position: string | null): EditResult {
  const src = indexLines(text);
  const tasks = statusTasks(src, scan(src));
  if (!tasks || tasks.length === 0) {
    return done(text, [], [{ message: "no status checklist (a `## Status` section with `- [ ]` items)", line: 1 }]);
  }
  let through = -1;
  if (position !== null) {
    const want = norm(position);
    through = tasks.findIndex((t) =>
      norm(t.label) === want || (t.condition !== undefined && norm(`${t.label} (${t.condition})`) === want)
    );
    if (through < 0) {
      return done(text, [], [{
        message: `status "${position}" matches no label; nothing changed`,
        line: tasks[0].line,
      }]);
    }
  }
  const edits: Edit[] = [];
  tasks.forEach((t, i) => {
    const want = i <= through;
    const is = t.ch !== " ";
    if (want !== is) edits.push({ start: t.box, end: t.box + 1, text: want ? "x" : " " });
  });
  return done(text, edits, []);
}

/**
 * Sets the `## Status` checkboxes one by one: `decide` says, for each box
 * in order, whether it must be checked (true), unchecked (false), or left as
 * it is (null). Only the character between the brackets of those lines
 * changes (`[X]` stays as written when it stays checked).
 *
 * @param text the ticket's markdown
 * @param decide the wanted state of each box
 * @returns the new text, whether it changed, and a warning when there is no checklist
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setChecks } from "@baton/baton";
 * const r = setChecks("# T\n## Status\n- [x] Draft\n- [ ] Design Complete\n- [ ] Merged\n", (t) =>
 *   t.label === "Design Complete" ? true : null
 * );
 * assert.equal(r.text, "# T\n## Status\n- [x] Draft\n- [x] Design Complete\n- [ ] Merged\n");
 * ```
 */
export function setChecks(
  text: string,
  decide: (task: { label: string; condition?: string; checked: boolean }, index: number) => boolean | null,
): EditResult {
  const src = indexLines(text);
  const tasks = statusTasks(src, scan(src));
  if (!tasks || tasks.length === 0) {
    return done(text, [], [{ message: "no status checklist (a `## Status` section with `- [ ]` items)", line: 1 }]);
  }
  const edits: Edit[] = [];
  tasks.forEach((t, i) => {
    const is = t.ch !== " ";
    const want = decide({ label: t.label, condition: t.condition, checked: is }, i);
    if (want !== null && want !== is) edits.push({ start: t.box, end: t.box + 1, text: want ? "x" : " " });
  });
  return done(text, edits, []);
}
