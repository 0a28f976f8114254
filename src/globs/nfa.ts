/**
 * Globs compiled to epsilon-free nondeterministic automata over characters,
 * memoized by pattern.
 *
 * @module
 */
import { ANY, type CharSet, classSet, literal, NOT_SLASH, SLASH } from "./charset.ts";
import { expandBraces, normalizeRepoPath } from "./paths.ts";

// ---------------------------------------------------------------------------
// Compilation

/** An epsilon-free NFA; edges of state s are `sets[s][i] -> targets[s][i]`. */
export interface Nfa {
  readonly size: number;
  readonly starts: readonly number[];
  readonly accept: Uint8Array;
  readonly sets: readonly (readonly CharSet[])[];
  readonly targets: readonly (readonly number[])[];
}

/** `*`, or one character from a set (`plain` when it was written as a literal character). */
type Token = { star: true } | { star: false; set: CharSet; plain: boolean };
/** A segment: `null` for a globstar, else its tokens. */
type Segment = Token[] | null;

const STAR: Token = { star: true };

/** Parses one segment (no `/` in it) into tokens. */
export function parseSegment(seg: string): Segment {
  if (seg === "**") return null;
  const cps = Array.from(seg, (c) => c.codePointAt(0)!);
  const tokens: Token[] = [];
  for (let i = 0; i < cps.length;) {
    const c = cps[i];
    if (c === 0x2a /* * */) {
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
      i++;
    } else if (c === 0x3f /* ? */) {
      tokens.push({ star: false, set: NOT_SLASH, plain: false });
      i++;
    } else if (c === 0x5b /* [ */) {
      const parsed = parseClass(cps, i);
      if (parsed) {
        tokens.push({ star: false, set: parsed.set, plain: false });
        i = parsed.end;
      } else {
        tokens.push({ star: false, set: literal(c), plain: true });
        i++;
      }
    } else {
      tokens.push({ star: false, set: literal(c), plain: true });
      i++;
    }
  }
  return tokens;
}

/** Parses a bracket class starting at `cps[at] === "["`; null when it is not closed. */
function parseClass(cps: number[], at: number): { set: CharSet; end: number } | null {
  let j = at + 1;
  let negated = false;
  if (cps[j] === 0x21 /* ! */ || cps[j] === 0x5e /* ^ */) {
    negated = true;
    j++;
  }
  const members: [number, number][] = [];
  let first = true;
  while (j < cps.length) {
    const c = cps[j];
    if (c === 0x5d /* ] */ && !first) return { set: classSet(members, negated), end: j + 1 };
    first = false;
    if (j + 2 < cps.length && cps[j + 1] === 0x2d /* - */ && cps[j + 2] !== 0x5d) {
      members.push([c, cps[j + 2]]);
      j += 3;
    } else {
      members.push([c, c]);
      j++;
    }
  }
  return null;
}

/** Whether a plain last segment looks like a file name: a "." after its first character. */
export function looksLikeFile(seg: string): boolean {
  return seg.indexOf(".", 1) >= 0;
}

export class NfaBuilder {
  readonly accept: boolean[] = [];
  readonly edges: { set: CharSet; to: number }[][] = [];
  readonly eps: number[][] = [];
  readonly starts: number[] = [];

  state(): number {
    this.accept.push(false);
    this.edges.push([]);
    this.eps.push([]);
    return this.accept.length - 1;
  }

  edge(from: number, set: CharSet, to: number): void {
    this.edges[from].push({ set, to });
  }

