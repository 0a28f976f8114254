/**
 * The merge queue with real git repositories and real processes (issue 23):
 * one culprit in a batch of four, a conflict, a flaky check, a human commit
 * during the check, `kill -9` of the worker during the check and during the
 * ref update, two workers at once, and a remote (a local bare repository)
 * that rejects a push.
 */
import assert from "node:assert/strict";
import { engineOf, finishedTicket, git, history, mergeRepo, setCheck, startMerge } from "../helpers/merge_repo.ts";
import { baton } from "../helpers/cli.ts";
import { processStart } from "../../src/processes.ts";

/** Every commit the target ever pointed at (its reflog), oldest first. */
function targetPositions(repo: string, ref = "main"): string[] {
  return git(repo, "reflog", "show", "--format=%H", ref).split("\n").reverse();
}

/** A check script that records each candidate it tested, then runs the project's check. */
async function recordingCheck(dir: string, extra = ""): Promise<{ check: string; tested: () => string[] }> {
  const log = `${dir}/tested.log`;
  const script = `${dir}/check-recording.sh`;
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\necho "$BATON_MERGE_CANDIDATE" >> ${JSON.stringify(log)}\n${extra}\nexec sh check.sh\n`,
  );
  return {
    check: `sh ${script}`,
    tested: () => {
      try {
        return Deno.readTextFileSync(log).split("\n").filter(Boolean);
      } catch {
        return [];
      }
    },
  };
}

/** A merge repository whose target is pushed to `origin`, a local bare repository. */
async function repoWithOrigin(merge: string): Promise<{ repo: string; origin: string }> {
  const origin = await Deno.makeTempDir({ prefix: "baton-origin-" });
  git(origin, "init", "-q", "--bare", "-b", "main");
  const repo = await mergeRepo(`${merge}  remote: origin\n`);
  git(repo, "remote", "add", "origin", origin);
  git(repo, "push", "-q", "origin", "main");
  return { repo, origin };
}

/** Sets a check that, during the first check only, commits a file to a branch (someone pushing meanwhile). */
async function commitOnceDuringCheck(repo: string, branch: string, file: string, subject: string): Promise<void> {
  const state = await Deno.makeTempDir();
  const q = JSON.stringify(repo);
  const once =
    `if [ ! -e ${state}/added ]; then touch ${state}/added; W=${state}/wt; git -C ${q} worktree add -q $W ${branch} &&
    echo x > $W/${file} && git -C $W add -A && git -C $W -c user.name=Dana -c user.email=d@example.com \\
    commit -qm ${JSON.stringify(subject)} && git -C ${q} worktree remove $W; fi`;
  await setCheck(repo, (await recordingCheck(state, once)).check);
}

Deno.test("merge: one culprit in a batch of four: three land in queue order, the culprit goes back with the output, the check passes on main", async () => {
  const repo = await mergeRepo("  batch_size: 4\n");
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "module a\n" });
  finishedTicket(e, repo, "0002", { "src/b.txt": "module b\n" });
  finishedTicket(e, repo, "0003", { "src/c.txt": "module c: BROKEN\n" });
  finishedTicket(e, repo, "0004", { "src/d.txt": "module d\n" });
  e.close();
  const r = await startMerge(repo).done;
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(history(repo).slice(1), [
    "0001 Build: module 0001",
    "0002 Build: module 0002",
    "0004 Build: module 0004",
  ]);
  const e2 = await engineOf(repo);
  for (const id of ["0001", "0002", "0004"]) assert.equal(e2.ticket(id).status, "completed", id);
  const culprit = e2.ticket("0003");
  assert.equal(culprit.status, "active");
  const build = culprit.phases.find((p) => p.name === "Build")!;
  assert.equal(build.status, "available");
  assert.match(build.reworkNotes ?? "", /broke the check `sh check\.sh`/);
  assert.match(build.reworkNotes ?? "", /FAIL: \.\/src\/c\.txt is broken/);
  // The next agent gets the notes.
  assert.match(e2.claimNext({ agentId: "b2", capabilities: ["builder"] })!.reworkNotes ?? "", /src\/c\.txt is broken/);
  const m = e2.mergeMetrics(0);
  assert.equal(m.culprits, 1);
  e2.close();
  // The check passes on the target afterwards.
  const wt = `${repo}/../${repo.split("/").pop()}-main`;
  git(repo, "worktree", "add", "-q", "--detach", wt, "main");
  const check = new Deno.Command("sh", { args: ["check.sh"], cwd: wt, stdout: "null", stderr: "null" }).outputSync();
  assert.ok(check.success, "the check is green on main");
});

Deno.test("merge: a conflict between two tickets sends the later one back with the conflicting files", async () => {
  const repo = await mergeRepo("  batch_size: 2\n");
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "README.md": "# A project\n\nInstall with make.\n" });
  finishedTicket(e, repo, "0002", { "README.md": "# A project\n\nInstall with npm.\n" });
  e.close();
  const r = await startMerge(repo).done;
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(history(repo).slice(1), ["0001 Build: module 0001"]);
  const e2 = await engineOf(repo);
  const build = e2.ticket("0002").phases.find((p) => p.name === "Build")!;
  assert.equal(build.status, "available");
  assert.match(build.reworkNotes ?? "", /conflicted in: README\.md/);
  assert.equal(e2.mergeStatus().recent[0].items.find((i) => i.ticketId === "0002")?.outcome, "conflict");
  e2.close();
});

Deno.test("merge: a branch with no history in common with main goes back as a conflict; the others land (run helper #1: it stopped the queue for every ticket)", async () => {
  const repo = await mergeRepo("  batch_size: 2\n");
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  finishedTicket(e, repo, "0002", { "src/b.txt": "b\n" });
  e.close();
  // 0001's branch is replaced by a root commit (a branch recreated from nothing).
  const tree = git(repo, "write-tree"); // main's tree, in a commit with no parent
  const root = git(repo, "-c", "user.name=H", "-c", "user.email=h@example.com", "commit-tree", tree, "-m", "site");
  git(repo, "branch", "-f", "baton/0001", root);
  const r = await startMerge(repo).doneWithin(120_000);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(history(repo).slice(1), ["0002 Build: module 0002"]);
  const e2 = await engineOf(repo);
  try {
    const build = e2.ticket("0001").phases.find((p) => p.name === "Build")!;
    assert.equal(build.status, "available", "sent back");
    assert.match(build.reworkNotes ?? "", /no history in common with the target/);
    assert.equal(e2.ticket("0002").status, "completed");
  } finally {
    e2.close();
  }
});

Deno.test("merge: a later phase's agent that reset the branch (dropping an earlier phase's recorded commit) does not land the rest as the ticket's work (run helper #2)", async () => {
  const repo = await mergeRepo();
  await Deno.writeTextFile(
    `${repo}/.workflow/phases.yaml`,
    "phases:\n  - {name: Build, agent_type: builder}\n  - {name: Tests, agent_type: tester}\n",
  );
  const e = await engineOf(repo);
  e.upsertTicket({ id: "0001", title: "Module" });
  const commitOn = (file: string, from: string) => {
    const wt = `${repo}/.workflow/worktrees/0001`;
    git(repo, "worktree", "add", "-q", "-B", "baton/0001", wt, from);
    Deno.writeTextFileSync(`${wt}/${file}`, `${file}\n`);
    git(wt, "add", "-A");
    git(wt, "commit", "-q", "-m", `0001 ${file}`);
    git(repo, "worktree", "remove", wt);
    return git(repo, "rev-parse", "baton/0001");
  };
  const work = (cap: string, sha: string) => {
    const c = e.claimNext({ agentId: cap, capabilities: [cap] })!;
    e.recordCommit({ agentId: cap, phaseId: c.phase.id, token: c.token, sha, subject: `0001 ${cap}` });
    e.complete(c.phase.id, { agentId: cap, token: c.token, summary: cap });
  };
  const built = commitOn("build.txt", "main");
  work("builder", built);
  work("tester", commitOn("tests.txt", "main")); // the tester's agent started over from main: the build is gone
  e.close();
  const r = await startMerge(repo).doneWithin(120_000);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(
    r.out,
    new RegExp(
      `0001 cannot land: branch baton/0001 lacks 1 commit\\(s\\) of 0001's recorded work \\(${built.slice(0, 10)}\\)`,
    ),
  );
  assert.equal(history(repo).length, 1, "nothing landed");
  const e2 = await engineOf(repo);
  try {
    assert.notEqual(e2.ticket("0001").status, "completed");
  } finally {
    e2.close();
  }
});

