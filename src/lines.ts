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
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/; // C0, DEL, C1 (NEL, CSI), separators

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
  if (value === undefined) return;
  for (const [re, kind] of [[CONTROL, "control characters"], [BIDI, "bidirectional overrides"]] as const) {
    if (!re.test(value)) continue;
    const at = value.search(re);
    throw new BatonError(
      "invalid_argument",
      `${what} must be one line without ${kind} (found U+${
        value.charCodeAt(at).toString(16).padStart(4, "0").toUpperCase()
      } at character ${at + 1})`,
    );
  }
}

/**
 * Bidirectional embeddings, overrides and isolates: they make text display
 * in another order than it is stored (`U+202E` turns `gnp.exe` into
 * `exe.png` on screen), so a title could show one thing and say another.
 */
const BIDI = /[\u202a-\u202e\u2066-\u2069]/;

/** Characters that show nothing: spaces, zero-width characters, joiners, the byte-order mark. */
const INVISIBLE = /^[\s\u200b-\u200f\u2060-\u2064\ufeff\u180e\u00ad\u034f\u115f\u1160\u3164\uffa0]*$/;

/**
 * Refuses a title that {@link checkLine} refuses, or that shows nothing
 * (only spaces and zero-width characters).
 * @param value the title (undefined passes)
 * @param what how to name it in the message
 * @throws {BatonError} `invalid_argument`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTitle } from "./lines.ts";
 * assert.throws(() => checkTitle("\u200b\u200b", "The title"), /shows nothing/);
 * assert.throws(() => checkTitle("report\u202egnp.exe", "The title"), /bidirectional/);
 * ```
 */
export function checkTitle(value: string | undefined, what: string): void {
  checkLine(value, what);
  if (value !== undefined && INVISIBLE.test(value)) {
    throw new BatonError("invalid_argument", `${what} shows nothing: it has only spaces or zero-width characters`);
  }
}
