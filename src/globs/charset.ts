/**
 * Character sets on automaton edges, and the small automaton that accepts
 * only well-formed repository paths.
 *
 * @module
 */

// ---------------------------------------------------------------------------
// Character sets

export const MAX_CP = 0x10ffff;
export const CP_SLASH = 0x2f;
export const CP_DOT = 0x2e;

/**
 * A set of characters on an automaton edge: sorted, disjoint, inclusive
 * code point ranges within [1, MAX_CP] (NUL is never part of a path), flattened
 * as `[lo0, hi0, lo1, hi1, ...]`. `lit` is the code point when the set is a
 * single character (the common case, tested first), otherwise -1.
 */
export interface CharSet {
  readonly lit: number;
  readonly ranges: readonly number[];
}

/** Shared instances, so that equal sets on parallel edges are recognized cheaply (bounded). */
const interned = new Map<string, CharSet>();

export function charSet(ranges: number[]): CharSet {
  const key = ranges.join(",");
  const known = interned.get(key);
  if (known) return known;
  const cs = { lit: ranges.length === 2 && ranges[0] === ranges[1] ? ranges[0] : -1, ranges };
  if (interned.size < 10_000) interned.set(key, cs);
  return cs;
}

/** Any character, `/` included (used inside `**`). */
export const ANY = charSet([1, MAX_CP]);
/** Any character but `/` (`?` and `*`). */
export const NOT_SLASH = charSet([1, CP_SLASH - 1, CP_SLASH + 1, MAX_CP]);
export const SLASH = charSet([CP_SLASH, CP_SLASH]);

export function literal(cp: number): CharSet {
  return charSet([cp, cp]);
}

/** Sorts and merges ranges given as [lo, hi] pairs; drops empty ones. */
export function mergeRanges(pairs: [number, number][]): [number, number][] {
  const sorted = pairs.filter(([lo, hi]) => lo <= hi).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** Complement of merged ranges within [1, MAX_CP]. */
export function complement(ranges: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let next = 1;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

/** A bracket class as a character set: never `/`, never NUL. */
export function classSet(members: [number, number][], negated: boolean): CharSet {
  let ranges = mergeRanges(members);
  if (negated) ranges = complement(ranges);
  // Remove "/" (and NUL) by intersecting with NOT_SLASH.
  const clipped: number[] = [];
  for (const [lo, hi] of ranges) {
    const a = Math.max(lo, 1);
    if (a <= Math.min(hi, CP_SLASH - 1)) clipped.push(a, Math.min(hi, CP_SLASH - 1));
    const b = Math.max(lo, CP_SLASH + 1);
    if (b <= Math.min(hi, MAX_CP)) clipped.push(b, Math.min(hi, MAX_CP));
  }
  return charSet(clipped);
}

export function has(cs: CharSet, cp: number): boolean {
  if (cs.lit >= 0) return cs.lit === cp;
  const r = cs.ranges;
  for (let i = 0; i < r.length; i += 2) {
    if (cp < r[i]) return false;
    if (cp <= r[i + 1]) return true;
  }
  return false;
}

// Character categories, as seen by the well-formed-path automaton.
export const K_SLASH = 1;
export const K_DOT = 2;
export const K_OTHER = 4;

export function kindOf(cp: number): number {
  return cp === CP_SLASH ? K_SLASH : cp === CP_DOT ? K_DOT : K_OTHER;
}

/** Which categories of characters the intersection of two sets holds (a bit mask of K_*). */
export function commonKinds(x: CharSet, y: CharSet): number {
  if (x.lit >= 0) return has(y, x.lit) ? kindOf(x.lit) : 0;
  if (y.lit >= 0) return has(x, y.lit) ? kindOf(y.lit) : 0;
  const a = x.ranges, b = y.ranges;
  let i = 0, j = 0, mask = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i], b[j]);
    const hi = Math.min(a[i + 1], b[j + 1]);
    if (lo <= hi) {
      if (lo <= CP_SLASH && CP_SLASH <= hi) mask |= K_SLASH;
      if (lo <= CP_DOT && CP_DOT <= hi) mask |= K_DOT;
      // Something besides "." and "/": the interval has more than the special characters in it.
      const specials = (lo <= CP_SLASH && CP_SLASH <= hi ? 1 : 0) + (lo <= CP_DOT && CP_DOT <= hi ? 1 : 0);
      if (hi - lo + 1 > specials) mask |= K_OTHER;
      if (mask === 7) return mask;
    }
    if (a[i + 1] < b[j + 1]) i += 2;
    else j += 2;
  }
  return mask;
}

// ---------------------------------------------------------------------------
// Well-formed paths: a 4-state automaton (plus a dead state, -1).
// 0: at the start of a segment (nothing yet); 1: segment is "."; 2: segment is "..";
// 3: inside a proper segment (the only accepting state).

/** WF_NEXT[state][k] for k = 0 (slash), 1 (dot), 2 (other). */
export const WF_NEXT: readonly (readonly number[])[] = [
  // start of segment: "/" would make an empty segment
  [-1, 1, 3],
  // "."
  [-1, 2, 3],
  // ".."; a third character makes it a proper segment
  [-1, 3, 3],
  // proper segment
  [0, 3, 3],
];
export const WF_ACCEPT = 3;
