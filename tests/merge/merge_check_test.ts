/**
 * The merge queue's check as processes (`src/merge/check.ts`): the time limit
 * reaches what a command started, and a command that leaves something
 * running (a test server) does not keep the check, and the queue, waiting.
 */
import assert from "node:assert/strict";
import { runCheck } from "../../src/merge/check.ts";

/** Whether a process runs (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^[ZXx]$/.test(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]);
  } catch {
    return false;
  }
}

/** Whether `pid` is gone within `ms`: a SIGKILLed process ends a moment after the kill returns (the kernel's doing). */
async function goneWithin(pid: number, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Runs the check, failing the test (instead of hanging) when it has not returned within `boundMs`. */
async function bounded(commands: string[], timeoutMs: number, boundMs = 60_000) {
  const dir = await Deno.makeTempDir({ prefix: "baton-check-" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    runCheck(commands, { cwd: dir, timeoutMs, logFile: `${dir}/check.log`, env: { PATH: Deno.env.get("PATH")! } }),
    new Promise<never>((_, no) => timer = setTimeout(() => no(new Error("the check never returned")), boundMs)),
  ]);
  clearTimeout(timer);
  const pid = Number((await Deno.readTextFile(`${dir}/pid`).catch(() => "0")).trim());
  return { result, dir, pid, log: await Deno.readTextFile(`${dir}/check.log`) };
}

Deno.test("merge check: over its time limit, a command whose child hangs is red, and the child is killed", async () => {
  // `npm test` starting node: the hang is in a child of the shell, which holds the output pipes.
  const { result, pid, log } = await bounded(["echo checking; sleep 300 & echo $! > pid; wait"], 3_000);
  assert.equal(result.green, false);
  assert.equal(result.timedOut, true);
  assert.match(log, /checking\n\(over the time limit of 3 s\)\n$/);
  assert.ok(pid > 0 && await goneWithin(pid), "the hanging child was killed with its shell");
});

Deno.test("merge check: a passing command that leaves a helper running is green at once, and the helper is killed", async () => {
  const { result, pid } = await bounded(["(sleep 300 & echo $! > pid); echo passed"], 600_000);
  assert.equal(result.green, true, result.tail);
  assert.match(result.tail, /passed/);
  assert.ok(pid > 0 && await goneWithin(pid), "what the check left running is killed");
});

Deno.test("merge check: output that a process outside the check's group keeps open is not waited for", async () => {
  // setsid: its own group, out of reach of the group kill; it holds stdout.
  const { result, pid } = await bounded([
    "setsid sh -c 'echo $$ > pid; exec sleep 300' & i=0; while [ ! -s pid ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo done",
  ], 600_000);
  assert.equal(result.green, true, result.tail);
  if (pid > 0) Deno.kill(pid, "SIGKILL");
});
