/**
 * Size caps on what callers store, so that one bad request (a 9 MB metadata
 * object, a 3 MB title) cannot bloat the shared database. Each cap is a
 * coded `invalid_argument` naming the field, its size and the limit.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { checkTitle } from "../lines.ts";

/** The caps, in bytes of UTF-8 (or items for lists). Documented in the README. */
export const LIMITS = {
  /** A ticket title. */
  title: 1024,
  /** A ticket's or an agent's metadata, as JSON. */
  metadata: 64 * 1024,
  /** A completion or review summary, an error, gate or retry notes. */
  text: 64 * 1024,
  /** An agent id, a capability, a priority, an idempotency key. */
  name: 256,
  /** A heartbeat's progress note. */
  progress: 4 * 1024,
  /** Artifacts of a completion, or paths of one declaration. */
  items: 1000,
  /** One artifact path or declared pattern. */
  path: 1024,
} as const;

const bytes = (s: string) => new TextEncoder().encode(s).length;

function tooBig(what: string, size: number, max: number, unit = "bytes"): BatonError {
  return new BatonError("invalid_argument", `${what} is ${size} ${unit}; the limit is ${max} ${unit}`, {
    details: { size, limit: max },
  });
}

/**
 * Refuses a name (an agent's id) that is not well-formed Unicode: a lone
 * surrogate is stored as U+FFFD, and the name read back is another one (its
 * holder could no longer act on its own claim).
 * @param value the name
 * @param what how to name it
 * @throws {BatonError} `invalid_argument`
 */
export function checkWellFormed(value: string, what: string): void {
  if (!value.isWellFormed()) throw illFormed(what);
}

function illFormed(what: string): BatonError {
  return new BatonError(
    "invalid_argument",
    `${what} is not well-formed Unicode (a lone surrogate, \\uD800 to \\uDFFF)`,
  );
}

/**
 * Refuses a string over `max` bytes.
 * @param value the value (undefined and null pass)
 * @param max the cap
 * @param what how to name it
 * @throws {BatonError} `invalid_argument`
 */
export function capText(value: string | null | undefined, max: number, what: string): void {
  if (typeof value !== "string" || value.length * 3 <= max) return; // cheap: cannot be over in UTF-8
  const n = bytes(value);
  if (n > max) throw tooBig(what, n, max);
}

/**
 * Refuses a value whose JSON is over `max` bytes.
 * @param value the value
 * @param max the cap
 * @param what how to name it
 * @throws {BatonError} `invalid_argument`
 */
export function capJson(value: unknown, max: number, what: string): void {
  if (value === undefined || value === null) return;
  const depth = nesting(value, MAX_DEPTH + 1);
  if (depth > MAX_DEPTH) {
    throw new BatonError("invalid_argument", `${what} is nested more than ${MAX_DEPTH} levels deep`, {
      details: { limit: MAX_DEPTH },
    });
  }
  capText(JSON.stringify(value), max, what);
}

/** How deep stored JSON (metadata) may nest: SQLite's JSON functions stop at 1,000, and no real metadata nears 32. */
export const MAX_DEPTH = 32;

/** How deeply a value nests (1 for a flat object), counted without recursion and no further than `stop`. */
function nesting(value: unknown, stop: number): number {
  let deepest = 0;
  const todo: [unknown, number][] = [[value, 1]];
  while (todo.length) {
    const [v, d] = todo.pop()!;
    if (v === null || typeof v !== "object") continue;
    deepest = Math.max(deepest, d);
    if (deepest >= stop) return deepest;
    for (const child of Object.values(v)) todo.push([child, d + 1]);
  }
  return deepest;
}

/**
 * Refuses a list longer than `maxItems` or with an item over `maxItem` bytes.
 * @param list the list
 * @param maxItems most items
 * @param maxItem most bytes per item
 * @param what how to name it
 * @throws {BatonError} `invalid_argument`
 */
export function capList(list: readonly string[] | undefined, maxItems: number, maxItem: number, what: string): void {
  if (list?.some((item) => typeof item === "string" && !item.isWellFormed())) throw illFormed(what);
  if (!list) return;
  if (list.length > maxItems) throw tooBig(what, list.length, maxItems, "items");
  for (const item of list) capText(item, maxItem, `An item of ${what.replace(/^\w/, (c) => c.toLowerCase())}`);
}

/**
 * Refuses a name (an agent id, a human's name) that is not one visible line: over {@link LIMITS}.name bytes, not
 * well-formed Unicode, with control characters or bidirectional overrides (a newline would forge a row of the
 * audit as `baton audit` prints it), or showing nothing.
 * @param name the name
 * @param what how to name it in the message
 * @throws {BatonError} `invalid_argument`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkName } from "./limits.ts";
 * assert.throws(() => checkName("impl-9\nhuman:dana", "The agent id"), /one line/);
 * checkName("Dana Ødegård", "The name");
 * ```
 */
export function checkName(name: string, what: string): void {
  capText(name, LIMITS.name, what);
  checkWellFormed(name, what);
  checkTitle(name, what);
}
