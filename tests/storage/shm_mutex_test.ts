/**
 * A process stopped while it holds the wal-index mutex (`X-lock/shm-mutex`)
 * must not stop the others with it: a connection that needs the mutex to map
 * or refresh the wal-index answers busy after a short wait, so that opening
 * and reading end in `database_locked` within the busy timeout instead of
 * waiting for ever; once the holder is gone, everything works and nothing
 * was lost. A commit's publish, which cannot give up, waits for the mutex.
 */
import assert from "node:assert/strict";
import { Database } from "../../src/storage/sqlite.ts";
import { MUTEX_WAIT_MS, shmStats } from "../../src/storage/shm.ts";
import { hold, pair, READ, release, WRITE } from "../helpers/shm_pair.ts";
import { FaultBackend } from "../helpers/fault_backend.ts";
import { type LockHolder, startLockHolder } from "../helpers/lock_holder.ts";

const helper = (name: string) => new URL(`../helpers/${name}`, import.meta.url).pathname;

/** Runs the read/write client in a process of its own; gives up on it (killing it) after `limitMs`. */
async function client(path: string, what: "read" | "write", busyMs: number, limitMs: number) {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", helper("shm_mutex_client.ts"), path, what, String(busyMs)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), limitMs));
  const output = p.output();
  const done = await Promise.race([output, late]);
  clearTimeout(timer);
  if (done === "late") {
    p.kill("SIGKILL");
    await output;
    return { late: true } as const;
  }
  const out = new TextDecoder().decode(done.stdout).trim();
  assert.ok(out, `the client printed nothing: ${new TextDecoder().decode(done.stderr)}`);
  return JSON.parse(out) as { ok?: number; error?: string; ms: number };
}

Deno.test("a stopped holder of the wal-index mutex: other processes' opens, reads and writes end in database_locked, then work once it is gone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "baton-shm-mutex-" });
  const path = `${dir}/m.db`;
  const db = await Database.open(path);
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, x INTEGER)");
  db.transaction(() => db.run("INSERT INTO t(x) VALUES (1)"));
  // Stays open, so that the wal-index (and the mutex file) outlive the holder's start.
  const holder = await startLockHolder("hold_lock_file.ts", [`${path}-lock/shm-mutex`]);
  try {
    const busyMs = 1000;
    for (const what of ["read", "write"] as const) {
      // A new connection maps the wal-index under the mutex. Waiting for it for ever used to stop this process too.
      const r = await client(path, what, busyMs, 20_000);
      assert.ok(!("late" in r), `a new connection's ${what} was still waiting for the mutex after 20 s`);
      assert.equal(r.error, "database_locked", `${what}: ${JSON.stringify(r)}`);
      // The busy timeout, or SQLite's own retries of a read lock when the wal-index cannot be mapped (~10 s).
      assert.ok(r.ms < 15_000, `${what} took ${r.ms} ms to fail (busy timeout ${busyMs} ms)`);
    }
  } finally {
    await holder.kill();
  }
  // The holder is gone (its lock with it): everything works, and the one row written before is there.
  for (const what of ["write", "read"] as const) {
    const r = await client(path, what, 5000, 60_000);
    assert.ok(!("late" in r) && r.ok === 2, `${what} once the holder is gone: ${JSON.stringify(r)}`);
  }
  db.transaction(() => db.run("INSERT INTO t(x) VALUES (1)"));
  assert.equal(db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n, 3);
  assert.equal(db.integrityCheck(), "ok");
  db.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a stopped holder of the wal-index mutex: a connection opened before, whose view is then out of date, gets database_locked for a read and a write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "baton-shm-mutex-" });
  const path = `${dir}/m.db`;
  const db = await Database.open(path);
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, x INTEGER)");
  db.transaction(() => db.run("INSERT INTO t(x) VALUES (1)"));
  const busyMs = 1000;
  const clients = (["read", "write"] as const).map((what) => {
    const p = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", helper("shm_mutex_client.ts"), path, what, String(busyMs), "wait"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const lines = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
    return { what, p, lines };
  });
  let holder: LockHolder | undefined;
  try {
    for (const c of clients) assert.equal((await c.lines.read()).value?.trim(), "open");
    // A commit the clients have not seen: their next lock must pull it, under the mutex.
    db.transaction(() => db.run("INSERT INTO t(x) VALUES (1)"));
    holder = await startLockHolder("hold_lock_file.ts", [`${path}-lock/shm-mutex`]);
    for (const c of clients) {
      const w = c.p.stdin.getWriter();
      await w.write(new TextEncoder().encode("go\n"));
      await w.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), 20_000));
      const got = await Promise.race([c.lines.read(), late]);
      clearTimeout(timer);
      assert.ok(got !== "late", `the open connection's ${c.what} was still waiting for the mutex after 20 s`);
      const r = JSON.parse(got.value!.trim());
      assert.equal(r.error, "database_locked", `${c.what}: ${JSON.stringify(r)}`);
    }
  } finally {
    await holder?.kill();
    for (const c of clients) {
      try {
        c.p.kill("SIGKILL");
      } catch { /* ended */ }
      await c.p.status;
      await c.lines.cancel();
    }
  }
  assert.equal(db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n, 2);
  assert.equal(db.integrityCheck(), "ok");
  db.close();
  await Deno.remove(dir, { recursive: true });
});

