/**
 * Metadata values typed per `ticket_metadata` field: booleans read as people
 * write yes and no, lists, enums matched to their canonical spelling,
 * integers, strings.
 *
 * @module
 */
import type { MetadataField } from "../config/schema.ts";
import { truthy } from "../config/conditions.ts";
import { plain, splitList, stripCondition } from "./text.ts";
import type { MarkdownWarning, MetadataValue } from "./types.ts";

/** A `key: value` record found in a ticket. */
export interface Rec {
  /** The label as written. */
  key: string;
  /** The raw value. */
  value: string;
  /** 1-based line. */
  line: number;
}

export function typed(f: MetadataField, rec: Rec | undefined, warnings: MarkdownWarning[]): MetadataValue | undefined {
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
      // `#30` (a GitHub issue), `1,000`: the number as written.
      const s = stripCondition(value).label.replace(/^#(?=\d)/, "").replace(/[,_](?=\d{3}\b)/g, "");
      if (/^[+-]?\d+$/.test(s)) return Number.parseInt(s, 10);
      warnings.push({ message: `${rec.key}: "${raw}" is not an integer`, line, field: f.field });
      return f.default;
    }
    default:
      return raw;
  }
}
