/**
 * A ticket's text as lines, and the cheap fence-aware scan that finds its
 * sections: headings outside fenced code, HTML comments and front matter.
 * `mdast-util-from-markdown` parses only the sections that carry data (the
 * header, `Status`, `Metadata`, `Dependencies`, the workflow log), which
 * keeps reading a 12 KB ticket at ~1 ms instead of 5–8 ms.
 *
 * @module
 */
import { fromMarkdown } from "mdast-util-from-markdown";
import { BatonError } from "../errors.ts";
import { norm, plain } from "./text.ts";

export type Root = ReturnType<typeof fromMarkdown>;
export type MdNode = Root["children"][number];
export type ListNode = Extract<MdNode, { type: "list" }>;
export type ListItemNode = ListNode["children"][number];

export interface Src {
  text: string;
  /** Offset of each line's first character (index 0 is line 1). */
  starts: number[];
  /** Offset just past each line's content (before its line ending). */
  ends: number[];
  /** The document's line ending, used for inserted lines. */
  eol: string;
}

export function indexLines(text: string): Src {
  // A byte-order mark is not part of line 1 (it stays in the text, so edits keep it).
  const starts = [text.charCodeAt(0) === 0xfeff ? 1 : 0];
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

export function lineText(src: Src, n: number): string {
  return src.text.slice(src.starts[n - 1], src.ends[n - 1]);
}

export function lineCount(src: Src): number {
  return src.starts.length;
}

export interface Heading {
  /** First line (for a setext heading, its first content line). */
  line: number;
  /** Last line (the underline of a setext heading). */
  endLine: number;
  depth: number;
  /** Heading text, markers removed. */
  title: string;
}

export interface Scan {
  headings: Heading[];
  /** Last line of a front-matter block (0 when there is none). */
  fmEnd: number;
  /** First line of a code fence or HTML comment left open at the end of the file (0 when none). */
  openAt: number;
}

export const ATX = /^ {0,3}(#{1,6})(?=[ \t]|$)(.*)$/;
export const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;
export const LIST_MARKER = /^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)/;
export const THEMATIC = /^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$/;
export const BOLD_KEY =
  /^((\s*(?:[-*+]|\d{1,9}[.)])[ \t]+)?(\*\*|__)([^*]+?)(?:\3[ \t]*:|:[ \t]*\3))[ \t]*(.*?)[ \t]*$/;
