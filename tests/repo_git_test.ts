/**
 * Running git in a directory that is gone (a worktree a human deleted, a
 * repository moved away under a running supervisor): the "try" helpers
 * answer a failure naming the directory, as for any failed git command,
 * instead of throwing Deno's spawn error, which blamed git itself ("Failed
 * to spawn '/usr/bin/git': No such file or directory").
 */
import assert from "node:assert/strict";
import { git, gitCommonDir, gitTry, isGitRepo } from "../src/repo/git.ts";

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
