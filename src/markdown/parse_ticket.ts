/**
 * Reading a ticket: title, typed metadata in its three styles, the status
 * checklist and where it puts the ticket, dependencies. Content problems
 * never throw; they come back as warnings with line numbers. Only a ticket
 * with no title at all is refused (`markdown_invalid`).
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { DEFAULT_DEPENDENCY_KEYS, DEFAULT_ID_REGEX } from "../config/defaults.ts";
import { basename, compile, contentHash, idOf, refs, wordsToIds } from "./ids.ts";
import { type Rec, typed } from "./metadata.ts";
import {
  BOLD_KEY,
  boxChecked,
  type Ctx,
  endLine,
  type Heading,
  headingText,
  indexLines,
  lineCount,
  lineText,
  type ListItemNode,
  type ListNode,
  type MdNode,
  parseLines,
  PLAIN_KEY,
  type Scan,
  scan,
  sectionEnd,
  sectionKind,
  type Src,
  startLine,
  TASK,
} from "./source.ts";
import { type LabelKind, mapLabel, vocabularyOf } from "./status.ts";
import { LOG_NOT_DONE, logPhaseOf, workflowLogBlocks } from "./workflow_log.ts";
import { cleanTitle, norm, plain, stripCondition } from "./text.ts";
import type {
  MarkdownWarning,
  MetadataValue,
  ParsedTicket,
  ParseOptions,
  StatusLabel,
  TicketDependency,
  TicketStatus,
} from "./types.ts";

/** `## Key: value` with a short key without digits (so `## Phase 1: Setup` is no metadata). */
function headingKeyValue(title: string): { key: string; value: string } | null {
  const m = /^([A-Za-z][A-Za-z ()/&'-]{0,40}?)\s*:\s*(.*)$/.exec(plain(title));
  if (!m || m[1].trim().split(/\s+/).length > 4) return null;
  return { key: m[1].trim(), value: m[2].trim() };
}

/** `| Key | value |`: a row of a two-column table (its key may be bold). */
const TABLE_ROW = /^\s*\|\s*(?:\*\*|__)?([A-Za-z][^|*:`[\]]{0,40}?)(?:\*\*|__)?\s*\|\s*([^|]*?)\s*\|?\s*$/;

/**
 * The keys the ticket's reading uses, normalized: in a Metadata or Dependencies section (status, the metadata fields,
 * the dependency keys), and in the header (the same without the dependency keys: `Dependencies: express 4` there is
 * prose as often as a record).
 */
interface KnownKeys {
  section: ReadonlySet<string>;
  header: ReadonlySet<string>;
  /** The dependency keys: in the header, a record only when its value names tickets and nothing else. */
  refs: ReadonlySet<string>;
  idRe: RegExp;
}

/**
 * A `Key: value` line: bold anywhere in a data section (`**Status**: Done`), plain as a bullet of a Metadata or
 * Dependencies section (`- Status: Done`); plain anywhere else in the header, Metadata or Dependencies, as a line
 * (`Status: Done`), a bullet, or a row of a two-column table (`| Status | Done |`), only for a key the ticket's
 * reading uses (`known`), and in the header only within a block of such lines (`plain`, see {@link keyBlock}).
 */
function keyLine(
  text: string,
  ctx: Ctx,
  bulleted: boolean,
  known: KnownKeys,
  plain = true,
): { key: string; value: string } | null {
  const b = BOLD_KEY.exec(text);
  if (b) return { key: b[4].trim(), value: b[5] };
  if (ctx === "body" || ctx === "status" || !plain) return null;
  const keys = ctx === "header" ? known.header : known.section;
  const p = PLAIN_KEY.exec(text);
  if (p && ((bulleted && p[2] && ctx !== "header") || keys.has(norm(p[3])))) return { key: p[3].trim(), value: p[4] };
  // `Depends On: 0001` under the title names tickets; `Dependencies: express 4` names packages (prose).
  if (p && ctx === "header" && known.refs.has(norm(p[3])) && namesTickets(p[4], known.idRe)) {
    return { key: p[3].trim(), value: p[4] };
  }
  const row = TABLE_ROW.exec(text);
  if (row && keys.has(norm(row[1]))) return { key: row[1].trim(), value: row[2] };
  return null;
}

/**
 * Whether a value names one ticket or more and nothing else (`0001`, `#12 and 0013`, a link to a ticket file): every
 * word outside links is an id (`express 4, Node 18` names packages).
 */
function namesTickets(value: string, idRe: RegExp): boolean {
  const { ids, bad } = refs(value, idRe);
  if (ids.length === 0 || bad.length > 0) return false;
  const words = value.replace(/\[[^\]]*\]\([^)]*\)/g, " ").split(/[\s,;&]+|\band\b/i)
    .map((w) => w.replace(/[`*]/g, "").trim()).filter(Boolean);
  return words.every((w) => wordsToIds(w, idRe).length === 1);
}

/**
 * Whether plain key lines count in a block of the header's lines (a paragraph, a list's items): only when every
 * line is a key line (bold, or plain with a known key), or the block is a table. `Upstream issue: #5` then
 * `Status: Closed` is prose about another project, not this ticket's status.
 */
function keyBlock(lines: string[], known: KnownKeys): boolean {
  const filled = lines.map((l) => l.trim()).filter(Boolean);
  if (filled.every((l) => l.startsWith("|"))) return true;
  return filled.every((l) => keyLine(l, "header", false, known) !== null);
}

function itemText(src: Src, item: ListItemNode, off: number): string {
  return lineText(src, startLine(item, off)).replace(/^\s*(?:[-*+]|\d{1,9}[.)])[ \t]*/, "").trim();
}

/** What the data-carrying sections of a ticket hold, before typing. */
interface Collected {
  records: Rec[];
  labels: StatusLabel[];
  /** Pure references in a Dependencies section. */
  depLines: { line: number; value: string }[];
}

/**
 * The line ranges to parse: the header (everything before the first
 * level-1/2 heading that is not the title, Status, Metadata, Dependencies or
 * a `Key: value` heading), then Status, Metadata and Dependencies sections
 * further down.
 */
function dataSections(scanned: Scan, h1: Heading, n: number): [number, number, Ctx][] {
  let headerEnd = n;
  for (const h of scanned.headings) {
    const kind = sectionKind(h.title);
    if (kind !== "body" && (h === h1 || h.depth > 2 || kind || headingKeyValue(h.title))) continue;
    headerEnd = h.line - 1;
    break;
  }
  const chunks: [number, number, Ctx][] = [];
  if (headerEnd > scanned.fmEnd) chunks.push([scanned.fmEnd + 1, headerEnd, "header"]);
  for (const h of scanned.headings) {
    const kind = sectionKind(h.title);
    if (h.line <= headerEnd || !kind || kind === "body") continue;
    const last = chunks.at(-1);
    if (last && h.line <= last[1]) continue; // inside a section already taken
    chunks.push([h.line, sectionEnd(scanned, h, n), "body"]);
  }
  return chunks;
}

/** Walks one parsed section, adding its records, status labels and dependency lines to `out`. */
class SectionReader {
  ctx: Ctx;
  constructor(
    readonly src: Src,
    readonly kids: MdNode[],
    readonly off: number,
    readonly out: Collected,
    readonly warnings: MarkdownWarning[],
    start: Ctx,
    readonly known: KnownKeys,
  ) {
    this.ctx = start;
  }

  /**
   * Unindented `**Key**: value` lines right under a list item are lazy continuation lines of its
   * paragraph in CommonMark; people mean them as metadata lines.
   */
  lazyKeyLines(item: ListItemNode): void {
    const para = item.children[0];
    if (para?.type !== "paragraph") return;
    for (let i = startLine(item, this.off) + 1; i <= endLine(para, this.off); i++) {
      const line = lineText(this.src, i);
      const kl = /^\*\*|^__/.test(line) ? keyLine(line, this.ctx, false, this.known) : null;
      if (kl) this.out.records.push({ ...kl, line: i });
    }
  }

  /** Bare `**Key**: value` lines first..last (continuation lines extend the value before them); returns the node index reached. */
  keyLines(first: number, last: number, k: number): number {
    const { src, kids, off } = this;
    let rec: Rec | null = null;
    const lines = Array.from({ length: last - first + 1 }, (_, j) => lineText(src, first + j));
    const plain = this.ctx !== "header" || keyBlock(lines, this.known);
    if (!plain) this.partialBlock(lines, first);
    for (let i = first; i <= last; i++) {
      const kl = keyLine(lineText(src, i), this.ctx, false, this.known, plain);
      if (kl) {
        rec = { ...kl, line: i };
        // An empty value followed directly by a list: the list's items are the value.
        const next = kids[k + 1];
        if (kl.value === "" && i === last && next?.type === "list" && startLine(next, off) === i + 1) {
          rec.value = next.children.map((it) => itemText(src, it, off)).join(", ");
          this.out.records.push(rec);
          for (const it of next.children) this.lazyKeyLines(it);
          rec = null;
          k++;
          continue;
        }
        this.out.records.push(rec);
      } else if (rec) {
        const more = lineText(src, i).trim();
        if (more) rec.value = rec.value ? `${rec.value} ${more}` : more;
      }
    }
    return k;
  }

  /**
   * A block under the title whose lines all look like `Key: value`, some with keys the reading uses and some not: none
   * is taken (it may be about something else), and the file is told so, naming the keys Baton does not read.
   */
  partialBlock(lines: string[], first: number): void {
    const filled = lines.map((l, j) => ({ l: l.trim(), line: first + j })).filter((x) => x.l);
    if (!filled.every((x) => PLAIN_KEY.exec(x.l))) return;
    const read = filled.filter((x) => keyLine(x.l, "header", false, this.known) !== null);
    if (!read.length) return;
    const other = filled.filter((x) => !read.includes(x)).map((x) => PLAIN_KEY.exec(x.l)![3].trim());
    this.warnings.push({
      code: "metadata_ignored",
      line: filled[0].line,
      message:
        `these lines look like metadata, but Baton does not read ${other.join(", ")}, so none of them was read ` +
        `(${read.map((x) => PLAIN_KEY.exec(x.l)![3].trim()).join(", ")} included): put the ones to read under ` +
        "## Metadata, or in bold (**Priority**: High)",
    });
  }

  /** A heading inside a data section: a new context, a `## Key: value` record, or metadata lines misread as a setext heading. */
  heading(node: Extract<MdNode, { type: "heading" }>, k: number, statusSections: { n: number }): number {
    const { src, off } = this;
    const line = startLine(node, off);
    const last = endLine(node, off);
    if (last > line && node.depth === 2 && this.ctx !== "body") {
      // `**Key**: value` lines right above a `---` rule read as a setext heading: they are metadata.
      let bold = false;
      for (let i = line; i < last; i++) bold ||= BOLD_KEY.test(lineText(src, i));
      if (bold) return this.keyLines(line, last - 1, k);
    }
    const raw = headingText(src, node, off);
    const kind = sectionKind(raw);
    const kv = headingKeyValue(raw);
    if (kind === "status") this.ctx = statusSections.n++ === 0 ? "status" : "metadata";
    else if (kind) this.ctx = kind;
    else if (kv && node.depth >= 2 && this.ctx !== "body") this.out.records.push({ ...kv, line });
    else if (node.depth <= 2) this.ctx = "body";
    return k;
  }

  /** A list inside a data section: status checkboxes, `Key: value` items, or bare dependency lines. */
  list(node: ListNode): void {
    const { src, off, ctx } = this;
    const plain = ctx !== "header" || keyBlock(node.children.map((item) => itemText(src, item, off)), this.known);
    for (const item of node.children) {
      const il = startLine(item, off);
      const t = lineText(src, il);
      const task = ctx === "status" ? TASK.exec(t) : null;
      const kl = task ? null : keyLine(t, ctx, true, this.known, plain);
      if (task && boxChecked(task[2]) === null) {
        this.warnings.push({ message: `status checkbox "[${task[2]}]" is neither [ ] nor [x]; ignored`, line: il });
      } else if (task) {
        const { label, condition } = stripCondition((task[3] ?? "").trim());
        const sl: StatusLabel = { label, checked: boxChecked(task[2])!, line: il, mapped: false, phase: null };
        if (condition !== undefined) sl.condition = condition;
        this.out.labels.push(sl);
      } else if (kl) {
        let value = kl.value;
        const sub = item.children.find((c): c is ListNode => c.type === "list");
        if (value === "" && sub) value = sub.children.map((it) => itemText(src, it, off)).join(", ");
        this.out.records.push({ key: kl.key, value, line: il });
      } else if (ctx === "dependencies") {
        this.out.depLines.push({ line: il, value: itemText(src, item, off) });
      }
      this.lazyKeyLines(item);
    }
  }

  /** Reads every node of the section. */
  read(titleLine: number, statusSections: { n: number }): void {
    const { kids, off } = this;
    for (let k = 0; k < kids.length; k++) {
      const node = kids[k];
      const line = startLine(node, off);
      if (node.type === "heading") {
        if (line !== titleLine) k = this.heading(node, k, statusSections);
        continue;
      }
      if (this.ctx === "body") continue;
      if (node.type === "paragraph") k = this.keyLines(line, endLine(node, off), k);
      else if (node.type === "list") this.list(node);
    }
  }
}

/** Reads a ticket's front matter (the text between its `---` lines) as records; see `front_matter.ts`. */
export type FrontMatterReader = (text: string, path: string, warnings: MarkdownWarning[]) => Rec[];

/**
 * A `Completed` or `Status` key with a value after it, bold or plain (`**Completed**: x`, `**Status:** Done`), spaces
 * of any kind around the key and the colon (a non-breaking space pasted from a web page) but not a line break.
 */
const LOG_VALUE = /(?:completed|status)[^\S\r\n]*(?:\*\*|__)?[^\S\r\n]*:[^\S\r\n]*(?:\*\*|__)?[^\S\r\n]*\S/i;
/** A checked task box (`- [x] Done`), with the marks {@link boxChecked} takes. */
const LOG_CHECKED = /\[[xX\u2713\u2714\u2611\u2705]\]/;

/**
 * Whether the ticket's workflow log may record a phase as done: a `Completed` or `Status` value, or a checked box,
 * from the log's heading on (the heading {@link workflowLogBlocks} finds). A log of empty fields (a template's, a
 * ticket not started) is not parsed at all: the log is the longest section of most tickets, and the markdown parser
 * pays ~30 µs for each of its list items (half of a first import).
 */
function logMayRecordDone(text: string, src: Src, scanned: Scan): boolean {
  const h = scanned.headings.find((x) => norm(plain(x.title)) === "workflow log");
  if (!h) return false;
  const log = text.slice(src.starts[h.line - 1]);
  return LOG_VALUE.test(log) || LOG_CHECKED.test(log);
}

/** Reads the records, status labels and dependency lines of every data-carrying section. */
function collect(
  path: string,
  src: Src,
  scanned: Scan,
  h1: Heading,
  warnings: MarkdownWarning[],
  known: KnownKeys,
  frontMatter: FrontMatterReader | null,
): Collected {
  const out: Collected = { records: [], labels: [], depLines: [] };
  const statusSections = { n: 0 }; // only the first Status section's checklist counts
  for (const [from, to, startCtx] of dataSections(scanned, h1, lineCount(src))) {
    const { root, off } = parseLines(src, from, to);
    new SectionReader(src, root.children, off, out, warnings, startCtx, known).read(h1.line, statusSections);
  }
  // After the body's: a key given in both is the body's (front matter is often another tool's, and older).
  if (scanned.fmEnd > 0 && frontMatter) {
    const fm = Array.from({ length: scanned.fmEnd - 2 }, (_, i) => lineText(src, i + 2)).join("\n");
    out.records.push(...frontMatter(fm, path, warnings));
  }
  return out;
}

/** First occurrence of a label wins; a different later value is a warning. */
function firstByKey(
  records: Rec[],
  warnings: MarkdownWarning[],
): { byKey: Map<string, Rec>; raw: Record<string, string> } {
  const raw: Record<string, string> = {};
  const byKey = new Map<string, Rec>();
  for (const r of records) {
    const k = norm(r.key);
    const prev = byKey.get(k);
    if (prev) {
      if (plain(prev.value) !== plain(r.value)) {
        warnings.push({ message: `"${r.key}" is given again (line ${prev.line} wins): "${r.value}"`, line: r.line });
      }
      continue;
    }
    byKey.set(k, r);
    raw[r.key] = r.value;
  }
  return { byKey, raw };
}

/**
 * Where the status checklist (or, without one, a `Status` value) puts the
 * ticket; maps every label. The last label of the list is terminal: checked
 * there, the ticket is complete. Otherwise the ticket is at the furthest
 * phase its checked labels name (labels that map to nothing are skipped, so
 * the nearest earlier one that maps decides); checked boxes of which none
 * maps cannot place the ticket (`mapped` false), which never means "not
 * started".
 */
function statusOf(
  labels: StatusLabel[],
  byKey: Map<string, Rec>,
  opts: ParseOptions,
  warnings: MarkdownWarning[],
): TicketStatus {
  const status: TicketStatus = {
    labels,
    position: null,
    phase: null,
    mapped: true,
    complete: false,
    unplaced: [],
    done: [],
  };
  const vocab = opts.vocabulary ?? vocabularyOf(opts.phaseNames ?? []);
  const canMap = Object.keys(opts.statusMap ?? {}).length > 0 || vocab.phases.length > 0;
  const statusMap = new Map<string, string | null>();
  for (const [k, v] of Object.entries(opts.statusMap ?? {})) statusMap.set(norm(k), v);
  const normNames = vocab.phases.map(norm);
  const rank = new Map(vocab.phases.map((p, i) => [p, i]));
  const rankOf = (p: string | null): number => (p === null ? -1 : rank.get(p) ?? -1);
  const checkMapped = (
    label: string,
    m: { mapped: boolean; phase: string | null },
    line: number,
  ): void => {
    if (!canMap) return;
    if (!m.mapped) {
      warnings.push({
        message: `status "${label}" maps to no phase: a ticket checked there is placed by the labels before it ` +
          "and its other signals, never further back (add it to tickets.status_map; null means before any phase)",
        line,
        code: "status_unmapped",
      });
    } else if (m.phase !== null && rank.size > 0 && !rank.has(m.phase)) {
      warnings.push({
        message: `status "${label}" is mapped to unknown phase "${m.phase}"`,
        line,
        code: "status_unmapped",
      });
    }
  };
  const kinds: LabelKind[] = [];
  labels.forEach((l, i) => {
    const m = mapLabel(l.label, l.condition, statusMap, vocab, normNames);
    l.mapped = m.mapped;
    l.phase = m.phase;
    kinds.push(m.kind);
    // The last label means "complete" unless it names an earlier phase (a list cut short).
    const lastPhase = vocab.phases.at(-1);
    if (i === labels.length - 1 && labels.length > 1 && (!m.mapped || (m.phase !== null && m.phase === lastPhase))) {
      l.terminal = true;
      l.mapped = true; // the last label needs no phase: it means complete
      if (m.mapped) checkMapped(l.label, m, l.line); // a status_map entry naming no phase is still a typo
    } else checkMapped(l.label, m, l.line);
  });
  // A label naming something after the workflow (`Approved — Ready to Merge`) comes before the labels listed
  // after it: it cannot mean their phases are done.
  labels.forEach((l, i) => {
    if (kinds[i] !== "beyond" || l.terminal) return;
    let bound = rankOf(l.phase);
    let boundPhase = l.phase;
    for (let j = i + 1; j < labels.length; j++) {
      const o = labels[j];
      if (o.terminal || !o.mapped || o.phase === null || !rank.has(o.phase) || kinds[j] === "beyond") continue;
      const b = kinds[j] === "done" || kinds[j] === "approve" ? vocab.before[o.phase] ?? null : o.phase;
      if (rankOf(b) < bound) [bound, boundPhase] = [rankOf(b), b];
    }
    l.phase = boundPhase;
  });
  if (labels.length > 0) {
    const checked = labels.filter((l) => l.checked);
    status.position = checked.at(-1)?.label ?? null;
    status.complete = checked.at(-1)?.terminal === true;
    const placed = checked.filter((l) => l.mapped && !l.terminal);
    status.unplaced = checked.filter((l) => !l.mapped);
    status.mapped = checked.length === 0 || status.complete || status.unplaced.length === 0;
    const furthest = (p: string | null): void => {
      if (p !== null && !status.done.includes(p)) status.done.push(p);
      if (p !== null && (status.phase === null || rankOf(p) > rankOf(status.phase))) status.phase = p;
    };
    for (const l of placed) furthest(l.phase);
    // A checked label that cannot be placed is at least as far as every label listed before it.
    for (const u of status.unplaced) {
      for (const l of labels) {
        if (l === u) break;
        if (l.mapped && !l.terminal) furthest(l.phase);
      }
    }
  } else {
    const rec = byKey.get("status");
    const value = rec ? plain(rec.value) : "";
    if (rec && value !== "") {
      const m = mapLabel(value, undefined, statusMap, vocab, normNames);
      status.position = value;
      status.complete = isTerminalWord(value) && !statusMap.has(norm(value));
      status.phase = m.phase;
      if (m.phase !== null) status.done.push(m.phase);
      status.mapped = m.mapped || status.complete;
      if (!status.complete) checkMapped(value, m, rec.line);
    }
  }
  // `Current Phase: X`: X is under way, so what comes before it is done.
  const cur = byKey.get("current phase");
  const curValue = cur ? plain(cur.value).replace(/\s*\([^()]*\)\s*$/, "") : "";
  if (cur && curValue !== "" && canMap && !status.complete) {
    const m = isTerminalWord(curValue)
      ? { mapped: true, phase: vocab.final === undefined ? vocab.phases.at(-1) ?? null : vocab.final }
      : mapLabel(`Ready for ${curValue}`, undefined, new Map(), vocab, normNames);
    if (!m.mapped) {
      warnings.push({
        message: `"Current Phase: ${curValue}" names no phase of the workflow; not used to place the ticket`,
        line: cur.line,
        code: "status_unmapped",
      });
    } else if (m.phase !== null) {
      if (!status.done.includes(m.phase)) status.done.push(m.phase);
      if (status.phase === null || rankOf(m.phase) > rankOf(status.phase)) status.phase = m.phase;
      status.currentPhase = { value: curValue, line: cur.line, phase: m.phase };
    }
  }
  return status;
}

/** Words that, as a whole `Status:` value, mean the ticket is finished (`Done`, `Merged / Complete`). */
const TERMINAL_WORDS = new Set([
  "complete",
  "completed",
  "done",
  "merged",
  "closed",
  "finished",
  "resolved",
  "shipped",
]);

/** A log `Status` that accepts the phase's work. */
const LOG_ACCEPTED =
  /^(?:approved|accepted|passed|signed off)(?:\s*[-\u2013\u2014:,]?\s*(?:on\s+)?\d{4}-\d\d-\d\d.*)?\.?$/i;

/** A `Completed` value a template leaves for someone to fill: not a completion. */
const PLACEHOLDER =
  /^(?:tbd|tba|n\/?a|no|none|not yet|pending|todo|-+|\u2014|\u2026|\.{3}|\[.*\]|<.*>|\{.*\}|y{2,4}[-/.]m{1,2}[-/.]d{1,2}.*|d{1,2}[-/.]m{1,2}[-/.]y{2,4}.*|date)$/i;

function isTerminalWord(value: string): boolean {
  const words = norm(value).split(/[^\p{L}]+/u).filter(Boolean);
  return words.length > 0 && words.every((w) => TERMINAL_WORDS.has(w));
}

/** `Depends On` / `Blocked By` / `Blocks` / `Parent Ticket` records and bare dependency lines. */
function dependenciesOf(
  c: Collected,
  id: string | null,
  idRe: RegExp,
  keys: { blocked_by: string[]; blocks: string[]; parent: string[] },
  warnings: MarkdownWarning[],
): { dependencies: TicketDependency[]; parentId: string | null } {
  const dependencies: TicketDependency[] = [];
  let parentId: string | null = null;
  const seen = new Set<string>();
  const set = (names: string[]) => new Set(names.map(norm));
  const blockedBy = set(keys.blocked_by), blocks = set(keys.blocks), parent = set(keys.parent);
  const addDep = (depId: string, type: TicketDependency["type"], line: number): void => {
    if (id !== null && depId === id) {
      warnings.push({ message: `ticket ${id} lists itself as a dependency; ignored`, line });
      return;
    }
    const key = `${type} ${depId}`;
    if (seen.has(key)) return;
    seen.add(key);
    dependencies.push({ id: depId, type, line });
  };
  for (const r of c.records) {
    const k = norm(r.key);
    const type = blockedBy.has(k) ? "blocked_by" : blocks.has(k) ? "blocks" : parent.has(k) ? "parent" : null;
    if (!type) continue;
    const { ids, bad } = refs(r.value, idRe);
    for (const b of bad) warnings.push({ message: `${r.key}: no ticket id in "${b}"`, line: r.line });
    if (type === "parent") {
      if (ids.length > 0 && parentId === null) parentId = ids[0];
      if (ids.length > 1) warnings.push({ message: `${r.key}: more than one parent; using ${ids[0]}`, line: r.line });
      continue;
    }
    for (const d of ids) addDep(d, type, r.line);
  }
  for (const d of c.depLines) {
    const { ids, bad } = refs(d.value, idRe);
    if (bad.length === 0) { for (const x of ids) addDep(x, "blocked_by", d.line); }
  }
  return { dependencies, parentId };
}

/**
 * {@link parseTicket}'s reading, with the front matter read by `frontMatter`
 * (null: not read; `sync/write_back.ts` needs only the status checklist, and
 * so never loads a YAML parser).
 * @param text the ticket's markdown
 * @param opts path, metadata fields, status map, phase names, id regex
 * @param frontMatter reads the front matter's records (`front_matter.ts`), or null
 * @returns the parsed ticket (content problems are in `warnings`)
 * @throws {BatonError} `markdown_invalid` when the ticket has no title (no H1), or what `frontMatter` throws
 */
export function parseTicketWith(
  text: string,
  opts: ParseOptions,
  frontMatter: FrontMatterReader | null,
): ParsedTicket {
  const src = indexLines(text);
  const idRe = compile(opts.idRegex ?? DEFAULT_ID_REGEX);
  const id = idOf(basename(opts.path), idRe);
  const warnings: MarkdownWarning[] = [];
  const scanned = scan(src);

  // Title: the first level-1 heading.
  const h1 = scanned.headings.find((h) => h.depth === 1 && h.title !== "");
  if (!h1) {
    const empty = scanned.headings.find((h) => h.depth === 1);
    throw new BatonError(
      "markdown_invalid",
      `${opts.path}: no title (the ticket needs a level-1 heading such as "# Ticket 0001: …")`,
      { location: { file: opts.path, line: empty?.line ?? 1 } },
    );
  }
  const title = cleanTitle(h1.title, id);
  if (id === null) {
    warnings.push({ message: `file name "${basename(opts.path)}" does not match the ticket id pattern`, line: 1 });
  }
  const titleId = /^(?:\w+\s+)?ticket\s+#?([A-Za-z]?\d[\w.]*?)\s*(?::|\s[-\u2013\u2014]\s)/i.exec(h1.title)?.[1];
  if (id !== null && titleId && titleId.toLowerCase() !== id.toLowerCase()) {
    warnings.push({ message: `title says ticket ${titleId} but the file name says ${id}`, line: h1.line });
  }

  const keys = opts.dependencyKeys ?? DEFAULT_DEPENDENCY_KEYS;
  const fieldKeys = ["status", "current phase", ...opts.fields.map((f) => f.markdown_key ?? f.field)].map(norm);
  const depKeys = Object.values(keys).flat().map(norm);
  const known: KnownKeys = {
    section: new Set([...fieldKeys, ...depKeys]),
    header: new Set(fieldKeys),
    refs: new Set(depKeys),
    idRe,
  };
  const collected = collect(opts.path, src, scanned, h1, warnings, known, frontMatter);
  const { byKey, raw } = firstByKey(collected.records, warnings);
  const metadata: Record<string, MetadataValue> = {};
  for (const f of opts.fields) {
    const value = typed(f, byKey.get(norm(f.markdown_key ?? f.field)), warnings);
    if (value !== undefined) metadata[f.field] = value;
  }
  const status = statusOf(collected.labels, byKey, opts, warnings);
  const phaseNames = opts.vocabulary?.phases ?? opts.phaseNames ?? [];
  const logCompleted: ParsedTicket["logCompleted"] = [];
  if (phaseNames.length > 0 && logMayRecordDone(text, src, scanned)) {
    for (const b of workflowLogBlocks(text, { src, scanned })) {
      // Done: a Completed value, or a Status that says so (`Complete`, `Approved`, `Passed`) without one.
      const filled = PLACEHOLDER.test(b.completed) ? "" : b.completed;
      const completed = filled || (isTerminalWord(b.status) || LOG_ACCEPTED.test(b.status) ? b.status : "");
      if (completed === "" || LOG_NOT_DONE.test(b.status)) continue;
      const phase = logPhaseOf(b.phase, phaseNames);
      if (phase !== null) logCompleted.push({ phase, line: b.line, completed });
    }
  }
  const { dependencies, parentId } = dependenciesOf(collected, id, idRe, keys, warnings);
  return {
    id,
    title,
    titleLine: h1.line,
    metadata,
    rawMetadata: raw,
    status,
    dependencies,
    parentId,
    logCompleted,
    warnings: warnings.sort((a, b) => a.line - b.line),
    contentHash: contentHash(text),
  };
}