Deno.test("merge: a ticket the target keeps refusing is sent back at most retry.max_attempts times, then waits for a human (run helper #5: 96 agent sessions in a minute)", async () => {
  const repo = await mergeRepo();
  await Deno.writeTextFile(
    `${repo}/.workflow/config.yaml`,
    (await Deno.readTextFile(`${repo}/.workflow/config.yaml`)) + "  max_attempts: 2\n",
  );
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "README.md": "# A project\n\nInstall with make.\n" });
  e.close();
  // A human's commit to main that the ticket's branch conflicts with, for good.
  await Deno.writeTextFile(`${repo}/README.md`, "# A project\n\nInstall with npm.\n");
  git(repo, "commit", "-q", "-am", "npm");
  for (let round = 1; round <= 4; round++) {
    const r = await startMerge(repo).doneWithin(120_000);
    assert.equal(r.code, 0, r.out + r.err);
    const e2 = await engineOf(repo);
    try {
      const build = e2.ticket("0001").phases.find((p) => p.name === "Build")!;
      if (build.status !== "available") {
        // Past the limit: no rework offered; the landing waits for a human, who is told why.
        assert.ok(round > 2, `round ${round}`);
        assert.ok(e2.escalations().some((x) => /sent back by the merge queue 3 times without landing/.test(x.reason)));
        return;
      }
      // The agent redoes it (the same branch, still conflicting).
      const c = e2.claimNext({ agentId: "builder-0001", capabilities: ["builder"] })!;
      e2.complete(c.phase.id, { agentId: "builder-0001", token: c.token, summary: "again" });
    } finally {
      e2.close();
    }
  }
  assert.fail("sent back for good");
});

Deno.test("merge: a check that fails only on its first run: the batch lands, and the flake is recorded", async () => {
  const repo = await mergeRepo("  batch_size: 2\n  flaky_retries: 1\n");
  const state = await Deno.makeTempDir();
  const flaky = `${state}/flaky.sh`;
  await Deno.writeTextFile(
    flaky,
    `#!/bin/sh\nif [ ! -e ${state}/ran ]; then touch ${state}/ran; echo "timeout talking to the test db" >&2; exit 1; fi\nexec sh check.sh\n`,
  );
  await setCheck(repo, `sh ${flaky}`);
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  finishedTicket(e, repo, "0002", { "src/b.txt": "b\n" });
  e.close();
  const r = await startMerge(repo).done;
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(history(repo).slice(1), ["0001 Build: module 0001", "0002 Build: module 0002"]);
  const e2 = await engineOf(repo);
  assert.deepEqual(e2.mergeStatus().flaky.map((f) => [f.check, f.count]), [[`sh ${flaky}`, 1]]);
  assert.equal(e2.mergeMetrics(0).culprits, 0);
  e2.close();
});

Deno.test("merge: a human commit to main during the check is kept; the batch lands rebuilt on the new tip", async () => {
  const repo = await mergeRepo("  batch_size: 2\n");
  const state = await Deno.makeTempDir();
  // The first check run: a human commits to main meanwhile (in the repository's own checkout).
  const { check, tested } = await recordingCheck(
    state,
    `if [ ! -e ${state}/human ]; then touch ${state}/human; git -C ${
      JSON.stringify(repo)
    } -c user.name=Ravi -c user.email=ravi@example.com commit -q --allow-empty -m "hotfix by a human"; fi`,
  );
  await setCheck(repo, check);
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  e.close();
  const r = await startMerge(repo).done;
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /main moved while batch 1 was tested; rebuilding/);
  assert.deepEqual(history(repo).slice(1), ["hotfix by a human", "0001 Build: module 0001"]);
  // main only ever pointed at tested candidates (or commits not the queue's).
  const tested_ = new Set(tested());
  const mine = targetPositions(repo).filter((sha) => git(repo, "log", "-1", "--format=%s", sha).startsWith("0001"));
  for (const sha of mine) assert.ok(tested_.has(sha), `main pointed at ${sha}, never tested`);
});

Deno.test("merge: kill -9 of the worker during the check; after a restart the check it left is ended, each ticket lands once and main only held tested commits", async () => {
  const repo = await mergeRepo("  batch_size: 2\n");
  const state = await Deno.makeTempDir();
  const { check, tested } = await recordingCheck(
    state,
    `if [ ! -e ${state}/slow ]; then touch ${state}/slow; sleep 300 & echo $! > ${state}/sleep.pid; touch ${state}/checking; wait; fi`,
  );
  await setCheck(repo, check);
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  finishedTicket(e, repo, "0002", { "src/b.txt": "b\n" });
  e.close();
  const first = startMerge(repo, []);
  // Killed once the check runs and the worker has recorded it (a loaded machine runs the check's first lines before
  // the worker's transaction that records it).
  const watch = await engineOf(repo);
  try {
    for (
      let i = 0;
      i < 1200 && !(exists(`${state}/checking`) && watch.openMergeBatches()[0]?.checkProcess);
      i++
    ) await new Promise((r) => setTimeout(r, 50));
  } finally {
    watch.close();
  }
  first.child.kill("SIGKILL");
  await first.done;
  const second = await startMerge(repo).done;
  assert.equal(second.code, 0, second.out + second.err);
  assert.match(second.out, /batch 1 of merge@\S+ was not landed: its tickets are back in the queue/);
  // The killed worker's check (its own process group) was still running; the next worker ended it.
  assert.match(second.out, /ended the check batch 1 of merge@\S+ left running/);
  assert.equal(
    processStart(Number(Deno.readTextFileSync(`${state}/sleep.pid`))),
    null,
    "the orphaned check still runs",
  );
  assert.deepEqual(history(repo).slice(1), ["0001 Build: module 0001", "0002 Build: module 0002"]);
  const t = new Set(tested());
  for (const sha of targetPositions(repo).slice(1)) assert.ok(t.has(sha), `main pointed at ${sha}, never tested`);
  const e2 = await engineOf(repo);
  assert.deepEqual([e2.ticket("0001").status, e2.ticket("0002").status], ["completed", "completed"]);
  e2.close();
});

