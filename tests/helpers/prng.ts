/**
 * The tests' seeded random source (mulberry32): property tests and fault
 * injection draw from it, so a failure replays from its seed.
 *
 * @module
 */

/** A seeded random source: returns floats in [0, 1). */
export type Rng = () => number;

/** mulberry32: a small, fast, seedable PRNG. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
