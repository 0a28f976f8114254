/**
 * Repository-relative paths and globs, and an exact test of whether two globs
 * can name the same file. Agents declare the files they will touch as paths or
 * globs; Baton reports (or refuses) work whose declarations overlap.
 *
 * Pure: no I/O, and nothing here looks at the file system. (In these comments
 * `\/` stands for `/` wherever `*` and `/` would otherwise end the comment.)
 *
 * ## Paths
 *
 * {@link normalizeRepoPath} turns a declared path or glob into its canonical,
 * repository-relative form: `\` becomes `/`, `.` segments and repeated `/`
 * disappear, `..` segments are resolved lexically, and a trailing `/` (or a
 * trailing `.`/`..` segment, which also names a directory) is kept as one
 * `/`. It refuses absolute paths (`/x`, `//server/x`, `C:\x`, `C:x`), home
 * paths (`~`, `~/x`, `~user/x`), anything that escapes the root (`../x`,
 * `a/../../x`), the root itself (`.`, `a/..`; write `**` for every file),
 * empty input and NUL characters. A `..` that would cancel a segment holding
 * glob metacharacters (`src/**\/..`) is refused too, since no lexical answer is
 * right for every path the glob matches; so is a `..` produced by brace
 * expansion (`{..,a}/x`).
 *
 * ## Globs
 *
 * The universe is the set of concrete repository paths: non-empty, made of
 * non-empty `/`-separated segments, none of which is `.` or `..`. Matching is
 * case-sensitive and dot files are not special (`*` matches `.env`).
 *
 * - **Braces** are expanded first, as a shell does: `{a,b,c}` is alternation,
 *   may nest, may hold any other syntax including `/`; a brace group without a
 *   top-level comma (`{a}`) or without its `}` is literal text. A pattern
 *   matches a path when one of its expansions does, and each expansion is read
 *   by the rules below on its own (empty segments an expansion produces, as in
 *   `{,a}/b`, are ignored). At most 1,024 expansions per pattern.
 * - Within a segment: `*` matches any run of characters except `/`, possibly
 *   empty; `?` exactly one character except `/`; `[abc]`, `[a-z]`, `[!a-z]`
 *   (or `[^a-z]`) one character of the class, never `/` (a `]` right after
 *   the opening `[` or `[!` is a member; a `[` with no closing `]` in its
 *   segment is literal; a reversed range such as `[z-a]` is empty). There is
 *   no escape character (`\` is a separator); write `[*]` for a literal `*`.
 * - `**` as a whole segment matches zero or more whole segments: `src/**\/*.ts`
 *   matches `src/a.ts` and `src/x/y/a.ts`, `a/**\/b` matches
 *   `a/b`, `src/**` matches `src` itself and everything under it, and `**`
 *   alone matches every path. Inside a longer segment, `**` is just `*`.
 * - Everything else is literal. Not supported (read literally): `!` negation,
 *   extglobs such as `+(a|b)`, POSIX classes such as `[[:alpha:]]`, numeric
 *   ranges such as `{1..3}`.
 * - **Directories.** A trailing `/` means the directory: `src/lib/` matches
 *   every path under `src/lib`, not `src/lib` itself. Without a trailing `/`,
 *   a pattern whose last segment is a plain name (no metacharacters) that does
 *   not look like a file name (no `.` after its first character), such as
 *   `src/lib`, `packages/*\/src`, `.github` or `Makefile`, names that path and,
 *   should it be a directory, everything under it: it behaves like the
 *   pattern followed by `/**`. A last segment that looks like a file name
 *   (`src/a.ts`, `README.md`, `.eslintrc.json`) or holds metacharacters
 *   (`src/*`, `*.ts`) matches exactly, so `src/a.ts` and `**\/*.md` do not
 *   overlap through an imaginary `src/a.ts/x.md`. Name a directory whose name
 *   has a dot with a trailing slash: `conf.d/`.
 *
 * {@link globsOverlap} is exact for these semantics: each pattern compiles to
 * a nondeterministic automaton over characters, and the test is a
 * breadth-first search of the product of the two automata with a small
 * automaton for "is a well-formed path", so it answers whether some concrete
 * path matches both, not an approximation.
 *
 * @module
 */
import { BatonError } from "./errors.ts";

// ---------------------------------------------------------------------------
// Normalization

/** Characters that make a segment a glob rather than a plain name. */
const GLOB_META = /[*?[\]{}]/;
/** The most brace expansions a single pattern may have. */
const MAX_EXPANSIONS = 1024;

function refuse(input: string, why: string): BatonError {
  return new BatonError("invalid_argument", `Invalid path ${JSON.stringify(input)}: ${why}`, {
    details: { input },
  });
}