Deno.test("merge: kill -9 of the worker right after it moved main; the restarted worker records the landing, once", async () => {
  const repo = await mergeRepo("  batch_size: 2\n");
  // git's reference-transaction hook runs after main moved: it kills the worker (git's parent) there.
  const marker = `${await Deno.makeTempDir()}/killed`;
  const hook = `${repo}/.git/hooks/reference-transaction`;
  await Deno.writeTextFile(
    hook,
    `#!/bin/sh\n[ "$1" = committed ] || exit 0\nif grep -q " refs/heads/main$" && [ ! -e ${marker} ]; then\n` +
      `  touch ${marker}; kill -9 "$(ps -o ppid= -p $PPID | tr -d ' ')"\nfi\nexit 0\n`,
  );
  await Deno.chmod(hook, 0o755);
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  finishedTicket(e, repo, "0002", { "src/b.txt": "b\n" });
  e.close();
  // The user is editing a file the landing does not touch.
  await Deno.writeTextFile(`${repo}/check.sh`, (await Deno.readTextFile(`${repo}/check.sh`)) + "# human edit\n");
  const first = await startMerge(repo, []).done;
  assert.equal(first.signal, "SIGKILL", `the worker was not killed at the ref update: ${first.out}${first.err}`);
  assert.deepEqual(history(repo).slice(1), ["0001 Build: module 0001", "0002 Build: module 0002"], "main moved");
  const second = await startMerge(repo).done;
  assert.equal(second.code, 0, second.out + second.err);
  assert.match(second.out, /batch 1 of merge@\S+ had landed/);
  assert.deepEqual(history(repo).slice(1), ["0001 Build: module 0001", "0002 Build: module 0002"], "landed once");
  // The user's checkout of main, which the killed worker had not moved yet, is brought up to main: nothing staged
  // that would undo the landing at the next commit.
  assert.equal(git(repo, "status", "--porcelain", "--untracked-files=no"), "M check.sh", "the checkout follows main");
  assert.match(second.out, /left at \S+'s files by a worker that stopped: brought up to/);
  const e2 = await engineOf(repo);
  assert.deepEqual([e2.ticket("0001").status, e2.ticket("0002").status], ["completed", "completed"]);
  assert.equal(e2.audit({ action: "merge.landed" }).length, 2);
  e2.close();
});

Deno.test("merge: two workers at once: one holds the queue, each ticket lands once", async () => {
  const repo = await mergeRepo("  batch_size: 1\n");
  const e = await engineOf(repo);
  for (const id of ["0001", "0002", "0003", "0004"]) finishedTicket(e, repo, id, { [`src/${id}.txt`]: `${id}\n` });
  e.close();
  const [a, b] = await Promise.all([startMerge(repo).done, startMerge(repo).done]);
  assert.equal(a.code, 0, a.out + a.err);
  assert.equal(b.code, 0, b.out + b.err);
  assert.deepEqual(
    history(repo).slice(1).sort(),
    ["0001", "0002", "0003", "0004"].map((id) => `${id} Build: module ${id}`),
  );
  const e2 = await engineOf(repo);
  // Batches never overlap in time between workers.
  const batches = e2.mergeStatus({ recent: 100 }).recent.sort((x, y) => x.startedAt - y.startedAt);
  for (let i = 1; i < batches.length; i++) {
    if (batches[i].worker !== batches[i - 1].worker) {
      assert.ok(batches[i].startedAt >= (batches[i - 1].finishedAt ?? Infinity), "two workers built at once");
    }
  }
  e2.close();
});

Deno.test("merge: with a remote, it fetches before building and pushes after landing; a rejected push is rebuilt", async () => {
  const { repo, origin } = await repoWithOrigin("  batch_size: 2\n");
  // Someone else's clone, which pushes to origin during the first check.
  const other = await Deno.makeTempDir({ prefix: "baton-other-" });
  git(other, "clone", "-q", origin, ".");
  const state = await Deno.makeTempDir();
  const { check } = await recordingCheck(
    state,
    `if [ ! -e ${state}/pushed ]; then touch ${state}/pushed; git -C ${
      JSON.stringify(other)
    } -c user.name=Ravi -c user.email=ravi@example.com commit -q --allow-empty -m "pushed by Ravi"; git -C ${
      JSON.stringify(other)
    } push -q origin main; fi`,
  );
  await setCheck(repo, check);
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  e.close();
  const r = await startMerge(repo).done;
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /main moved while batch 1 was tested; rebuilding/);
  assert.deepEqual(history(origin).slice(1), ["pushed by Ravi", "0001 Build: module 0001"]);
});

Deno.test("merge: a push the remote refuses for its own reasons is a push_rejected error with its message; the queue is free at once", async () => {
  const { repo, origin } = await repoWithOrigin("");
  // A protected branch: the remote's hook declines every push.
  const hook = `${origin}/hooks/pre-receive`;
  await Deno.writeTextFile(hook, "#!/bin/sh\necho 'main is protected: open a pull request' >&2\nexit 1\n");
  await Deno.chmod(hook, 0o755);
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  e.close();
  const before = git(origin, "rev-parse", "main");
  const merge = startMerge(repo);
  const r = await merge.doneWithin(120_000); // it looped rebuilding once
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.err, /push_rejected|origin refused the push/);
  assert.match(r.err, /main is protected: open a pull request/);
  assert.equal((r.out.match(/rebuilding/g) ?? []).length, 0, "not taken for a branch that moved");
  assert.equal(git(origin, "rev-parse", "main"), before, "the remote's main did not move");
  // The queue was given up: the next worker starts at once, takes the batch back and lands it once the remote allows.
  await Deno.remove(hook);
  const next = startMerge(repo);
  const again = await next.doneWithin(60_000); // it waited for the dead worker's lease
  assert.equal(again.code, 0, again.out + again.err);
  assert.doesNotMatch(again.out, /another worker holds the queue/);
  assert.deepEqual(history(origin).slice(1), ["0001 Build: module 0001"]);
});

Deno.test("merge: a remote that cannot be reached for a while (at the push) is tried again; the tested candidates land once", async () => {
  const { repo, origin } = await repoWithOrigin("");
  // The network drops at the end of the first check: the remote is gone until the test brings it back.
  const away = `${origin}.away`;
  const state = await Deno.makeTempDir();
  const { check, tested } = await recordingCheck(
    state,
    `if [ ! -e ${state}/dropped ]; then touch ${state}/dropped; mv ${JSON.stringify(origin)} ${
      JSON.stringify(away)
    }; fi`,
  );
  await setCheck(repo, check);
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  finishedTicket(e, repo, "0002", { "src/b.txt": "b\n" });
  e.close();
  const merge = startMerge(repo);
  await merge.waitFor(/cannot reach origin; trying again/);
  await Deno.rename(away, origin);
  const r = await merge.doneWithin(120_000);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /origin reached again/);
  assert.deepEqual(history(origin).slice(1), ["0001 Build: module 0001", "0002 Build: module 0002"]);
  assert.ok(new Set(tested()).has(git(origin, "rev-parse", "main")), "origin's main is not a tested candidate");
  const e2 = await engineOf(repo);
  assert.deepEqual([e2.ticket("0001").status, e2.ticket("0002").status], ["completed", "completed"]);
  e2.close();
});

