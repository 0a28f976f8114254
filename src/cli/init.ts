/** `baton init`: scaffold `.workflow/` from the shipped example. */
import { BatonError } from "../errors.ts";

const EXAMPLE_FILES = ["config.yaml", "phases.yaml", "README.md", "templates/ticket.md"];

async function readExample(name: string): Promise<string> {
  const url = new URL(`../../.workflow.example/${name}`, import.meta.url);
  if (url.protocol === "file:") return await Deno.readTextFile(url);
  const res = await fetch(url);
  if (!res.ok) throw new BatonError("internal", `Cannot read the example file ${name}: HTTP ${res.status}`);
  return await res.text();
}

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
    const target = `${repoDir}/.workflow/${name}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    try {
      await Deno.writeTextFile(target, await readExample(name), { createNew: true });
      created.push(`.workflow/${name}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      skipped.push(`.workflow/${name}`);
    }
  }
  const ignore = ".workflow/baton.db*";
  let gitignore: string | null = null;
  let current = "";
  try {
    current = await Deno.readTextFile(`${repoDir}/.gitignore`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (!current.split(/\r?\n/).includes(ignore)) {
    const prefix = current && !current.endsWith("\n") ? "\n" : "";
    await Deno.writeTextFile(
      `${repoDir}/.gitignore`,
      `${prefix}# Baton's coordination database and its helper files (-wal, -shm, -journal, -lock/)\n${ignore}\n`,
      { append: true },
    );
    gitignore = ".gitignore";
  }
  const mcpJson = JSON.stringify({ mcpServers: { baton: { command: "baton-mcp", args: [] } } }, null, 2);
  return { created, skipped, gitignore, mcpJson };
}
