/**
 * Running git (for the supervisor, the merge queue, the hooks): commands in a directory, failures as
 * coded errors with git's own message.
 *
 * @module
 */
import { BatonError } from "../errors.ts";

/** What a git command printed. */
export interface GitResult {
  ok: boolean;
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `git ARGS…` in `cwd`.
 * @param cwd the directory
 * @param args the arguments
 * @returns its output and exit code (never throws for a non-zero exit, nor for a directory that is gone)
 * @throws when git cannot be run at all (not installed)
 */
export function gitTry(cwd: string, ...args: string[]): GitResult {
  return gitRun(cwd, args);
}

/**
 * The repository's common git directory, absolute: the same from the main
 * working tree and from every linked worktree (`.git` of a normal clone).
 * @param cwd a directory inside the repository
 * @returns its path, or null outside a git repository
 */
export function gitCommonDir(cwd: string): string | null {
  const r = gitTry(cwd, "rev-parse", "--path-format=absolute", "--git-common-dir");
  return r.ok && r.stdout ? r.stdout : null;
}

/**
 * Whether `s` looks like a commit SHA (7 to 64 hex digits: abbreviated, SHA-1 or SHA-256).
 * @param s the text
 * @returns true for a SHA
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSha } from "./git.ts";
 * assert.ok(isSha("0123abcd") && !isSha("HEAD"));
 * ```
 */
export function isSha(s: string): boolean {
  return /^[0-9a-f]{7,64}$/.test(s);
}

/** `git log --format` for what a post-commit hook reports of a commit: its time and parents, then its subject. */
export const COMMIT_META_FORMAT = "%ct %P%n%s";

/**
 * Reads what {@link COMMIT_META_FORMAT} printed (also the older `%ct %s`,
 * one line, which hooks installed by an earlier Baton send).
 * @param text git's output, or a hook's request body
 * @returns the committer time (ms; undefined when unknown), the parents' SHAs and the subject
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommitMeta } from "./git.ts";
 * assert.deepEqual(parseCommitMeta("1764921600 0123abcd\nAdd the cache\n"), {
 *   committedAt: 1764921600000,
 *   parents: ["0123abcd"],
 *   subject: "Add the cache",
 * });
 * ```
 */
export function parseCommitMeta(text: string): { committedAt: number | undefined; parents: string[]; subject: string } {
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  const nl = body.indexOf("\n");
  const [ct, ...rest] = (nl >= 0 ? body.slice(0, nl) : body).split(" ");
  const committedAt = /^\d+$/.test(ct) ? Number(ct) * 1000 : undefined;
  if (nl < 0) return { committedAt, parents: [], subject: rest.join(" ") };
  return { committedAt, parents: rest.filter(isSha), subject: body.slice(nl + 1) };
}

/**
 * Runs `git ARGS…` in `cwd`, with options: `retryLocks` (default true)
 * waits out another git holding one of the repository's lock files (false
 * for a compare-and-swap `update-ref`, whose refusal reads the same);
 * `env` adds to the environment; `raw` keeps stdout as git wrote it (it is
 * trimmed otherwise, which cuts the blank status column of `git status
 * --porcelain`'s first line).
 * @param cwd the directory
 * @param args the arguments
 * @param opts whether to retry on a held lock, more environment, stdout untrimmed
 * @returns its output and exit code (never throws for a non-zero exit)
 */
export function gitRun(
  cwd: string,
  args: string[],
  opts: { retryLocks?: boolean; env?: Record<string, string>; raw?: boolean } = {},
): GitResult {
  const dec = new TextDecoder();
  for (let attempt = 0;; attempt++) {
    let o: Deno.CommandOutput;
    try {
      o = new Deno.Command("git", {
        args,
        cwd,
        stdout: "piped",
        stderr: "piped",
        env: { GIT_TERMINAL_PROMPT: "0", ...opts.env },
      }).outputSync();
    } catch (e) {
      // A directory that is gone (a worktree deleted by hand) fails the spawn with an error that blames git itself:
      // answer it as the failed command it is. A missing git is still thrown.
      if (!(e instanceof Deno.errors.NotFound) || dirExists(cwd)) throw e;
      return { ok: false, code: -1, stdout: "", stderr: `cannot run git in ${cwd}: the directory does not exist` };
    }
    // A Ctrl-C at the terminal reaches the whole foreground process group, this git too; the caller (baton run)
    // decides what a Ctrl-C means, so git is run again (it removes its lock files when interrupted).
    if (o.signal === "SIGINT" && attempt < 3) continue;
    const out = dec.decode(o.stdout);
    const r = { ok: o.success, code: o.code, stdout: opts.raw ? out : out.trim(), stderr: dec.decode(o.stderr).trim() };
    // Another git (a second supervisor, an agent committing) holds one of the repository's lock files.
    if (
      r.ok || opts.retryLocks === false || attempt >= 40 ||
      !/\.lock'?: File exists|cannot lock ref|Unable to create .*\.lock/.test(r.stderr)
    ) {
      return r;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25 + Math.random() * 50);
  }
}

/**
 * The paths a worktree has uncommitted changes to (staged, unstaged,
 * untracked), exactly as named: `git status --porcelain -z` (no quoting, a
 * rename as its two paths' changes), its `XY ` status columns cut off.
 * @param dir the worktree
 * @param env more environment (e.g. `GIT_OPTIONAL_LOCKS=0` beside a user's own git)
 * @returns the paths, or null when git cannot say (not a worktree)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { changedPaths } from "./git.ts";
 * assert.equal(changedPaths(Deno.makeTempDirSync()), null); // not a git worktree
 * ```
 */
export function changedPaths(dir: string, env?: Record<string, string>): string[] | null {
  const r = gitRun(dir, ["status", "--porcelain", "-z", "--untracked-files=all", "--no-renames"], { env, raw: true });
  if (!r.ok) return null;
  return r.stdout.split("\0").filter(Boolean).map((entry) => entry.slice(3));
}

/**
 * Runs `git ARGS…` in `cwd`, and throws when it fails.
 * @param cwd the directory
 * @param args the arguments
 * @returns its stdout, trimmed
 * @throws {BatonError} `internal` with git's message
 */
export function git(cwd: string, ...args: string[]): string {
  const r = gitTry(cwd, ...args);
  if (!r.ok) throw new BatonError("internal", `git ${args.join(" ")} failed in ${cwd}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/**
 * Whether `dir` is inside a git working tree.
 * @param dir a directory
 * @returns true when it is
 */
export function isGitRepo(dir: string): boolean {
  return gitTry(dir, "rev-parse", "--is-inside-work-tree").stdout === "true";
}

/**
 * The branch a worktree has checked out, read from git's own files (no git
 * process); null when it is none, or `dir` is not a worktree.
 * @param dir the worktree's directory
 * @returns the branch name, or null
 */
export function checkedOutBranch(dir: string): string | null {
  try {
    const dotGit = Deno.readTextFileSync(`${dir}/.git`).trim();
    if (!dotGit.startsWith("gitdir: ")) return null;
    let gitdir = dotGit.slice(8);
    if (!gitdir.startsWith("/")) gitdir = `${dir}/${gitdir}`;
    const head = Deno.readTextFileSync(`${gitdir}/HEAD`).trim();
    return head.startsWith("ref: refs/heads/") ? head.slice(16) : null;
  } catch {
    return null;
  }
}

/**
 * Whether a directory exists.
 * @param dir an absolute path
 * @returns true for a directory
 */
export function dirExists(dir: string): boolean {
  try {
    return Deno.statSync(dir).isDirectory;
  } catch {
    return false;
  }
}

/**
 * The repository's `.git/info/exclude` (the common git directory's).
 * @param root the main working tree
 * @returns its text ("" when there is none, or no git repository)
 */
export function readExclude(root: string): string {
  const common = gitCommonDir(root);
  if (common === null) return "";
  try {
    return Deno.readTextFileSync(`${common}/info/exclude`);
  } catch {
    return "";
  }
}

/**
 * Adds patterns to the repository's `.git/info/exclude` (the common git
 * directory, shared by its worktrees), each once: files Baton makes stay out
 * of `git status` without touching the user's `.gitignore`.
 * @param root the main working tree
 * @param patterns gitignore patterns, e.g. `/.workflow/worktrees/`
 * @returns the patterns that were added
 */
export function excludeFromGit(root: string, patterns: string[]): string[] {
  const common = gitCommonDir(root);
  if (common === null) throw new BatonError("invalid_argument", `${root} is not inside a git repository`);
  const exclude = `${common}/info/exclude`;
  let text = "";
  try {
    text = Deno.readTextFileSync(exclude);
  } catch { /* none yet */ }
  const have = new Set(text.split("\n").map((l) => l.trim()));
  const add = patterns.filter((p) => !have.has(p));
  if (add.length) {
    Deno.mkdirSync(exclude.replace(/\/[^/]+$/, ""), { recursive: true });
    Deno.writeTextFileSync(exclude, `${text}${text && !text.endsWith("\n") ? "\n" : ""}${add.join("\n")}\n`);
  }
  return add;
}

/**
 * The index lock of a worktree when a git command holds it (a commit waiting in its editor), else null.
 * @param worktree the worktree
 * @returns the lock file's path, or null
 */
export function indexLock(worktree: string): string | null {
  const gitDir = gitRun(worktree, ["rev-parse", "--absolute-git-dir"]).stdout;
  if (!gitDir) return null;
  try {
    Deno.lstatSync(`${gitDir}/index.lock`);
    return `${gitDir}/index.lock`;
  } catch {
    return null;
  }
}

/** The files a git operation leaves in a worktree's git directory while it waits for the user, and its name. */
const OPERATIONS: [string, string][] = [
  ["MERGE_HEAD", "merge"],
  ["CHERRY_PICK_HEAD", "cherry-pick"],
  ["REVERT_HEAD", "revert"],
  ["rebase-merge", "rebase"],
  ["rebase-apply", "rebase or am"],
];

/**
 * A git operation a worktree is in the middle of (a merge with conflicts to
 * resolve, a rebase stopped at a commit, a cherry-pick, a revert), or files
 * its index holds unmerged, else null. Its next commit is made from the
 * index as it is: a branch moved under it meanwhile would be undone by it.
 * Read without taking any lock.
 * @param worktree the worktree
 * @returns what is in progress ("a merge", "unmerged files"), or null
 */
export function operationInProgress(worktree: string): string | null {
  const gitDir = gitRun(worktree, ["rev-parse", "--absolute-git-dir"]).stdout;
  if (!gitDir) return null;
  for (const [file, name] of OPERATIONS) {
    try {
      Deno.lstatSync(`${gitDir}/${file}`);
      return `a ${name}`;
    } catch { /* not this one */ }
  }
  const unmerged = gitRun(worktree, ["ls-files", "--unmerged", "-z"], { env: { GIT_OPTIONAL_LOCKS: "0" } });
  return unmerged.ok && unmerged.stdout ? "unmerged files" : null;
}

/**
 * The branch a worktree is rebasing (its HEAD detached meanwhile), as a full
 * ref (`refs/heads/main`), or null.
 * @param worktree the worktree
 * @returns the ref, or null
 */
export function branchBeingRebased(worktree: string): string | null {
  const gitDir = gitRun(worktree, ["rev-parse", "--absolute-git-dir"]).stdout;
  if (!gitDir) return null;
  for (const dir of ["rebase-merge", "rebase-apply"]) {
    try {
      return Deno.readTextFileSync(`${gitDir}/${dir}/head-name`).trim() || null;
    } catch { /* not rebasing this way */ }
  }
  return null;
}

/**
 * The files git holds as unmerged in the worktree's index (a merge, rebase, cherry-pick or stash that stopped on a
 * conflict in them), repository-relative; empty outside a repository.
 * @param root the worktree's top
 * @param paths only these paths (repository-relative; default: all)
 * @returns the unmerged paths
 */
export function unmergedPaths(root: string, paths: string[] = []): Set<string> {
  let r: GitResult;
  try {
    r = gitTry(root, "ls-files", "-u", "-z", "--", ...paths);
  } catch {
    return new Set(); // no git
  }
  if (!r.ok) return new Set();
  return new Set(r.stdout.split("\0").filter(Boolean).map((l) => l.slice(l.indexOf("\t") + 1)));
}