Deno.test("merge: a push URL that is down while fetching works is tried again, not taken for a refusal; it lands once it is back", async () => {
  const { repo, origin } = await repoWithOrigin("");
  git(repo, "remote", "set-url", "--push", "origin", `${origin}.down`); // pushes go elsewhere (ssh), which is down
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  e.close();
  const merge = startMerge(repo);
  await merge.waitFor(/cannot reach origin; trying again/);
  git(repo, "remote", "set-url", "--push", "origin", origin); // back up
  const r = await merge.doneWithin(120_000);
  assert.equal(r.code, 0, r.out + r.err);
  assert.doesNotMatch(r.err, /push_rejected/);
  assert.deepEqual(history(origin).slice(1), ["0001 Build: module 0001"]);
});

Deno.test("merge: what lands is all of a branch's work: its merge commits' own changes, and a commit added while it was checked", async () => {
  const state = await Deno.makeTempDir();
  const repo = await mergeRepo("  batch_size: 2\n");
  // During the first check, a human adds a follow-up fix to baton/0002.
  await commitOnceDuringCheck(repo, "baton/0002", "src/fix.txt", "0002 follow-up fix");
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a v1\n" });
  finishedTicket(e, repo, "0002", { "src/b.txt": "b\n" });
  e.close();
  // 0001's agent brought its branch up to date with a merge that also carries work of its own.
  const g = (dir: string, ...args: string[]) =>
    git(dir, "-c", "user.name=Agent", "-c", "user.email=a@example.com", ...args);
  await Deno.writeTextFile(`${repo}/human.txt`, "human\n");
  g(repo, "add", "human.txt");
  g(repo, "commit", "-q", "-m", "human commit");
  const wt = `${state}/wt1`;
  g(repo, "worktree", "add", "-q", wt, "baton/0001");
  g(wt, "merge", "-q", "--no-commit", "main");
  await Deno.writeTextFile(`${wt}/src/a.txt`, "a v2\n");
  await Deno.writeTextFile(`${wt}/src/extra.txt`, "extra\n");
  g(wt, "add", "-A");
  g(wt, "commit", "-q", "-m", "Merge main into baton/0001; finish a, add extra");
  g(repo, "worktree", "remove", wt);
  const m = startMerge(repo);
  const r = await m.doneWithin(120_000);
  assert.equal(r.code, 0, r.out + r.err);
  const show = (path: string) => git(repo, "show", `main:${path}`);
  assert.equal(show("src/a.txt"), "a v2", "the merge commit's own change landed");
  assert.equal(show("src/extra.txt"), "extra");
  assert.equal(show("src/fix.txt"), "x", "the commit added during the check landed");
  assert.equal(git(repo, "cherry", "main", "baton/0002").split("\n").filter((l) => l.startsWith("+")).length, 0);
  assert.match(r.out, /0001: baton\/0001 has merge commits whose changes a rebase would drop: squashed/);
  assert.match(r.out, /baton\/0002 moved while batch 1 was tested; rebuilding/);
});

Deno.test("merge: main checked out with local changes the landing would touch: the landing waits, nothing is lost, and the checkout follows", async () => {
  const repo = await mergeRepo();
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "README.md": "# A project\n\nInstall with make.\n", "src/a.txt": "a\n" });
  e.close();
  // A human's unsaved work in the checkout of main: one file the ticket changes too, one it does not.
  await Deno.writeTextFile(`${repo}/README.md`, "# A project\n\nhuman's notes\n");
  await Deno.writeTextFile(`${repo}/check.sh`, (await Deno.readTextFile(`${repo}/check.sh`)) + "# human edit\n");
  const before = git(repo, "rev-parse", "main");
  const m = startMerge(repo);
  try {
    await m.waitFor(
      /has main checked out with local changes to README\.md that the landing changes too: commit or stash/,
    );
    assert.equal(git(repo, "rev-parse", "main"), before, "main does not move under the checkout");
    assert.equal(await Deno.readTextFile(`${repo}/README.md`), "# A project\n\nhuman's notes\n");
    git(repo, "stash", "push", "-q", "--", "README.md"); // the human puts the colliding edit aside
    await m.waitFor(/landed 0001 on main/);
  } finally {
    await m.doneWithin(60_000);
  }
  assert.deepEqual(history(repo).slice(1), ["0001 Build: module 0001"]);
  // The checkout followed main, and the human's other edit is still there, unstaged.
  assert.equal(git(repo, "status", "--porcelain"), "M check.sh");
  assert.equal(await Deno.readTextFile(`${repo}/README.md`), "# A project\n\nInstall with make.\n");
  assert.match(git(repo, "stash", "show", "-p"), /\+human's notes/, "the colliding edit is kept in the stash");
  // The human's next ordinary commit keeps the landed work.
  git(repo, "-c", "user.name=Dana", "-c", "user.email=d@example.com", "commit", "-qam", "human: check notes");
  assert.equal(git(repo, "show", "main:src/a.txt"), "a");
});

Deno.test("merge: a check that fails on main itself (or cannot run) stops the queue once, says why, and lands after a fix", async () => {
  const repo = await mergeRepo("", { check: "sh check.sh && no-such-linter --all" });
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  e.close();
  const m = startMerge(repo);
  const r = await m.doneWithin(120_000); // it rebuilt and re-checked for ever
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(
    r.out,
    /the check fails on main itself \(sh check\.sh && no-such-linter --all\): .*no-such-linter.*not found/,
  );
  assert.match(r.err, /main is red at \w+: the check fails on it without any ticket/);
  assert.match(r.out, /^1 batch\(es\); 0 ticket\(s\) landed/m, "one batch, not a loop");
  assert.equal([...Deno.readDirSync(`${repo}/.workflow/logs`)].length, 1, "one batch log");
  // A human asking sees that main is red and why, not only a ticket queued.
  const redAt = git(repo, "rev-parse", "main");
  const said = await baton(["merge", "status"], { cwd: repo });
  assert.equal(said.code, 0, said.stderr);
  assert.match(
    said.stdout,
    new RegExp(
      `main is red: the check fails on main itself at ${
        redAt.slice(0, 10)
      } \\(batch #1, .*no-such-linter.*not found.*\\)\\. Nothing lands until a commit to main fixes the check`,
    ),
  );
  const json = JSON.parse((await baton(["merge", "status", "--json"], { cwd: repo })).stdout);
  assert.equal(json.targetRed.sha, redAt);
  assert.equal(json.targetRed.batchId, 1);
  assert.match(json.targetRed.log, /no-such-linter/);
  assert.equal(json.recent[0].targetRed, true);
  assert.match((await baton(["status"], { cwd: repo })).stdout, /main is red: the check fails on main itself/);
  // The check is fixed (a commit to main): the queue lands the ticket.
  await Deno.writeTextFile(
    `${repo}/.workflow/config.yaml`,
    (await Deno.readTextFile(`${repo}/.workflow/config.yaml`)).replace(" && no-such-linter --all", ""),
  );
  git(repo, "commit", "-q", "--allow-empty", "-m", "fix the check");
  const again = await startMerge(repo).done;
  assert.equal(again.code, 0, again.out + again.err);
  assert.deepEqual(history(repo).slice(1), ["fix the check", "0001 Build: module 0001"]);
  const after = JSON.parse((await baton(["merge", "status", "--json"], { cwd: repo })).stdout);
  assert.equal(after.targetRed, null, "green again: no longer said red");
  assert.doesNotMatch((await baton(["merge", "status"], { cwd: repo })).stdout, /is red/);
});

