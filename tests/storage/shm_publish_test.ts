/**
 * The wal-index emulation's publish (`src/storage/shm.ts`): what one
 * connection changes under an exclusive slot reaches the others, and a
 * publish after holding only CKPT or READ slots compares page 0 alone, as
 * `wal.c` changes nothing else there (checked in verify mode, which the
 * torture tests run).
 */
import assert from "node:assert/strict";
import { noteWalWrite, shmChecks, shmStats } from "../../src/storage/shm.ts";
import { CKPT, hold, pair, READ, release, WRITE } from "../helpers/shm_pair.ts";

Deno.test("shm publish: hash-table pages written under WRITE reach the other connection", async () => {
  const { a, b, close } = await pair();
  try {
    hold(a.conn, WRITE, true);
    a.word(5, 17)[0] = 0xabcd; // a hash slot of a frame appended by this commit
    a.word(0, 4)[0] = 42; // the header's mxFrame, last
    release(a.conn, WRITE, true);
    hold(b.conn, READ(0), false);
    assert.equal(b.word(5, 17)[0], 0xabcd);
    assert.equal(b.word(0, 4)[0], 42);
    release(b.conn, READ(0), false);
  } finally {
    close();
  }
});

Deno.test("shm publish: under READ or CKPT slots only page 0 is published, and verify mode counts any other change", async () => {
  const { a, b, close } = await pair();
  const verify = shmChecks.verify;
  shmChecks.verify = true;
  try {
    // A read mark, set under READ(1) exclusive, as walTryBeginRead does.
    hold(a.conn, READ(1), true);
    a.word(0, 26)[0] = 7;
    release(a.conn, READ(1), true);
    hold(b.conn, READ(2), false);
    assert.equal(b.word(0, 26)[0], 7, "page 0 is published");
    release(b.conn, READ(2), false);

    // wal.c never does this: a hash page changed under CKPT alone. The narrow publish does not
    // carry it, and verify mode reports the broken assumption.
    const before = shmStats.assumptionViolations;
    hold(a.conn, CKPT, true);
    a.word(3, 9)[0] = 0xdead;
    release(a.conn, CKPT, true);
    assert.ok(shmStats.assumptionViolations > before, "the change outside page 0 is reported");
    hold(b.conn, READ(2), false);
    assert.equal(b.word(3, 9)[0], 0, "and not published");
    release(b.conn, READ(2), false);
  } finally {
    shmChecks.verify = verify;
    close();
  }
});

Deno.test("shm publish: a READ slot released while WRITE is still held publishes what WRITE may have changed", async () => {
  const { a, b, close } = await pair();
  try {
    hold(a.conn, WRITE, true);
    hold(a.conn, READ(1), true);
    a.word(6, 100)[0] = 0x1234;
    release(a.conn, READ(1), true); // publishes now: WRITE is held, so page 6 is compared too
    a.word(0, 4)[0] = 9;
    release(a.conn, WRITE, true);
    hold(b.conn, READ(0), false);
    assert.equal(b.word(6, 100)[0], 0x1234);
    assert.equal(b.word(0, 4)[0], 9);
    release(b.conn, READ(0), false);
    // After WRITE is gone, a read mark alone is a narrow publish again: nothing else moves.
    hold(a.conn, READ(1), true);
    a.word(0, 27)[0] = 3;
    release(a.conn, READ(1), true);
    hold(b.conn, READ(2), false);
    assert.equal(b.word(0, 27)[0], 3);
    release(b.conn, READ(2), false);
  } finally {
    close();
  }
});

/** Sets the fields of a's WAL-index header that a publish under WRITE reads: iVersion, szPage and mxFrame. */
function header(word: (page: number, w: number) => Uint32Array, pageSize: number, mxFrame: number) {
  word(0, 0)[0] = 3007000;
  word(0, 3)[0] = (pageSize === 65536 ? 1 : pageSize) << 16; // szPage: bytes 14-15 (byte 12 isInit, 13 bigEndCksum)
  word(0, 4)[0] = mxFrame;
}

/** Byte offset of WAL frame `frame` (1-based) for pages of `pageSize` bytes. */
const frameOffset = (frame: number, pageSize: number) => 32 + (frame - 1) * (pageSize + 24);

// Region 0 lists frames 1-4,062 (its header takes 34 of its 4,096 page numbers), region 1 4,063-8,158, region 2 from
// 8,159 (`walFramePage` in wal.c). A hold that began at frame 5,000 (region 1) writes one frame; a change on a page
// (8 per region) is published when that page's region lies between the two.
for (const pageSize of [4096, 65536]) {
  for (
    const [frame, page, published] of [
      [4062, 7, true],
      [4063, 7, false],
      [4063, 8, true],
      [8158, 16, false],
      [8159, 16, true],
      [8159, 7, false],
    ] as const
  ) {
    Deno.test(
      `shm publish under WRITE: ${pageSize}-byte pages, frame ${frame} written, page ${page} changed: ${
        published ? "published" : "not compared (verify mode reports it)"
      }`,
      async () => {
        const { a, b, wal, close } = await pair(3);
        const verify = shmChecks.verify;
        shmChecks.verify = true;
        const violations = shmStats.assumptionViolations;
        try {
          hold(a.conn, WRITE, true);
          header(a.word, pageSize, 5000);
          release(a.conn, WRITE, true);
          hold(a.conn, WRITE, true);
          noteWalWrite(wal, frameOffset(frame, pageSize), pageSize + 24);
          a.word(page, 100)[0] = 0x77;
          release(a.conn, WRITE, true);
          hold(b.conn, READ(0), false);
          assert.equal(b.word(page, 100)[0] === 0x77, published);
          release(b.conn, READ(0), false);
          assert.equal(shmStats.assumptionViolations > violations, !published);
        } finally {
          shmChecks.verify = verify;
          close();
        }
      },
    );
  }
}

Deno.test("shm publish: a WAL write while nobody holds WRITE is a broken assumption, and the next WRITE compares every page", async () => {
  const { a, b, wal, close } = await pair(3);
  const violations = shmStats.assumptionViolations;
  try {
    hold(a.conn, WRITE, true);
    header(a.word, 4096, 10);
    release(a.conn, WRITE, true);
    noteWalWrite(wal, frameOffset(9000, 4096), 4096 + 24); // no WRITE holder in this process
    assert.equal(shmStats.assumptionViolations, violations + 1);
    hold(a.conn, WRITE, true);
    a.word(20, 5)[0] = 0x99; // region 2, far from frame 10
    release(a.conn, WRITE, true);
    hold(b.conn, READ(0), false);
    assert.equal(b.word(20, 5)[0], 0x99, "compared and published");
    release(b.conn, READ(0), false);
  } finally {
    close();
  }
});
