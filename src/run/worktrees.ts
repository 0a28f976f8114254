/**
 * Where `baton run` puts each agent: one git worktree per running agent.
 * Each ticket has a branch `baton/<ticket>`; its sequential phases continue
 * on it, in the ticket's worktree. A phase of a parallel group gets a
 * branch of its own off the ticket branch (`baton/<ticket>--<phase>`) and a
 * worktree for it; when the group is done, the supervisor merges those
 * branches back into the ticket branch and deletes them (the ticket branch
 * has their commits). A group with one member on a ticket (the others
 * skipped) works on the ticket branch. Worktrees of finished tickets, and of
 * tickets stopped on a failure, are removed; ticket branches are kept.
 * Uncommitted work is never removed silently.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { checkedOutBranch, dirExists, excludeFromGit, git, gitTry } from "../repo/git.ts";
import { parseBranch, phaseBranch, slug, ticketBranch } from "../repo/names.ts";
import { repoPath } from "../repo/files.ts";

/**
 * A failure of one ticket's worktree (something of its own in the way): its
 * phase fails like work does, and other tickets go on; any other failure is
 * the environment's (every ticket's), which stops the type.
 */
function ticketsOwn(message: string): BatonError {
  return new BatonError("invalid_transition", message, { details: { scope: "ticket" } });
}

/**
 * Whether a worktree failure is one ticket's own (see `prepare`).
 * @param e what `prepare` threw
 * @returns true when only that ticket is concerned
 */
export function isTicketsOwnFailure(e: unknown): boolean {
  return e instanceof BatonError && (e.details as { scope?: string } | undefined)?.scope === "ticket";
}

/** Where one agent works. */
export interface Place {
  /** The worktree (or the repository itself with `run.worktrees: none`). */
  dir: string;
  /** Its branch (null without worktrees). */
  branch: string | null;
}

/** The worktrees of one repository. */
export class Worktrees {
  readonly #root: string;
  readonly #dir: string;
  readonly #bases: string[];
  #ignored = false;

  /**
   * @param repoRoot the main working tree
   * @param dir where worktrees go, relative to it
   * @param bases where a new ticket branch starts: the first of these refs that exists (the merge queue's target,
   *   fetched or local), else the main working tree's HEAD
   */
  constructor(repoRoot: string, dir: string, bases: string[] = []) {
    this.#root = repoRoot;
    this.#dir = repoPath(repoRoot, dir);
    this.#bases = bases;
  }

  /** Where a new ticket branch starts: never a branch the user happens to have checked out when work lands elsewhere. */
  #base(): string {
    for (const ref of this.#bases) {
      const r = gitTry(this.#root, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`);
      if (r.ok && r.stdout) return r.stdout;
    }
    return "HEAD";
  }

  /** The ticket's branch. */
  ticketBranch(ticket: string): string {
    return ticketBranch(ticket);
  }

  /**
   * Which ticket (and group phase) a branch of Baton's is for.
   * @param branch a branch name
   * @returns the ticket and, for a group phase's branch, the phase's slug; null for another branch
   */
  parseBranch(branch: string | null): { ticket: string; phase: string | null } | null {
    return parseBranch(branch);
  }

  /** A group phase's branch. */
  phaseBranch(ticket: string, phase: string): string {
    return phaseBranch(ticket, phase);
  }

  #branchExists(ref: string): boolean {
    return gitTry(this.#root, "rev-parse", "--verify", "--quiet", `refs/heads/${ref}`).ok;
  }

  /** The worktree (path) that has `branch` checked out, if any, and whether it is the main one (listed first). */
  #worktreeOf(branch: string): { path: string; main: boolean } | undefined {
    const list = git(this.#root, "worktree", "list", "--porcelain");
    let path: string | undefined, n = 0;
    for (const line of list.split("\n")) {
      if (line.startsWith("worktree ")) {
        path = line.slice(9);
        n++;
      } else if (line === `branch refs/heads/${branch}` && path !== undefined) return { path, main: n === 1 };
    }
    return undefined;
  }

