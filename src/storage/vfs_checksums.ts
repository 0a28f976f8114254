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
 * little-endian words, all but the last 8 bytes, which hold them.
 */
function pageSums(buf: Uint8Array): [number, number] {
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

/** Whether a page's stored checksum matches its content. */
export function checksumHolds(buf: Uint8Array): boolean {
  const [s1, s2] = pageSums(buf);
  const tail = new DataView(buf.buffer, buf.byteOffset + buf.length - 8, 8);
  return tail.getUint32(0, true) === s1 && tail.getUint32(4, true) === s2;
}

/** Writes a page's checksum into its last 8 bytes. */
export function writeChecksum(buf: Uint8Array): void {
  const [s1, s2] = pageSums(buf);
  const tail = new DataView(buf.buffer, buf.byteOffset + buf.length - 8, 8);
  tail.setUint32(0, s1, true);
  tail.setUint32(4, s2, true);
}
