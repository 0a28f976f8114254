/**
 * What a commit's wal-index publish compares (`src/storage/shm.ts`): the
 * regions of the frames it wrote, not every region the WAL ever needed. A
 * connection that once saw a large WAL (an import in one transaction, a
 * checkpoint held back by a reader) must not pay for it at every later
 * commit, and what it does not compare must really be unchanged: verify
 * mode, which the torture tests run too, counts any change left behind.
 */
import assert from "node:assert/strict";
import { Database } from "../../src/storage/sqlite.ts";
import { shmChecks, shmStats } from "../../src/storage/shm.ts";
import { walFrames } from "../../src/storage/vfs.ts";

/** Wal-index pages per 32 KiB region. */
const PAGES_PER_REGION = 8;
/** Frames a big transaction writes: enough for three wal-index regions (4,062 + 4,096 + …). */
const BIG = 9_000;

async function twoConnections() {
  const path = `${await Deno.makeTempDir({ prefix: "baton-shm-range-" })}/r.db`;
  // No automatic checkpoint: the WAL keeps every frame until the test checkpoints.
  const opts = { walAutocheckpoint: 1_000_000 };
  const a = await Database.open(path, opts);
  const b = await Database.open(path, opts);
  a.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
  return { a, b };
}

const count = (db: Database) => db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n;
/** One page-sized row per frame: `n` rows in one statement. */
const fill = (db: Database, n: number) =>
  db.run(
    "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) INSERT INTO t(v) SELECT randomblob(3000) FROM s",
    [n],
  );

Deno.test("shm publish: a small commit compares the regions of its frames, however large the WAL grew", async () => {
  const verify = shmChecks.verify;
  shmChecks.verify = true; // what is not compared must be unchanged
  const violations = shmStats.assumptionViolations;
  const { a, b } = await twoConnections();
  try {
    a.transaction(() => fill(a, BIG));
    const frames = walFrames(a.path).frames;
    assert.ok(frames >= BIG, `the WAL holds the big transaction (${frames} frames)`);
    assert.equal(count(b), BIG);
    const perCommit = (rounds: number) => {
      const pages: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const before = shmStats.pagesCompared;
        a.run("INSERT INTO t(v) VALUES (x'01')");
        pages.push(shmStats.pagesCompared - before);
      }
      return pages.sort((x, y) => x - y)[rounds >> 1];
    };
    // The WAL spans three regions (24 pages); a commit appends to the last: its region and page 0 (and the read
    // mark's page 0). Comparing every region (what the publish did before) is 25 and more.
    const appending = perCommit(20);
    assert.ok(appending <= PAGES_PER_REGION + 2, `pages compared per commit while the WAL is long: ${appending}`);
    // After a checkpoint empties the WAL, commits start again at frame 1: region 0 alone.
    assert.equal(a.checkpoint("truncate").busy, false);
    const restarted = perCommit(20);
    assert.ok(restarted <= PAGES_PER_REGION + 2, `pages compared per commit after the WAL restarted: ${restarted}`);
    assert.equal(count(b), BIG + 40, "the other connection sees every commit");
    assert.equal(b.integrityCheck(), "ok");
    assert.equal(shmStats.assumptionViolations - violations, 0);
  } finally {
    shmChecks.verify = verify;
    a.close();
    b.close();
  }
});

Deno.test("shm publish: frames written and rolled back in a region past the committed end are published (verify mode)", async () => {
  const verify = shmChecks.verify;
  shmChecks.verify = true;
  const violations = shmStats.assumptionViolations;
  const { a, b } = await twoConnections();
  try {
    // Regions 1 and 2 of every copy hold this WAL generation's entries.
    a.transaction(() => fill(a, BIG));
    assert.equal(count(b), BIG);
    assert.equal(a.checkpoint("truncate").busy, false);
    // A transaction larger than the page cache writes frames before its commit (from frame 1 into region 1), then
    // rolls back: the header still says 0 frames, but region 1 changed in a's copy. Only the WAL writes tell.
    assert.throws(() =>
      a.transaction(() => {
        fill(a, 8_000);
        throw new Error("roll back");
      })
    );
    assert.equal(count(a), BIG);
    // The spill reached region 1 (frame 4,063 on): else this test would test nothing.
    const walBytes = Deno.statSync(`${a.path}-wal`).size;
    assert.ok(walBytes > 32 + 4062 * (4096 + 24), `the rolled-back frames reach region 1 (${walBytes} WAL bytes)`);
    // Both connections write and read on: every copy agrees with the shared wal-index.
    b.run("INSERT INTO t(v) VALUES (x'02')");
    a.transaction(() => fill(a, 100));
    assert.equal(count(b), BIG + 101);
    assert.equal(count(a), BIG + 101);
    assert.equal(a.integrityCheck(), "ok");
    assert.equal(shmStats.assumptionViolations - violations, 0, "no connection's copy differs from what it published");
  } finally {
    shmChecks.verify = verify;
    a.close();
    b.close();
  }
});
