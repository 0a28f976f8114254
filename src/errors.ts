/**
 * Errors thrown by Baton. Every error is a {@link BatonError} carrying a
 * stable snake_case `code` that callers (the CLI, the MCP server, scripts)
 * can switch on, plus an optional location and structured details.
 *
 * @module
 */

/** Stable error codes. Extend the union when a new failure mode is added. */
export type BatonErrorCode =
  | "config_invalid"
  | "config_not_found"
  | "database_corrupt"
  | "database_not_a_database"
  | "database_empty"
  | "database_missing"
  | "database_newer"
  | "database_readonly"
  | "database_locked"
  | "database_io"
  | "database_full"
  | "database_open_failed"
  | "database_error"
  | "migration_failed"
  | "claim_conflict"
  | "nothing_to_claim"
  | "already_holding"
  | "invalid_transition"
  | "stale_token"
  | "not_found"
  | "forbidden"
  | "dependency_cycle"
  | "file_conflict"
  | "invalid_argument"
  | "markdown_invalid"
  | "write_conflict"
  | "internal";

/** Where in an input the problem is (a file, a line, a field). */
export interface ErrorLocation {
  /** File path, relative to the repository when known. */
  file?: string;
  /** 1-based line number. */
  line?: number;
  /** 1-based column number. */
  column?: number;
  /** Dotted field path inside a structured document, e.g. `agents.stale_timeout_minutes`. */
  field?: string;
}

/**
 * The base class of every error Baton throws on purpose.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BatonError } from "./errors.ts";
 * const e = new BatonError("not_found", 'Ticket "0083" does not exist');
 * assert(e.code === "not_found");
 * ```
 */
export class BatonError extends Error {
  /** Stable, snake_case machine-readable code. */
  readonly code: BatonErrorCode;
  /** Where in an input file the problem was found, if it came from one. */
  readonly location?: ErrorLocation;
  /** Extra structured facts (holder of a claim, a cycle's path...). */
  readonly details?: Record<string, unknown>;

  /**
   * Creates an error with a code.
   * @param code stable error code
   * @param message human-readable message
   * @param options location, details and the underlying cause
   */
  constructor(
    code: BatonErrorCode,
    message: string,
    options: { location?: ErrorLocation; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BatonError";
    this.code = code;
    if (options.location) this.location = options.location;
    if (options.details) this.details = options.details;
  }

  /** A plain JSON form: `{code, message, location?, details?}`. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.location) out.location = this.location;
    if (this.details) out.details = this.details;
    return out;
  }
}

/**
 * Formats a location as `file:line:column (field)` for messages.
 *
 * @param loc the location, if any
 * @returns the text, empty when there is no location
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatLocation } from "./errors.ts";
 * assert(formatLocation({ file: ".workflow/config.yaml", line: 3, field: "database.path" }) ===
 *   ".workflow/config.yaml:3 (database.path)");
 * ```
 */
export function formatLocation(loc: ErrorLocation | undefined): string {
  if (!loc) return "";
  let s = loc.file ?? "";
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.column !== undefined) s += `:${loc.column}`;
  if (loc.field) s += s ? ` (${loc.field})` : loc.field;
  return s;
}
