/**
 * Reading ticket markdown and writing changes back into it, as pure
 * functions (no file or database I/O).
 *
 * Reading: a fence-aware line scan finds the section boundaries (cheap), then
 * `mdast-util-from-markdown` parses only the sections that carry data: the
 * header (title, metadata in its three styles, the `## Status` checklist) and
 * any `Metadata`, `Dependencies` or `Status` section further down. Parsing
 * a whole 12 KB ticket with micromark costs 5–8 ms; parsing only these
 * sections brings {@link parseTicket} to ~1 ms for it (0.7–1.5 ms on a busy
 * 2-core machine). YAML front matter is skipped (not read).
 *
 * Writing: every change is a splice of the original text at offsets taken
 * from the parsed nodes' positions, so bytes outside the edited lines never
 * change (line endings, spacing and human text included). Nothing is ever
 * re-serialised from the tree.
 *
 * Content problems never throw: they come back as warnings with line
 * numbers. Only a ticket with no title at all is refused (`markdown_invalid`).
 *
 * @module
 */
import { fromMarkdown } from "mdast-util-from-markdown";
import { createHash } from "node:crypto";
import { BatonError } from "./errors.ts";
import type { MetadataField } from "./config.ts";
import { truthy } from "./state_machine.ts";

type Root = ReturnType<typeof fromMarkdown>;
type MdNode = Root["children"][number];
type ListNode = Extract<MdNode, { type: "list" }>;
type ListItemNode = ListNode["children"][number];

// ---------------------------------------------------------------------------
// Public types

/**
 * The default `tickets.id_regex`: an optional letter, digits, then optionally
 * a letter, digits and a letter (`0083`, `0056k`, `0035b1`, `D0001`), followed
 * by `_`, `-`, `.`, a space or the end. Same text as the default in
 * `config.ts` (a test keeps them equal).
 */
export const DEFAULT_ID_REGEX: string = "^([A-Za-z]?\\d+[A-Za-z]?\\d*[A-Za-z]?)(?=[_\\-. ]|$)";

/** A problem found in a ticket's content; parsing goes on. */
export interface MarkdownWarning {
  /** What is wrong, for a human. */
  message: string;
  /** 1-based line number in the ticket. */
  line: number;
  /** The Baton metadata field concerned, when there is one. */
  field?: string;
}

/** One checkbox of the `## Status` checklist. */
export interface StatusLabel {
  /** The label without its condition, e.g. `Ready for Python Design`. */
  label: string;
  /** Whether the box is checked (`[x]` or `[X]`). */
  checked: boolean;
  /** 1-based line number. */
  line: number;
  /** A trailing parenthesised condition, without the parentheses, e.g. `if Python in Languages`. */
  condition?: string;
  /** Whether the label maps to a phase (or explicitly to "before any phase"). */
  mapped: boolean;
  /** The last phase done once the ticket is at this label; null: before any phase (or not mapped). */
  phase: string | null;
}

/** Where a ticket's status says it is. */
export interface TicketStatus {
  /** Every checkbox of the `## Status` section, in order (empty when there is no checklist). */
  labels: StatusLabel[];
  /**
   * The last checked label; without a checklist, the value of a `Status`
   * metadata entry (`## Status: Complete`, `**Status**: Planning`); null when neither.
   */
  position: string | null;
  /** The last phase done at `position` (see {@link parseTicket}); null: before any phase, or unmapped. */
  phase: string | null;
  /** Whether `position` mapped (false when it is null or matched no phase). */
  mapped: boolean;
}

/** A dependency found in the ticket. */
export interface TicketDependency {
  /** The other ticket's id. */
  id: string;
  /** `blocked_by`: this ticket waits for `id`; `blocks`: `id` waits for this ticket. */
  type: "blocked_by" | "blocks";
  /** 1-based line number where it was written. */
  line: number;
}

/** Typed metadata value. */
export type MetadataValue = string | number | boolean | string[];

/** Everything {@link parseTicket} reads from a ticket. */
export interface ParsedTicket {
  /** Id from the file name (null when the name does not match the id regex). */
  id: string | null;
  /** Title from the first H1, prefixes like `Ticket 0056k:` or `Bug Ticket:` removed. */
  title: string;
  /** 1-based line of the title. */
  titleLine: number;
  /** Typed metadata per the configured fields, keyed by field name. */
  metadata: Record<string, MetadataValue>;
  /** Every `label → raw value` found in the metadata areas, labels as written. */
  rawMetadata: Record<string, string>;
  /** The status checklist and where it puts the ticket. */
  status: TicketStatus;
  /** `Depends On` / `Blocked By` / `Blocks` entries. */
  dependencies: TicketDependency[];
  /** `Parent Ticket` (recorded, not a blocker). */
  parentId: string | null;
  /** Content problems, with line numbers. */
  warnings: MarkdownWarning[];
  /** SHA-256 (hex) of the UTF-8 text, exactly as given. */
  contentHash: string;
}

/** Options of {@link parseTicket}. */
export interface ParseOptions {
  /** The ticket's path (for the id and for messages). */
  path: string;
  /** The metadata fields to read (phases.yaml `ticket_metadata`). */
  fields: MetadataField[];
  /** `tickets.status_map`: status label → the last phase done at that label (null: before any phase). */
  statusMap?: Record<string, string | null>;
  /** The workflow's phase names in order (for mapping status labels). */
  phaseNames?: string[];
  /** `tickets.id_regex` (default {@link DEFAULT_ID_REGEX}). */
  idRegex?: string;
}

