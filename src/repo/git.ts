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
 * @returns its output and exit code (never throws for a non-zero exit)
 */
export function gitTry(cwd: string, ...args: string[]): GitResult {
  const dec = new TextDecoder();
  for (let attempt = 0;; attempt++) {
    const o = new Deno.Command("git", {
      args,
      cwd,
      stdout: "piped",
      stderr: "piped",
      env: { GIT_TERMINAL_PROMPT: "0" },
    }).outputSync();
    const r = { ok: o.success, code: o.code, stdout: dec.decode(o.stdout).trim(), stderr: dec.decode(o.stderr).trim() };
    // Another git (a second supervisor, an agent committing) holds one of the repository's lock files.
    if (r.ok || attempt >= 40 || !/\.lock'?: File exists|cannot lock ref|Unable to create .*\.lock/.test(r.stderr)) {
      return r;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25 + Math.random() * 50);
  }
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
