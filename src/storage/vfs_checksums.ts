/**
 * Baton's page checksums (the scheme of SQLite's cksumvfs extension): the
 * last 8 bytes of each database page, written on every page write and
 * checked on every page read of a database that reserves them.
 *
 * @module
 */
import type { OpenFile } from "./vfs_state.ts";

/** Database pages: 512 to 65536 bytes, a power of two (other reads are headers and parts of pages). */
export const isPage = (n: number) => n >= 512 && n <= 65536 && (n & (n - 1)) === 0;

/** Notes from the database header whether its pages reserve the 8 checksum bytes. */
export function noteHeader(f: OpenFile, buf: Uint8Array): void {
  if (buf.length >= 100 && buf[0] === 0x53 && buf[1] === 0x51 && buf[15] === 0) f.checksums = buf[20] === 8;
}

/**
 * The page checksum (the scheme of SQLite's cksumvfs extension, so that its
 * `verify_checksum()` agrees): two running 32-bit sums over the page's
 * little-endian words, all but the last 8 bytes, which hold them. This is
 * the reference; pages in SQLite's memory are checked by {@link CHECKSUM_WASM}.
 * @param buf the page
 * @returns the two sums
 */
export function pageSums(buf: Uint8Array): [number, number] {
  // SQLite's page buffers are 8-byte aligned; WASM memory is little-endian, like the words summed.
  const words = buf.byteOffset % 4 === 0
    ? new Uint32Array(buf.buffer, buf.byteOffset, (buf.length - 8) >>> 2)
    : new Uint32Array(buf.slice(0, buf.length - 8).buffer);
  let s1 = 0, s2 = 0;
  for (let i = 0; i < words.length; i += 2) {
    s1 = (s1 + words[i] + s2) >>> 0;
    s2 = (s2 + words[i + 1] + s1) >>> 0;
  }
  return [s1, s2];
}

/**
 * The same sums as a WebAssembly module over SQLite's own memory: a
 * short-lived command reads hundreds of pages before the JIT has optimised
 * a JavaScript loop (a 1,000-ticket `baton list` spent ~40 ms here), while
 * WebAssembly runs compiled from the first page. `verify(p, n)` says whether
 * the `n`-byte page at `p` holds its checksum; `stamp(p, n)` writes it.
 * Built from this text (wabt's `wat2wasm`):
 *
 * ```wat
 * (module
 *   (import "e" "m" (memory 0))
 *   (func $sums (param $p i32) (param $end i32) (result i64)
 *     (local $s1 i32) (local $s2 i32)
 *     (block $done
 *       (loop $l
 *         (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
 *         (local.set $s1 (i32.add (i32.add (local.get $s1) (i32.load (local.get $p))) (local.get $s2)))
 *         (local.set $s2 (i32.add (i32.add (local.get $s2) (i32.load offset=4 (local.get $p))) (local.get $s1)))
 *         (local.set $p (i32.add (local.get $p) (i32.const 8)))
 *         (br $l)))
 *     (i64.or (i64.extend_i32_u (local.get $s1)) (i64.shl (i64.extend_i32_u (local.get $s2)) (i64.const 32))))
 *   (func (export "verify") (param $p i32) (param $n i32) (result i32)
 *     (local $end i32)
 *     (local.set $end (i32.sub (i32.add (local.get $p) (local.get $n)) (i32.const 8)))
 *     (i64.eq (call $sums (local.get $p) (local.get $end)) (i64.load (local.get $end))))
 *   (func (export "stamp") (param $p i32) (param $n i32)
 *     (local $end i32)
 *     (local.set $end (i32.sub (i32.add (local.get $p) (local.get $n)) (i32.const 8)))
 *     (i64.store (local.get $end) (call $sums (local.get $p) (local.get $end)))))
 * ```
 */
