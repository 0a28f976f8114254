/**
 * `baton run` with a `merge:` section, as a process, with scripted agents and
 * real git: the run and its merge worker wait for each other only while the
 * worker can still land or send back work. Found by a hostile pass (stop 45):
 * a target red by itself kept `--until-idle` running for ever; a worker's
 * error (a push the remote refused) crashed the run and left its agents
 * running unsupervised; an idle worker let its lease lapse, so another worker
 * took the queue and status said no worker ran.
 */
import assert from "node:assert/strict";
import { type Engine, openEngine } from "../../mod.ts";
import { CLI } from "../helpers/cli.ts";
import { git, ONE_PHASE, runRepo, startRun, tickets } from "../helpers/run_repo.ts";
import { finishedTicket, mergeRepo, startMerge } from "../helpers/merge_repo.ts";
import { skipHeavy } from "../helpers/heavy.ts";

/** Whether a process is still there. */
function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** The run's `done`, or a failure saying what it printed when it is still running after `ms` (it hangs). */
async function endsWithin(run: ReturnType<typeof startRun>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill("SIGKILL");
      reject(new Error(`still running after ${ms / 1000} s:\n${run.out()}`));
    }, ms);
  });
  try {
    return await Promise.race([run.done, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The id of the worker that took the queue, once one has (waited for, bounded). */
async function queueHolder(e: Engine): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const holder = e.mergeStatus({ recent: 0 }).worker?.id;
    if (holder) return holder;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no worker took the queue within 30 s");
}

Deno.test({
  name: "run + merge: a target the check fails on by itself ends --until-idle with exit 1 once the agents are " +
    "done, saying the target is red (it waited for the queue for ever)",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(2), {
      phases: ONE_PHASE,
      config: 'merge:\n  check: "exit 1"\n  batch_wait_seconds: 0\n',
    });
    const run = startRun(repo, ["--until-idle"]);
    const r = await endsWithin(run, 120_000);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /the check fails on main itself/);
    assert.match(r.err, /main is red at [0-9a-f]{10}: the check fails on it without any ticket/);
    const e = await openEngine(repo);
    for (const t of e.listTickets()) assert.equal(t.status, "active", `${t.id} did not land: it is not complete`);
    assert.equal(e.mergeQueue().length, 2, "both wait in the queue for main to be fixed");
    e.close();
  },
});

Deno.test({
  name: "run + merge: a merge worker stopped by an error (the remote refuses the push) stops the run as a first " +
    "Ctrl-C does: the running agents finish, the run exits with the coded error, no agent is left unsupervised",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(
      [{ id: "0001", title: "Quick" }, { id: "0002", title: "Slow", metadata: { scripted: "slow:6@Implementation" } }],
      { phases: ONE_PHASE, config: 'merge:\n  check: "true"\n  batch_wait_seconds: 0\n  remote: origin\n' },
    );
    const bare = `${repo}-origin.git`;
    git(repo, "init", "-q", "--bare", bare);
    git(repo, "remote", "add", "origin", bare);
    git(repo, "push", "-q", "origin", "main");
    await Deno.writeTextFile(`${bare}/hooks/pre-receive`, "#!/bin/sh\necho 'main is protected' >&2\nexit 1\n");
    await Deno.chmod(`${bare}/hooks/pre-receive`, 0o755);
    const run = startRun(repo, ["--until-idle"]);
    const slow = await run.waitFor(/spawned implementer-\S+ for 0002\/Implementation .*\(pid (\d+)\)/);
    const r = await endsWithin(run, 120_000);
    assert.notEqual(r.code, 0, r.out + r.err);
    assert.doesNotMatch(r.err, /Uncaught/, r.err);
    assert.match(r.out, /merge: the merge queue stopped: .*refused the push/);
    assert.match(r.err, /push_rejected|refused the push/);
    assert.equal(alive(Number(slow[1])), false, "the slow agent's process ended before the run did");
    const e = await openEngine(repo);
    const p = e.ticket("0002").phases[0];
    assert.ok(p.status === "completed" || p.status === "available", `the slow agent's phase: ${p.status}`);
    assert.equal(e.mergeStatus({ recent: 0 }).worker, null, "the worker gave the queue up (the next one recovers)");
    e.close();
    await Deno.remove(bare, { recursive: true });
  },
});

