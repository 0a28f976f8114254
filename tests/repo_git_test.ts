/**
 * Running git in a directory that is gone (a worktree a human deleted, a
 * repository moved away under a running supervisor): the "try" helpers
 * answer a failure naming the directory, as for any failed git command,
 * instead of throwing Deno's spawn error, which blamed git itself ("Failed
 * to spawn '/usr/bin/git': No such file or directory").
 */
import assert from "node:assert/strict";
import { changedPaths, git, gitCommonDir, gitTry, isGitRepo } from "../src/repo/git.ts";
import { worktreeCommits, worktreeFacts } from "../src/repo/worktree_state.ts";

Deno.test("git in a directory that is gone: a failed result naming it, never a spawn error", async () => {
  const dir = await Deno.makeTempDir();
  assert.equal(gitTry(dir, "init", "-q").ok, true);
  assert.equal(isGitRepo(dir), true);
  await Deno.remove(dir, { recursive: true });
  const r = gitTry(dir, "status", "--porcelain");
  assert.equal(r.ok, false);
  assert.match(r.stderr, new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*does not exist`));
  assert.equal(isGitRepo(dir), false);
  assert.equal(gitCommonDir(dir), null);
  assert.throws(() => git(dir, "rev-parse", "HEAD"), (e: Error & { code?: string }) => {
    assert.equal(e.code, "internal");
    assert.match(e.message, /does not exist/);
    assert.doesNotMatch(e.message, /Failed to spawn/);
    return true;
  });
});

Deno.test("uncommitted paths are named exactly: a first line whose staged column is blank, spaces, accents, a rename", async () => {
  const dir = await Deno.makeTempDir();
  const g = (...a: string[]) => assert.ok(gitTry(dir, ...a).ok, a.join(" "));
  g("init", "-q", "-b", "main");
  for (const f of ["README.md", "old name.txt", "zeta.md"]) await Deno.writeTextFile(`${dir}/${f}`, `${f}\n`);
  g("add", "-A");
  g("-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "init");
  // " M README.md" sorts first: its blank staged column is what a trimmed output loses.
  await Deno.writeTextFile(`${dir}/README.md`, "edited by a human\n");
  await Deno.writeTextFile(`${dir}/notes é.md`, "new\n");
  g("mv", "old name.txt", "new name.txt");
  const facts = worktreeFacts(dir, null);
  assert.deepEqual(facts.uncommitted.toSorted(), ["README.md", "new name.txt", "notes é.md", "old name.txt"]);
  assert.deepEqual(changedPaths(dir)?.toSorted(), facts.uncommitted.toSorted());
});

Deno.test("a session's commits are its worktree's own: not the target's commits it merged in, nor another branch's", async () => {
  const repo = await Deno.makeTempDir();
  const g = (cwd: string, ...a: string[]) => git(cwd, "-c", "user.email=a@b", "-c", "user.name=A", ...a);
  g(repo, "init", "-q", "-b", "main");
  g(repo, "commit", "-q", "--allow-empty", "-m", "root");
  const wt = `${repo}/wt`;
  g(repo, "worktree", "add", "-q", "-b", "baton/0001", wt);
  const base = g(wt, "rev-parse", "HEAD");
  for (const t of ["0002", "0003"]) g(repo, "commit", "-q", "--allow-empty", "-m", `ticket ${t}'s work`); // landed
  await Deno.writeTextFile(`${wt}/a.txt`, "mine\n");
  g(wt, "add", "a.txt");
  g(wt, "commit", "-q", "-m", "0001: my work");
  g(wt, "merge", "-q", "--no-edit", "main"); // a rework after a conflict brings main in
  assert.deepEqual(worktreeCommits(wt, base).map((c) => c.subject), [
    "0001: my work",
    "Merge branch 'main' into baton/0001",
  ]);
});
