/**
 * The WAL's bound against readers: long read transactions in other
 * processes that overlap without a gap keep old snapshots for good, and no
 * checkpoint can copy past the oldest or start the WAL over. Real processes
 * (`tests/helpers/overlapping_reader.ts`), real files.
 */
import assert from "node:assert/strict";
import { type CheckpointMode, Database } from "../../src/storage/sqlite.ts";
import { walFrames } from "../../src/storage/vfs_state.ts";

/** Starts a reader process holding each read transaction `holdMs`; resolves once it holds its first snapshot. */
async function startReader(path: string, holdMs: number, stopFile: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../helpers/overlapping_reader.ts", import.meta.url).pathname,
      path,
      String(holdMs),
      stopFile,
    ],
    stdout: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("ready\n")) {
    const { value, done } = await out.read();
    if (done) throw new Error(`the reader ended before it was ready: ${text}`);
    text += value;
  }
  return {
    child,
    /** Its report once it has stopped: how many read transactions it ran. */
    async done(): Promise<{ reads: number }> {
      for (;;) {
        const { value, done } = await out.read();
        if (done) break;
        text += value;
      }
      assert.equal((await child.status).code, 0);
      return JSON.parse(text.split("\n").filter(Boolean).at(-1)!);
    },
  };
}

/** One row of ~1.5 frames, in its own transaction. */
const insertRow = (db: Database) => db.transaction(() => db.run("INSERT INTO t(pad) VALUES (zeroblob(1000))"));

/**
 * A reader process holding one read transaction for as long as the test runs (a stopped process holds it the same
 * way), started once `db` has a row; `stop()` kills it.
 */
async function stuckReader(db: Database, path: string, dir: string) {
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
  insertRow(db);
  const reader = await startReader(path, 600_000, `${dir}/STOP`);
  return {
    async stop() {
      reader.child.kill("SIGKILL");
      await reader.child.status;
      await reader.child.stdout.cancel().catch(() => {});
    },
  };
}

for (const mode of ["auto", "inline"] as CheckpointMode[]) {
  Deno.test(`WAL bound, ${mode}: readers in other processes that overlap without a gap do not grow the WAL without end`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "baton-wal-readers-" });
    const path = `${dir}/r.db`;
    const stop = `${dir}/STOP`;
    const threshold = 100;
    const db = await Database.open(path, { checkpoint: mode, walAutocheckpoint: threshold });
    db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
    // Three readers, each in read transactions of 60 ms back to back, started one after the other: their transactions
    // overlap, so one always holds a snapshot.
    const readers = [];
    for (let i = 0; i < 3; i++) {
      readers.push(await startReader(path, 60, stop));
      await new Promise((r) => setTimeout(r, 20));
    }
    let maxFrames = 0;
    const rows = 3_000; // ~1.5 frames each: the WAL's bound (8 × 100 frames) is passed five times over
    try {
      for (let i = 0; i < rows; i++) {
        db.transaction(() => db.run("INSERT INTO t(pad) VALUES (zeroblob(1000))"));
        maxFrames = Math.max(maxFrames, walFrames(path).frames);
      }
    } finally {
      Deno.writeTextFileSync(stop, "");
    }
    const reads = await Promise.all(readers.map((r) => r.done()));
    const stats = db.writeStats();
    // At the bound the writer waits for the readers (200 ms); where they outlast that, at twice it (2 s).
    assert.ok(maxFrames <= 16 * threshold + 4, `the WAL reached ${maxFrames} frames (${JSON.stringify(stats)})`);
    assert.ok(stats.walRestarts > 0, JSON.stringify(stats));
    for (const r of reads) assert.ok(r.reads > 1, "a reader stopped reading");
    assert.equal(db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n, rows);
    assert.equal(db.integrityCheck(), "ok");
    db.close();
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("WAL bound: a reader that never leaves costs the writer a wait per 8 thresholds written, not one per commit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "baton-wal-stuck-" });
  const path = `${dir}/s.db`;
  const threshold = 100;
  const db = await Database.open(path, { checkpoint: "auto", walAutocheckpoint: threshold });
  const reader = await stuckReader(db, path, dir);
  let commits = 0;
  try {
    while (walFrames(path).frames < 25 * threshold) {
      insertRow(db);
      commits++;
    }
  } finally {
    await reader.stop();
  }
  const stats = db.writeStats();
  // It waited at 8× (200 ms), then at 16× and 24× (2 s each): three waits, in ~1,700 commits past the bound.
  assert.equal(stats.walRestarts, 0, JSON.stringify(stats));
  assert.ok(stats.walRestartsGivenUp >= 2 && stats.walRestartsGivenUp <= 3, JSON.stringify(stats));
  // The waits were real: at least one long one (a lower bound only, whatever the machine's speed).
  assert.ok(stats.walRestartWaitMs >= 2_000, JSON.stringify(stats));
  assert.ok(commits > 1_000, `${commits} commits`);
  assert.equal(db.integrityCheck(), "ok");
  db.close();
  await Deno.remove(dir, { recursive: true });
});

