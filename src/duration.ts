/**
 * Durations as people write them (`90s`, `30m`, `2h`, `3d`, `1w`) and as
 * Baton shows them (`45s`, `12m`, `3h05m`, `2d04h`).
 *
 * @module
 */
import { BatonError } from "./errors.ts";

const UNIT_MS = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 } as const;

/**
 * Reads a start time given as a duration back from `now` or as a date.
 *
 * @param value `2h`, `3d`, `30m`, `45s`, `1w` (decimals allowed), or a date `Date.parse` reads
 * @param now the current time, ms since the epoch
 * @param name how the caller calls the value, for the error message
 * @returns ms since the epoch, or undefined when `value` is undefined
 * @throws {BatonError} `invalid_argument` for anything else
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSince } from "./duration.ts";
 * const now = Date.UTC(2026, 11, 1, 12);
 * assert.equal(parseSince("2h", now), Date.UTC(2026, 11, 1, 10));
 * assert.equal(parseSince("2026-11-30", now), Date.UTC(2026, 10, 30));
 * ```
 */
export function parseSince(value: string | undefined, now: number, name = "since"): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(value.trim());
  const t = m ? now - Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : Date.parse(value);
  // A time a Date can hold (±100,000,000 days): `99999999999d` ago is none.
  if (Number.isNaN(t) || Math.abs(t) > 8.64e15) {
    throw new BatonError(
      "invalid_argument",
      `${name} must be a duration like 2h, 3d, 30m or a date${
        Number.isNaN(t) ? "" : " within the years a date can hold"
      }, got "${value}"`,
    );
  }
  return t;
}

/**
 * Shows a duration for people: `45s`, `12m`, `3h05m`, `2d04h`.
 *
 * @param ms the duration in ms (null or undefined: `-`)
 * @returns the text
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./duration.ts";
 * assert.equal(formatDuration(3 * 3600e3 + 5 * 60e3), "3h05m");
 * assert.equal(formatDuration(null), "-");
 * ```
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}