Deno.test({
  name: "merge: an idle worker keeps its lease (status names it, and a second worker does not take the queue)",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await mergeRepo(); // lease_minutes 0.05: 3 s
    const a = startMerge(repo, []);
    const e = await openEngine(repo);
    let b: ReturnType<typeof startMerge> | undefined;
    try {
      const holder = await queueHolder(e);
      b = startMerge(repo, []);
      // Three leases' time on the engine's clock: the holder stays the first worker all along.
      const until = Date.now() + 3 * 3_000;
      while (Date.now() < until) {
        assert.equal(e.mergeStatus({ recent: 0 }).worker?.id, holder, "the idle worker's lease lapsed");
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(e.audit({ action: "merge.worker", limit: 100 }).length, 1, "the queue changed hands");
    } finally {
      for (const c of [a, b]) {
        if (!c) continue;
        c.child.kill("SIGTERM");
        await c.done;
      }
      e.close();
    }
  },
});

Deno.test({
  name: "merge: a worker killed with kill -9 (with the baton run it ran in) is replaced by the next one on the same " +
    "host once it missed its renewals for half a lease, not after its lease; a live one keeps the queue",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await mergeRepo();
    const cfg = `${repo}/.workflow/config.yaml`;
    await Deno.writeTextFile(cfg, (await Deno.readTextFile(cfg)).replace("lease_minutes: 0.05", "lease_minutes: 0.4"));
    const e = await openEngine(repo);
    const a = startMerge(repo, []);
    const holder = await queueHolder(e);
    a.child.kill("SIGKILL");
    await a.done;
    finishedTicket(e, repo, "0001", { "a.txt": "module a\n" }); // work for the next worker to land
    const out = await startMerge(repo, ["--until-idle"]).doneWithin(120_000); // (bounded: it must not hang)
    const text = out.out;
    assert.equal(out.code, 0, text + out.err);
    assert.equal(e.ticket("0001").status, "completed", "landed by the worker that took over");
    assert.match(
      text,
      new RegExp(`the worker that held the queue \\(${holder.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\) is gone`),
    );
    e.close();
  },
});

Deno.test({
  name: "run + merge: by default an agent cannot complete its phase with its work left uncommitted in its worktree " +
    "(it would not land, and the ticket would count as landed without it)",
  ignore: skipHeavy,
  fn: async () => {
    const repo = await runRepo(tickets(1), {
      phases: ONE_PHASE,
      config: 'merge:\n  check: "true"\n  batch_wait_seconds: 0\n',
    });
    // The agent writes its work, never commits it, and completes (as an agent that forgets git would).
    const cfg = `${repo}/.workflow/config.yaml`;
    const script =
      `echo 'the feature' > feature.txt; "${Deno.execPath()}" run -A "${CLI}" complete "$BATON_PHASE_ID" ` +
      `--agent "$BATON_AGENT_ID" --token "$BATON_CLAIM" --summary done`;
    await Deno.writeTextFile(
      cfg,
      (await Deno.readTextFile(cfg)).replace(
        /implementer: .*/,
        `implementer: { command: sh, args: ["-c", ${JSON.stringify(script)}] }`,
      ),
    );
    const run = startRun(repo, ["--until-idle"]);
    const r = await endsWithin(run, 120_000);
    assert.notEqual(r.code, 0, r.out + r.err);
    assert.doesNotMatch(r.out, /merge: landed 0001/, r.out);
    const e = await openEngine(repo);
    assert.equal(e.ticket("0001").status, "active", "not complete: its work is not on main");
    const p = e.ticket("0001").phases[0];
    assert.equal(p.status, "failed");
    assert.match(p.error ?? "", /uncommitted changes \(feature\.txt\): they would not land/);
    e.close();
  },
});
