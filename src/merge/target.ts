/**
 * The target branch: where candidates start (its tip, fetched from the
 * remote when one is set), and how it moves: only from the tip a candidate
 * was built on to that candidate, with a compare-and-swap (`git update-ref
 * NEW OLD`, or a push that is not forced), so a commit someone made to the
 * target meanwhile is never overwritten: the batch is rebuilt on the new tip.
 * A worktree that has the target checked out (the user's own) follows it
 * when it can do so without touching local changes.
 *
 * @module
 */
import { branchBeingRebased, changedPaths, gitRun, indexLock, operationInProgress } from "../repo/git.ts";
import { BatonError } from "../errors.ts";

/** Where work lands. */
export interface Target {
  /** The repository. */
  repoRoot: string;
  /** The branch. */
  branch: string;
  /** A remote to fetch from and push to. */
  remote?: string;
}

/** The ref a candidate is built on: the remote's branch when a remote is set. */
function ref(t: Target): string {
  return t.remote ? `refs/remotes/${t.remote}/${t.branch}` : `refs/heads/${t.branch}`;
}

/**
 * The target's tip now (after a fetch, with a remote).
 * @param t the target
 * @returns the commit
 * @throws {BatonError} `config_invalid` when the branch does not exist; `remote_unreachable` when the remote cannot
 *   be read
 */
export function targetTip(t: Target): string {
  if (t.remote) {
    const f = gitRun(t.repoRoot, ["fetch", "--quiet", t.remote, `+refs/heads/${t.branch}:${ref(t)}`]);
    if (!f.ok) throw new BatonError("remote_unreachable", `git fetch ${t.remote} ${t.branch} failed: ${f.stderr}`);
  }
  const r = gitRun(t.repoRoot, ["rev-parse", "--verify", "--quiet", `${ref(t)}^{commit}`]);
  if (!r.ok) {
    throw new BatonError(
      "config_invalid",
      `The target branch ${
        t.remote ? `${t.remote}/` : ""
      }${t.branch} does not exist (merge.target in .workflow/config.yaml)`,
    );
  }
  return r.stdout;
}

/**
 * Moves the target from `base` to `candidate`, if it is still at `base`.
 * @param t the target
 * @param base the tip the candidate was built on
 * @param candidate the tested candidate
 * @returns `landed`, or `moved` when the target is no longer at `base` (rebuild on the new tip)
 * @throws {BatonError} `push_rejected` when the remote refused the push while still at `base` (a hook, a protected
 *   branch: its message is in the error); `remote_unreachable` when the push did not get through (or the remote's
 *   tip cannot be read); `internal` when git fails otherwise
 */
export function advanceTarget(
  t: Target,
  base: string,
  candidate: string,
): { result: "landed" | "moved" | "blocked"; note?: string } {
  if (t.remote) {
    const p = gitRun(t.repoRoot, ["push", "--quiet", "--porcelain", t.remote, `${candidate}:refs/heads/${t.branch}`], {
      retryLocks: false,
    });
    if (!p.ok) {
      // Refused because the branch moved (rebuild on its new tip), or for the remote's own reasons (a hook, a
      // protected branch), which rebuilding never changes: the remote's tip tells which.
      const tip = gitRun(t.repoRoot, ["ls-remote", "--heads", t.remote, `refs/heads/${t.branch}`]);
      const now = tip.ok ? tip.stdout.split(/\s/)[0] : "";
      if (tip.ok && now !== base) return { result: "moved" };
      const said = (p.stderr || p.stdout).trim();
      // Refused: git's porcelain names the ref with "!" (a hook, a protected branch). Anything else is the push not
      // getting through (a push URL of its own that is down, a connection dropped): tried again like a fetch.
      const refused = /^!\t/m.test(p.stdout);
      if (tip.ok && refused) {
        throw new BatonError(
          "push_rejected",
          `${t.remote} refused the push of ${candidate.slice(0, 10)} to ${t.branch}, which is still at ${
            base.slice(0, 10)
          }: ${said}`,
        );
      }
      throw new BatonError(
        "remote_unreachable",
        `the push of ${candidate.slice(0, 10)} to ${t.remote} ${t.branch} did not get through: ${said}`,
      );
    }
    gitRun(t.repoRoot, ["update-ref", ref(t), candidate]);
    // The local branch follows when it only lags behind (a local commit not pushed is the user's to sort out).
    const local = gitRun(t.repoRoot, ["rev-parse", "--verify", "--quiet", `refs/heads/${t.branch}`]);
    if (local.ok && gitRun(t.repoRoot, ["merge-base", "--is-ancestor", local.stdout, candidate]).ok) {
      const path = checkout(t);
      const blocked = cannotFollow(t, path, local.stdout, candidate);
      if (blocked) {
        return {
          result: "landed",
          note: `${blocked.replace(/; the landing waits.*$/, "")}: local ${t.branch} left behind ${t.remote}`,
        };
      }
      if (
        gitRun(t.repoRoot, ["update-ref", `refs/heads/${t.branch}`, candidate, local.stdout], { retryLocks: false }).ok
      ) {
        return { result: "landed", note: followCheckout(t, path, local.stdout, candidate) };
      }
    }
    return {
      result: "landed",
      note: local.ok ? `local ${t.branch} has commits ${t.remote} lacks: left as it is` : undefined,
    };
  }
  // As git's receive.denyCurrentBranch=updateInstead: a branch checked out with local changes to files the
  // candidate changes does not move (its index and files could not follow, and the next commit made there would
  // undo the landing); the landing waits for those changes to be committed or stashed.
  const path = checkout(t); // the user's worktree of the target, asked once per landing
  const blocked = cannotFollow(t, path, base, candidate);
  if (blocked) return { result: "blocked", note: blocked };
  const u = gitRun(t.repoRoot, ["update-ref", `refs/heads/${t.branch}`, candidate, base], { retryLocks: false });
  if (!u.ok) {
    if (/cannot lock ref|is at .* but expected/.test(u.stderr)) return { result: "moved" };
    throw new BatonError("internal", `git update-ref failed: ${u.stderr}`);
  }
  return { result: "landed", note: followCheckout(t, path, base, candidate) };
}