for (const mode of ["auto", "inline"] as CheckpointMode[]) {
  Deno.test(`WAL bound, ${mode}: a reader that never leaves costs all writers together a wait per 8 thresholds, and a new connection waits only where its commit passes one`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "baton-wal-stuck2-" });
    const path = `${dir}/s.db`;
    const threshold = 100;
    const open = () => Database.open(path, { checkpoint: mode, walAutocheckpoint: threshold });
    const a = await open();
    const reader = await stuckReader(a, path, dir);
    const b = await open();
    const fresh: { waitMs: number; givenUp: number; frames: number }[] = [];
    try {
      // Two long-lived writers taking turns, as two agents' servers do, to 25 thresholds.
      for (let i = 0; walFrames(path).frames < 25 * threshold; i++) insertRow(i % 2 ? b : a);
      // Then short-lived connections, one commit each (CLI commands, git hooks): far from the next wait point.
      for (let k = 0; k < 3; k++) {
        const c = await open();
        insertRow(c);
        const w = c.writeStats();
        fresh.push({ waitMs: w.walRestartWaitMs, givenUp: w.walRestartsGivenUp, frames: walFrames(path).frames });
        c.close();
      }
    } finally {
      await reader.stop();
    }
    const [sa, sb] = [a.writeStats(), b.writeStats()];
    const all = JSON.stringify({ a: sa, b: sb, fresh });
    // The points at 8×, 16× and 24× were each waited at once, by one of the two: three waits between them, not three each.
    assert.equal(sa.walRestarts + sb.walRestarts, 0, all);
    assert.ok(sa.walRestartsGivenUp + sb.walRestartsGivenUp <= 3, all);
    assert.ok(sa.walRestartsGivenUp + sb.walRestartsGivenUp >= 2, all);
    assert.ok(sa.walRestartWaitMs + sb.walRestartWaitMs >= 2_000, all);
    for (const f of fresh) {
      assert.ok(f.frames < 32 * threshold, all); // no wait point was passed
      assert.equal(f.givenUp, 0, all);
      assert.equal(f.waitMs, 0, all);
    }
    assert.equal(a.integrityCheck(), "ok");
    a.close();
    b.close();
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("WAL bound: a wait for readers never takes more than a quarter of the busy timeout (the writers queued behind it wait too)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "baton-wal-cap-" });
  const path = `${dir}/c.db`;
  const threshold = 100;
  const db = await Database.open(path, { checkpoint: "inline", walAutocheckpoint: threshold, busyTimeoutMs: 400 });
  const reader = await stuckReader(db, path, dir);
  try {
    while (walFrames(path).frames < 17 * threshold) insertRow(db);
  } finally {
    await reader.stop();
  }
  const stats = db.writeStats();
  // Waited at 8× and 16×, 100 ms each at most (a quarter of 400), not 200 ms and 2 s (2.2 s before the cap). The bound
  // leaves room for a busy machine: it separates the two, it does not time the wait.
  assert.equal(stats.walRestartsGivenUp, 2, JSON.stringify(stats));
  assert.ok(stats.walRestartWaitMs < 1_000, JSON.stringify(stats));
  db.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("WAL bound: a commit waits at the point it passes even when another connection of its process last saw a longer WAL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "baton-wal-stale-" });
  const path = `${dir}/s.db`;
  const a = await Database.open(path, { checkpoint: "inline", walAutocheckpoint: 100 });
  a.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
  // b writes a WAL of ~1,000 frames, then stays idle: its copy of the wal-index keeps that count.
  const b = await Database.open(path, { checkpoint: "inline", walAutocheckpoint: 0 });
  b.transaction(() => {
    for (let i = 0; i < 1000; i++) b.run("INSERT INTO t(pad) VALUES (zeroblob(3000))");
  });
  const stale = walFrames(path).frames;
  // a's commits start the WAL over, then a reader of the same process stays, and a writes past 8 thresholds.
  for (let i = 0; i < 5; i++) a.transaction(() => a.run("INSERT INTO t(pad) VALUES (zeroblob(3000))"));
  const c = await Database.open(path, { checkpoint: "inline", walAutocheckpoint: 0 });
  c.exec("BEGIN");
  c.get("SELECT count(*) FROM t");
  let own = 0;
  while (own < 900) {
    a.transaction(() => a.run("INSERT INTO t(pad) VALUES (zeroblob(3000))"));
    own = a.checkpoint("passive").walFrames;
  }
  const stats = a.writeStats();
  assert.ok(stale > 900, `b saw ${stale} frames`);
  // The commit that passed 800 waited for the reader (and gave up: it stays).
  assert.equal(stats.walRestartsGivenUp, 1, JSON.stringify({ stale, own, stats }));
  c.exec("COMMIT");
  c.close();
  b.close();
  a.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("WAL bound: a commit that starts the WAL over and passes a wait point waits there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "baton-wal-big-" });
  const path = `${dir}/b.db`;
  const threshold = 100;
  const db = await Database.open(path, { checkpoint: "inline", walAutocheckpoint: threshold });
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
  // A WAL of ~850 frames, every one copied, nobody reading it: the next commit starts it over.
  const reader = await Database.open(path, { checkpoint: "inline", walAutocheckpoint: 0 });
  reader.exec("BEGIN");
  reader.get("SELECT count(*) FROM t");
  while (walFrames(path).frames < 850) db.transaction(() => db.run("INSERT INTO t(pad) VALUES (zeroblob(3000))"));
  reader.exec("COMMIT");
  reader.close();
  const r = db.checkpoint("passive");
  assert.equal(r.checkpointed, r.walFrames, JSON.stringify(r));
  const before = db.writeStats();
  // One commit of ~1,000 frames from a WAL started over: 0 to past 800, one wait point passed.
  db.transaction(() => {
    for (let i = 0; i < 1000; i++) db.run("INSERT INTO t(pad) VALUES (zeroblob(3000))");
  });
  const after = db.writeStats();
  // Nothing reads: the wait ends at its first attempt, with the WAL started over.
  assert.equal(after.walRestarts - before.walRestarts, 1, JSON.stringify({ before, after }));
  assert.equal(after.walRestartsGivenUp, before.walRestartsGivenUp, JSON.stringify({ before, after }));
  db.close();
  await Deno.remove(dir, { recursive: true });
});
