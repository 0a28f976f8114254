/**
 * What a worktree holds compared with where an agent started: uncommitted
 * changes, and the commits made since. The engine reads these facts when
 * `run.require_commit` asks it to refuse a completion without committed work.
 *
 * @module
 */
import { changedPaths, gitTry } from "./git.ts";

/** The facts about a worktree that a completion is judged by. */
export interface WorktreeFacts {
  /** Paths with uncommitted changes (`git status --porcelain`, untracked files included). */
  uncommitted: string[];
  /** Commits on HEAD since the base (null when it cannot be told: no base, or not a git worktree). */
  newCommits: number | null;
}

/**
 * Reads a worktree's facts.
 * @param dir the worktree
 * @param base the commit the agent started from (null: unknown)
 * @returns its uncommitted paths and the commits since `base`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { worktreeFacts } from "./worktree_state.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(worktreeFacts(dir, null).newCommits, null); // not a git worktree
 * ```
 */
export function worktreeFacts(dir: string, base: string | null): WorktreeFacts {
  const uncommitted = changedPaths(dir);
  if (!uncommitted) return { uncommitted: [], newCommits: null };
  if (!base) return { uncommitted, newCommits: null };
  const count = gitTry(dir, "rev-list", "--count", `${base}..HEAD`);
  return { uncommitted, newCommits: count.ok ? Number(count.stdout) : null };
}

/**
 * The commit a worktree's HEAD points at.
 * @param dir the worktree
 * @returns the commit, or null (not a git worktree, no commit yet)
 */
export function headCommit(dir: string): string | null {
  const r = gitTry(dir, "rev-parse", "--verify", "--quiet", "HEAD");
  return r.ok && r.stdout ? r.stdout : null;
}
