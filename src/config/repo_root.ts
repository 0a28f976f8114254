/** Finding the repository root (the directory holding `.workflow/`). No dependencies, so it loads fast. */
import { BatonError } from "../errors.ts";
import { repoPath } from "../repo/files.ts";

function isDir(p: string): boolean {
  try {
    return Deno.statSync(p).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Finds the repository root: the nearest directory at or above `start` that
 * holds `.workflow/`. Works from subdirectories and git worktrees: a worktree
 * (its `.git` file names the main repository) resolves to the main working
 * tree, so every worktree of a repository shares its database.
 *
 * @param start where to begin (a directory)
 * @returns the absolute repository root
 * @throws {BatonError} `config_not_found` when there is none
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findRepoRoot } from "./repo_root.ts";
 * const repo = await Deno.makeTempDir();
 * await Deno.mkdir(`${repo}/.workflow`);
 * await Deno.mkdir(`${repo}/src/a`, { recursive: true });
 * assert(findRepoRoot(`${repo}/src/a`) === Deno.realPathSync(repo));
 * ```
 */
export function findRepoRoot(start: string): string {
  let dir: string;
  try {
    dir = Deno.realPathSync(start);
  } catch (e) {
    throw new BatonError("config_not_found", `Cannot look for .workflow/ from ${start}: ${(e as Error).message}`);
  }
  for (;;) {
    // A git worktree (`.git` is a file "gitdir: <main>/.git/worktrees/<name>") belongs to the main working
    // tree's repository: one database and one configuration for all its worktrees (the agents `baton run`
    // starts in worktrees share the main repository's queue).
    try {
      const git = Deno.readTextFileSync(`${dir}/.git`);
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(git);
      if (m) {
        const main = m[1].replace(/\/\.git\/worktrees\/[^/]+$/, "");
        if (main !== m[1] && isDir(`${main}/.workflow`)) return main;
      }
    } catch { /* not a worktree */ }
    if (isDir(`${dir}/.workflow`)) return dir;
    const parent = dir.replace(/\/[^/]+$/, "") || "/";
    if (parent === dir) break;
    dir = parent;
  }
  throw new BatonError(
    "config_not_found",
    `No .workflow/ directory found in ${start} or any parent directory (run 'baton init' first)`,
  );
}

/**
 * The absolute database path of a loaded configuration (`database.path`,
 * relative to the repository root), resolved through links: a path that
 * leads outside the repository (a linked `.workflow/`, say) is refused.
 *
 * @param cfg the repository root and `database.path`
 * @returns the absolute path, links resolved
 * @throws {BatonError} `forbidden` when it leads outside the repository
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { databasePath } from "./repo_root.ts";
 * const repo = await Deno.realPath(await Deno.makeTempDir());
 * const cfg = { repoRoot: repo, config: { database: { path: ".workflow/baton.db" } } };
 * assert.equal(databasePath(cfg), `${repo}/.workflow/baton.db`);
 * ```
 */
export function databasePath(cfg: { repoRoot: string; config: { database: { path: string } } }): string {
  return repoPath(cfg.repoRoot, cfg.config.database.path);
}
