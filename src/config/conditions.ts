/**
 * Conditions on ticket metadata: whether a phase applies to a ticket
 * (`condition:` in phases.yaml), and how yes/no values written by people
 * read.
 *
 * @module
 */
import type { Condition } from "./schema.ts";

/** Ticket metadata as stored: field → typed value. */
export type Metadata = Record<string, unknown>;

/**
 * Reads a yes/no value the way people write it: `yes`, `true`, `1`,
 * `Yes (educational value)`, `y`, `on` are true; `no`, `false`, `0`, empty are false.
 *
 * @param value any metadata value
 * @returns the boolean, or undefined when it is not a yes/no
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { truthy } from "./conditions.ts";
 * assert(truthy("Yes (educational)") === true && truthy("No") === false);
 * ```
 */
export function truthy(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value !== "string") return undefined;
  const w = value.trim().toLowerCase().split(/[\s(,;:-]/)[0];
  if (["yes", "true", "1", "y", "on"].includes(w)) return true;
  if (["no", "false", "0", "n", "off", "none", ""].includes(w)) return false;
  return undefined;
}

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((x) => String(x).trim()).filter((x) => x !== "");
  if (typeof value === "string") return value.split(",").map((x) => x.trim()).filter((x) => x !== "");
  if (value === undefined || value === null) return [];
  return [String(value)];
}

/**
 * Evaluates a phase condition against a ticket's metadata.
 *
 * - `{field, value}`: equal (booleans compared as yes/no, strings case-insensitively);
 * - `{field, contains}`: the list (or comma-separated text) contains the item;
 * - `{field, has_multiple}`: the list has more than one item (or not).
 *
 * @param cond the condition (undefined: always true)
 * @param meta the ticket's metadata
 * @returns whether the phase applies
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conditionHolds } from "./conditions.ts";
 * assert(conditionHolds({ field: "languages", contains: "Python" }, { languages: ["C++", "Python"] }));
 * assert(conditionHolds({ field: "tutorial", value: true }, { tutorial: "Yes (educational)" }));
 * ```
 */
export function conditionHolds(cond: Condition | undefined, meta: Metadata): boolean {
  if (!cond) return true;
  const actual = meta[cond.field];
  if ("value" in cond) {
    if (typeof cond.value === "boolean") return (truthy(actual) ?? false) === cond.value;
    if (typeof cond.value === "number") return Number(actual) === cond.value;
    const want = cond.value.toLowerCase();
    if (Array.isArray(actual)) return actual.some((a) => String(a).toLowerCase() === want);
    return String(actual ?? "").trim().toLowerCase() === want;
  }
  if ("contains" in cond) {
    const want = cond.contains.toLowerCase();
    return asList(actual).some((a) => a.toLowerCase() === want);
  }
  return (asList(actual).length > 1) === cond.has_multiple;
}