  /** Keeps the worktrees out of the repository's status (never edits the user's .gitignore). */
  #ignore(): void {
    const rel = this.#dir.startsWith(`${this.#root}/`) ? `/${this.#dir.slice(this.#root.length + 1)}/` : null;
    if (rel) excludeFromGit(this.#root, [rel]);
  }

  /**
   * Where a phase's worktree is (whether or not it exists yet).
   * @param ticket the ticket id
   * @param phase the phase name
   * @param inGroup whether the phase belongs to a parallel group
   * @returns its directory
   */
  placeOf(ticket: string, phase: string, inGroup: boolean): string {
    return `${this.#dir}/${inGroup ? `${ticket}--${slug(phase)}` : ticket}`;
  }

  /**
   * A worktree for a phase: the ticket's, or (for a parallel group's phase)
   * one of its own on a branch off the ticket's. Created when missing.
   * @param ticket the ticket id
   * @param phase the phase name
   * @param inGroup whether the phase belongs to a parallel group
   * @returns the worktree and its branch
   * @throws {BatonError} `internal` when git fails
   */
  prepare(ticket: string, phase: string, inGroup: boolean): Place {
    if (!this.#ignored) {
      this.#ignore();
      this.#ignored = true;
    }
    const ticketBranch = this.ticketBranch(ticket);
    const branch = inGroup ? this.phaseBranch(ticket, phase) : ticketBranch;
    const dir = this.placeOf(ticket, phase, inGroup);
    // The usual case costs no git process at all: the ticket's worktree is there from its last phase.
    if (checkedOutBranch(dir) === branch) return { dir, branch };
    if (inGroup && !this.#branchExists(ticketBranch)) git(this.#root, "branch", ticketBranch, this.#base());
    // One git process for a new branch and its worktree; more only when the branch or a worktree exists.
    const add = () => {
      const r = gitTry(
        this.#root,
        "worktree",
        "add",
        "--quiet",
        "-b",
        branch,
        dir,
        inGroup ? ticketBranch : this.#base(),
      );
      return !r.ok && /already exists/.test(r.stderr)
        ? gitTry(this.#root, "worktree", "add", "--quiet", dir, branch)
        : r;
    };
    let r = add();
    // A worktree deleted by hand is still registered (git: "missing but already registered"): forget it, try again.
    if (!r.ok && /missing but (already registered|locked)|is a missing/.test(r.stderr)) {
      gitTry(this.#root, "worktree", "prune");
      r = add();
    }
    if (r.ok) return { dir, branch };
    const existing = this.#worktreeOf(branch);
    if (existing?.main) {
      throw ticketsOwn(
        `${branch} is checked out in the repository's own working tree (${existing.path}): an agent never works ` +
          `there; switch it to another branch (git switch -) and the phase runs in a worktree of its own`,
      );
    }
    // Ours (a worktree of Baton's own with another path): used. One of the user's: never worked in.
    if (existing && existing.path.startsWith(`${this.#dir}/`)) return { dir: existing.path, branch };
    if (existing) {
      throw ticketsOwn(
        `${branch} is checked out in ${existing.path}, a worktree of yours: an agent never works there; ` +
          `switch it to another branch (git -C ${existing.path} switch -) and the phase runs in a worktree of its own`,
      );
    }
    // Something of this ticket's is in the way (a directory at its worktree's path, a branch name git refuses):
    // the ticket's trouble, not every ticket's.
    const ownTrouble = (dirExists(dir) && checkedOutBranch(dir) !== branch) ||
      !gitTry(this.#root, "check-ref-format", "--branch", branch).ok;
    const message = `git worktree add ${dir} ${branch} failed in ${this.#root}: ${r.stderr || r.stdout}`;
    throw ownTrouble ? ticketsOwn(message) : new BatonError("internal", message);
  }

  /**
   * Merges a finished group's branches into the ticket branch, in order.
   * A branch whose merge conflicts is left out (the merge is aborted) and
   * reported with the conflicting files.
   * @param ticket the ticket
   * @param phases the group's phase names, in workflow order
   * @returns the phases whose branches conflicted, with their files
   */
  mergeGroup(ticket: string, phases: string[]): { phase: string; files: string[] }[] {
    const into = this.prepare(ticket, "", false).dir;
    const conflicts: { phase: string; files: string[] }[] = [];
    for (const phase of phases) {
      const branch = this.phaseBranch(ticket, phase);
      if (!this.#branchExists(branch)) continue;
      const contained = gitTry(this.#root, "merge-base", "--is-ancestor", branch, this.ticketBranch(ticket)).ok;
      const r = contained
        ? null
        : gitTry(into, "merge", "--no-ff", "--no-edit", "-m", `Merge ${phase} of ${ticket}`, branch);
      if (!r || r.ok) {
        // The ticket branch now contains every commit of it (nothing is lost): it goes. One still checked out
        // somewhere (a worktree kept for its uncommitted changes) stays: git refuses to delete it.
        gitTry(this.#root, "branch", "-D", branch);
        continue;
      }
      const files = gitTry(into, "diff", "--name-only", "--diff-filter=U").stdout.split("\n").filter(Boolean);
      gitTry(into, "merge", "--abort");
      if (!files.length) {
        throw new BatonError("internal", `merging ${branch} into ${ticket}'s branch failed: ${r.stderr}`);
      }
      conflicts.push({ phase, files });
    }
    return conflicts;
  }

  /**
   * Starts a phase's branch over from the ticket branch (after a conflict:
   * the rework begins from what was merged).
   * @param ticket the ticket
   * @param phase the phase
   */
  resetPhaseBranch(ticket: string, phase: string): void {
    const branch = this.phaseBranch(ticket, phase);
    const wt = this.#worktreeOf(branch);
    if (wt && !wt.main) this.remove(wt.path);
    git(this.#root, "branch", "-f", branch, this.ticketBranch(ticket));
  }

  /** Whether a worktree has uncommitted changes. */
  dirty(dir: string): boolean {
    return this.status(dir) !== "";
  }

  /**
   * A worktree's uncommitted changes, as `git status --porcelain` lists them.
   * @param dir the worktree
   * @returns the list (empty when clean)
   */
  status(dir: string): string {
    return gitTry(dir, "status", "--porcelain").stdout;
  }

  /**
   * Removes a worktree (its branch stays). A worktree with uncommitted
   * changes is kept and reported.
   * @param dir the worktree
   * @returns false when it was kept because of uncommitted work
   */
  remove(dir: string): boolean {
    if (!dirExists(dir)) {
      // Already gone (a group merge removed it first): forget it, if git still knows it.
      gitTry(this.#root, "worktree", "prune");
      return true;
    }
    if (this.dirty(dir)) return false;
    git(this.#root, "worktree", "remove", dir);
    return true;
  }

  /**
   * The worktrees Baton made (under its directory), with their branches.
   * @returns path and branch of each
   */
  list(): { dir: string; branch: string | null }[] {
    const out: { dir: string; branch: string | null }[] = [];
    let cur: { dir: string; branch: string | null } | undefined;
    for (const line of git(this.#root, "worktree", "list", "--porcelain").split("\n")) {
      if (line.startsWith("worktree ")) {
        cur = { dir: line.slice(9), branch: null };
        if (cur.dir.startsWith(`${this.#dir}/`)) out.push(cur);
      } else if (line.startsWith("branch refs/heads/") && cur) cur.branch = line.slice(18);
    }
    return out;
  }

  /**
   * Removes the worktrees of a finished ticket (uncommitted work is kept).
   * @param ticket the ticket
   * @returns the worktrees kept because they had uncommitted work
   */
  removeTicket(ticket: string): string[] {
    const kept: string[] = [];
    for (const w of this.list()) {
      if (w.branch === this.ticketBranch(ticket) || w.branch?.startsWith(`${this.ticketBranch(ticket)}--`)) {
        if (!this.remove(w.dir)) kept.push(w.dir);
      }
    }
    return kept;
  }
}
