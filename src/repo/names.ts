/**
 * Names Baton gives the files and branches it makes for a phase.
 *
 * @module
 */

/**
 * The part of a branch, directory or log name a phase gives: lower case, dashes.
 * @param s a phase name
 * @returns the slug (`phase` when nothing is left)
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { slug } from "./names.ts";
 * assert.equal(slug("C++ Test Writing"), "c-test-writing");
 * assert.equal(slug("✓"), "phase");
 * ```
 */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "phase";
}
