/**
 * Repository-relative paths and globs in their canonical form (see the
 * rules in `mod.ts`), and brace expansion.
 *
 * @module
 */
import { BatonError } from "../errors.ts";

// ---------------------------------------------------------------------------
// Normalization

/** Characters that make a segment a glob rather than a plain name. */
export const GLOB_META = /[*?[\]{}]/;
/** The most brace expansions a single pattern may have. */
const MAX_EXPANSIONS = 1024;

export function refuse(input: string, why: string): BatonError {
  return new BatonError("invalid_argument", `Invalid path ${JSON.stringify(input)}: ${why}`, {
    details: { input },
  });
}

/**
 * The shared lexical normalization. `glob` adds the checks that only make
 * sense for patterns (`..` after a glob segment, brace expansions).
 */
export function normalize(input: string, glob: boolean): string {
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
 * import { normalizeRepoPath } from "./paths.ts";
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
export function expandBraces(s: string, input: string): string[] {
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