  /** Adds one brace-free expansion as an alternative. */
  addExpansion(expansion: string): void {
    const dir = expansion.endsWith("/");
    const names = expansion.split("/").filter((s) => s !== "" && s !== ".");
    if (names.length === 0) return; // matches nothing
    const segments: Segment[] = names.map(parseSegment);
    const last = names[names.length - 1];
    const lastSegment = segments[segments.length - 1];
    const plainLast = lastSegment !== null && lastSegment.every((t) => !t.star && t.plain);
    if (dir) {
      // "x/" is "x/*/**": one more segment, then anything.
      segments.push([STAR], null);
    } else if (plainLast && !looksLikeFile(last)) {
      // The directory rule: a plain, non-file-like name also covers everything under it.
      segments.push(null);
    }
    // "**/**" is "**".
    const segs = segments.filter((s, k) => !(s === null && segments[k - 1] === null));

    const start = this.state();
    this.starts.push(start);
    let cur = start;
    let needSlash = false; // whether a "/" separates `cur` from the next plain segment
    for (let k = 0; k < segs.length; k++) {
      const seg = segs[k];
      if (seg === null) {
        if (needSlash) {
          // X/** and X/**/Y: X (/ anything)? [/ Y]
          const slash = this.state(), body = this.state(), next = this.state();
          this.edge(cur, SLASH, slash);
          this.edge(slash, ANY, body);
          this.edge(body, ANY, body);
          this.eps[cur].push(next);
          this.eps[body].push(next);
          cur = next;
        } else {
          // **/Y: (anything /)? Y; ** alone: anything.
          const body = this.state(), next = this.state();
          this.edge(cur, ANY, body);
          this.edge(body, ANY, body);
          this.eps[cur].push(next);
          if (k === segs.length - 1) this.eps[body].push(next);
          else this.edge(body, SLASH, next);
          cur = next;
        }
      } else {
        if (needSlash) {
          const s = this.state();
          this.edge(cur, SLASH, s);
          cur = s;
        }
        for (const t of seg) {
          if (t.star) this.edge(cur, NOT_SLASH, cur);
          else {
            const s = this.state();
            this.edge(cur, t.set, s);
            cur = s;
          }
        }
        needSlash = true;
      }
    }
    this.accept[cur] = true;
  }

  /** Removes epsilon moves, then keeps only states that are reachable and can reach acceptance. */
  finish(): Nfa {
    const n = this.accept.length;
    const sets: CharSet[][] = [];
    const targets: number[][] = [];
    const accept = new Uint8Array(n);
    for (let s = 0; s < n; s++) {
      const closure = [s];
      const inClosure = new Set(closure);
      for (let i = 0; i < closure.length; i++) {
        for (const t of this.eps[closure[i]]) {
          if (!inClosure.has(t)) {
            inClosure.add(t);
            closure.push(t);
          }
        }
      }
      const seen = new Set<string>();
      const ss: CharSet[] = [], ts: number[] = [];
      for (const u of closure) {
        if (this.accept[u]) accept[s] = 1;
        for (const { set, to } of this.edges[u]) {
          const key = `${set.ranges.join(",")}>${to}`;
          if (seen.has(key)) continue;
          seen.add(key);
          ss.push(set);
          ts.push(to);
        }
      }
      sets.push(ss);
      targets.push(ts);
    }
    // Trim: forward reachability from the starts, backward from accepting states.
    const reach = new Uint8Array(n);
    const stack = [...this.starts];
    for (const s of stack) reach[s] = 1;
    while (stack.length) {
      for (const t of targets[stack.pop()!]) {
        if (!reach[t]) {
          reach[t] = 1;
          stack.push(t);
        }
      }
    }
    const preds: number[][] = Array.from({ length: n }, () => []);
    for (let s = 0; s < n; s++) for (const t of targets[s]) preds[t].push(s);
    const live = new Uint8Array(n);
    for (let s = 0; s < n; s++) {
      if (accept[s]) {
        live[s] = 1;
        stack.push(s);
      }
    }
    while (stack.length) {
      for (const p of preds[stack.pop()!]) {
        if (!live[p]) {
          live[p] = 1;
          stack.push(p);
        }
      }
    }
    const index = new Int32Array(n).fill(-1);
    let size = 0;
    for (let s = 0; s < n; s++) if (reach[s] && live[s]) index[s] = size++;
    const outSets: CharSet[][] = [], outTargets: number[][] = [];
    const outAccept = new Uint8Array(size);
    for (let s = 0; s < n; s++) {
      if (index[s] < 0) continue;
      outAccept[index[s]] = accept[s];
      const ss: CharSet[] = [], ts: number[] = [];
      for (let i = 0; i < targets[s].length; i++) {
        const t = index[targets[s][i]];
        if (t >= 0) {
          ss.push(sets[s][i]);
          ts.push(t);
        }
      }
      outSets.push(ss);
      outTargets.push(ts);
    }
    const starts = [...new Set(this.starts.map((s) => index[s]).filter((s) => s >= 0))];
    return { size, starts, accept: outAccept, sets: outSets, targets: outTargets };
  }
}

const CACHE_LIMIT = 4096;
const cache = new Map<string, Nfa>();

/** Normalizes and compiles a pattern, memoized by its text as given. */
export function compile(pattern: string): Nfa {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const normalized = normalizeRepoPath(pattern);
  const builder = new NfaBuilder();
  for (const expansion of expandBraces(normalized, pattern)) builder.addExpansion(expansion);
  const nfa = builder.finish();
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(pattern, nfa);
  return nfa;
}
