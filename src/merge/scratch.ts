/**
 * A candidate under construction: a detached worktree of its own (one per
 * batch, so that a check a killed worker left running cannot disturb the
 * next batch) where the batch's branches are applied one by one onto the
 * target's tip, by the configured strategy. Applying never moves a ticket's
 * branch; a conflict is aborted and reported with its files.
 *
 * @module
 */
import { type GitResult, gitRun } from "../repo/git.ts";
import { BatonError } from "../errors.ts";
import type { BranchCommit } from "../engine/hooks.ts";

/** Who the queue's commits are by (rebased commits keep their authors; the queue is their committer). */
export const QUEUE_IDENTITY: Record<string, string> = {
  GIT_AUTHOR_NAME: "Baton merge queue",
  GIT_AUTHOR_EMAIL: "merge-queue@baton.invalid",
  GIT_COMMITTER_NAME: "Baton merge queue",
  GIT_COMMITTER_EMAIL: "merge-queue@baton.invalid",
};

/** What applying one branch did. */
export type Applied =
  | { kind: "applied"; sha: string; tip?: string; note?: string }
  | { kind: "noop"; tip?: string }
  | { kind: "conflict"; files: string[]; message: string }
  | { kind: "missing"; message: string };

/** One batch's worktree. */
export class Scratch {
  /**
   * @param repoRoot the repository
   * @param dir the worktree's directory (created at `base`, detached)
   * @param base the commit it starts from
   */
  private constructor(readonly repoRoot: string, readonly dir: string, public base: string) {}

  /**
   * Makes the worktree (replacing a leftover at the same place).
   * @param repoRoot the repository
   * @param dir where
   * @param base the commit to start from
   * @returns the scratch worktree
   * @throws {BatonError} `internal` when git cannot make it
   */
  static create(repoRoot: string, dir: string, base: string): Scratch {
    Scratch.remove(repoRoot, dir);
    must(gitRun(repoRoot, ["worktree", "add", "--detach", "--force", dir, base]), "worktree add");
    return new Scratch(repoRoot, dir, base);
  }

  /**
   * Removes a scratch worktree (and what git knows of it); never throws.
   * @param repoRoot the repository
   * @param dir the worktree
   */
  static remove(repoRoot: string, dir: string): void {
    // git removes the worktree's directory (a leftover git no longer knows is pruned first, then added over).
    gitRun(repoRoot, ["worktree", "remove", "--force", dir]);
    gitRun(repoRoot, ["worktree", "prune"]);
  }