/** Polls `ok` between event-loop turns (timers run) until it holds, for `ms` at most. */
async function eventually(ok: () => boolean, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

Deno.test("shm: a read mark that cannot be published for the held mutex keeps its slot, and an idle connection lets it go once the mutex is free", async () => {
  const { a, b, dir, close } = await pair();
  const mutex = Deno.openSync(`${dir}/db-lock/shm-mutex`, { read: true, write: true });
  try {
    hold(a.conn, READ(1), true);
    a.word(0, 26)[0] = 777; // a read mark, as walTryBeginRead sets it under READ(1) exclusive
    mutex.lockSync(true); // another "process" holds the mutex (flock: per open file)
    const timeouts = shmStats.mutexTimeouts;
    const t0 = performance.now();
    // SQLite ignores unlock errors: the slot is kept, not released with an unpublished mark.
    assert.throws(() => release(a.conn, READ(1), true), /mutex/);
    assert.ok(performance.now() - t0 >= MUTEX_WAIT_MS - 1, "the publish did not wait for the mutex");
    assert.equal(shmStats.mutexTimeouts, timeouts + 1);
    assert.equal(b.conn.lock(READ(1), 1, 2 | 4), false, "the slot was let go with its mark unpublished");
    mutex.unlockSync();
    // `a` makes no call: its publish is retried from a timer, then the slot goes.
    assert.ok(await eventually(() => b.conn.lock(READ(1), 1, 2 | 4), 5_000), "the idle connection kept the slot");
    assert.equal(b.word(0, 26)[0], 777);
    release(b.conn, READ(1), false);
  } finally {
    mutex.close();
    close();
  }
});

Deno.test("shm: letting go of WRITE with nothing to publish while the mutex is held never keeps the slot", async () => {
  const { a, b, dir, close } = await pair();
  const mutex = Deno.openSync(`${dir}/db-lock/shm-mutex`, { read: true, write: true });
  try {
    hold(a.conn, WRITE, true); // BEGIN IMMEDIATE ... ROLLBACK: WRITE taken, nothing changed
    // b publishes something meanwhile, so that a's next pull would need the mutex.
    hold(b.conn, READ(2), true);
    b.word(0, 27)[0] = 5;
    release(b.conn, READ(2), true);
    mutex.lockSync(true);
    assert.equal(release(a.conn, WRITE, true), true);
    mutex.unlockSync();
    hold(b.conn, WRITE, true); // at once: a kept nothing
    release(b.conn, WRITE, true);
  } finally {
    mutex.close();
    close();
  }
});

Deno.test("shm: a commit's publish waits for the mutex however long it is held (giving up could lose the commit)", async () => {
  const { a, b, dir, close } = await pair();
  const holder = await startLockHolder("hold_lock_file.ts", [`${dir}/db-lock/shm-mutex`, "600"]);
  try {
    hold(a.conn, WRITE, true);
    a.word(0, 4)[0] = 99; // mxFrame of a commit
    const t0 = performance.now();
    assert.equal(release(a.conn, WRITE, true), true);
    const waited = performance.now() - t0;
    assert.ok(waited > 3 * MUTEX_WAIT_MS, `the commit's publish waited only ${waited.toFixed(0)} ms`);
    hold(b.conn, WRITE, true);
    assert.equal(b.word(0, 4)[0], 99);
    release(b.conn, WRITE, true);
  } finally {
    await holder.ended();
    close();
  }
});

Deno.test("shm: closing with a read mark still unpublished for the held mutex neither waits for it nor poisons the wal-index", async () => {
  const { a, b, dir } = await pair();
  let holder: LockHolder | undefined;
  let closed = false;
  try {
    hold(b.conn, READ(0), false); // b reads the header now, before the holder takes the mutex
    release(b.conn, READ(0), false);
    holder = await startLockHolder("hold_lock_file.ts", [`${dir}/db-lock/shm-mutex`, "3000"]);
    hold(a.conn, READ(1), true);
    a.word(0, 26)[0] = 888;
    assert.throws(() => release(a.conn, READ(1), true), /mutex/);
    const poisoned = shmStats.poisoned;
    const t0 = performance.now();
    a.conn.unmap(); // a server shutting down, or the checkpoint thread leaving when idle
    closed = true;
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `closing waited ${ms.toFixed(0)} ms for the mutex`);
    assert.equal(shmStats.poisoned, poisoned, "the wal-index was marked for a rebuild");
  } finally {
    if (!closed) a.conn.unmap();
    await holder?.ended();
    b.conn.unmap();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shm: letting go of a shared slot while an earlier publish keeps failing releases it (an I/O error, not only a busy mutex)", async () => {
  const faults = new FaultBackend();
  const { a, b, close } = await pair(1, faults);
  try {
    hold(a.conn, READ(0), false);
    hold(a.conn, READ(1), true);
    a.word(0, 26)[0] = 555;
    // Every lock of the mutex fails from now on: the publish of the mark is put off, and retried at each call.
    faults.filter = (p) => p.endsWith("/shm-mutex");
    faults.arm({ op: "lock", n: 1, kind: "io", sticky: true });
    assert.throws(() => release(a.conn, READ(1), true));
    try {
      release(a.conn, READ(0), false); // the retry of the publish fails again first
    } catch { /* SQLite ignores an unlock's error */ }
    // READ(0) is let go all the same: another connection can take it exclusive.
    assert.equal(b.conn.lock(READ(0), 1, 2 | 8), true, "READ(0) stayed held after its unlock");
    release(b.conn, READ(0), true);
    faults.reset();
    assert.ok(await eventually(() => b.conn.lock(READ(1), 1, 2 | 4), 5_000), "the put-off publish never went through");
    assert.equal(b.word(0, 26)[0], 555);
    release(b.conn, READ(1), false);
  } finally {
    close();
  }
});

Deno.test("shm: an unlock that fails while put-off slots are let go counts each slot once (a writer's unpublished header survives a barrier)", async () => {
  const faults = new FaultBackend();
  const { a, b, dir, close } = await pair(1, faults);
  const mutex = Deno.openSync(`${dir}/db-lock/shm-mutex`, { read: true, write: true });
  try {
    hold(a.conn, READ(1), true);
    hold(a.conn, READ(2), true);
    a.word(0, 26)[0] = 11;
    a.word(0, 27)[0] = 12;
    mutex.lockSync(true);
    assert.throws(() => release(a.conn, READ(1), true));
    assert.throws(() => release(a.conn, READ(2), true)); // both put off
    mutex.unlockSync();
    // Letting them go: READ(1) is released, READ(2)'s unlock fails once.
    faults.filter = (p) => p.endsWith(`/shm-${READ(2)}`);
    faults.arm({ op: "unlock", n: 1, kind: "io" });
    assert.throws(() => a.conn.barrier());
    faults.reset();
    a.conn.barrier(); // lets READ(2) go; READ(1) must not be counted down a second time
    hold(a.conn, WRITE, true);
    hold(a.conn, READ(3), true);
    release(a.conn, READ(3), true); // a still holds WRITE: its copy still has changes of its own to come
    hold(b.conn, READ(4), true); // another process publishes a read mark meanwhile
    b.word(0, 29)[0] = 7;
    release(b.conn, READ(4), true);
    a.word(0, 4)[0] = 4242; // the commit's header word, written under WRITE
    a.conn.barrier(); // walIndexWriteHdr's barrier between the header's two copies
    assert.equal(a.word(0, 4)[0], 4242, "the barrier replaced the writer's unpublished header with the file's");
    release(a.conn, WRITE, true);
    hold(b.conn, READ(4), false);
    assert.equal(b.word(0, 4)[0], 4242);
    release(b.conn, READ(4), false);
  } finally {
    mutex.close();
    close();
  }
});

Deno.test("shm: letting go of a range of slots releases every slot of it even when one slot's unlock fails", async () => {
  const faults = new FaultBackend();
  const { a, b, close } = await pair(1, faults);
  try {
    assert.ok(a.conn.lock(READ(1), 3, 2 | 4), "READ(1..3) shared");
    faults.filter = (p) => p.endsWith(`/shm-${READ(2)}`);
    faults.arm({ op: "unlock", n: 1, kind: "io" });
    assert.throws(() => a.conn.lock(READ(1), 3, 1 | 4));
    faults.reset();
    assert.equal(b.conn.lock(READ(3), 1, 2 | 8), true, "READ(3) stayed held after the range's unlock");
    release(b.conn, READ(3), true);
  } finally {
    close();
  }
});

Deno.test("shm: under a poison mark, a WRITE hold that changes page 0 but not the header leaves the mark (only a rebuilt header lifts it)", async () => {
  const { a, b, dir, close } = await pair();
  try {
    hold(b.conn, WRITE, true);
    b.word(0, 0)[0] = 3007000; // the header's iVersion
    b.word(0, 4)[0] = 7; // mxFrame: a commit of 7 frames
    release(b.conn, WRITE, true);
    // A connection that could not publish its commit marked the wal-index for a rebuild (`#poison`): the table's
    // poison word, and the global counter so that everyone looks.
    const f = Deno.openSync(`${dir}/db-lock/shm-mutex`, { read: true, write: true });
    const w = new Uint32Array(2);
    f.readSync(new Uint8Array(w.buffer));
    w[0] = (w[0] + 1) >>> 0;
    w[1] = 1;
    f.seekSync(0, Deno.SeekMode.Start);
    f.writeSync(new Uint8Array(w.buffer));
    f.close();
    // a recovers under WRITE but stops half-way (a region it could not map): page numbers written, no header.
    hold(a.conn, WRITE, true);
    assert.equal(a.word(0, 4)[0], 0, "the poison mark made a forget its copy of the header");
    a.word(0, 40)[0] = 123;
    release(a.conn, WRITE, true);
    // Others must still rebuild: none may trust the header from before the mark.
    hold(b.conn, READ(0), false);
    assert.equal(b.word(0, 4)[0], 0, "the mark was lifted without a rebuilt header: the stale header is trusted");
    release(b.conn, READ(0), false);
  } finally {
    close();
  }
});
