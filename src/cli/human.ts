/**
 * Who the human at the terminal is, for the audit trail.
 *
 * @module
 */
import { BatonError } from "../errors.ts";

/**
 * The git user's name (`git config user.name`), if one is set.
 * @returns the name, or null
 */
export async function gitUser(): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args: ["config", "user.name"], stdout: "piped", stderr: "null" })
      .output();
    const name = new TextDecoder().decode(out.stdout).trim();
    if (out.success && name) return name;
  } catch { /* no git */ }
  return null;
}

/**
 * The name a decision is recorded under: `--by`, else the git user; with
 * neither, the decision is refused (a gate is never decided by "unknown").
 * @param by the `--by` value
 * @param what what is being decided, for the message
 * @returns the name
 * @throws {BatonError} `invalid_argument` with a hint
 */
export async function decider(by: unknown, what: string): Promise<string> {
  if (typeof by === "string" && by.trim()) return by.trim();
  const git = await gitUser();
  if (git) return git;
  throw new BatonError(
    "invalid_argument",
    `${what} needs the name of the human deciding: pass --by NAME, or set one with 'git config user.name'`,
  );
}
