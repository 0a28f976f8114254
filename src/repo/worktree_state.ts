/**
 * What a worktree holds compared with where an agent started: uncommitted
 * changes, and the commits made since. The engine reads these facts when
 * `run.require_commit` asks it to refuse a completion without committed work,
 * and the commits no git hook recorded when a phase ends.
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

/** A commit of an agent's session, as git has it. */
export interface SessionCommit {
  /** Its SHA. */
  sha: string;
  /** Its first parent, if any. */
  parent: string | null;
  /** Its subject line. */
  subject: string;
}

/**
 * The commits on a worktree's HEAD since `base` that no other branch has, oldest first (at most `max`, the newest
 * of them).
 * @param dir the worktree
 * @param base the commit the agent started from
 * @param max how many at most
 * @returns them; empty when git cannot tell (not a worktree any more, an unknown base)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { worktreeCommits } from "./worktree_state.ts";
 * assert.deepEqual(worktreeCommits(Deno.makeTempDirSync(), "0".repeat(40)), []); // not a git worktree
 * ```
 */
export function worktreeCommits(dir: string, base: string, max = 200): SessionCommit[] {
  // Not those another branch has (the target's, merged in to resolve a conflict; another ticket's): the session's own.
  const own = gitTry(dir, "symbolic-ref", "-q", "--short", "HEAD");
  const others = own.ok && own.stdout ? [`--exclude=${own.stdout}`, "--branches"] : ["--branches"];
  const r = gitTry(dir, "log", `--max-count=${max}`, "--format=%H%x00%P%x00%s", `${base}..HEAD`, "--not", ...others);
  if (!r.ok || !r.stdout) return [];
  return r.stdout.split("\n").reverse().map((line) => {
    const [sha, parents, subject] = line.split("\0");
    return { sha, parent: parents?.split(" ")[0] || null, subject: subject ?? "" };
  }).filter((c) => /^[0-9a-f]{40,64}$/.test(c.sha));
}