export const CHECKSUM_WASM: Uint8Array = new Uint8Array([
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  18,
  3,
  96,
  2,
  127,
  127,
  1,
  126,
  96,
  2,
  127,
  127,
  1,
  127,
  96,
  2,
  127,
  127,
  0,
  2,
  8,
  1,
  1,
  101,
  1,
  109,
  2,
  0,
  0,
  3,
  4,
  3,
  0,
  1,
  2,
  7,
  18,
  2,
  6,
  118,
  101,
  114,
  105,
  102,
  121,
  0,
  1,
  5,
  115,
  116,
  97,
  109,
  112,
  0,
  2,
  10,
  117,
  3,
  62,
  1,
  2,
  127,
  2,
  64,
  3,
  64,
  32,
  0,
  32,
  1,
  79,
  13,
  1,
  32,
  2,
  32,
  0,
  40,
  2,
  0,
  106,
  32,
  3,
  106,
  33,
  2,
  32,
  3,
  32,
  0,
  40,
  2,
  4,
  106,
  32,
  2,
  106,
  33,
  3,
  32,
  0,
  65,
  8,
  106,
  33,
  0,
  12,
  0,
  11,
  11,
  32,
  2,
  173,
  32,
  3,
  173,
  66,
  32,
  134,
  132,
  11,
  26,
  1,
  1,
  127,
  32,
  0,
  32,
  1,
  106,
  65,
  8,
  107,
  33,
  2,
  32,
  0,
  32,
  2,
  16,
  0,
  32,
  2,
  41,
  3,
  0,
  81,
  11,
  25,
  1,
  1,
  127,
  32,
  0,
  32,
  1,
  106,
  65,
  8,
  107,
  33,
  2,
  32,
  2,
  32,
  0,
  32,
  2,
  16,
  0,
  55,
  3,
  0,
  11,
]);

type Checks = { verify(p: number, n: number): number; stamp(p: number, n: number): void };
let checksumModule: WebAssembly.Module | undefined;
let bound: { buffer: ArrayBufferLike; memory: WebAssembly.Memory; checks: Checks } | undefined;

/**
 * The compiled checksum functions over `memory` (instantiated once per memory).
 * @param memory SQLite's memory
 */
export function useChecksumMemory(memory: WebAssembly.Memory): void {
  if (bound?.memory === memory) return;
  checksumModule ??= new WebAssembly.Module(CHECKSUM_WASM as BufferSource);
  const checks = new WebAssembly.Instance(checksumModule, { e: { m: memory } }).exports as unknown as Checks;
  bound = { buffer: memory.buffer, memory, checks };
}

/** The compiled functions when `buf` lies in SQLite's memory (its buffer changes when the memory grows). */
function compiled(buf: Uint8Array): Checks | undefined {
  if (!bound) return undefined;
  if (buf.buffer !== bound.buffer) {
    if (buf.buffer !== bound.memory.buffer) return undefined;
    bound.buffer = bound.memory.buffer;
  }
  return bound.checks;
}

/**
 * Whether a page's stored checksum matches its content.
 * @param buf the page
 * @returns true when it holds
 */
export function checksumHolds(buf: Uint8Array): boolean {
  const c = compiled(buf);
  if (c) return c.verify(buf.byteOffset, buf.length) === 1;
  const [s1, s2] = pageSums(buf);
  const tail = new DataView(buf.buffer, buf.byteOffset + buf.length - 8, 8);
  return tail.getUint32(0, true) === s1 && tail.getUint32(4, true) === s2;
}

/**
 * Writes a page's checksum into its last 8 bytes.
 * @param buf the page
 */
export function writeChecksum(buf: Uint8Array): void {
  const c = compiled(buf);
  if (c) return c.stamp(buf.byteOffset, buf.length);
  const [s1, s2] = pageSums(buf);
  const tail = new DataView(buf.buffer, buf.byteOffset + buf.length - 8, 8);
  tail.setUint32(0, s1, true);
  tail.setUint32(4, s2, true);
}
