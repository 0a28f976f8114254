/**
 * WAL frames gathered into one write per commit (SQLite appends a commit
 * frame by frame; nobody can use a frame before the wal-index lists it).
 *
 * @module
 */
import { type OpenFile, vfsLastError } from "./vfs_state.ts";
import { WAL_FRAME_HEADER, WAL_HEADER } from "./shm.ts";
/** Gathered WAL bytes past which they are written without waiting for the commit. */
const WAL_GATHER_LIMIT = 1 << 20;

/** WAL files of this process with gathered bytes. */
const gathering = new Set<OpenFile>();

/**
 * Passes gathered WAL bytes to the file (before any other operation on it).
 * On failure they are dropped: the caller reports the error to SQLite,
 * which then does not count the frames as committed.
 */
export function flushWal(f: OpenFile): void {
  const p = f.pending;
  if (!p || p.len === 0) return;
  const len = p.len;
  p.len = 0;
  gathering.delete(f);
  f.io.write(p.buf.subarray(0, len), p.offset);
}

/**
 * Gathers one SQLite write to a WAL file. SQLite appends a commit as frame
 * after frame (a 24-byte header, then the page); each becomes visible to
 * others only once the wal-index says so, after the commit frame. So the
 * frames are gathered and written together when the commit frame's page
 * arrives: one system call per commit instead of one per frame, and a
 * failure still reaches SQLite as the result of that write.
 */
export function gatherWal(f: OpenFile, bytes: Uint8Array, off: number): void {
  let p = f.pending;
  if (p && p.len > 0 && off !== p.offset + p.len) flushWal(f);
  if (!p) p = f.pending = { offset: off, buf: new Uint8Array(64 << 10), len: 0 };
  if (p.len === 0) p.offset = off;
  if (p.len + bytes.length > p.buf.length) {
    const grown = new Uint8Array(Math.max(p.buf.length * 2, p.len + bytes.length));
    grown.set(p.buf.subarray(0, p.len));
    p.buf = grown;
  }
  p.buf.set(bytes, p.len);
  p.len += bytes.length;
  gathering.add(f);
  if (bytes.length === WAL_FRAME_HEADER && off >= WAL_HEADER) {
    // Bytes 4-7: the database size in pages after a commit, 0 for other frames.
    f.commitFrame = (bytes[4] | bytes[5] | bytes[6] | bytes[7]) !== 0;
  } else if (f.commitFrame || p.len >= WAL_GATHER_LIMIT) {
    f.commitFrame = false;
    flushWal(f);
  }
}

/**
 * Writes every WAL file's gathered bytes; called before this process
 * publishes wal-index changes. Bytes still gathered then belong to no commit
 * (each commit is written when its last frame arrives), so a failure here
 * only drops frames SQLite will never use.
 */
export function flushGatheredWal(): void {
  for (const f of gathering) { // flushWal deletes the entry being visited: allowed while iterating a Set
    try {
      flushWal(f);
    } catch (e) {
      vfsLastError.message = e instanceof Error ? e.message : String(e);
    }
  }
}