export const PLAIN_KEY = /^((\s*(?:[-*+]|\d{1,9}[.)])[ \t]+)?([A-Za-z][^:*[\]`]{0,40}?)[ \t]*:)[ \t]*(.*?)[ \t]*$/;
export const TASK = /^(\s*(?:[-*+]|\d{1,9}[.)])[ \t]+)\[(.)\](?:[ \t]+(.*?))?[ \t]*$/;

/**
 * What a checkbox's character says: `[ ]` unchecked; `[x]`, `[X]` and the check marks people type (`✓ ✔ ☑ ✅`)
 * checked; anything else (`[-]`, `[~]`) null: neither.
 */
export function boxChecked(ch: string): boolean | null {
  if (ch === " ") return false;
  return /^[xX\u2713\u2714\u2611\u2705]$/.test(ch) ? true : null;
}

export function atxTitle(rest: string): string {
  return rest.replace(/(?:^|[ \t]+)#+[ \t]*$/, "").trim();
}

/**
 * Finds headings outside fenced code, HTML comments and front matter by a
 * line scan (micromark is too slow to run over whole tickets on import).
 * Setext underlines of `-` under bold `**Key**: value` lines are not taken as
 * headings (people mean a rule there).
 */
export function scan(src: Src): Scan {
  const headings: Heading[] = [];
  const n = lineCount(src);
  let fmEnd = 0;
  if (/^---[ \t]*$/.test(lineText(src, 1))) {
    for (let i = 2; i <= n; i++) {
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
export function sectionEnd(scanned: Scan, h: Heading, n: number): number {
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
export const BLOCKS_ONLY = {
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

/** Deepest nesting of blockquotes and lists Baton parses; deeper lines make the markdown parser superlinear. */
export const MAX_NESTING = 32;
/** Most blockquote and list markers one section may hold (each costs the parser ~70 µs; prose costs ~0.5 µs a byte). */
export const MAX_SECTION_MARKERS = 2000;

const MARKER = /^(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$)/;

/**
 * Refuses what would make the markdown parser slow (it is superlinear in
 * nesting: 10,000 `> ` or `- ` on one line took 20 s, and each marker costs
 * far more than prose), so that no file costs much more than its size:
 * blockquotes and lists nested deeper than {@link MAX_NESTING} (markers and
 * indentation), or more than {@link MAX_SECTION_MARKERS} markers in one section.
 * @throws {BatonError} `markdown_invalid` with the line
 */
function checkParseable(src: Src, from: number, to: number): void {
  let markers = 0;
  for (let line = from; line <= to; line++) {
    const text = lineText(src, line);
    let i = 0, depth = 0, indent = 0;
    for (;;) {
      let ws = 0;
      while (text[i] === " " || text[i] === "\t") ws += text[i++] === "\t" ? 4 : 1;
      if (depth === 0) indent = ws;
      if (text[i] === ">") {
        depth++;
        i++;
        continue;
      }
      const m = MARKER.exec(text.slice(i, i + 11));
      if (!m) break;
      depth++;
      i += m[0].length;
    }
    markers += depth;
    const nesting = depth + (depth > 0 ? Math.floor(indent / 2) : 0);
    if (nesting > MAX_NESTING) {
      throw new BatonError(
        "markdown_invalid",
        `line ${line} nests blockquotes and lists ${nesting} deep; Baton reads at most ${MAX_NESTING} levels`,
        { location: { line } },
      );
    }
    if (markers > MAX_SECTION_MARKERS) {
      throw new BatonError(
        "markdown_invalid",
        `more than ${MAX_SECTION_MARKERS} list items and blockquote markers in one section by line ${line}; ` +
          "Baton reads at most that many",
        { location: { line } },
      );
    }
  }
}

/** Parses lines `from..to` (1-based, inclusive) with mdast; returns the tree and the line offset to add. */
export function parseLines(src: Src, from: number, to: number): { root: Root; off: number } {
  checkParseable(src, from, Math.min(to, lineCount(src)));
  const base = src.starts[from - 1];
  const end = to >= lineCount(src) ? src.text.length : src.starts[to];
  return { root: fromMarkdown(src.text.slice(base, end), BLOCKS_ONLY), off: from - 1 };
}

export function startLine(node: { position?: { start: { line: number } } }, off: number): number {
  return node.position!.start.line + off;
}

export function endLine(node: { position?: { end: { line: number; column: number } } }, off: number): number {
  return node.position!.end.line + off;
}

export function headingText(src: Src, node: Extract<MdNode, { type: "heading" }>, off: number): string {
  const first = startLine(node, off);
  const last = endLine(node, off);
  const a = ATX.exec(lineText(src, first));
  if (a && first === last) return atxTitle(a[2]);
  // Setext: content lines (the underline is the last line).
  const lines: string[] = [];
  for (let i = first; i < last; i++) lines.push(lineText(src, i).trim());
  return lines.join(" ");
}

/** What a part of a ticket holds, for reading: the header, a data section, or body text. */
export type Ctx = "header" | "status" | "metadata" | "dependencies" | "body";

/** The kind of a section from its heading's text (null: an ordinary heading). */
export function sectionKind(title: string): Ctx | null {
  const t = norm(plain(title)).replace(/:$/, "");
  if (t === "workflow log" || t === "human feedback") return "body"; // at any level: never metadata
  if (t === "status" || t === "ticket status") return "status";
  if (t === "metadata" || t === "ticket metadata") return "metadata";
  if (t === "dependencies" || t === "dependency" || t === "ticket dependencies") return "dependencies";
  return null;
}
