/**
 * Write-back once a ticket lands (issue 23): "Merged / Complete" is checked
 * only after the merge queue landed the work, not when the workflow's last
 * agent phase is done, and the workflow log records the landed commit.
 */
import assert from "node:assert/strict";
import { importTickets } from "../../mod.ts";
import { baton } from "../helpers/cli.ts";
import { engineOf, git, mergeRepo, startMerge } from "../helpers/merge_repo.ts";

const TICKET = `# Ticket 0001: Vector module

## Status
- [ ] Draft
- [ ] Build Complete
- [ ] Merged / Complete

## Summary
A human's words, which write-back never touches.

## Workflow Log

### Build
- **Started**:
- **Completed**:
`;

Deno.test("merge markdown: Merged / Complete is checked once the ticket landed, with the landed commit in the log", async () => {
  const repo = await mergeRepo();
  await Deno.mkdir(`${repo}/tickets`);
  await Deno.writeTextFile(`${repo}/tickets/0001_vector.md`, TICKET);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "a ticket");
  const e = await engineOf(repo);
  importTickets(e);
  const wt = `${repo}/.workflow/worktrees/0001`;
  git(repo, "worktree", "add", "-q", "-b", "baton/0001", wt, "main");
  await Deno.writeTextFile(`${wt}/vector.txt`, "a vector module\n");
  git(wt, "add", "-A");
  git(wt, "commit", "-q", "-m", "0001 Build: vector module");
  git(repo, "worktree", "remove", wt);
  const c = e.claimNext({ agentId: "builder-1", capabilities: ["builder"] })!;
  e.complete(c.phase.id, { agentId: "builder-1", token: c.token, summary: "built the vector module" });
  e.close();
  const file = () => Deno.readTextFileSync(`${repo}/tickets/0001_vector.md`);

  assert.equal((await baton(["sync"], { cwd: repo })).code, 0);
  assert.match(file(), /- \[x\] Build Complete\n- \[ \] Merged \/ Complete/, "not complete before it lands");

  const done = await startMerge(repo).done;
  assert.equal(done.code, 0, done.out + done.err);
  const sha = git(repo, "rev-parse", "main");
  assert.equal((await baton(["sync"], { cwd: repo })).code, 0);
  const text = file();
  assert.match(text, /- \[x\] Build Complete\n- \[x\] Merged \/ Complete/);
  assert.match(
    text,
    new RegExp(`### Merge[^\\n]*\\n(- \\*\\*\\w+\\*\\*:.*\\n)*- \\*\\*Notes\\*\\*: Landed on main as ${sha}`),
  );
  assert.match(text, /## Summary\nA human's words, which write-back never touches\.\n/);
  // A second sync writes nothing.
  const again = await baton(["sync"], { cwd: repo });
  assert.match(again.stdout, /written 0/);
});
