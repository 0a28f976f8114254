import assert from "node:assert/strict";
import { Database } from "../../src/storage/sqlite.ts";
import { parseConfig } from "../../src/config/config_file.ts";
import { walFrames } from "../../src/storage/vfs_state.ts";

/** What one `turn_writer.ts` process reports. */
interface WriterReport {
  threads: number;
  checkpoints: number;
  maxWalFrames: number;
  ownFrames: number;
  otherFrames: number;
}

/** Runs `n` writer processes taking turns on a new database; returns their reports and the database's path. */
async function writeInTurns(
  n: number,
  rounds: number,
  txPerTurn: number,
  mode: string,
  threshold: number,
): Promise<{ reports: WriterReport[]; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "baton-ckpt-mode-" });
  const path = `${dir}/turns.db`;
  const setup = await Database.open(path);
  setup.exec(
    "CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB); CREATE TABLE turn(k INTEGER); INSERT INTO turn VALUES (0)",
  );
  setup.close();
  const helper = new URL("../helpers/turn_writer.ts", import.meta.url).pathname;
  const procs = Array.from({ length: n }, (_, me) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-check",
        helper,
        path,
        String(me),
        String(n),
        String(rounds),
        String(txPerTurn),
        mode,
        String(threshold),
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn());
  const outs = await Promise.all(procs.map((p) => p.output()));
  const reports = outs.map((o, i) => {
    const err = new TextDecoder().decode(o.stderr);
    assert.equal(o.code, 0, `writer ${i} failed: ${err}`);
    const lines = new TextDecoder().decode(o.stdout).trim().split("\n");
    assert.equal(lines[0], "ready");
    return JSON.parse(lines[1]) as WriterReport;
  });
  return { reports, path };
}

const threshold = 200;

Deno.test("checkpoints: the default for engines is auto", () => {
  assert.equal(parseConfig("", "config.yaml").database.checkpoint, "auto");
});

Deno.test("checkpoints, auto: writers taking turns checkpoint inline and start no thread; the WAL stays bounded", async () => {
  const n = 3, rounds = 60, txPerTurn = 5;
  const { reports, path } = await writeInTurns(
    n,
    rounds,
    txPerTurn,
    parseConfig("", "config.yaml").database.checkpoint,
    threshold,
  );
  for (const [i, r] of reports.entries()) {
    assert.equal(
      r.threads,
      0,
      `writer ${i} started a checkpoint thread although others wrote most of the WAL: ${JSON.stringify(r)}`,
    );
    assert.ok(r.otherFrames > r.ownFrames, `writer ${i} did not see the others write: ${JSON.stringify(r)}`);
    // Inline checkpoints at the threshold; at 8× a RESTART waits for the readers.
    assert.ok(r.maxWalFrames <= 8 * threshold + 4, `the WAL reached ${r.maxWalFrames} frames`);
  }
  const db = await Database.open(path);
  assert.equal(db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n, n * rounds * txPerTurn);
  assert.equal(db.get<{ k: number }>("SELECT k FROM turn")!.k, n * rounds);
  assert.ok(db.checkpoint("passive").walFrames < 8 * threshold, "the WAL was never checkpointed");
  assert.equal(db.integrityCheck(), "ok");
  db.close();
});

Deno.test("checkpoints, auto: a writer alone uses its thread", async () => {
  const { reports } = await writeInTurns(1, 60, 10, "auto", threshold);
  const [r] = reports;
  assert.equal(r.threads, 1, `the writer alone started no checkpoint thread: ${JSON.stringify(r)}`);
  assert.ok(r.checkpoints > 0, `its thread ran no checkpoint: ${JSON.stringify(r)}`);
  assert.equal(r.otherFrames, 0);
  assert.ok(r.maxWalFrames <= 8 * threshold + 4, `the WAL reached ${r.maxWalFrames} frames`);
});

Deno.test("checkpoints, background: every writer uses its thread, whoever else writes", async () => {
  const { reports } = await writeInTurns(2, 40, 5, "background", threshold);
  for (const r of reports) assert.equal(r.threads, 1, JSON.stringify(r));
});

Deno.test("checkpoints, auto: other processes commit while a shared writer's checkpoint syncs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "baton-ckpt-sync-" });
  const path = `${dir}/slow.db`;
  const flag = `${dir}/committed`;
  const db = await Database.open(path);
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
  // Others wrote most of the WAL: the writer below checkpoints itself, with no thread.
  db.transaction(() => {
    for (let i = 0; i < 150; i++) db.run("INSERT INTO t(pad) VALUES (zeroblob(3000))");
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-check",
      new URL("../helpers/slow_checkpoint_writer.ts", import.meta.url).pathname,
      path,
      flag,
      "auto",
      "50",
    ],
    stdout: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const nextLine = async (): Promise<string> => {
    while (!buf.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`the writer ended; it said: ${buf}`);
      buf += value;
    }
    const i = buf.indexOf("\n");
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return line;
  };
  assert.equal(await nextLine(), "ready");
  // The writer's checkpoint is syncing the database file now, and waits for this commit (15 s at most).
  assert.equal(await nextLine(), "syncing");
  db.transaction(() => db.run("INSERT INTO t(pad) VALUES (zeroblob(10))"));
  Deno.writeTextFileSync(flag, "");
  const report = JSON.parse(await nextLine());
  lines.releaseLock();
  assert.equal((await child.status).code, 0);
  assert.equal(report.seenDuringSync, true, "the writer held the writer queue through its checkpoint's fsync");
  assert.equal(db.integrityCheck(), "ok");
  db.close();
});

