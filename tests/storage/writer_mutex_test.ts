/**
 * The writer queue's robust mutex (src/storage/writer_mutex.ts): a holder
 * that dies hands the lock on, a stale mutex left in the file is made afresh
 * when nobody uses it, a wait gives up at its deadline, and while a waiter
 * has claimed its turn nobody barges (bounded fairness,
 * src/storage/writer_queue.ts; `deno task bench:storage` measures the
 * longest wait of a writer among others that write without pause).
 */
import assert from "node:assert/strict";
import { startLockHolder } from "../helpers/lock_holder.ts";
import { libc } from "../../src/storage/libc.ts";
import { WriterMutex } from "../../src/storage/writer_mutex.ts";
import { WriterQueue } from "../../src/storage/writer_queue.ts";

const available = libc() !== null;
const MUTEX = new URL("../../src/storage/writer_mutex.ts", import.meta.url).href;
const QUEUE = new URL("../../src/storage/writer_queue.ts", import.meta.url).href;

/** A child process that takes the mutex, says so on stdout, then waits to be killed. */
function holder(lockDir: string): { proc: Deno.ChildProcess; ready: Promise<void> } {
  const script = `
    import { WriterMutex } from ${JSON.stringify(MUTEX)};
    const m = WriterMutex.open(${JSON.stringify(lockDir)});
    if (!m || m.lock(5000) !== "held") Deno.exit(3);
    console.log("held");
    setInterval(() => {}, 60_000); // alive until killed
  `;
  const proc = new Deno.Command(Deno.execPath(), { args: ["eval", script], stdout: "piped", stderr: "piped" }).spawn();
  const ready = (async () => {
    const r = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("held")) {
      const { value, done } = await r.read();
      if (done) throw new Error(`the holder exited: ${out}`);
      out += value;
    }
    r.releaseLock();
  })();
  return { proc, ready };
}

Deno.test({
  name: "writer mutex: a killed holder hands the lock on at once; a live one makes a wait time out",
  ignore: !available,
  async fn() {
    const dir = await Deno.makeTempDir();
    const h = holder(dir);
    await h.ready;
    const m = WriterMutex.open(dir)!;
    const t0 = performance.now();
    assert.equal(m.lock(300), "timeout");
    assert.ok(performance.now() - t0 >= 290, "waited its timeout");
    h.proc.kill("SIGKILL");
    await h.proc.status;
    assert.equal(m.lock(5000), "held", "the dead holder's lock is taken over");
    m.unlock();
    m.close();
  },
});

Deno.test({
  name: "writer mutex: a stale mutex in the file (held by a process that is gone) is made afresh when nobody uses it",
  ignore: !available,
  async fn() {
    const dir = await Deno.makeTempDir();
    const h = holder(dir);
    await h.ready;
    // Freeze the file as it is now (locked by the holder's thread), then let the holder go without a trace:
    // the copy restored below is what a machine that stopped mid-transaction leaves.
    const locked = Deno.readFileSync(`${dir}/writer-mutex`);
    h.proc.kill("SIGKILL");
    await h.proc.status;
    Deno.writeFileSync(`${dir}/writer-mutex`, locked);
    const m = WriterMutex.open(dir)!;
    assert.equal(m.lock(2000), "held");
    m.close();
  },
});

Deno.test({
  name: "writer mutex: an opener does not wait for ever on an initialiser stopped while it held the users' switch",
  ignore: !available,
  async fn() {
    const dir = await Deno.makeTempDir();
    const db = `${dir}/x.db`;
    await Deno.mkdir(`${db}-lock`);
    Deno.writeFileSync(`${db}-lock/writer-mutex-users`, new Uint8Array());
    // What a process stopped (SIGSTOP) between taking the switch exclusive and letting it go leaves: the switch
    // held exclusive for good.
    const stopped = await startLockHolder("hold_lock_file.ts", [`${db}-lock/writer-mutex-users`]);
    try {
      // In a child, so that an opener that blocks for good fails this test instead of hanging the run.
      const script = `
        import { WriterMutex } from ${JSON.stringify(MUTEX)};
        import { WriterQueue } from ${JSON.stringify(QUEUE)};
        const t0 = performance.now();
        const m = WriterMutex.open(${JSON.stringify(`${db}-lock`)});
        const waited = performance.now() - t0;
        const q = new WriterQueue(${JSON.stringify(db)}, 100);
        const r = q.enter(5000);
        q.leave();
        q.close();
        console.log(JSON.stringify({ mutex: m === null ? "none" : "open", queue: r, waited }));
      `;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", script],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      const err = new TextDecoder().decode(out.stderr);
      assert.equal(out.signal, null, `the opener was still waiting 30 s later: ${err}`);
      assert.equal(out.code, 0, err);
      // Without the switch there is no mutex to share; the lock files serve the queue (SQLite's own lock keeps
      // writers apart either way).
      const { waited, ...result } = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.deepEqual(result, { mutex: "none", queue: "held" });
      // Its bound (1 s), not a wait that merely ends some day: a liveness check, loose for a loaded machine.
      assert.ok(waited < 10_000, `the opener waited ${waited} ms`);
    } finally {
      await stopped.kill();
    }
  },
});

Deno.test({
  name: "writer mutex: an opener waits out an initialiser that holds the users' switch for a moment",
  ignore: !available,
  async fn() {
    const dir = await Deno.makeTempDir();
    WriterMutex.open(dir)!.close(); // the mutex as an initialiser leaves it
    // A holder of the switch, descheduled a while (300 ms) before it lets go: well within the opener's wait (1 s), so
    // the opener gets the mutex instead of sending its connection to the lock files for good.
    const slow = await startLockHolder("hold_lock_file.ts", [`${dir}/writer-mutex-users`, "300"]);
    try {
      const m = WriterMutex.open(dir);
      assert.ok(m, "the opener has the mutex");
      assert.equal(m.lock(1000), "held");
      m.unlock();
      m.close();
    } finally {
      await slow.ended();
    }
  },
});

Deno.test({
  name: "writer queue: while a waiter has claimed its turn, a newcomer stands aside until it has waited its own share",
  ignore: !available,
  async fn() {
    const dir = await Deno.makeTempDir();
    const db = `${dir}/x.db`;
    await Deno.mkdir(`${db}-lock`);
    // Free: the first writer takes the queue at once.
    const first = new WriterQueue(db, 100);
    assert.equal(first.enter(1000), "held");
    first.leave();
    // A waiter (simulated) has waited too long and claimed its turn: the mutex is free, yet a newcomer does not
    // barge; it joins the line once it has waited its own fairness time.
    const turn = Deno.openSync(`${db}-lock/writer-turn`, { read: true, write: true, create: true });
    turn.lockSync(true);
    const t0 = performance.now();
    assert.equal(first.enter(5000), "held");
    assert.ok(performance.now() - t0 >= 95, `stood aside ${(performance.now() - t0).toFixed(1)} ms`);
    first.leave();
    turn.unlockSync();
    turn.close();
    first.close();
  },
});
