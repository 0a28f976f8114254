/**
 * Values Baton writes into a ticket's markdown (an agent's summary, a
 * reviewer's notes, artifact paths, template values) stay text: none can
 * start a heading, a list item or checkbox, a quote, a code fence, an HTML
 * block, a rule or a setext underline, so none can add a `## Status`, a
 * checked box or a metadata section to the file.
 *
 * @module
 */

/** What opens a block when it starts a line (after up to three spaces, which Baton's values never keep). */
const BLOCK_START = /^(?:#{1,6}(?:[ \t]|$)|[-*+](?:[ \t]|$)|>|`{3,}|~{3,}|<|=+[ \t]*$|(?:[-*_][ \t]*){3,}$|\|)/;
/** An ordered list marker: `1.` or `1)` then a space or the end. */
const ORDERED = /^(\d{1,9})([.)])(?:[ \t]|$)/;

/**
 * A line of a value, made to read as text where it starts a line: a
 * backslash before what would open a block (`\## Status`, `\- [x] Done`,
 * `1\. step`, `\---`). Idempotent: an escaped line is left as it is.
 * @param line one line, trimmed
 * @returns the line, safe at the start of a line
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeLineStart } from "./escape.ts";
 * assert.equal(escapeLineStart("## Status"), "\\## Status");
 * assert.equal(escapeLineStart("- [x] Design"), "\\- [x] Design");
 * assert.equal(escapeLineStart("2. then"), "2\\. then");
 * assert.equal(escapeLineStart("plain words"), "plain words");
 * ```
 */
export function escapeLineStart(line: string): string {
  if (BLOCK_START.test(line)) return "\\" + line;
  const m = ORDERED.exec(line);
  return m ? `${m[1]}\\${line.slice(m[1].length)}` : line;
}

/** Control characters (a newline would end the line a value is written on). */
// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]+/g;

/**
 * A value on one line: control characters (line breaks included) become spaces; trimmed.
 * @param s the value
 * @returns it, on one line
 */
export function oneLine(s: string): string {
  return s.replace(CONTROL, " ").trim();
}

/**
 * A path as an inline code span on one line: control characters become
 * spaces, and the fence is longer than any run of backticks in it (so a
 * backtick in the path cannot close the span early).
 * @param path the path
 * @returns `` `path` `` (or ``` `` a`b `` ```)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codeSpan } from "./escape.ts";
 * assert.equal(codeSpan("docs/a.md"), "`docs/a.md`");
 * assert.equal(codeSpan("a`b"), "``a`b``");
 * assert.equal(codeSpan("`x"), "`` `x ``");
 * ```
 */
export function codeSpan(path: string): string {
  const s = oneLine(path);
  const longest = Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = s.startsWith("`") || s.endsWith("`") ? " " : "";
  return `${fence}${pad}${s}${pad}${fence}`;
}

/**
 * The text of a code span written by {@link codeSpan} (or any one code span
 * making up the whole string); other text is returned as it is.
 * @param s the text, trimmed
 * @returns the span's content
 */
export function codeSpanText(s: string): string {
  const m = /^(`+)(?!`)(.*?[^`]|)\1$/s.exec(s);
  if (!m) return s;
  const inner = m[2];
  return /^ .* $/s.test(inner) && inner.trim() !== "" ? inner.slice(1, -1) : inner;
}
