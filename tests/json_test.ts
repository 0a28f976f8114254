import assert from "node:assert/strict";
import { isoDates } from "../src/json.ts";

/**
 * What isoDates was first written as, and must keep meaning: a JSON round trip with the time rule as replacer. One
 * difference, on purpose: the round trip threw a RangeError for an infinite number under a time key; the walk writes
 * null, as JSON writes any other infinity.
 */
function roundTrip<T>(value: T): T {
  const TIME_KEY = /(At|_at|^at|since|Since|^lastHeartbeat|^lastActivity)$/;
  return JSON.parse(JSON.stringify(value, (k, v) => {
    if (typeof v === "number" && Number.isFinite(v) && TIME_KEY.test(k) && v > 946684800000) {
      return new Date(v).toISOString();
    }
    return v;
  }));
}

Deno.test("isoDates: times under time keys become ISO strings; counts, durations and other keys stay numbers", () => {
  const at = Date.UTC(2026, 11, 5, 9, 30);
  assert.deepEqual(
    isoDates({
      at,
      claimedAt: at,
      lease_expires_at: at,
      since: at,
      idleSince: at,
      lastHeartbeat: at, // baton agents --json, the dashboard's agents
      lastActivity: at,
      attempts: 3,
      retry_at: 500, // before 2000: a duration, not a time
      seq: at,
      phases: [{ started_at: at, completed_at: null }],
    }),
    {
      at: "2026-12-05T09:30:00.000Z",
      claimedAt: "2026-12-05T09:30:00.000Z",
      lease_expires_at: "2026-12-05T09:30:00.000Z",
      since: "2026-12-05T09:30:00.000Z",
      idleSince: "2026-12-05T09:30:00.000Z",
      lastHeartbeat: "2026-12-05T09:30:00.000Z",
      lastActivity: "2026-12-05T09:30:00.000Z",
      attempts: 3,
      retry_at: 500,
      seq: at,
      phases: [{ started_at: "2026-12-05T09:30:00.000Z", completed_at: null }],
    },
  );
});

Deno.test("isoDates: the same result as the JSON round trip, on random values (property)", () => {
  let seed = 21;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const keys = [
    "at",
    "createdAt",
    "claimed_at",
    "since",
    "lastSince",
    "lastHeartbeat",
    "id",
    "n",
    "name",
    "0",
    "10",
    "__proto__",
    "toJSON",
    "a b",
    "",
  ];
  const leaf = (): unknown => {
    const r = rand();
    if (r < 0.15) return Date.UTC(2000 + Math.floor(rand() * 40), 0, 1) + Math.floor(rand() * 1e9);
    if (r < 0.25) return Math.floor(rand() * 1000) - 500;
    if (r < 0.3) return [NaN, Infinity, -Infinity, -0, 946684800000, 946684800001, 0.5][Math.floor(rand() * 7)];
    if (r < 0.45) return `s${Math.floor(rand() * 100)}`;
    if (r < 0.5) return rand() < 0.5;
    if (r < 0.6) return null;
    if (r < 0.65) return undefined;
    if (r < 0.68) return () => 1;
    if (r < 0.7) return Symbol("x");
    if (r < 0.74) return new Date(Date.UTC(2026, 0, 1) + Math.floor(rand() * 1e10));
    if (r < 0.76) return { toJSON: (k: string) => `json of ${k}` };
    if (r < 0.78) {
      return [new Number(Date.UTC(2026, 0, 1)), new String("boxed"), new Boolean(false)][Math.floor(rand() * 3)];
    }
    return Date.UTC(2026, 5, 1);
  };
  const value = (depth: number): unknown => {
    const r = rand();
    if (depth > 3 || r < 0.4) return leaf();
    if (r < 0.65) {
      const a: unknown[] = Array.from({ length: Math.floor(rand() * 5) }, () => value(depth + 1));
      if (rand() < 0.1) a.length += 2; // holes
      return a;
    }
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rand() * 6); i > 0; i--) {
      const k = keys[Math.floor(rand() * keys.length)];
      Object.defineProperty(o, k, {
        value: value(depth + 1),
        enumerable: rand() < 0.95,
        writable: true,
        configurable: true,
      });
    }
    return o;
  };
  for (let i = 0; i < 2000; i++) {
    const v = value(0);
    const want = roundTrip({ v }).v;
    const got = isoDates({ v }).v;
    assert.deepEqual(got, want, `case ${i}: ${JSON.stringify(v)}`);
    assert.equal(JSON.stringify(got), JSON.stringify(want), `case ${i}: key order and text`);
  }
});

Deno.test("isoDates: cycles and BigInts throw the TypeError JSON.stringify throws", () => {
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = { back: cycle };
  assert.throws(() => isoDates(cycle), TypeError);
  assert.throws(() => isoDates({ n: 1n }), TypeError);
  // A value seen twice without a cycle is fine, as in JSON.
  const shared = { at: Date.UTC(2026, 0, 1) };
  assert.deepEqual(isoDates({ x: shared, y: shared }), {
    x: { at: "2026-01-01T00:00:00.000Z" },
    y: { at: "2026-01-01T00:00:00.000Z" },
  });
});
