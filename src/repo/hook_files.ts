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
