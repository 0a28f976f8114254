import assert from "node:assert/strict";
import { globMatches, globsOverlap, normalizeRepoPath } from "./mod.ts";

/** Every overlapping pair between two lists of globs (patterns validated first). */
function overlapping(patterns: string[], others: string[]): [string, string][] {
  for (const p of [...patterns, ...others]) normalizeRepoPath(p);
  const out: [string, string][] = [];
  for (const p of patterns) for (const o of others) if (globsOverlap(p, o)) out.push([p, o]);
  return out;
}

/** Asserts the overlap answer both ways round (the relation is symmetric). */
function assertOverlap(a: string, b: string, expected: boolean): void {
  assert.equal(globsOverlap(a, b), expected, `globsOverlap(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
  assert.equal(globsOverlap(b, a), expected, `globsOverlap(${JSON.stringify(b)}, ${JSON.stringify(a)})`);
}

const MUST_OVERLAP: [string, string][] = [
  ["src/**/*.ts", "src/a.ts"],
  ["src/**", "src/x/y.md"],
  ["**/*.md", "docs/*.md"],
  ["src/*.ts", "src/a*.ts"],
  ["a/{b,c}/d", "a/c/*"],
  ["src/lib", "src/lib/x.ts"],
  ["*.{js,ts}", "index.ts"],
  ["a/**/b", "a/b"],
  ["[a-c]*.ts", "b*.ts"],
];

const MUST_NOT_OVERLAP: [string, string][] = [
  ["src/*.ts", "src/x/a.ts"],
  ["src/**/*.ts", "src/a.js"],
  ["docs/*.md", "src/*.md"],
  ["a/*/c", "a/b/d/c"],
  ["*.ts", "*.js"],
  ["[ab]*", "[cd]*"],
  ["src/a.ts", "src/a.tsx"],
  ["a/{b,c}/d", "a/e/d"],
];

Deno.test("globsOverlap: the required overlapping pairs overlap, both ways round", () => {
  for (const [a, b] of MUST_OVERLAP) assertOverlap(a, b, true);
});

Deno.test("globsOverlap: the required disjoint pairs do not overlap, both ways round", () => {
  for (const [a, b] of MUST_NOT_OVERLAP) assertOverlap(a, b, false);
});

Deno.test("globsOverlap: character classes intersect as sets", () => {
  assertOverlap("[a-c]", "[b-z]", true);
  assertOverlap("[ab]", "[cd]", false);
  assertOverlap("[a-c]x", "[c-e]x", true); // they share exactly "c"
  assertOverlap("[a-c]x", "[d-f]x", false);
  assertOverlap("[!a-z]", "[a-z]", false);
  assertOverlap("[^a-z]", "[a-z]", false);
  assertOverlap("[!a-z]", "[!b-y]", true);
  assertOverlap("[!a]", "a", false);
  assertOverlap("[!a]", "b", true);
  assertOverlap("[!ab]", "[ab]", false);
  assertOverlap("[!a-y]", "[x-z]", true); // only "z"
  assertOverlap("[]]", "]", true); // "]" first is a member
  assertOverlap("[!]]", "]", false);
  assertOverlap("[a-]", "-", true); // "-" last is a member
  assertOverlap("[z-a]x", "?x", false); // a reversed range is empty
  assertOverlap("x[+-0]", "x[.]", true); // "." is in the range...
  assertOverlap("x[+-0]y", "x/y", false); // ...but a class never matches "/"
  assertOverlap("?", "[é]", true);
  assertOverlap("[α-ω]", "λ", true); // code points, not UTF-16 units
  assertOverlap("[α-ω]", "😀", false);
  assertOverlap("?", "😀", true); // "?" is one code point
  assertOverlap("[*]", "a*", false); // "[*]" is a literal "*" ...
  assertOverlap("[*]", "*", true);
  assertOverlap("a[bc", "a[bc", true); // an unclosed "[" is literal
  assertOverlap("a[bc", "ab", false);
});

Deno.test("globsOverlap: stars, question marks, globstars", () => {
  assertOverlap("*", "**", true);
  assertOverlap("**", "a/b/c/d.txt", true);
  assertOverlap("*", "a/b", false); // "*" stays in one segment
  assertOverlap("a*b", "a", false);
  assertOverlap("a*b", "ab", true); // "*" may be empty
  assertOverlap("a?b", "ab", false); // "?" may not
  assertOverlap("*a*", "*b*", true); // "ab"
  assertOverlap("a*", "*b", true);
  assertOverlap("*.ts", "*.d.ts", true);
  assertOverlap("x/**/y/**/z", "x/y/z", true);
  assertOverlap("x/**/y.ts", "x/ay.ts", false); // "**" is whole segments
  assertOverlap("x/**/y", "x/ay", true); // x/ay/y: "x/ay" is plain, so the directory rule applies
  assertOverlap("x/a**", "x/a/b", false); // "**" inside a segment is "*"
  assertOverlap("x/a**", "x/ab", true);
  assertOverlap("**/a", "a", true);
  assertOverlap("**/a.ts", "b/a.ts", true);
  assertOverlap("src/**", "src", true); // zero segments
  assertOverlap("src/**", "srcx", false);
  assertOverlap("a/*/b.ts", "a/b.ts", false); // a segment is never empty
  assertOverlap("**/*/**/*/**", "a.ts", false); // needs at least two segments
  assertOverlap("**/*/**/*/**", "a/b.ts", true);
  assertOverlap("**/*/**/*/**", "a", true); // a/x: "a" is a plain name (the directory rule)
});

Deno.test("globsOverlap: braces", () => {
  assertOverlap("{src,test}/**/*.ts", "test/a.ts", true);
  assertOverlap("{src,test}/**/*.ts", "docs/a.ts", false);
  assertOverlap("a/{b,c/{d,e}}/f", "a/c/e/f", true); // nested, with "/" inside
  assertOverlap("a/{b,c/{d,e}}/f", "a/c/f", false);
  assertOverlap("*.{j,t}s{,x}", "a.tsx", true);
  assertOverlap("*.{j,t}s{,x}", "a.tsz", false);
  assertOverlap("{a}", "{a}", true); // no comma: literal
  assertOverlap("{a}", "a", false);
  assertOverlap("a{b", "a{b", true); // unclosed: literal
  assertOverlap("{a{b,c}", "{ac", true);
  assertOverlap("{,a}/b", "b", true); // the empty alternative's "/" disappears
  assertOverlap("{[ab],*.md}", "c.md", true);
  assertOverlap("{[ab],*.md}", "c", false);
});

Deno.test("globsOverlap: the directory rule and trailing slashes", () => {
  // A plain, non-file-like last segment covers the directory of that name too.
  assertOverlap("src/lib", "src/lib/deep/x.ts", true);
  assertOverlap("src/lib", "src/lib", true);
  assertOverlap("src/lib", "src/library", false);
  assertOverlap("packages/*/src", "packages/a/src/x.ts", true);
  assertOverlap("{src,docs}", "docs/x.md", true); // the rule applies per brace alternative
  assertOverlap(".github", ".github/workflows/ci.yml", true);
  assertOverlap("Makefile", "Makefile", true);
  // A file-like last segment is the file only, so it does not overlap every "**/*.x".
  assertOverlap("src/a.ts", "**/*.md", false);
  assertOverlap("README.md", "README.md/x", false);
  assertOverlap(".eslintrc.json", ".eslintrc.json/x", false);
  // A glob last segment matches exactly (minimatch-like).
  assertOverlap("src/*", "src/a/b.ts", false);
  assertOverlap("src/*", "src/a", true);
  // A trailing "/" means the directory: what is under it, not the path itself.
  assertOverlap("conf.d/", "conf.d/x", true);
  assertOverlap("conf.d/", "conf.d", false); // "conf.d" is file-like: only that file
  assertOverlap("src/lib/", "src/li?", false);
  assertOverlap("src/lib/", "src/lib", true); // both cover src/lib/x
  assertOverlap("src/*/", "src/a", true); // src/a/x
  assertOverlap("src/*/", "src/a.ts", false);
  assertOverlap("src/*/", "src/*.ts", false);
  assertOverlap("**/", "a", true); // everything: a file at the root is under the root
});

Deno.test("globsOverlap: only well-formed paths count as witnesses", () => {
  assertOverlap("??", ".[.]", false); // only ".." would match both
  assertOverlap("?", "[.]", false); // only "."
  assertOverlap("???", "..?", true); // "..." is a fine name
  assertOverlap("?/x", "[.]/x", false);
  assertOverlap("*", "[.][.]", false);
  assertOverlap(".*", "?", false); // only "." would match both
  assertOverlap(".*", "??", true); // ".a"
});

Deno.test("globsOverlap: symmetric, and every pattern with a match overlaps itself", () => {
  const patterns = [
    ...MUST_OVERLAP.flat(),
    ...MUST_NOT_OVERLAP.flat(),
    "**",
    "**/",
    "src/lib/",
    "[!a-z]*",
    "{a,b/{c,d}}/**/e*",
    "x/**/y/**/z",
    ".github",
    "?",
    "*/*/*",
  ];
  for (const p of patterns) assert.ok(globsOverlap(p, p), `self-overlap of ${p}`);
  for (const a of patterns) {
    for (const b of patterns) assert.equal(globsOverlap(a, b), globsOverlap(b, a), `symmetry of ${a} / ${b}`);
  }
  // A pattern matching no path overlaps nothing, itself included.
  assert.equal(globsOverlap("[z-a]", "[z-a]"), false);
  assert.equal(globsOverlap("{,}", "**"), false);
});

Deno.test("globsOverlap and overlapping: patterns are normalized, invalid ones refused", () => {
  assertOverlap("./src//lib/../a.ts", "src\\*.ts", true);
  assert.throws(() => globsOverlap("../x", "**"), { name: "BatonError", code: "invalid_argument" });
  assert.throws(() => globsOverlap("**", "/etc/passwd"), { code: "invalid_argument", message: /\/etc\/passwd/ });
});

Deno.test("overlapping: every overlapping pair, in input order", () => {
  assert.deepEqual(
    overlapping(["src/engine.ts", "docs/*.md", "cli.ts"], ["src/**", "**/*.md", "tests/**", "docs/README.md"]),
    [
      ["src/engine.ts", "src/**"],
      ["docs/*.md", "**/*.md"],
      ["docs/*.md", "docs/README.md"],
    ],
  );
  assert.deepEqual(overlapping([], ["**"]), []);
  assert.deepEqual(overlapping(["a"], ["b", "c"]), []);
  assert.throws(() => overlapping(["src/**"], ["C:\\x"]), { code: "invalid_argument" });
  assert.throws(() => overlapping(["~/x"], []), { code: "invalid_argument" });
});

Deno.test("globMatches: concrete paths", () => {
  const yes: [string, string][] = [
    ["src/**/*.ts", "src/a.ts"],
    ["src/**/*.ts", "src/x/y/a.ts"],
    ["**", "a"],
    ["**", "a/b/c"],
    ["*.{js,ts}", "index.ts"],
    ["[a-c]*.ts", "b.ts"],
    ["[!a-c]*.ts", "d.ts"],
    ["a/**/b", "a/b"],
    ["a/**/b", "a/x/y/b"],
    ["src/lib", "src/lib"],
    ["src/lib", "src/lib/x/y.ts"],
    ["src/lib/", "src/lib/x"],
    ["*", ".env"], // dot files are not special
    ["?.ts", "é.ts"],
    ["src/**", "src"],
    ["src/*.ts", "./src/a.ts"], // the path is normalized
    ["src/*.ts", "src\\a.ts"],
    ["docs", "docs/"], // a trailing "/" on the path is ignored
    ["a[*]b", "a*b"],
    ["{a,b}/{c,d}", "b/d"],
  ];
  const no: [string, string][] = [
    ["src/*.ts", "src/x/a.ts"],
    ["src/**/*.ts", "src/a.js"],
    ["src/a.ts", "src/a.tsx"],
    ["src/a.ts", "src/a.ts/x"],
    ["src/lib/", "src/lib"],
    ["*.ts", "a.TS"], // case-sensitive
    ["a/*/c", "a/b/d/c"],
    ["a/**/b", "a/xb"],
    ["[ab]*", "c"],
    ["?", "ab"],
    ["a[*]b", "axb"],
    ["{a}", "a"],
  ];
  for (const [p, path] of yes) assert.ok(globMatches(p, path), `${p} should match ${path}`);
  for (const [p, path] of no) assert.ok(!globMatches(p, path), `${p} should not match ${path}`);
  assert.throws(() => globMatches("**", "../x"), { code: "invalid_argument" });
  assert.throws(() => globMatches("/abs/**", "x"), { code: "invalid_argument" });
});

Deno.test("normalizeRepoPath: accepted inputs and their normal forms", () => {
  const cases: [string, string][] = [
    ["src/a.ts", "src/a.ts"],
    ["./src/a.ts", "src/a.ts"],
    ["src\\lib\\a.ts", "src/lib/a.ts"],
    [".\\src\\*.ts", "src/*.ts"],
    ["src//lib///a.ts", "src/lib/a.ts"],
    ["src/./lib/./a.ts", "src/lib/a.ts"],
    ["src/lib/../a.ts", "src/a.ts"],
    ["a/b/c/../../d", "a/d"],
    ["src/lib/", "src/lib/"],
    ["src/lib//", "src/lib/"],
    ["src/lib/.", "src/lib/"],
    ["src/lib/x/..", "src/lib/"],
    ["src/**/*.{ts,tsx}", "src/**/*.{ts,tsx}"],
    ["src/[a-c]?/*.ts", "src/[a-c]?/*.ts"],
    ["**", "**"],
    ["a/~b", "a/~b"],
    ["...", "..."],
    ["..a/.b", "..a/.b"],
    ["src/*/x/../y", "src/*/y"], // ".." cancelling a plain segment after a glob one is fine
  ];
  for (const [input, expected] of cases) {
    assert.equal(normalizeRepoPath(input), expected, `normalizeRepoPath(${JSON.stringify(input)})`);
    assert.equal(normalizeRepoPath(expected), expected, `idempotent on ${JSON.stringify(expected)}`);
  }
});

Deno.test("normalizeRepoPath: refusals carry invalid_argument and name the input", () => {
  const refused: [string, RegExp][] = [
    ["", /empty/],
    ["   ", /empty/],
    ["src/a\0.ts", /NUL/],
    ["/etc/passwd", /absolute/],
    ["\\\\server\\share\\x", /absolute/],
    ["C:\\x", /drive/],
    ["c:/x", /drive/],
    ["C:x", /drive/],
    ["~", /home/],
    ["~/x", /home/],
    ["~user/x", /home/],
    ["./~/x", /home/],
    ["..", /escapes/],
    ["../x", /escapes/],
    ["a/../../x", /escapes/],
    ["./a/./../../x", /escapes/],
    [".", /root itself/],
    ["./", /root itself/],
    ["a/..", /root itself/],
    ["src/*/../x", /glob segment/],
    ["a/**/../x", /glob segment/],
    ["{..,a}/x", /brace/],
    ["{a/..,b}/x", /brace/],
    ["{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}", /more than 1024/],
  ];
  for (const [input, why] of refused) {
    assert.throws(() => normalizeRepoPath(input), (e: unknown) => {
      assert.ok(e instanceof Error && e.name === "BatonError", `${JSON.stringify(input)}: a BatonError`);
      const err = e as Error & { code: string };
      assert.equal(err.code, "invalid_argument");
      assert.match(err.message, why, `${JSON.stringify(input)}: ${err.message}`);
      assert.ok(err.message.includes(JSON.stringify(input)), `the message names the input: ${err.message}`);
      return true;
    });
  }
  // 2^10 expansions is the limit, and allowed.
  assert.equal(normalizeRepoPath("{a,b}".repeat(10)), "{a,b}".repeat(10));
});

// ---------------------------------------------------------------------------
// Cross-check against brute force.
//
// Random patterns of 1 to 3 segments drawn from SEGMENTS (a trailing "/" only
// on patterns of 1 or 2 segments), and every path of 1 to 6 segments whose
// segments are drawn from WORDS = {a, b, aa, ab, ba, bb} (55,986 paths). Each
// pattern is matched against every path by an independent reference (a
// RegExp built from the pattern text here, not by the module), and for every
// pair, globsOverlap(p, q) must equal "some enumerated path matches both".
//
// Why this enumeration is big enough (no witness is ever longer):
// 1. Characters. Every token below accepts "a" or "b", and two tokens that
//    share a character share "a" or "b": restricted to {a, b} the tokens
//    a, b, ?, [ab], [!a] are {a}, {b}, {a,b}, {a,b}, {b}; if one token is a
//    letter the shared character is that letter, otherwise all contain "b".
// 2. One segment. Two segment patterns (or brace alternatives) that share a
//    string share one of at most 2 characters over {a, b}: without a "*" a
//    segment pattern has fixed length <= 2; when both have a "*" each has at
//    most one other token ("a*" and "*b" share "ab"), so 2 characters suffice.
//    Any single segment pattern alone also matches a word of WORDS.
// 3. Segment count. Write a pattern as its single-segment matchers and its
//    gaps of zero or more segments ("**", the directory rule's implicit "/**";
//    a trailing "/" adds the matcher "*" then a gap). Given a path matched by
//    both patterns, a segment lying in a gap of both can be deleted and both
//    still match, so a shortest common path has at most m(p) + m(q) segments,
//    m = number of matchers. m <= 3 here: 3 segments without a trailing "/",
//    or at most 2 segments plus the "*" of a trailing "/". So <= 6 segments.
// Conversely a pair whose shortest witness were longer would show up as a
// failure (overlap reported, no enumerated witness), never as a silent pass.

/** Segment forms: 1- and 2-token segments, a globstar, braces (no "/" inside). */
const SEGMENTS = ["a", "b", "*", "?", "**", "[ab]", "[!a]", "a*", "*b", "?a", "ab", "{a,b*}", "{*a,b}"];
const WORDS = ["a", "b", "aa", "ab", "ba", "bb"];
const MAX_SEGMENTS = 6;

/** Small deterministic PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Expands the (non-nested) braces of a test pattern. */
function refExpand(p: string): string[] {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  return m[1].split(",").flatMap((alt) => refExpand(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length)));
}

/**
 * The reference matcher: a RegExp tested against `path + "/"`, in which every
 * segment is followed by "/" and "**" is "(?:[^/]+/)*".
 */
function refRegExp(pattern: string): RegExp {
  const alternatives = refExpand(pattern).map((e) => {
    const dir = e.endsWith("/");
    const segs = e.split("/").filter((s) => s !== "");
    let re = "";
    for (const seg of segs) {
      if (seg === "**") {
        re += "(?:[^/]+/)*";
        continue;
      }
      re += seg.replace(/\[!/g, "[^/").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]") + "/";
    }
    const last = segs[segs.length - 1];
    if (dir) re += "[^/]+/(?:[^/]+/)*";
    else if (/^[ab]+$/.test(last)) re += "(?:[^/]+/)*"; // plain, and never file-like (no ".")
    return re;
  });
  return new RegExp(`^(?:${alternatives.join("|")})$`);
}

Deno.test("globsOverlap and globMatches agree with brute force on random small patterns", () => {
  const random = prng(20240611);
  const patterns = new Set<string>(["**", "a", "a/", "**/a", "*/", "a/**/b", "[!a]/*b"]);
  while (patterns.size < 110) {
    const depth = 1 + Math.floor(random() * 3);
    const segs = Array.from({ length: depth }, () => SEGMENTS[Math.floor(random() * SEGMENTS.length)]);
    patterns.add(segs.join("/") + (depth <= 2 && random() < 0.3 ? "/" : ""));
  }
  const list = [...patterns];

  const paths: string[] = [];
  let level = [""];
  for (let n = 1; n <= MAX_SEGMENTS; n++) {
    level = level.flatMap((prefix) => WORDS.map((w) => (prefix ? `${prefix}/${w}` : w)));
    paths.push(...level);
  }
  assert.equal(paths.length, 55_986);

  const words = Math.ceil(paths.length / 32);
  const matchSets = list.map((p) => {
    const re = refRegExp(p);
    const bits = new Uint32Array(words);
    for (let i = 0; i < paths.length; i++) if (re.test(paths[i] + "/")) bits[i >>> 5] |= 1 << (i & 31);
    return bits;
  });

  // globMatches against the reference, on every path of up to 4 segments.
  const short = paths.filter((p) => p.split("/").length <= 4);
  for (let k = 0; k < list.length; k++) {
    for (let i = 0; i < short.length; i++) {
      const expected = (matchSets[k][i >>> 5] & (1 << (i & 31))) !== 0;
      if (globMatches(list[k], short[i]) !== expected) {
        assert.fail(`globMatches(${JSON.stringify(list[k])}, ${JSON.stringify(short[i])}) should be ${expected}`);
      }
    }
  }

  let overlaps = 0, disjoint = 0;
  for (let a = 0; a < list.length; a++) {
    for (let b = a; b < list.length; b++) {
      let expected = false;
      for (let w = 0; w < words && !expected; w++) expected = (matchSets[a][w] & matchSets[b][w]) !== 0;
      const got = globsOverlap(list[a], list[b]);
      if (got !== expected) {
        assert.fail(
          `globsOverlap(${JSON.stringify(list[a])}, ${JSON.stringify(list[b])}) = ${got}, brute force ${expected}`,
        );
      }
      assert.equal(globsOverlap(list[b], list[a]), got);
      if (got) overlaps++;
      else disjoint++;
    }
  }
  // The sample is meaningful only if both answers are common.
  assert.ok(overlaps > 500 && disjoint > 500, `overlapping ${overlaps}, disjoint ${disjoint}`);
});
