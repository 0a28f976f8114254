/**
 * Small text helpers for reading tickets: normalised comparison, inline
 * markdown removed, lists split outside parentheses, trailing conditions,
 * titles without their `Ticket 0083:` prefix.
 *
 * @module
 */

export function norm(s: string): string {
  return s.toLowerCase().replace(/[\u2010-\u2015\u2212]/g, "-").replace(/\s+/g, " ").trim();
}

/** Inline markdown removed: links to their text, code ticks, bold, HTML comments, hard-break backslash. */
export function plain(s: string): string {
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
export function splitList(s: string): string[] {
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

export function stripCondition(text: string): { label: string; condition?: string } {
  const m = /^(.*?)\s*\(([^()]*)\)\s*$/.exec(text);
  if (m && m[1] !== "") return { label: m[1], condition: m[2].trim() };
  return { label: text };
}

export const TITLE_PREFIX =
  /^(?:(?:feature|bug|debug|task|chore|enhancement|refactor|research|spike|docs?|documentation|test)\s+)?ticket\b(?:\s+#?[A-Za-z]?\d[\w.]*)?\s*(?::|\s[-\u2013\u2014]\s)\s*/i;

export function cleanTitle(raw: string, id: string | null): string {
  let t = raw.replace(TITLE_PREFIX, "");
  if (id) {
    const m = /^#?([A-Za-z]?\d[\w.]*?)\s*(?::|\s[-\u2013\u2014]\s)\s*/.exec(t);
    if (m && m[1].toLowerCase() === id.toLowerCase()) t = t.slice(m[0].length);
  }
  t = t.trim();
  return t === "" ? raw.trim() : t;
}
