/**
 * Errors thrown by Baton. Every error is a {@link BatonError} carrying a
 * stable snake_case `code` that callers (the CLI, the MCP server, scripts)
 * can switch on, plus an optional location and structured details.
 *
 * @module
 */

/**
 * How each error code reaches its callers, in one place: the `baton` exit
 * code, the HTTP status of the dashboard and of `baton-mcp --http`, and what
 * an MCP server does with it. `report: true` marks failures of the
 * installation rather than of the request (the operator's problem, logged on
 * the server's stderr as well as returned). `rpc` is the JSON-RPC error code
 * where MCP answers with a protocol error (resource reads, prompts).
 */
export interface ErrorTreatment {
  /** The CLI's exit code: 1 error, 2 usage, 3 conflict or nothing to claim, 4 not found. */
  exit: 1 | 2 | 3 | 4;
  /** The HTTP status. */
  http: number;
  /** Whether a server also logs it as a failure of the installation. */
  report: boolean;
  /** JSON-RPC error code for protocol errors: invalid params, resource not found, or internal. */
  rpc: -32602 | -32002 | -32603;
}

const installation = (http: number): ErrorTreatment => ({ exit: 1, http, report: true, rpc: -32603 });
const conflict: ErrorTreatment = { exit: 3, http: 409, report: false, rpc: -32603 };

/** Stable error codes. Each has its row in {@link ERROR_TABLE}. */
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
  | "dependency_cycle"
  | "file_conflict"
  | "commit_required"
  | "write_conflict"
  | "forbidden"
  | "unauthorized"
  | "csrf"
  | "not_found"
  | "invalid_argument"
  | "payload_too_large"
  | "request_timeout"
  | "markdown_invalid"
  | "push_rejected"
  | "remote_unreachable"
  | "method_not_allowed"
  | "unavailable"
  | "internal";

/**
 * Every error code and its treatment. A new code is added to
 * {@link BatonErrorCode} and given its row here (the compiler insists), and
 * every adapter handles it from then on.
 */
export const ERROR_TABLE: Readonly<Record<BatonErrorCode, ErrorTreatment>> = {
  config_invalid: installation(500),
  config_not_found: installation(500),
  database_corrupt: installation(503),
  database_not_a_database: installation(503),
  database_empty: installation(503),
  database_missing: installation(503),
  database_newer: installation(503),
  database_readonly: installation(503),
  database_locked: installation(503),
  database_io: installation(503),
  database_full: installation(507),
  database_open_failed: installation(503),
  database_error: installation(500),
  migration_failed: installation(503),
  claim_conflict: conflict,
  nothing_to_claim: conflict,
  already_holding: conflict,
  invalid_transition: conflict,
  stale_token: conflict,
  dependency_cycle: conflict,
  file_conflict: conflict,
  commit_required: conflict,
  write_conflict: { exit: 1, http: 409, report: false, rpc: -32603 },
  forbidden: { exit: 3, http: 403, report: false, rpc: -32603 },
  // An HTTP request without the server's token, and a change without the dashboard page's CSRF token.
  unauthorized: { exit: 3, http: 401, report: false, rpc: -32603 },
  csrf: { exit: 3, http: 403, report: false, rpc: -32603 },
  not_found: { exit: 4, http: 404, report: false, rpc: -32002 },
  invalid_argument: { exit: 2, http: 400, report: false, rpc: -32602 },
  payload_too_large: { exit: 2, http: 413, report: false, rpc: -32602 },
  request_timeout: { exit: 1, http: 408, report: false, rpc: -32603 },
  markdown_invalid: { exit: 1, http: 422, report: false, rpc: -32602 },
  // The merge queue's remote refused a push for its own reasons (a hook, a protected branch): its message says why.
  push_rejected: { exit: 1, http: 502, report: false, rpc: -32603 },
  // The merge queue's remote could not be reached (a fetch, a push, `ls-remote` failed), still so after retries.
  remote_unreachable: { exit: 1, http: 502, report: false, rpc: -32603 },
  // An HTTP method an endpoint does not serve (its answer says which it does), and a server that is stopping.
  method_not_allowed: { exit: 2, http: 405, report: false, rpc: -32602 },
  unavailable: { exit: 1, http: 503, report: false, rpc: -32603 },
  internal: installation(500),
};

/**
 * How an error reaches callers: its code's row of {@link ERROR_TABLE};
 * anything that is not a `BatonError` is `internal`.
 *
 * @param e what was thrown
 * @returns the code and its treatment
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BatonError, treatmentOf } from "./errors.ts";
 * assert.equal(treatmentOf(new BatonError("not_found", "Ticket 9999 does not exist")).exit, 4);
 * assert.equal(treatmentOf(new Error("boom")).code, "internal");
 * ```
 */
export function treatmentOf(e: unknown): ErrorTreatment & { code: BatonErrorCode } {
  const code: BatonErrorCode = e instanceof BatonError && e.code in ERROR_TABLE ? e.code : "internal";
  return { code, ...ERROR_TABLE[code] };
}

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

/**
 * A message fit for a remote client: absolute file paths (a repository's
 * location, a database file) are cut to their last segment, so an error
 * does not tell a client where the server keeps its files.
 *
 * @param message the message
 * @returns the message without absolute paths
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withoutPaths } from "./errors.ts";
 * assert.equal(
 *   withoutPaths('SQLite step failed: busy (/home/dana/repo/.workflow/baton.db; SQLite code 5)'),
 *   "SQLite step failed: busy (…/baton.db; SQLite code 5)",
 * );
 * ```
 */
export function withoutPaths(message: string): string {
  return message.replace(/(?<![\w.~])(?:\/[^\s/;:,()'"`<>]+){2,}\/?/g, (path) => {
    const last = path.replace(/\/$/, "").split("/").pop();
    return `…/${last}`;
  });
}

/**
 * {@link withoutPaths} applied to every string inside a JSON-like value (an
 * error's `details`: a lock file, a configuration problem's file), for a
 * remote client.
 *
 * @param value the value (strings, arrays, plain objects; anything else as it is)
 * @returns a copy with absolute paths cut
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withoutPathsIn } from "./errors.ts";
 * assert.deepEqual(
 *   withoutPathsIn({ lock: "/home/dana/repo/.workflow/baton.db-lock/writer", waitedMs: 1500 }),
 *   { lock: "…/writer", waitedMs: 1500 },
 * );
 * ```
 */
export function withoutPathsIn(value: unknown): unknown {
  if (typeof value === "string") return withoutPaths(value);
  if (Array.isArray(value)) return value.map(withoutPathsIn);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutPathsIn(v)]));
  }
  return value;
}
