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

/**
 * The branch a ticket's work is committed on: `baton run` makes it, and the
 * merge queue lands it unless another branch was given for the ticket.
 * @param ticketId the ticket's id
 * @returns the branch name (`baton/<id>`)
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ticketBranch } from "./names.ts";
 * assert.equal(ticketBranch("0083"), "baton/0083");
 * ```
 */
export function ticketBranch(ticketId: string): string {
  return `baton/${ticketId}`;
}

/**
 * The branch of a parallel group's phase, off its ticket's branch.
 * @param ticketId the ticket's id
 * @param phase the phase's name
 * @returns the branch name (`baton/<id>--<slug>`)
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { phaseBranch } from "./names.ts";
 * assert.equal(phaseBranch("0083", "C++ Implementation"), "baton/0083--c-implementation");
 * ```
 */
export function phaseBranch(ticketId: string, phase: string): string {
  return `${ticketBranch(ticketId)}--${slug(phase)}`;
}

/**
 * Which ticket (and group phase) one of Baton's branches is for.
 * @param branch a branch name
 * @returns the ticket and, for a group phase's branch, the phase's slug; null for another branch
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBranch } from "./names.ts";
 * assert.deepEqual(parseBranch("baton/0083--api"), { ticket: "0083", phase: "api" });
 * assert.equal(parseBranch("main"), null);
 * ```
 */
export function parseBranch(branch: string | null): { ticket: string; phase: string | null } | null {
  const m = /^baton\/([^/]+?)(?:--(.*))?$/.exec(branch ?? "");
  return m ? { ticket: m[1], phase: m[2] ?? null } : null;
}
