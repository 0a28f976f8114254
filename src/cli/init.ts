/** `baton init`: scaffold `.workflow/` from the shipped example. */
import { BatonError } from "../errors.ts";
import { createRepoFile, repoFileExists } from "../repo/files.ts";
import { batonPaths, excludeMentionsBaton, ignoreBatonFiles } from "../repo/ignore.ts";
import { readShippedExample } from "../config/example.ts";

const EXAMPLE_FILES = ["config.yaml", "phases.yaml", "README.md", "templates/ticket.md"];

/**
 * Creates `.workflow/` (never overwriting a file), and makes git ignore what
 * Baton creates where the configuration puts it (the database and its
 * helper files, agent logs, agent worktrees): in `.gitignore`, or in
 * `.git/info/exclude` when the user keeps Baton's patterns there.
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
  // The example's README describes the example's phases: beside a workflow of the repository's own, it would mislead.
  const ownWorkflow = repoFileExists(repoDir, ".workflow/phases.yaml");
  for (const name of EXAMPLE_FILES) {
    if (name === "README.md" && ownWorkflow) {
      skipped.push(`.workflow/${name}`);
      continue;
    }
    try {
      createRepoFile(repoDir, `.workflow/${name}`, await readShippedExample(name));
      created.push(`.workflow/${name}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      skipped.push(`.workflow/${name}`);
    }
  }
  // What Baton will create, where this configuration puts it: in .gitignore, unless the user keeps
  // Baton's patterns in .git/info/exclude already.
  let paths = { database: ".workflow/baton.db", logsDir: ".workflow/logs", worktreeDir: ".workflow/worktrees" };
  try {
    const { loadWorkflowConfig } = await import("../config/load.ts");
    paths = batonPaths(loadWorkflowConfig(repoDir));
  } catch { /* a .workflow/ that does not load yet: the defaults */ }
  const inExclude = excludeMentionsBaton(repoDir);
  const r = ignoreBatonFiles(repoDir, paths, inExclude ? "exclude" : "gitignore");
  const gitignore = r.added.length ? r.file : null;
  const mcpJson = JSON.stringify({ mcpServers: { baton: { command: "baton-mcp", args: [] } } }, null, 2);
  return { created, skipped, gitignore, mcpJson };
}
