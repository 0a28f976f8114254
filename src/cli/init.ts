/** `baton init`: scaffold `.workflow/` from the shipped example. */
import { BatonError } from "../errors.ts";
import { appendRepoText, createRepoFile, readRepoTextIfAny } from "../repo/files.ts";
import { readShippedExample } from "../config/example.ts";

const EXAMPLE_FILES = ["config.yaml", "phases.yaml", "README.md", "templates/ticket.md"];

/**
 * Creates `.workflow/` (never overwriting a file), ignores the database files in git.
 * @param repoDir the repository
 * @param example example name (only "default" ships)
 * @returns what was created, kept, and the `.mcp.json` snippet to register baton-mcp
 * @throws {BatonError} `invalid_argument` for an unknown example
 */
export async function init(
  repoDir: string,
  example = "default",
): Promise<{ created: string[]; skipped: string[]; gitignore: string | null; mcpJson: string }> {
  if (example !== "default") {
    throw new BatonError("invalid_argument", `Unknown example "${example}" (available: default)`);
  }
  const created: string[] = [];
  const skipped: string[] = [];
  for (const name of EXAMPLE_FILES) {
    try {
      createRepoFile(repoDir, `.workflow/${name}`, await readShippedExample(name));
      created.push(`.workflow/${name}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      skipped.push(`.workflow/${name}`);
    }
  }
  const ignore = ".workflow/baton.db*";
  let gitignore: string | null = null;
  const current = readRepoTextIfAny(repoDir, ".gitignore") ?? "";
  if (!current.split(/\r?\n/).includes(ignore)) {
    const prefix = current && !current.endsWith("\n") ? "\n" : "";
    appendRepoText(
      repoDir,
      ".gitignore",
      `${prefix}# Baton's coordination database and its helper files (-wal, -shm, -journal, -lock/)\n${ignore}\n`,
    );
    gitignore = ".gitignore";
  }
  const mcpJson = JSON.stringify({ mcpServers: { baton: { command: "baton-mcp", args: [] } } }, null, 2);
  return { created, skipped, gitignore, mcpJson };
}