/**
 * The shared lexical normalization. `glob` adds the checks that only make
 * sense for patterns (`..` after a glob segment, brace expansions).
 */
function normalize(input: string, glob: boolean): string {
  if (typeof input !== "string") {
    throw new BatonError("invalid_argument", `Invalid path: expected a string, got ${typeof input}`);
  }
  if (input.includes("\0")) throw refuse(input, "it contains a NUL character");
  if (input.trim() === "") throw refuse(input, "it is empty");
  const s = input.replaceAll("\\", "/");
  if (s.startsWith("/")) throw refuse(input, "it is absolute; give a path relative to the repository root");
  if (/^[A-Za-z]:/.test(s)) {
    throw refuse(input, "it looks like a Windows drive path; give a path relative to the repository root");
  }
  if (s.startsWith("~")) {
    throw refuse(input, "it looks like a home-directory path; give a path relative to the repository root");
  }
  const raw = s.split("/");
  const out: string[] = [];
  for (const seg of raw) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length === 0) throw refuse(input, "it escapes the repository root");
      const last = out[out.length - 1];
      if (glob && GLOB_META.test(last)) {
        throw refuse(input, `".." cannot be resolved after the glob segment ${JSON.stringify(last)}`);
      }
      out.pop();
      continue;
    }
    out.push(seg);
  }
  if (out.length === 0) {
    throw refuse(input, 'it names the repository root itself (use "**" to mean every file)');
  }
  // After resolution the first segment may be one that was refused above as a prefix.
  if (/^[A-Za-z]:/.test(out[0])) {
    throw refuse(input, "it resolves to a Windows drive path; give a path relative to the repository root");
  }
  if (out[0].startsWith("~")) {
    throw refuse(input, "it resolves to a home-directory path; give a path relative to the repository root");
  }
  const lastRaw = raw[raw.length - 1];
  const dir = lastRaw === "" || lastRaw === "." || lastRaw === "..";
  const result = out.join("/") + (dir ? "/" : "");
  if (glob && result.includes("{")) {
    for (const e of expandBraces(result, input)) {
      if (e.split("/").includes("..")) throw refuse(input, 'a brace alternative produces a ".." segment');
    }
  }
  return result;
}

/**
 * Validates a path or glob an agent declares, and returns its canonical
 * repository-relative form.
 *
 * @param input a path or glob relative to the repository root; `\` counts as `/`
 * @returns the normalized form: no `./`, `.`, `..` or repeated `/`; a trailing
 *   `/` kept (as one `/`) because it means "directory"; glob metacharacters kept
 * @throws {BatonError} `invalid_argument` when the input is empty, holds a NUL,
 *   is absolute (`/x`, `C:\x`, `~/x`), escapes the root (`../x`), names the root
 *   itself (`.`), or uses `..` where it cannot be resolved lexically
 *   (after a glob segment, or inside braces); the message names the input
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeRepoPath } from "./globs.ts";
 *
 * assert.equal(normalizeRepoPath("./src\\lib//./x/../*.ts"), "src/lib/*.ts");
 * assert.equal(normalizeRepoPath("docs/"), "docs/");
 * assert.throws(() => normalizeRepoPath("../secrets"), { code: "invalid_argument" });
 * assert.throws(() => normalizeRepoPath("C:\\Windows"), { code: "invalid_argument" });
 * ```
 */
export function normalizeRepoPath(input: string): string {
  return normalize(input, true);
}

// ---------------------------------------------------------------------------
// Brace expansion

/** Shell-style brace expansion; throws when there are too many expansions. */
function expandBraces(s: string, input: string): string[] {
  for (let i = s.indexOf("{"); i >= 0; i = s.indexOf("{", i + 1)) {
    let depth = 0;
    let close = -1;
    const commas: number[] = [];
    for (let k = i; k < s.length; k++) {
      const c = s[k];
      if (c === "{") depth++;
      else if (c === "}") {
        if (--depth === 0) {
          close = k;
          break;
        }
      } else if (c === "," && depth === 1) commas.push(k);
    }
    // No closing brace, or no top-level comma: this "{" is literal; inner groups may still expand.
    if (close < 0 || commas.length === 0) continue;
    const prefix = s.slice(0, i);
    const bounds = [i, ...commas, close];
    const suffixes = expandBraces(s.slice(close + 1), input);
    const out: string[] = [];
    for (let a = 0; a + 1 < bounds.length; a++) {
      for (const middle of expandBraces(s.slice(bounds[a] + 1, bounds[a + 1]), input)) {
        for (const suffix of suffixes) {
          out.push(prefix + middle + suffix);
          if (out.length > MAX_EXPANSIONS) {
            throw refuse(input, `its braces expand to more than ${MAX_EXPANSIONS} alternatives`);
          }
        }
      }
    }
    return out;
  }
  return [s];
}

