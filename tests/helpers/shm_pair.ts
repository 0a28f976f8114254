/**
 * Connections of the wal-index emulation (`src/storage/shm.ts`) driven
 * directly, without SQLite: each with its own "WASM heap", as two processes
 * would have, on one database's helper files.
 *
 * @module
 */
import assert from "node:assert/strict";
import { denoBackend, type IoBackend } from "../../src/storage/io.ts";
import {
  REGION_BYTES,
  SHM_EXCLUSIVE,
  SHM_LOCK,
  SHM_SHARED,
  SHM_UNLOCK,
  ShmConnection,
  type WasmMemory,
} from "../../src/storage/shm.ts";

/** SQLite's shm lock slots. */
export const WRITE = 0, CKPT = 1, READ = (i: number) => 3 + i;
const PAGE = 4096;

/** A connection's own "WASM heap": a plain buffer with a bump allocator. */
export function memory(): WasmMemory {
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

/**
 * Two connections of two "processes" on one database, each with its own copy of the first `regions` regions; `a`'s
 * file I/O through `backendOfA` (a fault-injecting one, say).
 */
export async function pair(regions = 1, backendOfA: IoBackend = denoBackend) {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/db-lock`);
  const open = (backend: IoBackend) => {
    const mem = memory();
    const conn = new ShmConnection(backend, mem, `${dir}/db`);
    const ptrs = Array.from({ length: regions }, (_, r) => conn.map(r, REGION_BYTES, true));
    const word = (page: number, w: number) =>
      new Uint32Array(mem.heap8u().buffer, ptrs[(page / 8) | 0] + (page % 8) * PAGE + w * 4, 1);
    return { conn, word };
  };
  const a = open(backendOfA), b = open(denoBackend);
  return {
    a,
    b,
    dir,
    wal: `${dir}/db-wal`,
    close() {
      a.conn.unmap();
      b.conn.unmap();
    },
  };
}

/** Takes a slot, asserting it is granted. */
export const hold = (c: ShmConnection, slot: number, excl: boolean) =>
  assert.ok(c.lock(slot, 1, SHM_LOCK | (excl ? SHM_EXCLUSIVE : SHM_SHARED)), `slot ${slot} granted`);
/** Lets a slot go (what the unlock returned: false never, it throws when the publish failed). */
export const release = (c: ShmConnection, slot: number, excl: boolean) =>
  c.lock(slot, 1, SHM_UNLOCK | (excl ? SHM_EXCLUSIVE : SHM_SHARED));
