/**
 * The VFS's shared state: the open files of every installed VFS, the
 * counters and last error it reports, and small path and sleep helpers.
 *
 * @module
 */
import type { LockPrimitive, LockState } from "./lock_protocol.ts";
import type { IoBackend, IoFile } from "./io.ts";
import { lastWriteHold, type ShmConnection, type WalFrames } from "./shm.ts";
import type { SqliteWasm } from "./wasm.ts";

/** Counters for the storage paths tests want to prove ran. */
export interface VfsStats {
  /** EXCLUSIVE locks granted straight from SHARED: SQLite only does that to roll back a hot journal. */
  hotJournalLocks: number;
  /** Files opened. */
  opens: number;
  /** Database pages read whose checksum did not hold. */
  checksumFaults: number;
}

/** Process-wide VFS counters. */
export const vfsStats: VfsStats = { hotJournalLocks: 0, opens: 0, checksumFaults: 0 };

/** The open files of every installed VFS (for {@link walFrames}). */
export const openFileMaps: Map<number, OpenFile>[] = [];

/**
 * Frames in a database's WAL and how many are copied into the database, as
 * the wal-index copy of a connection of this process that has it open last
 * saw them (the newest such view; zeros if none), with that connection's
 * counts of who wrote the WAL lately (right after a commit, the newest view
 * is the committer's).
 * @param dbPath database path
 * @returns frame counts
 */
export function walFrames(dbPath: string): WalFrames {
  const path = resolvePath(dbPath);
  let best: WalFrames = { frames: 0, backfilled: 0, checkpointing: false, ownFrames: 0, otherFrames: 0 };
  for (const files of openFileMaps) {
    for (const f of files.values()) {
      if (!f.shm || f.path !== path) continue;
      const w = f.shm.walFrames();
      if (w.frames > best.frames || (w.frames === best.frames && w.backfilled > best.backfilled)) best = w;
    }
  }
  return best;
}

/**
 * The frames this process's last write to a database's WAL appended: right
 * after a commit, that commit's (see `lastWriteHold` in `shm.ts`).
 * @param dbPath the database file
 * @returns where the WAL ended before and after it (`before` 0 when it started the WAL over), or undefined
 */
export function lastWalWrite(dbPath: string): { before: number; after: number } | undefined {
  const h = lastWriteHold(`${resolvePath(dbPath)}-wal`);
  return h && { before: h.to >= h.from ? h.from : 0, after: h.to };
}

/** The last error a VFS method swallowed, for error messages. */
export const vfsLastError: { message: string; path: string } = { message: "", path: "" };

/** A file SQLite opened through the VFS. */
export interface OpenFile {
  path: string;
  io: IoFile;
  main: boolean;
  deleteOnClose: boolean;
  needsDirSync: boolean;
  lock?: { state: LockState; prim: LockPrimitive; files: IoFile[] };
  shm?: ShmConnection;
  /** A WAL file: appended frames are gathered and written once per commit (see `xWrite`). */
  wal: boolean;
  /** WAL bytes written by SQLite and not yet passed to the file: `len` bytes at `offset`. */
  pending?: { offset: number; buf: Uint8Array; len: number };
  /** The last frame header gathered was a commit frame's: its page ends the commit. */
  commitFrame?: boolean;
  /** A main database whose pages reserve 8 bytes for Baton's page checksum (header byte 20 is 8). */
  checksums?: boolean;
}

/** What the VFS methods of one installed VFS share. */
export interface VfsEnv {
  /** The SQLite module. */
  wasm: SqliteWasm;
  /** The file backend. */
  io: IoBackend;
  /** Open files by SQLite's file pointer. */
  files: Map<number, OpenFile>;
  /** Records a failure and returns SQLite's code for it (`SQLITE_FULL` for a full disk). */
  fail(e: unknown, path: string, ioerr: number): number;
  /** `n` bytes of the WASM heap at `p`. */
  heap(p: number, n: number): Uint8Array;
}

export const dirname = (p: string) => {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
};

export function resolvePath(p: string): string {
  if (p.startsWith("/")) return normalize(p);
  return normalize(`${Deno.cwd()}/${p}`);
}

function normalize(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}