/**
 * Whether a candidate is on the target (a batch whose worker died after
 * moving the target, before saying so).
 * @param t the target
 * @param candidate the recorded candidate
 * @returns true when the target contains it
 */
export function onTarget(t: Target, candidate: string): boolean {
  targetTip(t);
  return gitRun(t.repoRoot, ["merge-base", "--is-ancestor", candidate, ref(t)]).ok;
}

/**
 * The worktree that has the target branch checked out (the user's own), or
 * that is rebasing it (its HEAD detached until the rebase ends), if any.
 */
function checkout(t: Target): string | undefined {
  const list = gitRun(t.repoRoot, ["worktree", "list", "--porcelain"]).stdout;
  let path: string | undefined;
  const detached: string[] = [];
  for (const line of list.split("\n")) {
    if (line.startsWith("worktree ")) path = line.slice(9);
    else if (line === `branch refs/heads/${t.branch}` && path) return path;
    else if (line === "detached" && path) detached.push(path);
  }
  return detached.find((p) => branchBeingRebased(p) === `refs/heads/${t.branch}`);
}

/**
 * Why the target's checkout could not follow it from `from` to `to`: a git operation in progress there (a merge, a
 * rebase), or the paths the landing changes that have local changes there (staged, edited, or untracked in the way),
 * or undefined when it can. Read without taking the
 * checkout's index lock (it is asked again and again while a landing waits, beside a human's own git commands), and
 * by content: a file only touched is no change.
 */
function cannotFollow(t: Target, path: string | undefined, from: string, to: string): string | undefined {
  if (!path) return undefined;
  // A git command running there (a commit waiting in its editor) holds the index: the checkout could not follow.
  const lock = indexLock(path);
  if (lock) {
    return `a git command is running in ${path} (${lock}), which has ${t.branch} checked out: ` +
      "the landing waits for it to end";
  }
  // A merge with conflicts to resolve, a rebase stopped at a commit: the index is the user's work in progress, and
  // the commit that ends it is made from it. Moved under it, the branch would be undone by that commit.
  const op = operationInProgress(path);
  if (op) {
    return `${path} is in the middle of ${op} on ${t.branch}: finish or abort it; the landing waits`;
  }
  const landing = gitRun(t.repoRoot, ["diff", "--name-only", "-z", "--no-renames", from, to]).stdout.split("\0");
  const local = new Set(changedPaths(path, { GIT_OPTIONAL_LOCKS: "0" }) ?? []);
  const files = landing.filter((f) => f && local.has(f));
  if (!files.length) return undefined;
  return `${path} has ${t.branch} checked out with local changes to ${
    files.join(", ")
  } that the landing changes too: commit or stash them; the landing waits`;
}

/**
 * A worktree that has the target checked out moves with it (index and files,
 * from `from` to `to`); {@link cannotFollow} said it can.
 * @returns a note when it could not after all (changed since)
 */
function followCheckout(t: Target, path: string | undefined, from: string, to: string): string | undefined {
  if (!path) return undefined;
  gitRun(path, ["update-index", "-q", "--refresh"]); // a file only touched is not a local change
  const r = gitRun(path, ["read-tree", "-m", "-u", from, to]);
  return r.ok
    ? undefined
    : `${path} has ${t.branch} checked out with local changes: its files were left as they were (git status shows the difference)`;
}

/**
 * A checkout of the target left behind by a worker that died between moving
 * the branch and moving the checkout: its index is still the tree of a
 * commit before `to` on the branch's first-parent line (nothing staged of
 * its own). It is brought to `to`, keeping the files edited there that the
 * landing did not change; any other checkout is left as it is.
 * @param t the target
 * @param to the commit the branch was moved to
 * @returns a note when it was brought up to date, or when edits there kept it from being (what to run)
 */
export function catchUpCheckout(t: Target, to: string): string | undefined {
  const path = checkout(t);
  if (!path || gitRun(path, ["rev-parse", "HEAD"]).stdout !== to) return undefined;
  gitRun(path, ["update-index", "-q", "--refresh"]);
  const index = gitRun(path, ["write-tree"]);
  if (!index.ok || index.stdout === gitRun(path, ["rev-parse", `${to}^{tree}`]).stdout) return undefined;
  const line = gitRun(path, ["rev-list", "--first-parent", "--max-count=50", "--format=%T", to]).stdout.split("\n");
  for (let i = 0; i + 1 < line.length; i += 2) {
    const sha = line[i].replace(/^commit /, ""), tree = line[i + 1];
    if (tree !== index.stdout) continue;
    // A two-tree read-tree keeps the files edited there, and refuses when the landing changed one of them.
    return gitRun(path, ["read-tree", "-m", "-u", sha, to]).ok
      ? `${path} was left at ${sha.slice(0, 10)}'s files by a worker that stopped: brought up to ${to.slice(0, 10)}`
      : `${path} was left at ${sha.slice(0, 10)}'s files by a worker that stopped, and has local changes to files ` +
        `the landing changed: its next commit would undo the landing. Put them aside, then run ` +
        `'git read-tree -m -u ${sha.slice(0, 10)} HEAD' there`;
  }
  return undefined;
}