Deno.test("checkpoints, background: close() returns once the thread has let go of the database, starting or serving", async () => {
  for (const stage of ["starting", "serving"] as const) {
    const dir = await Deno.makeTempDir({ prefix: "baton-ckpt-close-" });
    const db = await Database.open(`${dir}/c.db`, { checkpoint: "background", walAutocheckpoint: 50 });
    db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
    const write = () => db.transaction(() => db.run("INSERT INTO t(pad) VALUES (zeroblob(3000))"));
    // "starting": close as soon as the thread was started (it is still loading); "serving": once it has checkpointed.
    for (let i = 0; i < 10_000 && db.backgroundCheckpoints()!.threads === 0; i++) write();
    for (let i = 0; stage === "serving" && i < 2_000 && db.backgroundCheckpoints()!.checkpoints === 0; i++) {
      write();
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(db.backgroundCheckpoints()!.threads, 1, stage);
    if (stage === "serving") assert.ok(db.backgroundCheckpoints()!.checkpoints > 0, "the thread never checkpointed");
    db.close();
    assert.equal(
      db.backgroundCheckpoints()!.running,
      false,
      `${stage}: close() returned with the thread still running`,
    );
    // Nothing of this connection's uses the files any more: they can go at once, and nothing brings them back.
    await Deno.remove(dir, { recursive: true });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await Deno.stat(dir).then(() => true, () => false), false, `${stage}: the directory came back`);
  }
});

Deno.test("checkpoints: the thread starts between the caller's calls, not inside the commit that passes half the threshold", async () => {
  const dir = await Deno.makeTempDir({ prefix: "baton-ckpt-warm-" });
  const path = `${dir}/w.db`;
  const threshold = 100;
  const db = await Database.open(path, { checkpoint: "background", walAutocheckpoint: threshold });
  try {
    db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
    const write = () => db.transaction(() => db.run("INSERT INTO t(pad) VALUES (zeroblob(1000))"));
    // A few frames per commit: the WAL passes half the threshold (when the thread is wanted) and stays under it.
    while (walFrames(path).frames < threshold / 2) write();
    assert.ok(walFrames(path).frames < threshold, `${walFrames(path).frames} frames`);
    // Creating a worker blocks the thread that creates it until the new isolate exists (23–35 ms here).
    assert.equal(db.backgroundCheckpoints()!.threads, 0, "the commit itself started the checkpoint thread");
    await new Promise((r) => setTimeout(r, 0)); // the caller yields, as a server does between requests
    assert.equal(db.backgroundCheckpoints()!.threads, 1, "no thread started once the caller yielded");
    // It serves: past the threshold, the thread checkpoints.
    for (let i = 0; i < 2_000 && db.backgroundCheckpoints()!.checkpoints === 0; i++) {
      write();
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.ok(db.backgroundCheckpoints()!.checkpoints > 0, "the thread never checkpointed");
    assert.equal(db.backgroundCheckpoints()!.threads, 1);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoints: a caller that never yields gets its thread at its first request, and the WAL stays bounded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "baton-ckpt-sync-" });
  const path = `${dir}/s.db`;
  const threshold = 100;
  const db = await Database.open(path, { checkpoint: "background", walAutocheckpoint: threshold });
  try {
    db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
    let maxFrames = 0, startedAt = -1;
    for (let i = 0; i < 3_000; i++) {
      db.transaction(() => db.run("INSERT INTO t(pad) VALUES (zeroblob(1000))"));
      const w = walFrames(path);
      maxFrames = Math.max(maxFrames, w.frames);
      if (startedAt < 0 && db.backgroundCheckpoints()!.threads > 0) {
        startedAt = i;
        // The first request: this commit left a threshold of frames to copy (at half of it, warm() only scheduled).
        assert.ok(w.frames - w.backfilled >= threshold, `started with ${w.frames - w.backfilled} frames to copy`);
      }
    }
    assert.ok(startedAt > 0, "no thread started without the event loop turning");
    assert.equal(db.backgroundCheckpoints()!.threads, 1);
    // The thread's checkpoints or, while it loads, the writer's own at 8× keep the WAL bounded.
    assert.ok(maxFrames <= 8 * threshold + 4, `the WAL reached ${maxFrames} frames`);
    assert.equal(db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n, 3_000);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoints: a connection closed while its thread's start is scheduled never starts one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "baton-ckpt-closewarm-" });
  const path = `${dir}/c.db`;
  const threshold = 100;
  const db = await Database.open(path, { checkpoint: "background", walAutocheckpoint: threshold });
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
  while (walFrames(path).frames < threshold / 2) {
    db.transaction(() => db.run("INSERT INTO t(pad) VALUES (zeroblob(1000))"));
  }
  assert.equal(db.backgroundCheckpoints()!.threads, 0);
  db.close(); // the start is scheduled, not run
  await new Promise((r) => setTimeout(r, 0));
  await new Promise((r) => setTimeout(r, 20));
  const stats = db.backgroundCheckpoints()!;
  assert.equal(stats.threads, 0, "a thread started after close()");
  assert.equal(stats.running, false);
  await Deno.remove(dir, { recursive: true });
});
