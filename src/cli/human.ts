/**
 * Who the human at the terminal is, for the audit trail.
 *
 * @module
 */

/**
 * The git user's name, else `$USER`, else `unknown`.
 * @returns the name
 */
export async function gitUser(): Promise<string> {
  try {
    const out = await new Deno.Command("git", { args: ["config", "user.name"], stdout: "piped", stderr: "null" })
      .output();
    const name = new TextDecoder().decode(out.stdout).trim();
    if (out.success && name) return name;
  } catch { /* no git */ }
  return Deno.env.get("USER") ?? "unknown";
}