Deno.test("merge: main broken by a human while a batch is checked: status names the commit the check failed on", async () => {
  const repo = await mergeRepo("");
  const state = await Deno.makeTempDir();
  // During the first check, a human commits a broken file to main: the batch is rebuilt on it, and is red there.
  await Deno.writeTextFile(
    `${state}/check.sh`,
    `#!/bin/sh\nif [ ! -e ${state}/human ]; then touch ${state}/human\n` +
      `  printf 'BROKEN\\n' > ${JSON.stringify(repo)}/src_z.txt\n` +
      `  git -C ${JSON.stringify(repo)} add src_z.txt\n` +
      `  git -C ${JSON.stringify(repo)} -c user.name=R -c user.email=r@x commit -q -m "broken by a human"\n` +
      `fi\nexec sh check.sh\n`,
  );
  await setCheck(repo, `sh ${state}/check.sh`);
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  e.close();
  const r = await startMerge(repo).doneWithin(120_000);
  assert.equal(r.code, 1, r.out + r.err);
  const broken = git(repo, "rev-parse", "main");
  assert.equal(git(repo, "log", "-1", "--format=%s", "main"), "broken by a human");
  const json = JSON.parse((await baton(["merge", "status", "--json"], { cwd: repo })).stdout);
  assert.equal(json.targetRed?.sha, broken, "the human's commit, not the green one the batch began on");
  assert.match(r.err, new RegExp(`main is red at ${broken.slice(0, 10)}`));
});

Deno.test("merge: a branch that is not there: refused when named, never completed over recorded work, and retries end", async () => {
  const repo = await mergeRepo("", {});
  await Deno.writeTextFile(
    `${repo}/.workflow/config.yaml`,
    (await Deno.readTextFile(`${repo}/.workflow/config.yaml`)) + "  max_attempts: 2\n",
  );
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" }, "main", { recordCommit: true });
  finishedTicket(e, repo, "0002", { "src/b.txt": "b\n" });
  e.close();
  const recorded = git(repo, "rev-parse", "baton/0001");
  git(repo, "branch", "-q", "-D", "baton/0001"); // a cleanup script went too far
  // Naming a branch that does not exist is refused at once.
  const named = await baton(["merge", "add", "0002", "--branch", "no-such-branch", "--by", "dana"], { cwd: repo });
  assert.equal(named.code, 4, named.stdout + named.stderr);
  assert.match(named.stderr, /No branch "no-such-branch"/);
  // A branch named by hand that is deleted before it lands: the landing fails, is retried, and gives up.
  git(repo, "branch", "feature/b", "baton/0002");
  assert.equal((await baton(["merge", "add", "0002", "--branch", "feature/b", "--by", "dana"], { cwd: repo })).code, 0);
  git(repo, "branch", "-q", "-D", "feature/b");
  const m = startMerge(repo);
  const r = await m.doneWithin(120_000); // a due retry was never taken again
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(
    r.out,
    new RegExp(
      `0001 cannot land: branch baton/0001 does not exist, though 1 commit\\(s\\) of 0001's work are on neither main nor the branch \\(${
        recorded.slice(0, 10)
      }\\)`,
    ),
  );
  assert.match(r.out, /0002 cannot land: branch feature\/b does not exist/);
  assert.deepEqual(history(repo).slice(1), [], "nothing landed");
  const e2 = await engineOf(repo);
  assert.notEqual(e2.ticket("0001").status, "completed", "the recorded work is not lost by completing the ticket");
  assert.notEqual(e2.ticket("0002").status, "completed");
  e2.close();
});

Deno.test("merge: a ticket's work that left its branch (rewritten without it, or deleted while the batch was checked) is never completed as landed", async () => {
  const repo = await mergeRepo();
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" }, "main", { recordCommit: true });
  finishedTicket(e, repo, "0002", { "src/b.txt": "b\n" });
  finishedTicket(e, repo, "0003", { "src/c.txt": "c\n" });
  e.close();
  const recorded = git(repo, "rev-parse", "baton/0001");
  const tested = git(repo, "rev-parse", "baton/0002");
  // 0001's branch is reset to main (its commit, recorded by the hooks, dropped). During the first check, 0002's
  // branch (nothing recorded: no hooks) is deleted; the batch is rebuilt without it.
  git(repo, "branch", "-f", "baton/0001", "main");
  const state = await Deno.makeTempDir();
  await setCheck(
    repo,
    (await recordingCheck(
      state,
      `if [ ! -e ${state}/deleted ]; then touch ${state}/deleted; git -C ${
        JSON.stringify(repo)
      } branch -q -D baton/0002; fi`,
    )).check,
  );
  const r = await startMerge(repo).doneWithin(120_000);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(
    r.out,
    new RegExp(
      `0001 cannot land: branch baton/0001 has nothing main lacks, though 1 commit\\(s\\) of 0001's work are on ` +
        `neither main nor the branch \\(${recorded.slice(0, 10)}\\): restore it \\(git branch -f baton/0001 ${
          recorded.slice(0, 10)
        }\\)`,
    ),
  );
  assert.match(
    r.out,
    new RegExp(
      `0002 cannot land: branch baton/0002 does not exist, though 1 commit\\(s\\) .*\\(${tested.slice(0, 10)}\\)`,
    ),
  );
  assert.deepEqual(history(repo).slice(1), ["0003 Build: module 0003"], "only 0003's work is on main");
  const e2 = await engineOf(repo);
  try {
    assert.notEqual(e2.ticket("0001").status, "completed", "0001's work is not on main");
    assert.notEqual(e2.ticket("0002").status, "completed", "0002's work is not on main");
    assert.equal(e2.ticket("0003").status, "completed");
  } finally {
    e2.close();
  }
});

