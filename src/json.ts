/**
 * JSON for people and programs: Baton keeps times as milliseconds since the
 * epoch, and every JSON it prints (`--json`, MCP results, the dashboard's
 * API) shows them as ISO 8601 strings instead.
 *
 * @module
 */

/** Keys whose numbers are times: `at`, `*At`, `*_at`, `since`, `*Since`. */
const TIME_KEY = /(At|_at|^at|since|Since)$/;
/** 2000-01-01: smaller numbers under such keys are counts or durations, not times. */
const EARLIEST = 946684800000;

/**
 * Copies a value with every time field (by key name) as an ISO string.
 *
 * @param value any JSON-serialisable value
 * @returns the same shape, times as `2026-12-01T09:00:00.000Z`
 * @throws {TypeError} for values JSON cannot represent (cycles, BigInt)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isoDates } from "./json.ts";
 * assert.deepEqual(isoDates({ claimedAt: Date.UTC(2026, 0, 2), attempts: 2 }), {
 *   claimedAt: "2026-01-02T00:00:00.000Z",
 *   attempts: 2,
 * });
 * ```
 */
export function isoDates<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (k, v) => {
    if (typeof v === "number" && TIME_KEY.test(k) && v > EARLIEST) return new Date(v).toISOString();
    return v;
  }));
}
