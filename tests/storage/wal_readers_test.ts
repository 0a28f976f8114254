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

for (const mode of ["auto", "inline"] as CheckpointMode[]) {
  Deno.test(`WAL bound, ${mode}: readers in other processes that overlap without a gap do not grow the WAL without end`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "baton-wal-readers-" });
    const path = `${dir}/r.db`;
    const stop = `${dir}/STOP`;
    const threshold = 100;
    const db = await Database.open(path, { checkpoint: mode, walAutocheckpoint: threshold });
    db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
    // Three readers, each in read transactions of 60 ms back to back, started 20 ms apart: one always holds a snapshot.
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
  const stop = `${dir}/STOP`;
  const threshold = 100;
  const db = await Database.open(path, { checkpoint: "auto", walAutocheckpoint: threshold });
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
  db.transaction(() => db.run("INSERT INTO t(pad) VALUES (zeroblob(1000))"));
  // One read transaction for as long as the test runs (a stopped process would hold it the same way).
  const reader = await startReader(path, 600_000, stop);
  let commits = 0;
  try {
    while (walFrames(path).frames < 25 * threshold) {
      db.transaction(() => db.run("INSERT INTO t(pad) VALUES (zeroblob(1000))"));
      commits++;
    }
  } finally {
    reader.child.kill("SIGKILL");
    await reader.child.status;
  }
  const stats = db.writeStats();
  // It waited at 8× (200 ms), then at 16× and 24× (2 s each): three waits, in ~1,700 commits past the bound.
  assert.equal(stats.walRestarts, 0, JSON.stringify(stats));
  assert.ok(stats.walRestartsGivenUp >= 2 && stats.walRestartsGivenUp <= 3, JSON.stringify(stats));
  assert.ok(commits > 1_000, `${commits} commits`);
  assert.equal(db.integrityCheck(), "ok");
  db.close();
  await Deno.remove(dir, { recursive: true });
});