Deno.test("merge: a ticket's work that reached main another way completes: cherry-picked then rebased away, amended then fast-forwarded, squashed by hand; 'merge add --branch main' is taken at its word", async () => {
  const human = (repo: string, ...args: string[]) =>
    git(repo, "-c", "user.name=Dana", "-c", "user.email=d@example.com", ...args);
  const onBranch = (repo: string, fn: (wt: string) => void) => {
    const wt = `${repo}/.workflow/worktrees/by-hand`;
    git(repo, "worktree", "add", "-q", wt, "baton/0001");
    fn(wt);
    git(repo, "worktree", "remove", wt);
  };
  const scenarios: Record<string, (repo: string) => Promise<void> | void> = {
    "cherry-picked, then the branch rebased on main (git drops the commit: already upstream)": (repo) => {
      human(repo, "cherry-pick", git(repo, "rev-parse", "baton/0001"));
      onBranch(repo, (wt) => git(wt, "rebase", "-q", "main"));
    },
    "amended (a new message), then main fast-forwarded to it by hand": (repo) => {
      onBranch(repo, (wt) => git(wt, "commit", "-q", "--amend", "-m", "0001 Build: module 0001 (typo fixed)"));
      git(repo, "merge", "-q", "--ff-only", "baton/0001");
    },
    "squashed onto main by hand, the branch deleted": (repo) => {
      git(repo, "merge", "-q", "--squash", "baton/0001");
      human(repo, "commit", "-qm", "0001 squashed by hand");
      git(repo, "branch", "-q", "-D", "baton/0001");
    },
    "the branch deleted, and a human says it landed ('baton merge add 0001 --branch main')": async (repo) => {
      git(repo, "branch", "-q", "-D", "baton/0001");
      const add = await baton(["merge", "add", "0001", "--branch", "main", "--by", "dana"], { cwd: repo });
      assert.equal(add.code, 0, add.stderr);
    },
  };
  for (const [name, setup] of Object.entries(scenarios)) {
    const repo = await mergeRepo();
    const e = await engineOf(repo);
    finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" }, "main", { recordCommit: true });
    e.close();
    await setup(repo);
    const r = await startMerge(repo).doneWithin(120_000);
    assert.equal(r.code, 0, `${name}: ${r.out}${r.err}`);
    assert.doesNotMatch(r.out, /cannot land/, name);
    assert.match(r.out, /merge: nothing to land for 0001 \(main has its work already\)/, name);
    assert.doesNotMatch(r.out, /landed 0001/, `${name}: it was not landed by the queue`);
    const e2 = await engineOf(repo);
    try {
      assert.equal(e2.ticket("0001").status, "completed", `${name}: ${r.out}`);
    } finally {
      e2.close();
    }
    if (!name.includes("merge add")) assert.equal(git(repo, "show", "main:src/a.txt"), "a", name);
  }
});

Deno.test("merge: added to a repository already in use: open tickets get the landing phase (import, run or merge gives it) and complete only once landed; finished ones stay finished", async () => {
  const repo = await mergeRepo();
  const config = `${repo}/.workflow/config.yaml`;
  const withMerge = await Deno.readTextFile(config);
  await Deno.writeTextFile(config, "retry:\n  backoff_seconds: 0\n");
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0002", { "src/b.txt": "b\n" }); // finished before the queue existed
  e.upsertTicket({ id: "0001", title: "Module 0001" });
  assert.deepEqual(e.ticket("0001").phases.map((p) => p.name), ["Build"]);
  e.close();
  await Deno.writeTextFile(config, withMerge);
  const imported = await baton(["import"], { cwd: repo });
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /new phase Merge \(pending\) added to 1 open ticket\(s\): 0001/);
  const e2 = await engineOf(repo);
  try {
    assert.deepEqual(e2.ticket("0001").phases.map((p) => p.name), ["Build", "Merge"]);
    assert.deepEqual(e2.ticket("0002").phases.map((p) => p.name), ["Build"], "a finished ticket is not reopened");
    assert.equal(e2.ticket("0002").status, "completed");
    finishedTicket(e2, repo, "0001", { "src/a.txt": "a\n" });
    assert.equal(e2.ticket("0001").status, "active", "its work is not on main yet");
  } finally {
    e2.close();
  }
  const r = await startMerge(repo).doneWithin(120_000);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /landed 0001 on main/);
  assert.equal(git(repo, "show", "main:src/a.txt"), "a");
  const e3 = await engineOf(repo);
  try {
    assert.equal(e3.ticket("0001").status, "completed");
    assert.deepEqual(e3.seedNewPhases(), [], "nothing more to give");
  } finally {
    e3.close();
  }
});

Deno.test("merge: a revert undoes all a ticket landed, whatever the strategy: several commits, a merge commit, a squash", async () => {
  for (const strategy of ["rebase", "merge", "squash"]) {
    const repo = await mergeRepo(`  strategy: ${strategy}\n`);
    const e = await engineOf(repo);
    finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
    e.close();
    // The ticket's branch has a second commit.
    const wt = `${await Deno.makeTempDir()}/wt`;
    git(repo, "worktree", "add", "-q", wt, "baton/0001");
    await Deno.writeTextFile(`${wt}/src/b.txt`, "b\n");
    git(wt, "add", "-A");
    git(wt, "commit", "-q", "-m", "0001 Build: second commit");
    git(repo, "worktree", "remove", wt);
    assert.equal((await startMerge(repo).done).code, 0, strategy);
    const landed = git(repo, "ls-tree", "-r", "--name-only", "main", "src");
    assert.equal(landed, "src/a.txt\nsrc/b.txt", `${strategy}: both commits landed`);
    const before = git(repo, "rev-parse", "main^{tree}");
    const rv = await baton(["merge", "revert", "0001", "--by", "dana", "--notes", "breaks the export"], { cwd: repo });
    assert.equal(rv.code, 0, rv.stderr);
    const r = await startMerge(repo).done;
    assert.equal(r.code, 0, r.out + r.err);
    assert.doesNotMatch(r.out, /conflicts with main/, `${strategy}: ${r.out}`);
    assert.equal(git(repo, "ls-tree", "-r", "--name-only", "main", "src"), "", `${strategy}: nothing of 0001 is left`);
    assert.notEqual(git(repo, "rev-parse", "main^{tree}"), before);
    assert.equal(git(repo, "show", "main:README.md"), "# A project", `${strategy}: the rest is as it was`);
  }
});

Deno.test("merge: a check that changes tracked files (fixes them) is red: what lands is always the tree it passed", async () => {
  // An auto-fixing step before the project's check: it would pass a candidate whose files say BROKEN.
  const repo = await mergeRepo("", { check: "sed -i s/BROKEN/fixed/ $(git ls-files '*.txt'); sh check.sh" });
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "module a: BROKEN\n" });
  finishedTicket(e, repo, "0002", { "src/b.txt": "module b\n" });
  e.close();
  const r = await startMerge(repo).done;
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(history(repo).slice(1), ["0002 Build: module 0002"], "only the ticket the check passed unchanged");
  assert.equal((await new Deno.Command("sh", { args: ["check.sh"], cwd: repo }).output()).code, 0);
  const e2 = await engineOf(repo);
  const back = e2.ticket("0001").phases[0];
  assert.equal(back.status, "available", "0001 is sent back");
  assert.match(back.reworkNotes ?? "", /the check changed tracked files \(src\/a\.txt\)/);
  e2.close();
});

