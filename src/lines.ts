/**
 * One-line values: what Baton writes into a ticket's markdown (a title, a
 * priority, a template value) must not be able to break out of its line and
 * become headings, checkboxes or metadata.
 *
 * @module
 */
import { BatonError } from "./errors.ts";

/** Control characters, which would let a value written into markdown break out of its line. */
// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/;

/**
 * Refuses a title or single-line value with control characters (a newline
 * in a title could become headings, boxes and metadata in the ticket file).
 * @param value the value (undefined passes)
 * @param what how to name it in the message
 * @throws {BatonError} `invalid_argument`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkLine } from "./lines.ts";
 * assert.throws(() => checkLine("Cache\n## Status", "The title"), /one line/);
 * ```
 */
export function checkLine(value: string | undefined, what: string): void {
  if (value !== undefined && CONTROL.test(value)) {
    const at = value.search(CONTROL);
    throw new BatonError(
      "invalid_argument",
      `${what} must be one line without control characters (found U+${
        value.charCodeAt(at).toString(16).padStart(4, "0").toUpperCase()
      } at character ${at + 1})`,
    );
  }
}
