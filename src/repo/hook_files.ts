/**
 * Files Baton's git hooks share between their steps, in a worktree's git
 * directory: the trailers `pre-commit` wrote down for `commit-msg` (keyed
 * by the claim, so another claim's are never used), and where the guard
 * server of a running `baton run` listens.
 *
 * @module
 */

/** The trailers file's name (in the worktree's git directory). */
export const TRAILERS_FILE = "baton-trailers";

/**
 * Writes the trailers for `commit-msg` (atomically: a rename).
 * @param gitDir the worktree's git directory (absolute)
 * @param claim `AGENT PHASE TOKEN`: the commit-msg script uses the lines only under this very claim
 * @param trailers the trailer lines
 */
export function writeTrailersFile(gitDir: string, claim: string, trailers: string[]): void {
  const tmp = `${gitDir}/${TRAILERS_FILE}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}`;
  Deno.writeTextFileSync(tmp, [claim, ...trailers, ""].join("\n"));
  Deno.renameSync(tmp, `${gitDir}/${TRAILERS_FILE}`);
}

/**
 * Where a running `baton run` answers the hooks (a Unix socket), given the
 * repository's common git directory; null when the path is too long for a
 * socket (the hooks then start `baton guard` themselves).
 * @param commonGitDir the common git directory (absolute)
 * @returns the socket's path, or null
 */
export function guardSocketPath(commonGitDir: string): string | null {
  const p = `${commonGitDir}/baton/guard.sock`;
  return new TextEncoder().encode(p).length < 104 ? p : null;
}

/**
 * Paths as the repository names them: relative to the worktree's top
 * (absolute paths, and paths relative to `cwd`, are turned into that);
 * paths outside the worktree are dropped.
 * @param paths the paths
 * @param cwd the directory relative paths start from
 * @param top the worktree's top (absolute, links resolved)
 * @returns the repository-relative paths
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { repoRelative } from "./hook_files.ts";
 * assert.deepEqual(repoRelative(["/w/src/a.ts", "b.ts", "../../x"], "/w/src", "/w"), ["src/a.ts", "src/b.ts"]);
 * ```
 */
export function repoRelative(paths: string[], cwd: string, top: string): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = p.startsWith("/") ? p : `${cwd}/${p}`;
    const parts: string[] = [];
    for (const seg of abs.split("/")) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") parts.pop();
      else parts.push(seg);
    }
    const norm = "/" + parts.join("/");
    if (norm.startsWith(top + "/")) out.push(norm.slice(top.length + 1));
  }
  return out;
}