Deno.test("merge: with main red, a revert queued after is tried, and lands when it makes main green", async () => {
  // Red when 0001's module and a human's file are both there: 0001 landed green, the human's commit broke main.
  const repo = await mergeRepo("", { check: "sh check.sh && ! { [ -e src/a.txt ] && [ -e human.txt ]; }" });
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  e.close();
  assert.equal((await startMerge(repo).done).code, 0);
  await Deno.writeTextFile(`${repo}/human.txt`, "h\n");
  git(repo, "add", "human.txt");
  git(repo, "commit", "-qm", "human");
  const e2 = await engineOf(repo);
  finishedTicket(e2, repo, "0002", { "src/b.txt": "b\n" });
  e2.close();
  const m = startMerge(repo, []);
  try {
    await m.waitFor(/the check fails on main itself/);
    const rv = await baton(["merge", "revert", "0001", "--by", "dana"], { cwd: repo });
    assert.equal(rv.code, 0, rv.stderr);
    await m.waitFor(/landed 0002 on main/); // the revert made main green, and the queue went on
  } finally {
    m.child.kill("SIGTERM");
    await m.doneWithin(30_000);
  }
  assert.equal(git(repo, "ls-tree", "--name-only", "main", "src/a.txt"), "", "0001 is reverted");
  assert.equal(git(repo, "show", "main:src/b.txt"), "b");
});

Deno.test("merge: the user's checkout: a file only touched is no change, and a git command running there is waited for", async () => {
  const repo = await mergeRepo();
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "README.md": "# A project\n\nInstall with make.\n", "src/a.txt": "a\n" });
  e.close();
  // Touched by an editor or a build, content unchanged: not a local change.
  const later = new Date(Date.now() + 5_000);
  await Deno.utime(`${repo}/README.md`, later, later);
  // A commit waiting in its editor holds the checkout's index.
  await Deno.writeTextFile(`${repo}/.git/index.lock`, "");
  const m = startMerge(repo);
  try {
    await m.waitFor(/a git command is running in \S+ \(\S+index\.lock\), which has main checked out/);
    await Deno.remove(`${repo}/.git/index.lock`); // the human's commit ended
    await m.waitFor(/landed 0001 on main/);
  } finally {
    await m.doneWithin(60_000);
  }
  assert.doesNotMatch(m.out(), /local changes to README\.md/, "a touched file is not a change");
  assert.equal(git(repo, "status", "--porcelain"), "", "the checkout followed main");
  assert.equal(await Deno.readTextFile(`${repo}/README.md`), "# A project\n\nInstall with make.\n");
});

Deno.test("merge: the user's checkout in the middle of a merge or a rebase of main: the landing waits for it to end, and the user's commit keeps the landed work", async () => {
  const repo = await mergeRepo();
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  e.close();
  /** Runs git, which may stop on a conflict (exit 1) as it does for a human. */
  const human = (...args: string[]) =>
    new Deno.Command("git", { args: ["-c", "user.name=Dana", "-c", "user.email=d@example.com", ...args], cwd: repo })
      .outputSync();
  // A human merges a feature branch into main and stops on a conflict in a file the ticket does not touch.
  await Deno.writeTextFile(`${repo}/notes.txt`, "base\n");
  git(repo, "add", "notes.txt");
  git(repo, "commit", "-qm", "notes");
  git(repo, "checkout", "-q", "-b", "feature");
  await Deno.writeTextFile(`${repo}/notes.txt`, "feature\n");
  git(repo, "commit", "-qam", "feature notes");
  git(repo, "checkout", "-q", "main");
  await Deno.writeTextFile(`${repo}/notes.txt`, "mine\n");
  git(repo, "commit", "-qam", "main notes");
  assert.equal(human("merge", "-q", "feature").code, 1, "the merge stops on its conflict");
  const before = git(repo, "rev-parse", "main");
  const m = startMerge(repo);
  try {
    await m.waitFor(/is in the middle of a merge on main: finish or abort it; the landing waits/);
    assert.equal(git(repo, "rev-parse", "main"), before, "main does not move under the merge");
    // The human resolves the conflict and commits the merge, as usual: then the ticket lands.
    await Deno.writeTextFile(`${repo}/notes.txt`, "resolved\n");
    git(repo, "add", "notes.txt");
    assert.equal(human("commit", "-q", "--no-edit").code, 0);
    await m.waitFor(/landed 0001 on main/);
  } finally {
    await m.doneWithin(60_000);
  }
  assert.equal(git(repo, "show", "main:src/a.txt"), "a", "the landed work is on main");
  assert.equal(git(repo, "show", "main:notes.txt"), "resolved", "and so is the human's merge");
  assert.equal(git(repo, "status", "--porcelain"), "", "the checkout followed main");

  // A rebase of main stopped at a conflict (HEAD detached meanwhile): the landing waits for it too.
  const e2 = await engineOf(repo);
  finishedTicket(e2, repo, "0002", { "src/b.txt": "b\n" });
  e2.close();
  git(repo, "checkout", "-q", "-b", "other", "main~1");
  await Deno.writeTextFile(`${repo}/notes.txt`, "other\n");
  git(repo, "commit", "-qam", "other notes");
  git(repo, "checkout", "-q", "main");
  await Deno.writeTextFile(`${repo}/local.txt`, "a local commit\n");
  await Deno.writeTextFile(`${repo}/notes.txt`, "local\n");
  git(repo, "add", "local.txt", "notes.txt");
  git(repo, "commit", "-qm", "local");
  const local = git(repo, "rev-parse", "main");
  assert.equal(human("rebase", "-q", "other").code, 1, "the rebase stops on its conflict");
  const m2 = startMerge(repo);
  try {
    await m2.waitFor(/is in the middle of a rebase on main: finish or abort it; the landing waits/);
    assert.equal(git(repo, "rev-parse", "main"), local, "main does not move under the rebase");
    assert.equal(human("rebase", "--abort").code, 0);
    await m2.waitFor(/landed 0002 on main/);
  } finally {
    await m2.doneWithin(60_000);
  }
  assert.equal(git(repo, "show", "main:src/b.txt"), "b");
  assert.equal(git(repo, "show", "main:local.txt"), "a local commit");
  assert.equal(git(repo, "status", "--porcelain"), "");
});