/** The result of an edit: the new text and whether it differs. */
export interface EditResult {
  /** The text after the edit (the input itself when nothing changed). */
  text: string;
  /** Whether `text` differs from the input. */
  changed: boolean;
  /** Why nothing (or less than asked) was changed. */
  warnings: MarkdownWarning[];
}

/** What {@link writeWorkflowLog} writes into a phase's block (undefined fields are left alone). */
export interface WorkflowLogEntry {
  /** `- **Started**:` value. */
  started?: string;
  /** `- **Completed**:` value. */
  completed?: string;
  /** Paths merged into `- **Artifacts**:` (a nested list of backticked paths). */
  artifacts?: string[];
  /** `- **Notes**:` value (may span lines). */
  notes?: string;
  /** `- **Reviewer Notes**:` value (may span lines). */
  reviewerNotes?: string;
}

// ---------------------------------------------------------------------------
// Ids

const regexCache = new Map<string, RegExp>();

function compile(idRegex: string): RegExp {
  let re = regexCache.get(idRegex);
  if (!re) {
    try {
      re = new RegExp(idRegex);
    } catch (e) {
      throw new BatonError("invalid_argument", `Invalid id regex ${JSON.stringify(idRegex)}: ${(e as Error).message}`);
    }
    regexCache.set(idRegex, re);
  }
  return re;
}

function basename(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i >= 0 ? path.slice(i + 1) : path;
}

function idOf(name: string, re: RegExp): string | null {
  const m = re.exec(name);
  if (!m) return null;
  const id = m[1] ?? m[0];
  return id === "" ? null : id;
}

/**
 * Reads a ticket id from a path's file name with the configured regex.
 *
 * @param path the ticket's path; only its file name (basename) is matched
 * @param idRegex the regex; its first capture group is the id (else the whole match)
 * @returns the id, or null when the file name does not match
 * @throws {BatonError} `invalid_argument` when `idRegex` is not a valid regex
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_ID_REGEX, ticketIdFromPath } from "./markdown.ts";
 * assert(ticketIdFromPath("tickets/0056k_python_wheels.md", DEFAULT_ID_REGEX) === "0056k");
 * assert(ticketIdFromPath("tickets/debug/D0001_crash.md", DEFAULT_ID_REGEX) === "D0001");
 * assert(ticketIdFromPath("tickets/README.md", DEFAULT_ID_REGEX) === null);
 * ```
 */
export function ticketIdFromPath(path: string, idRegex: string): string | null {
  return idOf(basename(path), compile(idRegex));
}

/**
 * SHA-256 of a ticket's text (UTF-8, exactly as given), as lowercase hex: the
 * `contentHash` of {@link parseTicket}. Synchronous (`node:crypto`, native),
 * so an importer can skip unchanged tickets before parsing them.
 *
 * @param text the ticket's markdown
 * @returns 64 hex digits
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentHash } from "./markdown.ts";
 * assert(contentHash("") === "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * ```
 */
export function contentHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

// ---------------------------------------------------------------------------
// Source lines and the section scan

interface Src {
  text: string;
  /** Offset of each line's first character (index 0 is line 1). */
  starts: number[];
  /** Offset just past each line's content (before its line ending). */
  ends: number[];
  /** The document's line ending, used for inserted lines. */
  eol: string;
}

function indexLines(text: string): Src {
  const starts = [0];
  const ends: number[] = [];
  let crlf = 0;
  let lf = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) {
    if (i > 0 && text.charCodeAt(i - 1) === 13) {
      ends.push(i - 1);
      crlf++;
    } else {
      ends.push(i);
      lf++;
    }
    starts.push(i + 1);
  }
  ends.push(text.length);
  return { text, starts, ends, eol: crlf > lf ? "\r\n" : "\n" };
}

function lineText(src: Src, n: number): string {
  return src.text.slice(src.starts[n - 1], src.ends[n - 1]);
}

function lineCount(src: Src): number {
  return src.starts.length;
}

interface Heading {
  /** First line (for a setext heading, its first content line). */
  line: number;
  /** Last line (the underline of a setext heading). */
  endLine: number;
  depth: number;
  /** Heading text, markers removed. */
  title: string;
}

interface Scan {
  headings: Heading[];
  /** Last line of a front-matter block (0 when there is none). */
  fmEnd: number;
  /** First line of a code fence or HTML comment left open at the end of the file (0 when none). */
  openAt: number;
}

