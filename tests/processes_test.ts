/**
 * `src/processes.ts`: a recorded process group is ended only while it is the
 * recorded one, children that outlived their leader included; a pid given to
 * another process since is never killed.
 */
import assert from "node:assert/strict";
import { describeProcess, killProcessGroup, processStart, processStartedAt } from "../src/processes.ts";

/** A shell leading its own process group, with a child of its own; both pids once the child runs. */
async function group(mark = "1"): Promise<{ leader: number; child: number; proc: Deno.ChildProcess }> {
  const proc = new Deno.Command("sh", {
    args: ["-c", "sleep 300 & echo $!; wait"],
    stdout: "piped",
    stdin: "null",
    detached: true,
    env: { BATON_TEST_MARK: mark },
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const x = await reader.read();
    if (x.done) break;
    out += x.value;
  }
  reader.releaseLock();
  return { leader: proc.pid, child: Number(out.trim()), proc };
}

const alive = (pid: number) => processStart(pid) !== null;

Deno.test("processes: a group is killed whole while its leader is the recorded process", async () => {
  const g = await group();
  const n = killProcessGroup(describeProcess(g.leader));
  await g.proc.status;
  await g.proc.stdout.cancel().catch(() => {});
  assert.equal(n, 2);
  // SIGKILL is delivered, not waited for: the child (not ours to reap) is gone once the kernel has ended it.
  for (let i = 0; i < 200 && alive(g.child); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(!alive(g.child), "the leader's child still runs");
});

Deno.test("processes: the children of a leader that exited are still ended, when their environment says they are its", async () => {
  const g = await group("7");
  const recorded = describeProcess(g.leader);
  Deno.kill(g.leader, "SIGKILL");
  await g.proc.status; // the leader is gone and reaped: its child is left, in its group
  assert.ok(alive(g.child));
  // A group under that id whose members are not the recorded process's (a reused pid): left alone.
  assert.equal(killProcessGroup(recorded, { environ: "BATON_TEST_MARK=8" }), 0);
  assert.ok(alive(g.child), "a process that is not the recorded one's was killed");
  assert.equal(killProcessGroup(recorded, { environ: "BATON_TEST_MARK=7" }), 1);
  for (let i = 0; i < 200 && alive(g.child); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(!alive(g.child), "the orphaned child still runs");
  await g.proc.stdout.cancel().catch(() => {});
});

Deno.test("processes: a recorded leader whose pid now names another process (another start time) is never killed", async () => {
  const g = await group();
  const info = describeProcess(g.leader);
  try {
    assert.equal(killProcessGroup({ ...info, pidStart: String(Number(info.pidStart) - 1) }), 0);
    assert.equal(killProcessGroup({ ...info, host: `${info.host}-elsewhere` }), 0);
    assert.equal(killProcessGroup({ ...info, pidStart: null }), 0);
    assert.ok(alive(g.leader) && alive(g.child), "a process not proven to be the recorded one was killed");
  } finally {
    killProcessGroup(info);
    await g.proc.status;
    await g.proc.stdout.cancel().catch(() => {});
  }
});

Deno.test("processes: a process's start time is read in ms since the epoch (a set-aside file older than a live pid's process was left by another one)", async () => {
  const before = Date.now();
  const child = new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" }).spawn();
  try {
    const started = processStartedAt(child.pid);
    const after = Date.now();
    assert.ok(started !== null, "a live process's start is known on Linux");
    // /proc gives whole seconds of boot time and 1/100 s ticks: within a second or two of the spawn.
    assert.ok(started >= before - 2_000 && started <= after + 2_000, `${started} not in [${before}, ${after}]`);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.equal(processStartedAt(2 ** 22 + 12_345), null, "a pid no process has");
});

Deno.test("processes: a group is asked to end first (SIGTERM): what it was doing ends cleanly, as git removes its index.lock (run helper #4)", async () => {
  const mark = await Deno.makeTempFile();
  const proc = new Deno.Command("sh", {
    args: ["-c", `trap 'echo ended cleanly > ${mark}; exit 0' TERM; echo ready; sleep 300 & wait`],
    stdout: "piped",
    stdin: "null",
    detached: true,
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  for (let out = ""; !out.includes("ready");) out += (await reader.read()).value ?? "";
  reader.releaseLock();
  assert.ok(killProcessGroup(describeProcess(proc.pid)) >= 1);
  await proc.status;
  await proc.stdout.cancel().catch(() => {});
  assert.equal((await Deno.readTextFile(mark)).trim(), "ended cleanly");
});