// ---------------------------------------------------------------------------
// Character sets

const MAX_CP = 0x10ffff;
const CP_SLASH = 0x2f;
const CP_DOT = 0x2e;

/**
 * A set of characters on an automaton edge: sorted, disjoint, inclusive
 * code point ranges within [1, MAX_CP] (NUL is never part of a path), flattened
 * as `[lo0, hi0, lo1, hi1, ...]`. `lit` is the code point when the set is a
 * single character (the common case, tested first), otherwise -1.
 */
interface CharSet {
  readonly lit: number;
  readonly ranges: readonly number[];
}

/** Shared instances, so that equal sets on parallel edges are recognized cheaply (bounded). */
const interned = new Map<string, CharSet>();

function charSet(ranges: number[]): CharSet {
  const key = ranges.join(",");
  const known = interned.get(key);
  if (known) return known;
  const cs = { lit: ranges.length === 2 && ranges[0] === ranges[1] ? ranges[0] : -1, ranges };
  if (interned.size < 10_000) interned.set(key, cs);
  return cs;
}

/** Any character, `/` included (used inside `**`). */
const ANY = charSet([1, MAX_CP]);
/** Any character but `/` (`?` and `*`). */
const NOT_SLASH = charSet([1, CP_SLASH - 1, CP_SLASH + 1, MAX_CP]);
const SLASH = charSet([CP_SLASH, CP_SLASH]);

function literal(cp: number): CharSet {
  return charSet([cp, cp]);
}

