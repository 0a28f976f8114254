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
import { compile } from "./nfa.ts";
import { normalize } from "./paths.ts";
import { commonKinds, has, K_DOT, K_OTHER, K_SLASH, WF_ACCEPT, WF_NEXT } from "./charset.ts";

export { normalizeRepoPath } from "./paths.ts";

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
 * import { globMatches } from "./mod.ts";
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
 * import { globsOverlap } from "./mod.ts";
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