  #git(args: string[]): GitResult {
    return gitRun(this.dir, args, { env: QUEUE_IDENTITY });
  }

  /** The commit the worktree is at. */
  head(): string {
    return must(this.#git(["rev-parse", "HEAD"]), "rev-parse");
  }

  /**
   * Starts over from `base` (a rebuild: a bisect step, the target moved).
   * @param base the commit
   */
  reset(base: string): void {
    must(this.#git(["reset", "--hard", "--quiet", base]), "reset");
    this.#git(["clean", "-fdxq"]);
    this.base = base;
  }

  /**
   * Applies a ticket's branch onto the worktree's head.
   * @param branch the branch
   * @param strategy rebase (its commits replayed), merge (`--no-ff`), squash (one commit)
   * @param message the merge or squash commit's message
   * @param why a note the result carries (why this strategy)
   * @returns applied (with the new head and the branch's tip it applied), noop (nothing the head lacks), conflict
   *   (with files), missing branch
   */
  apply(branch: string, strategy: "rebase" | "merge" | "squash", message: string, why?: string): Applied {
    const tip = this.branchTip(branch);
    if (tip === null) return { kind: "missing", message: `branch ${branch} does not exist` };
    const ahead = must(this.#git(["rev-list", "--count", `HEAD..${tip}`]), "rev-list");
    if (ahead === "0") return { kind: "noop", tip };
    const before = this.head();
    // A branch with no history in common with the head (a root commit, a branch recreated from nothing): no strategy
    // can place its commits; that item goes back, as a conflict, and the others land.
    const common = this.#git(["merge-base", before, tip]);
    if (!common.ok) {
      return {
        kind: "conflict",
        files: [],
        message: `${branch} has no history in common with the target (refusing to merge unrelated histories)`,
      };
    }
    let note = why;
    let whole: string | null = null; // with merge commits on the branch: the tree merging it would give
    if (strategy === "rebase") {
      // A rebase replays the branch's commits and drops its merge commits, with whatever they changed (a conflict
      // resolved, a fix made while merging). With any, the rebase is kept only when its tree is the one merging the
      // branch gives (a merge that only brought the branch up to date, or joined a group's phase branches).
      const fork = common.stdout;
      if (must(this.#git(["rev-list", "--merges", "--count", `${fork}..${tip}`]), "rev-list") !== "0") {
        const m = this.#git(["merge-tree", "--write-tree", before, tip]);
        whole = m.ok ? m.stdout.split("\n")[0] : null;
        if (whole === null) strategy = "squash"; // conflicts: reported by the squash as for any branch
      }
    }
    if (strategy === "merge") {
      const r = this.#git(["merge", "--no-ff", "--no-edit", "-m", message, tip]);
      if (!r.ok) return this.#conflict(["merge", "--abort"], r);
    } else if (strategy === "squash") {
      const r = this.#git(["merge", "--squash", tip]);
      if (!r.ok) return this.#conflict(["reset", "--hard", "--quiet", before], r);
      const c = this.#git(["commit", "--quiet", "--no-verify", "-m", message]);
      if (!c.ok) {
        if (/nothing to commit/.test(c.stdout + c.stderr)) return { kind: "noop", tip };
        must(c, "commit");
      }
    } else {
      // The branch's commits since it left the target, replayed onto the head (a temporary ref moves, not the branch).
      const r = this.#git(["rebase", "--quiet", "--onto", before, common.stdout, tip]);
      if (!r.ok) return this.#conflict(["rebase", "--abort"], r, before);
      if (whole !== null && must(this.#git(["rev-parse", "HEAD^{tree}"]), "rev-parse") !== whole) {
        // The rebase lost what a merge commit changed: the branch lands squashed into one commit instead.
        must(this.#git(["reset", "--hard", "--quiet", before]), "reset");
        note = `${branch} has merge commits whose changes a rebase would drop: squashed into one commit`;
        return this.apply(branch, "squash", message, note);
      }
    }
    const after = this.head();
    if (after === before) return { kind: "noop", tip };
    return { kind: "applied", sha: after, tip, ...(note ? { note } : {}) };
  }

  /**
   * The tracked files whose content differs from a commit's (changed in the
   * worktree or the index, or by a commit made since).
   * @param sha the commit
   * @returns their paths
   */
  changedSince(sha: string): string[] {
    return must(this.#git(["diff", "--name-only", sha]), "diff").split("\n").filter(Boolean);
  }

  /**
   * Puts the worktree back at a commit, its tracked files as they are there
   * (untracked ones, a build's caches, stay).
   * @param sha the commit
   */
  restore(sha: string): void {
    must(this.#git(["reset", "--hard", "--quiet", sha]), "reset");
  }

  /**
   * Whether the head (or another commit) contains a commit (false when the commit does not exist).
   * @param sha the commit
   * @param of the commit that may contain it (the head by default)
   * @returns true when it is that commit or one of its ancestors
   */
  contains(sha: string, of = "HEAD"): boolean {
    return this.#git(["merge-base", "--is-ancestor", sha, of]).ok;
  }

  /**
   * Whether the head has a commit's changes already, by another way than the
   * commit itself (squashed, cherry-picked, rebased): merging it would change
   * nothing.
   * @param sha the commit
   * @returns true when merging it into the head gives the head's tree (false when it conflicts or does not exist)
   */
  hasChangesOf(sha: string): boolean {
    const m = this.#git(["merge-tree", "--write-tree", "HEAD", sha]);
    return m.ok && m.stdout.split("\n")[0] === must(this.#git(["rev-parse", "HEAD^{tree}"]), "rev-parse");
  }

  /**
   * Where a branch points now (null when it does not exist).
   * @param branch the branch
   * @returns its commit, or null
   */
  branchTip(branch: string): string | null {
    const tip = this.#git(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]);
    return tip.ok ? tip.stdout : null;
  }

  /**
   * The commits of a ticket's branch that the head lacks (what applying it
   * would land), with their committer time and Baton trailers.
   * @param branch the branch
   * @returns the commits, newest first (none when the branch does not exist)
   */
  branchCommits(branch: string): BranchCommit[] {
    const tip = this.branchTip(branch);
    if (tip === null) return [];
    const t = (key: string) => `%(trailers:key=${key},valueonly,separator=%x2c)`;
    const log = must(
      this.#git([
        "log",
        `--format=%H%x1f%ct%x1f${t("Baton-Ticket")}%x1f${t("Baton-Phase")}%x1f${t("Baton-Agent")}%x1e`,
        `HEAD..${tip}`,
      ]),
      "log",
    );
    return log.split("\x1e").map((r) => r.trim()).filter(Boolean).map((r) => {
      const [sha, ct, ticketId, phase, agentId] = r.split("\x1f").map((x) => x.trim());
      return {
        sha,
        committedAt: Number(ct) * 1000,
        ...(ticketId ? { ticketId } : {}),
        ...(phase ? { phase } : {}),
        ...(agentId ? { agentId } : {}),
      };
    });
  }

  /**
   * Reverts what landed (newest first) onto the head, one revert commit
   * each: a range `FROM..TO` (what one landing changed, however many
   * commits or merges it took) by applying the change from `TO` back to
   * `FROM` with git's three-way merge; a single commit by `git revert` (a
   * merge commit against its first parent).
   * @param shas the ranges or commits
   * @param message what the revert commit says after git's own subject
   * @returns applied, or conflict
   */
  revert(shas: string[], message: string): Applied {
    const before = this.head();
    for (const sha of shas) {
      const range = /^([0-9a-f]+)\.\.([0-9a-f]+)$/.exec(sha);
      if (range) {
        // A commit whose tree is FROM's, on top of TO: picking it applies TO → FROM onto the head.
        const undo = must(
          this.#git([
            "commit-tree",
            `${range[1]}^{tree}`,
            "-p",
            range[2],
            "-m",
            `Revert ${range[1].slice(0, 10)}..${range[2].slice(0, 10)}`,
          ]),
          "commit-tree",
        );
        const r = this.#git(["cherry-pick", "--allow-empty", undo]);
        if (!r.ok) return this.#conflict(["cherry-pick", "--abort"], r, before);
        continue;
      }
      const merge = this.#git(["rev-parse", "--verify", "--quiet", `${sha}^2`]).ok;
      const r = this.#git(["revert", "--no-edit", ...(merge ? ["-m", "1"] : []), sha]);
      if (!r.ok) return this.#conflict(["revert", "--abort"], r, before);
    }
    if (message) {
      must(
        this.#git(["commit", "--amend", "--quiet", "--no-verify", "-m", `Revert ${shas.length} commit(s): ${message}`]),
        "commit",
      );
    }
    return { kind: "applied", sha: this.head() };
  }

  #conflict(abort: string[], r: GitResult, resetTo?: string): Applied {
    const files = this.#git(["diff", "--name-only", "--diff-filter=U"]).stdout.split("\n").filter(Boolean);
    this.#git(abort);
    if (resetTo) this.#git(["reset", "--hard", "--quiet", resetTo]);
    this.#git(["clean", "-fdq"]);
    return { kind: "conflict", files, message: (r.stderr || r.stdout).split("\n").slice(0, 20).join("\n") };
  }
}

/** The stdout of a git command that must succeed. */
function must(r: GitResult, what: string): string {
  if (!r.ok) throw new BatonError("internal", `git ${what} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}
