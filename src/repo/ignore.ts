/**
 * Keeping what Baton creates out of git, wherever the configuration puts
 * it: the database with its helper files (`database.path` + `-wal`, `-shm`,
 * `-journal`, `-lock/`), the agents' logs (`run.logs_dir`, which hold MCP
 * configurations with claim tokens) and the agents' worktrees
 * (`run.worktree_dir`). In `.gitignore` when the user keeps Baton's
 * patterns there already, else in `.git/info/exclude` (which changes no
 * tracked file).
 *
 * @module
 */
import { excludeFromGit, gitTry, readExclude } from "./git.ts";
import { appendRepoText, readRepoTextHead, readRepoTextIfAny } from "./files.ts";

/** The paths of a configuration that Baton creates files under. */
export interface BatonPaths {
  /** `database.path`, repository-relative. */
  database: string;
  /** `run.logs_dir`. */
  logsDir: string;
  /** `run.worktree_dir`. */
  worktreeDir: string;
}

/**
 * The paths Baton creates files under, from a configuration.
 * @param cfg `database.path`, `run.logs_dir`, `run.worktree_dir`
 * @returns them
 */
export function batonPaths(
  cfg: { config: { database: { path: string }; run: { logs_dir: string; worktree_dir: string } } },
): BatonPaths {
  const c = cfg.config;
  return { database: c.database.path, logsDir: c.run.logs_dir, worktreeDir: c.run.worktree_dir };
}

function clean(p: string): string {
  return p.replace(/^\.\/+/, "").replace(/^\/+|\/+$/g, "");
}

/**
 * The gitignore patterns for what Baton creates, anchored at the root.
 * @param paths the configured paths
 * @returns `/DB*`, `/LOGS/`, `/WORKTREES/`
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ignorePatterns } from "./ignore.ts";
 * assert.deepEqual(
 *   ignorePatterns({ database: ".workflow/state/baton.db", logsDir: ".workflow/logs", worktreeDir: "wt" }),
 *   ["/.workflow/state/baton.db*", "/.workflow/logs/", "/wt/"],
 * );
 * ```
 */
export function ignorePatterns(paths: BatonPaths): string[] {
  return [`/${clean(paths.database)}*`, `/${clean(paths.logsDir)}/`, `/${clean(paths.worktreeDir)}/`];
}

/**
 * The files a repository's ignore files name the way Baton names its
 * database there (`/PATH*` or `PATH*`, in `.gitignore` or `.git/info/exclude`) that
 * hold a SQLite database: where Baton made one, unless another tool's is
 * ignored so too (the caller looks inside).
 * @param root the repository root
 * @param except the configured database path (repository-relative), left out
 * @returns repository-relative paths
 * @throws nothing
 */
export function ignoredDatabases(root: string, except: string): string[] {
  const text = `${readRepoTextIfAny(root, ".gitignore", 1 << 20) ?? ""}\n${readExclude(root)}`;
  const out = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\/?([^*?[\]!#/][^*?[\]!#]*)\*$/.exec(line.trim());
    if (!m || m[1] === clean(except) || m[1].endsWith("/")) continue;
    try {
      if (readRepoTextHead(root, m[1], 16).text === "SQLite format 3\0") out.add(m[1]);
    } catch { /* no such file, or not readable */ }
  }
  return [...out];
}

/**
 * Where the user keeps Baton's ignore patterns: `.gitignore` when it names
 * Baton or one of its paths already, else `.git/info/exclude`.
 * @param root the repository root
 * @param patterns from {@link ignorePatterns}
 * @returns the preferred place
 */
export function preferredIgnoreFile(root: string, patterns: string[]): "gitignore" | "exclude" {
  const text = readRepoTextIfAny(root, ".gitignore", 1 << 20) ?? "";
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const bare = patterns.map((p) => p.replace(/^\//, ""));
  const named = lines.some((l) =>
    /baton/i.test(l) || patterns.includes(l) || bare.includes(l) || bare.includes(l.replace(/^\//, ""))
  );
  return named ? "gitignore" : "exclude";
}

/**
 * Whether `.git/info/exclude` names Baton or its paths (the user keeps them there).
 * @param root the repository root
 * @returns true when it does
 */
export function excludeMentionsBaton(root: string): boolean {
  return /baton|\.db\*/i.test(readExclude(root));
}

/**
 * Makes git ignore what Baton creates, each pattern once, where the user
 * prefers ({@link preferredIgnoreFile}) unless `where` says. Nothing happens
 * outside a git repository.
 * @param root the repository root
 * @param paths the configured paths
 * @param where force `.gitignore` or `.git/info/exclude`
 * @returns where the patterns went and which were added (none when all were there)
 */
export function ignoreBatonFiles(
  root: string,
  paths: BatonPaths,
  where?: "gitignore" | "exclude",
): { file: ".gitignore" | ".git/info/exclude" | null; added: string[] } {
  const patterns = ignorePatterns(paths);
  const place = where ?? preferredIgnoreFile(root, patterns);
  if (place === "exclude") {
    if (!gitTry(root, "rev-parse", "--git-common-dir").ok) return { file: null, added: [] };
    return { file: ".git/info/exclude", added: excludeFromGit(root, patterns) };
  }
  const text = readRepoTextIfAny(root, ".gitignore", 1 << 20) ?? "";
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  const add = patterns.filter((p) => !have.has(p) && !have.has(p.replace(/^\//, "")));
  if (add.length) {
    const prefix = text && !text.endsWith("\n") ? "\n" : "";
    appendRepoText(
      root,
      ".gitignore",
      `${prefix}# Baton: its database and helper files, agent logs, agent worktrees\n${add.join("\n")}\n`,
    );
  }
  return { file: ".gitignore", added: add };
}

/**
 * The patterns of what Baton creates that git does not ignore yet
 * (`git check-ignore` on a path under each).
 * @param root the repository root
 * @param paths the configured paths
 * @returns the patterns ({@link ignorePatterns}) git would not ignore (empty outside a git repository)
 */
export function notIgnored(root: string, paths: BatonPaths): string[] {
  if (!gitTry(root, "rev-parse", "--git-common-dir").ok) return [];
  const probe = [`${clean(paths.database)}-wal`, `${clean(paths.logsDir)}/x.log`, `${clean(paths.worktreeDir)}/x`];
  const patterns = ignorePatterns(paths);
  return patterns.filter((_p, i) => !gitTry(root, "check-ignore", "-q", "--no-index", probe[i]).ok);
}

/**
 * What Baton does on its own when it creates its database: the patterns git
 * does not ignore yet go to `.git/info/exclude` (a tracked file is never
 * changed behind the user's back). Nothing happens outside a git repository.
 * @param root the repository root
 * @param paths the configured paths
 * @returns the patterns added
 */
export function excludeBatonFiles(root: string, paths: BatonPaths): string[] {
  const missing = notIgnored(root, paths);
  return missing.length ? excludeFromGit(root, missing) : [];
}
