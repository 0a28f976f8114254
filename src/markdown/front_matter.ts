/**
 * A ticket's YAML front matter, parsed as YAML: its top-level `key: value`
 * pairs as metadata records, with their lines.
 *
 * @module
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { BatonError } from "../errors.ts";
import type { Rec } from "./metadata.ts";
import type { MarkdownWarning } from "./types.ts";

/** Aliases front matter may expand (a "billion laughs" is refused, as in `.workflow/`). */
const MAX_ALIASES = 100;

/**
 * The records of front matter (the text between the opening `---` on line 1
 * and its closing line): each top-level key's value as written (YAML's
 * failsafe schema: `0098` stays `0098`), a list's items
 * joined with `, `; a nested map is no value. Keys' `_` and `-` read as
 * spaces (`depends_on` → `depends on`).
 * @param text the front matter's lines, without the `---` lines
 * @param path the ticket's path (for the error)
 * @param warnings where a front matter that is not a mapping is reported
 * @returns the records, lines counted in the file (front matter starts on line 2)
 * @throws {BatonError} `markdown_invalid` with the line, when it is not valid YAML
 */
export function frontMatterRecords(text: string, path: string, warnings: MarkdownWarning[]): Rec[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false, schema: "failsafe" });
  const lineOf = (offset: number) => lc.linePos(offset).line + 1;
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new BatonError("markdown_invalid", `the front matter is not valid YAML: ${e.message.split("\n")[0]}`, {
      location: { file: path, line: lineOf(e.pos[0]) },
    });
  }
  try {
    doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    throw new BatonError("markdown_invalid", `the front matter cannot be read: ${(e as Error).message}`, {
      location: { file: path, line: 2 },
    });
  }
  if (doc.contents === null) return [];
  if (!isMap(doc.contents)) {
    warnings.push({ message: "the front matter is not a mapping of keys to values; ignored", line: 2 });
    return [];
  }
  const out: Rec[] = [];
  for (const pair of doc.contents.items) {
    if (!isScalar(pair.key) || typeof pair.key.value !== "string" && typeof pair.key.value !== "number") continue;
    const key = String(pair.key.value).replace(/[_-]+/g, " ").trim();
    const line = lineOf(pair.key.range?.[0] ?? 0);
    const v = pair.value;
    let value: string;
    if (v === null || (isScalar(v) && v.value === null)) value = "";
    else if (isScalar(v)) value = String(v.value).trim();
    else if (isSeq(v)) {
      value = v.items.map((i) => (isScalar(i) ? String(i.value ?? "").trim() : "")).filter(Boolean).join(", ");
    } else continue; // a nested map: not a value of the key
    if (key) out.push({ key, value, line });
  }
  return out;
}