const ATX = /^ {0,3}(#{1,6})(?=[ \t]|$)(.*)$/;
const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const LIST_MARKER = /^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)/;
const THEMATIC = /^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$/;
const BOLD_KEY = /^((\s*(?:[-*+]|\d{1,9}[.)])[ \t]+)?(\*\*|__)([^*]+?)(?:\3[ \t]*:|:[ \t]*\3))[ \t]*(.*?)[ \t]*$/;
const PLAIN_KEY = /^((\s*(?:[-*+]|\d{1,9}[.)])[ \t]+)?([A-Za-z][^:*[\]`]{0,40}?)[ \t]*:)[ \t]*(.*?)[ \t]*$/;
const TASK = /^(\s*(?:[-*+]|\d{1,9}[.)])[ \t]+)\[(.)\](?:[ \t]+(.*?))?[ \t]*$/;

function atxTitle(rest: string): string {
  return rest.replace(/(?:^|[ \t]+)#+[ \t]*$/, "").trim();
}

/**
 * Finds headings outside fenced code, HTML comments and front matter by a
 * line scan (micromark is too slow to run over whole tickets on import).
 * Setext underlines of `-` under bold `**Key**: value` lines are not taken as
 * headings (people mean a rule there).
 */
function scan(src: Src): Scan {
  const headings: Heading[] = [];
  const n = lineCount(src);
  let fmEnd = 0;
  if (/^---[ \t]*$/.test(lineText(src, 1))) {
    for (let i = 2; i <= Math.min(n, 200); i++) {
      const t = lineText(src, i);
      if (/^(?:---|\.\.\.)[ \t]*$/.test(t)) {
        fmEnd = i;
        break;
      }
      if (!/^\s*$|^[\w"'-][^:]*:|^\s+/.test(t)) break; // not YAML: no front matter
    }
  }
  let fence: { ch: string; len: number; line: number } | null = null;
  let comment = 0; // line where an open HTML comment began
  let para: number[] = []; // lines of the current paragraph (setext heading candidates)
  let container = false; // inside a list item or quote since the last blank line: no setext there
  for (let i = fmEnd + 1; i <= n; i++) {
    const t = lineText(src, i);
    if (fence) {
      const m = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(t);
      if (m && m[1][0] === fence.ch && m[1].length >= fence.len) fence = null;
      continue;
    }
    if (comment) {
      if (t.includes("-->")) comment = 0;
      continue;
    }
    const f = FENCE_OPEN.exec(t);
    if (f && !(f[1][0] === "`" && f[2].includes("`"))) {
      fence = { ch: f[1][0], len: f[1].length, line: i };
      para = [];
      continue;
    }
    if (/^ {0,3}<!--/.test(t) && !t.slice(t.indexOf("<!--") + 4).includes("-->")) {
      comment = i;
      para = [];
      continue;
    }
    const a = ATX.exec(t);
    if (a) {
      headings.push({ line: i, endLine: i, depth: a[1].length, title: atxTitle(a[2]) });
      para = [];
      container = false;
      continue;
    }
    if (t.trim() === "") {
      para = [];
      container = false;
      continue;
    }
    const setext = /^ {0,3}(=+|-+)[ \t]*$/.exec(t);
    if (setext && para.length > 0) {
      const lines = para.map((p) => lineText(src, p));
      if (setext[1][0] === "=" || !lines.some((l) => BOLD_KEY.test(l))) {
        headings.push({
          line: para[0],
          endLine: i,
          depth: setext[1][0] === "=" ? 1 : 2,
          title: lines.map((l) => l.trim()).join(" "),
        });
      }
      para = [];
      continue;
    }
    if (LIST_MARKER.test(t) || /^ {0,3}>/.test(t)) {
      container = true;
      para = [];
    } else if (THEMATIC.test(t)) {
      para = [];
    } else if (!container && (para.length > 0 || !/^( {4}|\t)/.test(t))) {
      para.push(i);
    }
  }
  return { headings, fmEnd, openAt: fence?.line ?? comment };
}

/** Last line of the section that a heading opens (before the next heading of the same or a higher level). */
function sectionEnd(scanned: Scan, h: Heading, n: number): number {
  for (const o of scanned.headings) {
    if (o.line > h.line && o.depth <= h.depth) return o.line - 1;
  }
  return n;
}

/**
 * micromark options: block structure only. Inline constructs (emphasis, links,
 * code spans...) are never read from the tree, only from the source lines, so
 * they are switched off (faster; block positions are unaffected).
 */
const BLOCKS_ONLY = {
  extensions: [{
    disable: {
      null: [
        "attention",
        "autolink",
        "characterEscape",
        "characterReference",
        "codeText",
        "hardBreakEscape",
        "htmlText",
        "labelStartImage",
        "labelStartLink",
        "labelEnd",
      ],
    },
  }],
};

/** Parses lines `from..to` (1-based, inclusive) with mdast; returns the tree and the line offset to add. */
function parseLines(src: Src, from: number, to: number): { root: Root; off: number } {
  const base = src.starts[from - 1];
  const end = to >= lineCount(src) ? src.text.length : src.starts[to];
  return { root: fromMarkdown(src.text.slice(base, end), BLOCKS_ONLY), off: from - 1 };
}

function startLine(node: { position?: { start: { line: number } } }, off: number): number {
  return node.position!.start.line + off;
}

function endLine(node: { position?: { end: { line: number; column: number } } }, off: number): number {
  return node.position!.end.line + off;
}

// ---------------------------------------------------------------------------
// Small text helpers

function norm(s: string): string {
  return s.toLowerCase().replace(/[\u2010-\u2015\u2212]/g, "-").replace(/\s+/g, " ").trim();
}

/** Inline markdown removed: links to their text, code ticks, bold, HTML comments, hard-break backslash. */
function plain(s: string): string {
  if (!/[<[`*_\\]/.test(s)) return s.trim();
  return s
    .replace(/<!--.*?-->/g, "")
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`+/g, "")
    .replace(/\*\*|__/g, "")
    .replace(/\\$/, "")
    .trim();
}

/** Splits on commas outside parentheses and brackets; trims; drops empties. */
function splitList(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(" || ch === "[") depth++;
    else if ((ch === ")" || ch === "]") && depth > 0) depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== "");
}

function stripCondition(text: string): { label: string; condition?: string } {
  const m = /^(.*?)\s*\(([^()]*)\)\s*$/.exec(text);
  if (m && m[1] !== "") return { label: m[1], condition: m[2].trim() };
  return { label: text };
}

const TITLE_PREFIX =
  /^(?:(?:feature|bug|debug|task|chore|enhancement|refactor|research|spike|docs?|documentation|test)\s+)?ticket\b(?:\s+#?[A-Za-z]?\d[\w.]*)?\s*(?::|\s[-\u2013\u2014]\s)\s*/i;

function cleanTitle(raw: string, id: string | null): string {
  let t = raw.replace(TITLE_PREFIX, "");
  if (id) {
    const m = /^#?([A-Za-z]?\d[\w.]*?)\s*(?::|\s[-\u2013\u2014]\s)\s*/.exec(t);
    if (m && m[1].toLowerCase() === id.toLowerCase()) t = t.slice(m[0].length);
  }
  t = t.trim();
  return t === "" ? raw.trim() : t;
}

// ---------------------------------------------------------------------------
// Parsing

type Ctx = "header" | "status" | "metadata" | "dependencies" | "body";

interface Rec {
  key: string;
  value: string;
  line: number;
}

const BLOCKED_BY_KEYS = new Set(["depends on", "dependencies", "dependency", "blocked by", "depends"]);
const BLOCKS_KEYS = new Set(["blocks", "blocking"]);
const PARENT_KEYS = new Set(["parent ticket", "parent"]);

function sectionKind(title: string): Ctx | null {
  const t = norm(plain(title)).replace(/:$/, "");
  if (t === "workflow log" || t === "human feedback") return "body"; // at any level: never metadata
  if (t === "status") return "status";
  if (t === "metadata" || t === "ticket metadata") return "metadata";
  if (t === "dependencies" || t === "dependency" || t === "ticket dependencies") return "dependencies";
  return null;
}

/** `## Key: value` with a short key without digits (so `## Phase 1: Setup` is no metadata). */
function headingKeyValue(title: string): { key: string; value: string } | null {
  const m = /^([A-Za-z][A-Za-z ()/&'-]{0,40}?)\s*:\s*(.*)$/.exec(plain(title));
  if (!m || m[1].trim().split(/\s+/).length > 4) return null;
  return { key: m[1].trim(), value: m[2].trim() };
}

function keyLine(text: string, ctx: Ctx, bulleted: boolean): { key: string; value: string } | null {
  const b = BOLD_KEY.exec(text);
  if (b) return { key: b[4].trim(), value: b[5] };
  if (bulleted && (ctx === "metadata" || ctx === "dependencies")) {
    const p = PLAIN_KEY.exec(text);
    if (p && p[2]) return { key: p[3].trim(), value: p[4] };
  }
  return null;
}

function itemText(src: Src, item: ListItemNode, off: number): string {
  return lineText(src, startLine(item, off)).replace(/^\s*(?:[-*+]|\d{1,9}[.)])[ \t]*/, "").trim();
}

/**
 * Parses a ticket: title, typed metadata, status checklist, dependencies.
 *
 * - Metadata is read in three styles, matching `fields[].markdown_key`
 *   case-insensitively: bullets under `## Metadata` (`- **Priority**: High`),
 *   bare bold lines in the header (`**Priority**: Medium`), and headings
 *   (`## Priority: High`). The header is everything before the first level-1/2
 *   heading that is not the title, `Status`, `Metadata`, `Dependencies` or a
 *   `Key: value` heading. An empty value followed by a list takes the list's
 *   items. Values are typed per field: boolean by yes/no (`Yes (educational
 *   value)` is true), list split on commas outside parentheses, enum matched
 *   case-insensitively to its canonical spelling (unknown values kept as
 *   written, with a warning), integer (a warning when not one), string
 *   trimmed. An empty value gives the default (or nothing).
 * - Status: the `## Status` checklist; `position` is the last checked label.
 *   Direction rule: a label maps to the LAST PHASE DONE when the ticket is at
 *   that label (null: before any phase), which is what the engine's
 *   `completedPhases` takes. `statusMap` is consulted first (keys matched
 *   case-insensitively, with or without the condition); failing that, the
 *   longest phase name contained in the label: the label says that phase is
 *   done (`Design Complete — Awaiting Review` → Design), unless the name
 *   follows `Ready for`/`Awaiting`/`Waiting for` (the label announces it),
 *   then the phase before it in `phaseNames` is the last done (`Ready for
 *   Design` → null when Design is first). Labels mapping to nothing are
 *   warnings.
 * - Dependencies: `Depends On`/`Dependencies`/`Blocked By` (blocked_by),
 *   `Blocks`, and `Parent Ticket` (recorded as `parentId`), in any metadata
 *   style, as links (the target's file name, else the link text) or bare ids.
 *
 * @param text the ticket's markdown
 * @param opts path, metadata fields, status map, phase names, id regex
 * @returns the parsed ticket (content problems are in `warnings`)
 * @throws {BatonError} `markdown_invalid` when the ticket has no title (no H1)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTicket } from "./markdown.ts";
 * const t = parseTicket(
 *   "# Ticket 0007: Add a cache\n\n## Status\n- [x] Draft\n- [x] Ready for Design\n- [ ] Design Complete\n\n" +
 *     "**Priority**: high\n**Depends On**: [0005](0005_store.md), 0006\n",
 *   {
 *     path: "tickets/0007_cache.md",
 *     fields: [{ field: "priority", type: "enum", values: ["High", "Low"], markdown_key: "Priority" }],
 *     phaseNames: ["Design", "Design Review"],
 *     statusMap: { Draft: null },
 *   },
 * );
 * assert(t.id === "0007" && t.title === "Add a cache" && t.metadata.priority === "High");
 * assert(t.status.position === "Ready for Design" && t.status.phase === null && t.status.mapped);
 * assert(t.dependencies.map((d) => d.id).join() === "0005,0006");
 * ```
 */
export function parseTicket(text: string, opts: ParseOptions): ParsedTicket {
  const src = indexLines(text);
  const n = lineCount(src);
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

  // Which lines to parse: the header, then Status/Metadata/Dependencies sections further down.
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

  const records: Rec[] = [];
  const labels: StatusLabel[] = [];
  const depLines: { line: number; value: string }[] = []; // pure references in a Dependencies section
  let statusSections = 0; // only the first Status section's checklist counts
  for (const [from, to, startCtx] of chunks) {
    const { root, off } = parseLines(src, from, to);
    let ctx: Ctx = startCtx;
    const kids = root.children;
    /**
     * Unindented `**Key**: value` lines right under a list item are lazy continuation lines of its
     * paragraph in CommonMark; people mean them as metadata lines.
     */
    const lazyKeyLines = (item: ListItemNode): void => {
      const para = item.children[0];
      if (para?.type !== "paragraph") return;
      for (let i = startLine(item, off) + 1; i <= endLine(para, off); i++) {
        const line = lineText(src, i);
        const kl = /^\*\*|^__/.test(line) ? keyLine(line, ctx, false) : null;
        if (kl) records.push({ ...kl, line: i });
      }
    };
    /** Bare `**Key**: value` lines first..last (continuation lines extend the value before them). */
    const keyLines = (first: number, last: number, k: number): number => {
      let rec: Rec | null = null;
      for (let i = first; i <= last; i++) {
        const kl = keyLine(lineText(src, i), ctx, false);
        if (kl) {
          rec = { ...kl, line: i };
          // An empty value followed directly by a list: the list's items are the value.
          const next = kids[k + 1];
          if (kl.value === "" && i === last && next?.type === "list" && startLine(next, off) === i + 1) {
            rec.value = next.children.map((it) => itemText(src, it, off)).join(", ");
            records.push(rec);
            for (const it of next.children) lazyKeyLines(it);
            rec = null;
            k++;
            continue;
          }
          records.push(rec);
        } else if (rec) {
          const more = lineText(src, i).trim();
          if (more) rec.value = rec.value ? `${rec.value} ${more}` : more;
        }
      }
      return k;
    };
    for (let k = 0; k < kids.length; k++) {
      const node = kids[k];
      const line = startLine(node, off);
      if (node.type === "heading") {
        if (line === h1.line) continue;
        const last = endLine(node, off);
        if (last > line && node.depth === 2 && ctx !== "body") {
          // `**Key**: value` lines right above a `---` rule read as a setext heading: they are metadata.
          let bold = false;
          for (let i = line; i < last; i++) bold ||= BOLD_KEY.test(lineText(src, i));
          if (bold) {
            k = keyLines(line, last - 1, k);
            continue;
          }
        }
        const raw = headingText(src, node, off);
        const kind = sectionKind(raw);
        const kv = headingKeyValue(raw);
        if (kind === "status") ctx = statusSections++ === 0 ? "status" : "metadata";
        else if (kind) ctx = kind;
        else if (kv && node.depth >= 2 && ctx !== "body") records.push({ ...kv, line });
        else if (node.depth <= 2) ctx = "body";
        continue;
      }
      if (ctx === "body") continue;
      if (node.type === "paragraph") {
        k = keyLines(line, endLine(node, off), k);
        continue;
      }
      if (node.type === "list") {
        for (const item of node.children) {
          const il = startLine(item, off);
          const t = lineText(src, il);
          const task = ctx === "status" ? TASK.exec(t) : null;
          const kl = task ? null : keyLine(t, ctx, true);
          if (task && !/[ xX]/.test(task[2])) {
            warnings.push({ message: `status checkbox "[${task[2]}]" is neither [ ] nor [x]; ignored`, line: il });
          } else if (task) {
            const { label, condition } = stripCondition((task[3] ?? "").trim());
            const sl: StatusLabel = { label, checked: task[2] !== " ", line: il, mapped: false, phase: null };
            if (condition !== undefined) sl.condition = condition;
            labels.push(sl);
          } else if (kl) {
            let value = kl.value;
            const sub = item.children.find((c): c is ListNode => c.type === "list");
            if (value === "" && sub) value = sub.children.map((it) => itemText(src, it, off)).join(", ");
            records.push({ key: kl.key, value, line: il });
          } else if (ctx === "dependencies") {
            depLines.push({ line: il, value: itemText(src, item, off) });
          }
          lazyKeyLines(item);
        }
      }
    }
  }

  // Raw metadata: first occurrence of a label wins.
  const rawMetadata: Record<string, string> = {};
  const byKey = new Map<string, Rec>();
  for (const r of records) {
    const k = norm(r.key);
    const prev = byKey.get(k);
    if (prev) {
      if (plain(prev.value) !== plain(r.value)) {
        warnings.push({
          message: `"${r.key}" is given again (line ${prev.line} wins): "${r.value}"`,
          line: r.line,
        });
      }
      continue;
    }
    byKey.set(k, r);
    rawMetadata[r.key] = r.value;
  }

  // Typed metadata.
  const metadata: Record<string, MetadataValue> = {};
  for (const f of opts.fields) {
    const rec = byKey.get(norm(f.markdown_key ?? f.field));
    const value = typed(f, rec, warnings);
    if (value !== undefined) metadata[f.field] = value;
  }

  // Status.
  const status: TicketStatus = { labels, position: null, phase: null, mapped: false };
  const canMap = Object.keys(opts.statusMap ?? {}).length > 0 || (opts.phaseNames?.length ?? 0) > 0;
  const statusMap = new Map<string, string | null>();
  for (const [k, v] of Object.entries(opts.statusMap ?? {})) statusMap.set(norm(k), v);
  const phaseNames = opts.phaseNames ?? [];
  const normNames = phaseNames.map(norm);
  const phaseSet = new Set(phaseNames);
  const checkMapped = (label: string, m: { mapped: boolean; phase: string | null }, line: number): void => {
    if (!canMap) return;
    if (!m.mapped) {
      warnings.push({
        message: `status "${label}" maps to no phase (add it to tickets.status_map; null means before any phase)`,
        line,
      });
    } else if (m.phase !== null && phaseSet.size > 0 && !phaseSet.has(m.phase)) {
      warnings.push({ message: `status "${label}" is mapped to unknown phase "${m.phase}"`, line });
    }
  };
  for (const l of labels) {
    const m = mapLabel(l.label, l.condition, statusMap, phaseNames, normNames);
    l.mapped = m.mapped;
    l.phase = m.phase;
    checkMapped(l.label, m, l.line);
  }
  if (labels.length > 0) {
    const last = labels.findLast((l) => l.checked);
    if (last) {
      status.position = last.label;
      status.phase = last.phase;
      status.mapped = last.mapped;
    }
  } else {
    const rec = byKey.get("status");
    const value = rec ? plain(rec.value) : "";
    if (rec && value !== "") {
      const m = mapLabel(value, undefined, statusMap, phaseNames, normNames);
      status.position = value;
      status.phase = m.phase;
      status.mapped = m.mapped;
      checkMapped(value, m, rec.line);
    }
  }

  // Dependencies.
  const dependencies: TicketDependency[] = [];
  let parentId: string | null = null;
  const seen = new Set<string>();
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
  for (const r of records) {
    const k = norm(r.key);
    const type = BLOCKED_BY_KEYS.has(k)
      ? "blocked_by"
      : BLOCKS_KEYS.has(k)
      ? "blocks"
      : PARENT_KEYS.has(k)
      ? "parent"
      : null;
    if (!type) continue;
    const { ids, bad } = refs(r.value, idRe);
    for (const b of bad) {
      warnings.push({ message: `${r.key}: no ticket id in "${b}"`, line: r.line });
    }
    if (type === "parent") {
      if (ids.length > 0 && parentId === null) parentId = ids[0];
      if (ids.length > 1) warnings.push({ message: `${r.key}: more than one parent; using ${ids[0]}`, line: r.line });
      continue;
    }
    for (const d of ids) addDep(d, type, r.line);
  }
  for (const d of depLines) {
    const { ids, bad } = refs(d.value, idRe);
    if (bad.length === 0) { for (const x of ids) addDep(x, "blocked_by", d.line); }
  }

  return {
    id,
    title,
    titleLine: h1.line,
    metadata,
    rawMetadata,
    status,
    dependencies,
    parentId,
    warnings: warnings.sort((a, b) => a.line - b.line),
    contentHash: contentHash(text),
  };
}

function headingText(src: Src, node: Extract<MdNode, { type: "heading" }>, off: number): string {
  const first = startLine(node, off);
  const last = endLine(node, off);
  const a = ATX.exec(lineText(src, first));
  if (a && first === last) return atxTitle(a[2]);
  // Setext: content lines (the underline is the last line).
  const lines: string[] = [];
  for (let i = first; i < last; i++) lines.push(lineText(src, i).trim());
  return lines.join(" ");
}

function typed(f: MetadataField, rec: Rec | undefined, warnings: MarkdownWarning[]): MetadataValue | undefined {
  const raw = rec?.value.trim() ?? "";
  const value = plain(raw);
  if (!rec || value === "") return f.default;
  const line = rec.line;
  switch (f.type) {
    case "boolean": {
      const b = truthy(value);
      if (b === undefined) {
        warnings.push({ message: `${rec.key}: "${raw}" is not a yes/no value`, line, field: f.field });
        return f.default;
      }
      return b;
    }
    case "list":
      return splitList(value);
    case "enum": {
      const values = f.values ?? [];
      const find = (s: string) => values.find((v) => v.toLowerCase() === s.trim().toLowerCase());
      const hit = find(value) ?? find(stripCondition(value).label);
      if (hit !== undefined) return hit;
      warnings.push({
        message: `${rec.key}: "${raw}" is not one of ${values.join(", ")}; kept as written`,
        line,
        field: f.field,
      });
      return raw;
    }
    case "integer": {
      const s = stripCondition(value).label.replace(/[,_](?=\d{3}\b)/g, "");
      if (/^[+-]?\d+$/.test(s)) return Number.parseInt(s, 10);
      warnings.push({ message: `${rec.key}: "${raw}" is not an integer`, line, field: f.field });
      return f.default;
    }
    default:
      return raw;
  }
}

/** Ticket ids in a dependency value: links (target file name, else text) and bare ids. */
function refs(value: string, re: RegExp): { ids: string[]; bad: string[] } {
  const ids: string[] = [];
  const bad: string[] = [];
  const rest = value.replace(/<!--.*?-->/g, "").replace(
    /\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g,
    (whole, label: string, target: string) => {
      const file = basename(target.replace(/[#?].*$/, ""));
      const got = (file ? idOf(file, re) : null) ?? wordsToIds(label, re)[0] ?? null;
      if (got) ids.push(got);
      else bad.push(whole);
      return ",";
    },
  );
  for (const token of rest.replace(/\([^()]*\)/g, " ").split(/[,;]|\s+and\s+|\s+&\s+/i)) {
    const t = token.replace(/[`*]/g, "").trim();
    if (t === "" || /^(?:none|n\/?a|-+|\u2014|\u2013|tbd|nothing|no)\.?$/i.test(t)) continue;
    const got = wordsToIds(t, re);
    if (got.length > 0) ids.push(...got);
    else bad.push(t);
  }
  return { ids, bad };
}

function wordsToIds(text: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const w of text.split(/\s+/)) {
    const clean = basename(w.replace(/^[#(["']+/, "").replace(/[)\]"'.,;:!?]+$/, ""));
    const got = clean ? idOf(clean, re) : null;
    if (got) out.push(got);
  }
  return out;
}

const ANNOUNCES = /(?:ready for|ready to start|awaiting|waiting for|waiting on)\s*$/;

function mapLabel(
  label: string,
  condition: string | undefined,
  statusMap: Map<string, string | null>,
  phaseNames: string[],
  normNames: string[],
): { mapped: boolean; phase: string | null } {
  for (const key of [label, condition !== undefined ? `${label} (${condition})` : undefined]) {
    if (key === undefined) continue;
    const k = norm(key);
    if (statusMap.has(k)) return { mapped: true, phase: statusMap.get(k) ?? null };
  }
  const l = norm(label);
  let best: { index: number; at: number; len: number } | null = null;
  for (let index = 0; index < phaseNames.length; index++) {
    const name = normNames[index];
    if (name === "") continue;
    for (let at = l.indexOf(name); at !== -1; at = l.indexOf(name, at + 1)) {
      const before = at === 0 ? "" : l[at - 1];
      const after = l[at + name.length] ?? "";
      if (/[\p{L}\p{N}]/u.test(before) || /[\p{L}\p{N}]/u.test(after)) continue;
      if (!best || name.length > best.len || (name.length === best.len && at < best.at)) {
        best = { index, at, len: name.length };
      }
      break;
    }
  }
  if (best === null) return { mapped: false, phase: null };
  if (ANNOUNCES.test(l.slice(0, best.at))) {
    return { mapped: true, phase: best.index > 0 ? phaseNames[best.index - 1] : null };
  }
  return { mapped: true, phase: phaseNames[best.index] };
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
 * import { parseTicket, positionForPhase } from "./markdown.ts";
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
    if (!l.mapped) continue;
    const r = rank(l.phase);
    if (l.phase !== null && r < 0) continue;
    if (r > target) break;
    found = l.label;
  }
  return found;
}

// ---------------------------------------------------------------------------
// Editing

interface Edit {
  start: number;
  end: number;
  text: string;
}

function applyEdits(text: string, edits: Edit[]): string {
  // Stable sort: inserts at one offset keep the order they were made in.
  const sorted = edits.map((e, i) => ({ e, i })).sort((a, b) => a.e.start - b.e.start || a.i - b.i);
  let out = "";
  let at = 0;
  for (const { e } of sorted) {
    out += text.slice(at, e.start) + e.text;
    at = Math.max(at, e.end);
  }
  return out + text.slice(at);
}

function done(original: string, edits: Edit[], warnings: MarkdownWarning[]): EditResult {
  const text = edits.length > 0 ? applyEdits(original, edits) : original;
  return { text, changed: text !== original, warnings };
}

interface TaskLine {
  line: number;
  label: string;
  condition?: string;
  /** Offset of the character between the brackets. */
  box: number;
  ch: string;
}

function statusTasks(src: Src, scanned: Scan): TaskLine[] | null {
  const h = scanned.headings.find((x) => sectionKind(x.title) === "status");
  if (!h) return null;
  const { root, off } = parseLines(src, h.line, sectionEnd(scanned, h, lineCount(src)));
  const out: TaskLine[] = [];
  for (const node of root.children) {
    if (node.type !== "list") continue;
    for (const item of node.children) {
      const line = startLine(item, off);
      const m = TASK.exec(lineText(src, line));
      if (!m || !/[ xX]/.test(m[2])) continue;
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
 * import { checkThrough } from "./markdown.ts";
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

// ---------------------------------------------------------------------------
// Workflow log

const LOG_FIELDS = ["Started", "Completed", "Artifacts", "Notes", "Reviewer Notes"] as const;
type LogField = typeof LOG_FIELDS[number];

function entryValue(entry: WorkflowLogEntry, f: LogField): string | string[] | undefined {
  switch (f) {
    case "Started":
      return entry.started;
    case "Completed":
      return entry.completed;
    case "Artifacts":
      return entry.artifacts;
    case "Notes":
      return entry.notes;
    default:
      return entry.reviewerNotes;
  }
}

function blockHeading(phase: string): string {
  return /\bphase$/i.test(phase.trim()) ? phase.trim() : `${phase.trim()} Phase`;
}

function samePhase(title: string, phase: string): boolean {
  const strip = (s: string) => norm(plain(s)).replace(/\s+phase$/, "");
  return strip(title) === strip(phase);
}

function artifactKey(s: string): string {
  return plain(s).replace(/^[-*+]\s+/, "").trim();
}

function tick(path: string): string {
  return /^`.*`$/.test(path.trim()) ? path.trim() : `\`${path.trim()}\``;
}

/** Lines of a new field: `- **Key**: value` plus continuation or nested artifact lines. */
function renderField(f: LogField, value: string | string[], marker: string, indent: string): string[] {
  const pad = indent + " ".repeat(marker.length + 1);
  if (f === "Artifacts") {
    const items = (value as string[]).filter((a) => a.trim() !== "");
    return [`${indent}${marker} **${f}**:`, ...items.map((a) => `${pad}- ${tick(a)}`)];
  }
  const [first, ...rest] = valueLines(value as string);
  return [`${indent}${marker} **${f}**:${first ? ` ${first}` : ""}`, ...rest.map((l) => pad + l)];
}

/** A value's lines, trimmed, blank lines dropped (a blank line would end the field's paragraph). */
function valueLines(value: string): string[] {
  const lines = value.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  return lines.length > 0 ? lines : [""];
}

interface FieldSpot {
  field: LogField;
  item: ListItemNode;
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
 * import { writeWorkflowLog } from "./markdown.ts";
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
  if (!section) {
    const feedback = scanned.headings.find((h) => norm(plain(h.title)) === "human feedback");
    const lines = [`## Workflow Log`, "", ...newBlock()];
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

  const secEnd = sectionEnd(scanned, section, n);
  const { root, off } = parseLines(src, section.line, secEnd);
  const kids = root.children;
  const headings = kids.filter((k): k is Extract<MdNode, { type: "heading" }> => k.type === "heading");
  const sectionDepth = headings[0]?.depth ?? section.depth;
  const block = headings.find((h, i) => i > 0 && h.depth > sectionDepth && samePhase(headingText(src, h, off), phase));

  if (!block) {
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
  const spots = new Map<LogField, FieldSpot>();
  let lastItem: { last: number; marker: string; indent: string } | null = null;
  for (const node of kids) {
    const l = startLine(node, off);
    if (node.type !== "list" || l <= blockStart || l > blockEnd) continue;
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
        valueStart: src.starts[il - 1] + m[1].length,
        valueLast: valueLast(src, item, off, pad),
        ...spot,
      });
    }
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
        const first = after.reduce((a, b) => (startLine(b!.item, off) < startLine(a!.item, off) ? b : a))!;
        insertAt(src.starts[startLine(first.item, off) - 1], lines.map((x) => x + eol));
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
    if (f === "Artifacts") {
      artifactEdits(src, spot, value as string[], off, insertAt);
      continue;
    }
    const pad = spot.indent + " ".repeat(spot.marker.length + 1);
    const [first, ...rest] = valueLines(value as string);
    const rendered = (first ? ` ${first}` : "") + rest.map((l) => eol + pad + l).join("");
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
  const inline = lineText(src, startLine(spot.item, off)).slice(
    spot.valueStart - src.starts[startLine(spot.item, off) - 1],
  );
  for (const a of splitList(inline)) have.add(artifactKey(a));
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
    const k = artifactKey(a);
    if (k === "" || have.has(k)) continue;
    have.add(k);
    missing.push(`${subIndent}${subMarker} ${tick(a)}`);
  }
  if (missing.length === 0) return;
  const anchorLine = sub ? endLine(sub, off) : endLine(spot.item.children[0], off);
  insertAt(src.ends[anchorLine - 1], missing.map((x) => src.eol + x));
}

// ---------------------------------------------------------------------------
// Templates

/**
 * Fills `{{name}}` placeholders (spaces inside the braces allowed, names of
 * letters, digits, `_`, `-` and `.`). Unknown placeholders are left as
 * written, and values are inserted as-is, once (a value containing `{{x}}` is
 * not expanded again). Single braces are not placeholders: ticket templates
 * use `{Your comments on the design}` as instructions to humans.
 *
 * @param template the template text
 * @param values placeholder name → value
 * @returns the filled text
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderTemplate } from "./markdown.ts";
 * assert(renderTemplate("# Ticket {{id}}: {{ title }} {{other}} {kept}", { id: "0090", title: "Cache" }) ===
 *   "# Ticket 0090: Cache {{other}} {kept}");
 * ```
 */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(
    /\{\{\s*([\w.-]+)\s*\}\}/g,
    (whole, name: string) => Object.hasOwn(values, name) ? values[name] : whole,
  );
}
