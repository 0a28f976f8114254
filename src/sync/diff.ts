/**
 * A unified diff of two texts, line by line, for `baton sync --dry-run`.
 *
 * @module
 */

interface Op {
  t: " " | "-" | "+";
  s: string;
  /** 1-based line in the old text where this op stands (for "+", the line it comes before). */
  a: number;
  /** 1-based line in the new text (for "-", the line it comes before). */
  b: number;
}

/**
 * The unified diff of `a` → `b` (3 lines of context), empty when equal.
 * @param a the old text
 * @param b the new text
 * @param name the file, for the `---`/`+++` lines
 * @returns the diff
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unifiedDiff } from "./diff.ts";
 * assert.equal(unifiedDiff("a\nb\n", "a\nc\n", "t.md"), "--- a/t.md\n+++ b/t.md\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n \n");
 * ```
 */
export function unifiedDiff(a: string, b: string, name: string): string {
  if (a === b) return "";
  const x = a.split("\n"), y = b.split("\n");
  // Longest common subsequence over lines (tickets are a few hundred lines at most).
  const n = x.length, m = y.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: Op[] = [];
  for (let i = 0, j = 0; i < n || j < m;) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ t: " ", s: x[i], a: ++i, b: ++j });
    else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ t: "-", s: x[i], a: ++i, b: j + 1 });
    else ops.push({ t: "+", s: y[j], a: i + 1, b: ++j });
  }
  const C = 3;
  const out = [`--- a/${name}`, `+++ b/${name}`];
  for (let k = 0; k < ops.length;) {
    if (ops[k].t === " ") {
      k++;
      continue;
    }
    let end = k;
    for (let q = k; q < ops.length && q - end <= 2 * C; q++) if (ops[q].t !== " ") end = q;
    const start = Math.max(0, k - C), stop = Math.min(ops.length, end + C + 1);
    const hunk = ops.slice(start, stop);
    const olds = hunk.filter((o) => o.t !== "+"), news = hunk.filter((o) => o.t !== "-");
    const from = (list: Op[], key: "a" | "b") => (list.length ? list[0][key] : hunk[0][key] - 1);
    out.push(`@@ -${from(olds, "a")},${olds.length} +${from(news, "b")},${news.length} @@`);
    for (const o of hunk) out.push(`${o.t}${o.s}`);
    k = stop;
  }
  return out.join("\n") + "\n";
}
