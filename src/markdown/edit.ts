/**
 * Edits as splices: every change to a ticket is a replacement of a range of
 * the original text, so bytes outside the edited ranges never change (line
 * endings, spacing and human text included). Nothing is re-serialised.
 *
 * @module
 */
import type { EditResult, MarkdownWarning } from "./types.ts";

export interface Edit {
  start: number;
  end: number;
  text: string;
}

export function applyEdits(text: string, edits: Edit[]): string {
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

export function done(original: string, edits: Edit[], warnings: MarkdownWarning[]): EditResult {
  const text = edits.length > 0 ? applyEdits(original, edits) : original;
  return { text, changed: text !== original, warnings };
}
