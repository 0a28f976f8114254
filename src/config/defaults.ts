/**
 * Constants of the configuration that modules loaded on the fast path (the
 * config cache, ticket ids) need without loading the validator.
 *
 * @module
 */

/**
 * The default `tickets.id_regex`: an optional letter, digits, then optionally
 * a letter, digits and a letter (`0083`, `0056k`, `0035b1`, `D0001`), followed
 * by `_`, `-`, `.`, a space or the end.
 */
export const DEFAULT_ID_REGEX: string = "^([A-Za-z]?\\d+[A-Za-z]?\\d*[A-Za-z]?)(?=[_\\-. ]|$)";

/**
 * Bump when parsing or validation changes what a given `.workflow/` produces:
 * the config cache (`cache.ts`) is keyed on it.
 */
export const CONFIG_FORMAT = 4;

/** The default `tickets.dependency_keys`. */
export const DEFAULT_DEPENDENCY_KEYS: { blocked_by: string[]; blocks: string[]; parent: string[] } = {
  blocked_by: ["Depends On", "Dependencies", "Dependency", "Depends", "Blocked By", "Requires"],
  blocks: ["Blocks", "Blocking"],
  parent: ["Parent Ticket", "Parent"],
};