/** Sorts and merges ranges given as [lo, hi] pairs; drops empty ones. */
function mergeRanges(pairs: [number, number][]): [number, number][] {
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
function complement(ranges: [number, number][]): [number, number][] {
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
function classSet(members: [number, number][], negated: boolean): CharSet {
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

function has(cs: CharSet, cp: number): boolean {
  if (cs.lit >= 0) return cs.lit === cp;
  const r = cs.ranges;
  for (let i = 0; i < r.length; i += 2) {
    if (cp < r[i]) return false;
    if (cp <= r[i + 1]) return true;
  }
  return false;
}

// Character categories, as seen by the well-formed-path automaton.
const K_SLASH = 1;
const K_DOT = 2;
const K_OTHER = 4;

function kindOf(cp: number): number {
  return cp === CP_SLASH ? K_SLASH : cp === CP_DOT ? K_DOT : K_OTHER;
}

/** Which categories of characters the intersection of two sets holds (a bit mask of K_*). */
function commonKinds(x: CharSet, y: CharSet): number {
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
const WF_NEXT: readonly (readonly number[])[] = [
  // start of segment: "/" would make an empty segment
  [-1, 1, 3],
  // "."
  [-1, 2, 3],
  // ".."; a third character makes it a proper segment
  [-1, 3, 3],
  // proper segment
  [0, 3, 3],
];
const WF_ACCEPT = 3;

// ---------------------------------------------------------------------------
// Compilation

/** An epsilon-free NFA; edges of state s are `sets[s][i] -> targets[s][i]`. */
interface Nfa {
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
function parseSegment(seg: string): Segment {
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
function looksLikeFile(seg: string): boolean {
  return seg.indexOf(".", 1) >= 0;
}

class NfaBuilder {
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
function compile(pattern: string): Nfa {
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

// ---------------------------------------------------------------------------
// Queries

/**
 * Tells whether a concrete path matches a glob, with the semantics described
 * in this module's documentation.
 *
 * @param pattern a glob or path; normalized with {@link normalizeRepoPath} first
 * @param path a concrete repository-relative file or directory path (normalized
 *   too; a trailing `/` is ignored; metacharacters in it are ordinary characters)
 * @returns true when the path matches the pattern
 * @throws {BatonError} `invalid_argument` when the pattern or the path is refused
 *   by {@link normalizeRepoPath}
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globMatches } from "./globs.ts";
 *
 * assert.ok(globMatches("src/**\/*.ts", "src/a/b.ts"));
 * assert.ok(globMatches("src/lib", "src/lib/x.ts")); // a plain name covers its directory
 * assert.ok(!globMatches("src/*.ts", "src/x/a.ts"));
 * ```
 */
export function globMatches(pattern: string, path: string): boolean {
  const nfa = compile(pattern);
  let p = normalize(path, false);
  if (p.endsWith("/")) p = p.slice(0, -1);
  let current = [...nfa.starts];
  const mark = new Int32Array(nfa.size); // mark[t] === step: t is already in the next set
  let step = 0;
  for (const ch of p) {
    const cp = ch.codePointAt(0)!;
    const next: number[] = [];
    step++;
    for (const s of current) {
      const sets = nfa.sets[s], targets = nfa.targets[s];
      for (let i = 0; i < sets.length; i++) {
        const t = targets[i];
        if (mark[t] !== step && has(sets[i], cp)) {
          mark[t] = step;
          next.push(t);
        }
      }
    }
    if (next.length === 0) return false;
    current = next;
  }
  return current.some((s) => nfa.accept[s] === 1);
}

/**
 * Tells whether some concrete path matches both globs, i.e. whether two agents
 * declaring them might touch the same file. Exact, symmetric, and fast for
 * everyday patterns (compiled automata are cached).
 *
 * @param a a glob or path, relative to the repository root
 * @param b another one
 * @returns true when at least one well-formed repository path matches both
 * @throws {BatonError} `invalid_argument` when either pattern is refused by
 *   {@link normalizeRepoPath}
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globsOverlap } from "./globs.ts";
 *
 * assert.ok(globsOverlap("src/**\/*.ts", "src/a.ts"));
 * assert.ok(globsOverlap("**\/*.md", "docs/*.md"));
 * assert.ok(globsOverlap("src/lib", "src/lib/x.ts"));
 * assert.ok(!globsOverlap("src/*.ts", "src/x/a.ts"));
 * assert.ok(!globsOverlap("[ab]*", "[cd]*"));
 * ```
 */
export function globsOverlap(a: string, b: string): boolean {
  const x = compile(a), y = compile(b);
  if (x.size === 0 || y.size === 0) return false;
  // Product state (p, q, w) encoded as (p * y.size + q) * 4 + w.
  const total = x.size * y.size * 4;
  const seenArray = total <= 1 << 22 ? new Uint8Array(total) : null;
  const seenSet = seenArray ? null : new Set<number>();
  const queue: number[] = [];
  const visit = (code: number): void => {
    if (seenArray) {
      if (seenArray[code]) return;
      seenArray[code] = 1;
    } else {
      if (seenSet!.has(code)) return;
      seenSet!.add(code);
    }
    queue.push(code);
  };
  for (const p of x.starts) for (const q of y.starts) visit((p * y.size + q) * 4);
  for (let head = 0; head < queue.length; head++) {
    const code = queue[head];
    const w = code % 4;
    const pq = (code - w) / 4;
    const q = pq % y.size;
    const p = (pq - q) / y.size;
    if (w === WF_ACCEPT && x.accept[p] && y.accept[q]) return true;
    const xs = x.sets[p], xt = x.targets[p], ys = y.sets[q], yt = y.targets[q];
    for (let i = 0; i < xs.length; i++) {
      for (let j = 0; j < ys.length; j++) {
        const kinds = commonKinds(xs[i], ys[j]);
        if (kinds === 0) continue;
        const base = (xt[i] * y.size + yt[j]) * 4;
        const next = WF_NEXT[w];
        if (kinds & K_SLASH && next[0] >= 0) visit(base + next[0]);
        if (kinds & K_DOT && next[1] >= 0) visit(base + next[1]);
        if (kinds & K_OTHER && next[2] >= 0) visit(base + next[2]);
      }
    }
  }
  return false;
}

/**
 * Lists every overlapping pair between two lists of globs, for reporting
 * conflicts between one agent's declared files and another's.
 *
 * @param patterns the globs on one side (e.g. the files a new claim declares)
 * @param others the globs on the other side (e.g. files declared by held claims)
 * @returns every `[pattern, other]` pair (as given, in input order) that
 *   {@link globsOverlap}; empty when there is none
 * @throws {BatonError} `invalid_argument` when any pattern is refused by
 *   {@link normalizeRepoPath}
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overlapping } from "./globs.ts";
 *
 * assert.deepEqual(
 *   overlapping(["src/engine.ts", "docs/*.md"], ["src/**", "tests/**", "**\/README.md"]),
 *   [["src/engine.ts", "src/**"], ["docs/*.md", "**\/README.md"]],
 * );
 * ```
 */
export function overlapping(patterns: string[], others: string[]): [string, string][] {
  // Validate everything up front so an invalid pattern is reported even when the other list is empty.
  for (const p of patterns) compile(p);
  for (const o of others) compile(o);
  const out: [string, string][] = [];
  for (const p of patterns) {
    for (const o of others) if (globsOverlap(p, o)) out.push([p, o]);
  }
  return out;
}
