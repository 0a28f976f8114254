/**
 * The realistic fixture repository (`tests/fixtures/realrepo/`): a test-first
 * `.workflow/` written for another engine and shared with other tools, and
 * 36 ticket files of a physics-engine project in the seed-000 format
 * (finished, approved, mid-flight and new tickets, human dates and notes,
 * Latin-1, BOM + CRLF, a duplicate id). Copied into a fresh git repository
 * for each test.
 */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

async function git(repo: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["-c", "user.name=Fixture", "-c", "user.email=fixture@example.com", ...args],
    cwd: repo,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/**
 * A fresh git repository holding the fixture, committed.
 * @param edit changes to make to the copy before the commit (config variants)
 * @returns its path
 */
export async function realRepo(edit?: (repo: string) => Promise<void>): Promise<string> {
  return await fixtureRepo("realrepo", edit, ".workflow/workflow.db*\n");
}

/**
 * A fresh git repository holding one of the fixture repositories under
 * `tests/fixtures/` (`realrepo`; `progressrepo`: a three-language workflow
 * whose language groups sit around human gates, with a ticket for every
 * shape of progress a file can record), committed.
 * @param name the fixture's folder
 * @param edit changes to make to the copy before the commit
 * @param gitignore the `.gitignore` to write (none when omitted)
 * @returns its path
 */
export async function fixtureRepo(
  name: string,
  edit?: (repo: string) => Promise<void>,
  gitignore?: string,
): Promise<string> {
  const repo = await Deno.makeTempDir({ prefix: `baton-${name}-` });
  await copyTree(new URL(`../fixtures/${name}/`, import.meta.url).pathname, repo);
  if (gitignore !== undefined) await Deno.writeTextFile(`${repo}/.gitignore`, gitignore);
  if (edit) await edit(repo);
  await git(repo, "init", "-q", "-b", "main");
  await git(repo, "add", "-A");
  await git(repo, "commit", "-q", "-m", "fixture");
  return repo;
}

/**
 * The files git sees as changed since the fixture commit.
 * @param repo the repository
 * @returns `git status --porcelain` lines
 */
export async function changedFiles(repo: string): Promise<string[]> {
  return (await git(repo, "status", "--porcelain")).split("\n").filter(Boolean);
}

/**
 * The diff of one file against the fixture commit, as changed lines.
 * @param repo the repository
 * @param path repository-relative
 * @returns removed (`-`) and added (`+`) lines, without the headers
 */
export async function changedLines(repo: string, path: string): Promise<string[]> {
  const diff = await git(repo, "diff", "-U0", "--no-color", "--", path);
  return diff.split("\n").filter((l) => /^[-+](?![-+]{2} )/.test(l));
}

/** Every ticket file's bytes, by path. */
export async function ticketBytes(repo: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(`${repo}/tickets`)) {
    if (e.isFile) out.set(e.name, await Deno.readFile(`${repo}/tickets/${e.name}`));
  }
  return out;
}