Deno.test("merge: stopping the worker stops the check in progress, and its batch goes back to the queue", async () => {
  const state = await Deno.makeTempDir();
  const repo = await mergeRepo("", { check: `sleep 300 & echo $! > ${state}/pid; wait` });
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  e.close();
  const m = startMerge(repo, []);
  let pid = 0;
  for (let i = 0; i < 600 && !pid; i++) {
    pid = Number((await Deno.readTextFile(`${state}/pid`).catch(() => "")).trim()) || 0;
    if (!pid) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(pid > 0, "the check started");
  m.child.kill("SIGTERM");
  const r = await m.doneWithin(60_000); // it waited out the check
  assert.equal(r.signal, null, r.out + r.err);
  assert.match(r.out, /stopped during batch 1's check; its tickets are back in the queue/);
  const alive = (() => {
    try {
      const st = Deno.readTextFileSync(`/proc/${pid}/stat`);
      return !/^[ZXx]$/.test(st.slice(st.lastIndexOf(")") + 2).split(" ")[0]);
    } catch {
      return false;
    }
  })();
  assert.equal(alive, false, "the check's process is gone");
  const e2 = await engineOf(repo);
  assert.deepEqual(e2.mergeQueue().map((q) => q.ticketId), ["0001"], "0001 waits in the queue again");
  e2.close();
});

Deno.test("merge: a bisect lands its green prefix though the culprit's branch moved meanwhile", async () => {
  const repo = await mergeRepo("  batch_size: 2\n  flaky_retries: 0\n");
  // During the first check (the whole batch, red), the culprit's author pushes a fix attempt to baton/0002.
  await commitOnceDuringCheck(repo, "baton/0002", "src/try.txt", "0002 attempt");
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  finishedTicket(e, repo, "0002", { "src/b.txt": "BROKEN b\n" });
  e.close();
  const r = await startMerge(repo).done;
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /0002 breaks sh /);
  assert.doesNotMatch(r.out, /moved during the bisect/);
  assert.deepEqual(history(repo).slice(1), ["0001 Build: module 0001"], "the green prefix landed in the first batch");
  assert.match(r.out, /^1 batch\(es\); 1 ticket\(s\) landed/m);
});

Deno.test("merge: a branch whose merges only brought it up to date lands by rebase, its commits kept", async () => {
  const repo = await mergeRepo();
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  e.close();
  const g = (dir: string, ...args: string[]) =>
    git(dir, "-c", "user.name=Agent", "-c", "user.email=a@example.com", ...args);
  await Deno.writeTextFile(`${repo}/human.txt`, "human\n");
  g(repo, "add", "human.txt");
  g(repo, "commit", "-q", "-m", "human commit");
  const wt = `${await Deno.makeTempDir()}/wt`;
  g(repo, "worktree", "add", "-q", wt, "baton/0001");
  g(wt, "merge", "-q", "--no-edit", "main"); // brought up to date: the merge changes nothing of its own
  await Deno.writeTextFile(`${wt}/src/a2.txt`, "a2\n");
  g(wt, "add", "-A");
  g(wt, "commit", "-q", "-m", "0001 Build: second part");
  g(repo, "worktree", "remove", wt);
  const r = await startMerge(repo).done;
  assert.equal(r.code, 0, r.out + r.err);
  assert.doesNotMatch(r.out, /squashed/);
  assert.deepEqual(history(repo).slice(1), ["human commit", "0001 Build: module 0001", "0001 Build: second part"]);
});

Deno.test("merge: a worker stopped while its landing waited, and past its lease, moves nothing once it runs again", async () => {
  const repo = await mergeRepo(); // lease_minutes: 0.05 (3 s)
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "README.md": "# A project\n\nInstall with make.\n" });
  e.close();
  await Deno.writeTextFile(`${repo}/README.md`, "# A project\n\nhuman's notes\n");
  const w1 = startMerge(repo);
  let w2: ReturnType<typeof startMerge> | undefined;
  try {
    await w1.waitFor(/the landing waits/);
    w1.child.kill("SIGSTOP"); // stopped past its lease
    w2 = startMerge(repo, []);
    await w2.waitFor(/holds the queue for main/); // the second worker took the queue, and waits on the same files
    await w2.waitFor(/the landing waits/);
    w2.child.kill("SIGKILL");
    await w2.done;
    git(repo, "stash", "push", "-q", "--", "README.md");
    w1.child.kill("SIGCONT");
    await w1.waitFor(/landed 0001 on main/, 90_000);
  } finally {
    try {
      w1.child.kill("SIGCONT");
    } catch { /* it ended */ }
    await w1.doneWithin(90_000);
    try {
      w2?.child.kill("SIGKILL");
    } catch { /* gone */ }
  }
  const out = w1.out();
  assert.ok(out.indexOf("lost the queue") >= 0, out);
  assert.ok(out.indexOf("lost the queue") < out.indexOf("landed 0001"), "nothing moved before it knew: " + out);
  assert.deepEqual(history(repo).slice(1), ["0001 Build: module 0001"], "landed once");
  // Recorded as landed with its commit (not a no-op after the fact): it can be reverted.
  const rv = await baton(["merge", "revert", "0001", "--by", "dana"], { cwd: repo });
  assert.equal(rv.code, 0, rv.stderr);
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("merge: baton merge revert lands a revert through the queue and reopens the ticket; merge add lands a branch made by hand; status says so", async () => {
  const { baton } = await import("../helpers/cli.ts");
  const repo = await mergeRepo("  batch_size: 2\n");
  const e = await engineOf(repo);
  finishedTicket(e, repo, "0001", { "src/a.txt": "a\n" });
  e.upsertTicket({ id: "0002", title: "Hand-made" });
  e.close();
  assert.equal((await startMerge(repo).done).code, 0);
  const rv = await baton(["merge", "revert", "0001", "--by", "dana", "--notes", "breaks the export"], { cwd: repo });
  assert.equal(rv.code, 0, rv.stderr);
  // A branch made by hand for ticket 0002, whose Build a human says is done.
  git(repo, "branch", "feature/b", "main");
  const wt = `${repo}/.workflow/worktrees/hand`;
  git(repo, "worktree", "add", "-q", wt, "feature/b");
  Deno.writeTextFileSync(`${wt}/src-b.txt`, "b\n");
  git(wt, "add", "-A");
  git(wt, "commit", "-q", "-m", "0002 by hand");
  git(repo, "worktree", "remove", wt);
  const e2 = await engineOf(repo);
  const c = e2.claim(e2.ticket("0002").phases[0].id, { agentId: "human-b", capabilities: ["builder"] });
  e2.complete(c.phase.id, { agentId: "human-b", token: c.token, summary: "by hand" });
  e2.close();
  const add = await baton(["merge", "add", "0002", "--branch", "feature/b", "--by", "dana"], { cwd: repo });
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /0002 is queued to land feature\/b/);
  const st = await baton(["merge", "status"], { cwd: repo });
  assert.match(st.stdout, /Queued 1;/);
  assert.match(st.stdout, /Reverts queued: 0001/);
  const board = await baton(["status"], { cwd: repo });
  assert.match(board.stdout, /Merge\s+into main: 1 queued; no worker running/, "baton status shows the queue");
  assert.equal((await startMerge(repo).done).code, 0);
  const subjects = history(repo).slice(1);
  assert.equal(subjects[0], "0001 Build: module 0001");
  assert.match(subjects[1], /^Revert 1 commit\(s\): ticket 0001: breaks the export/);
  assert.equal(subjects[2], "0002 by hand");
  const e3 = await engineOf(repo);
  assert.equal(e3.ticket("0001").phases[0].status, "available");
  assert.match(e3.ticket("0001").phases[0].reworkNotes ?? "", /Reverted from main: breaks the export/);
  assert.equal(e3.ticket("0002").status, "completed");
  e3.close();
  const json = JSON.parse((await baton(["--json", "merge", "status"], { cwd: repo })).stdout);
  assert.equal(json.metrics.landed, 2);
  assert.equal(json.queued.length, 0);
});
