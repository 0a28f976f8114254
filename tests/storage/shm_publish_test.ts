/**
 * The wal-index emulation's publish (`src/storage/shm.ts`): what one
 * connection changes under an exclusive slot reaches the others, and a
 * publish after holding only CKPT or READ slots compares page 0 alone, as
 * `wal.c` changes nothing else there (checked in verify mode, which the
 * torture tests run).
 */
import assert from "node:assert/strict";
import { denoBackend } from "../../src/storage/io.ts";
import {
  noteWalWrite,
  REGION_BYTES,
  SHM_EXCLUSIVE,
  SHM_LOCK,
  SHM_SHARED,
  SHM_UNLOCK,
  shmChecks,
  ShmConnection,
  shmStats,
  type WasmMemory,
} from "../../src/storage/shm.ts";

const WRITE = 0, CKPT = 1, READ = (i: number) => 3 + i;
const PAGE = 4096;

/** A connection's own "WASM heap": a plain buffer with a bump allocator. */
function memory(): WasmMemory {
  const heap = new Uint8Array(4 * REGION_BYTES);
  let next = 8;
  return {
    heap8u: () => heap,
    alloc(n) {
      const p = next;
      next += (n + 7) & ~7;
      return p;
    },
    dealloc() {},
  };
}

/** Two connections of two "processes" on one database, each with its own copy of the first `regions` regions. */
async function pair(regions = 1) {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/db-lock`);
  const open = () => {
    const mem = memory();
    const conn = new ShmConnection(denoBackend, mem, `${dir}/db`);
    const ptrs = Array.from({ length: regions }, (_, r) => conn.map(r, REGION_BYTES, true));
    const word = (page: number, w: number) =>
      new Uint32Array(mem.heap8u().buffer, ptrs[(page / 8) | 0] + (page % 8) * PAGE + w * 4, 1);
    return { conn, word };
  };
  const a = open(), b = open();
  return {
    a,
    b,
    wal: `${dir}/db-wal`,
    close() {
      a.conn.unmap();
      b.conn.unmap();
    },
  };
}

const hold = (c: ShmConnection, slot: number, excl: boolean) =>
  assert.ok(c.lock(slot, 1, SHM_LOCK | (excl ? SHM_EXCLUSIVE : SHM_SHARED)), `slot ${slot} granted`);
const release = (c: ShmConnection, slot: number, excl: boolean) =>
  c.lock(slot, 1, SHM_UNLOCK | (excl ? SHM_EXCLUSIVE : SHM_SHARED));

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
