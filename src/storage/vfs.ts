/**
 * Baton's SQLite VFS for SQLite's WebAssembly build on Deno: real files,
 * shared safely by many processes and by many connections in one process.
 *
 * - Database locking: the flock protocol of `lock_protocol.ts` (three lock
 *   files per database, never converted in place).
 * - WAL: the emulated wal-index of `shm.ts` (eight lock-slot files, a
 *   dead-man switch, a mutex that also holds generation counters).
 * - Durability: `xSync` calls fsync/fdatasync; a file created since its last
 *   sync also fsyncs its directory, and so does `xDelete` when SQLite asks.
 * - Reported honestly: sector size 4096 and POWERSAFE_OVERWRITE, the same
 *   as SQLite's unix VFS defaults on Linux.
 *
 * Helper files, all beside the database `X`: `X-wal`, `X-shm`, `X-journal`
 * (rollback modes) and the directory `X-lock/` holding the lock files
 * `pending`, `reserved`, `shared`, `shm-0`…`shm-7`, `shm-dms`, `shm-mutex`
 * (and `writer`, `writer-gate`: the WAL writer queue of `sqlite.ts`).
 * None of them is ever deleted while the database may be open, except the
 * WAL and journal, which SQLite itself manages.
 *
 * VFS methods never throw into SQLite: every failure becomes a result code.
 *
 * @module
 */

import {
  checkReserved,
  EXCLUSIVE,
  lock as protocolLock,
  type LockPrimitive,
  type LockRole,
  type LockState,
  newLockState,
  NONE,
  runToEnd,
  SHARED,
  unlock as protocolUnlock,
} from "./lock_protocol.ts";
import { denoBackend, type IoBackend, IoFailure, type IoFile } from "./io.ts";
import { ShmConnection, shmPaths, type WalFrames } from "./shm.ts";
import { FILE_SIZEOF, IO_METHODS_LAYOUT, SQLITE as C, type SqliteWasm, VFS_LAYOUT } from "./wasm.ts";

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
const openFileMaps: Map<number, OpenFile>[] = [];

/**
 * Frames in a database's WAL and how many are copied into the database, as
 * the wal-index copy of a connection of this process that has it open last
 * saw them (the newest such view; zeros if none).
 * @param dbPath database path
 * @returns frame counts
 */
export function walFrames(dbPath: string): WalFrames {
  const path = resolvePath(dbPath);
  let best: WalFrames = { frames: 0, backfilled: 0, checkpointing: false };
  for (const files of openFileMaps) {
    for (const f of files.values()) {
      if (!f.shm || f.path !== path) continue;
      const w = f.shm.walFrames();
      if (w.frames > best.frames || (w.frames === best.frames && w.backfilled > best.backfilled)) best = w;
    }
  }
  return best;
}

/** The last error a VFS method swallowed, for error messages. */
export const vfsLastError: { message: string; path: string } = { message: "", path: "" };

interface OpenFile {
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

/** Database pages: 512 to 65536 bytes, a power of two (other reads are headers and parts of pages). */
const isPage = (n: number) => n >= 512 && n <= 65536 && (n & (n - 1)) === 0;

/** Notes from the database header whether its pages reserve the 8 checksum bytes. */
function noteHeader(f: OpenFile, buf: Uint8Array): void {
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

function checksumHolds(buf: Uint8Array): boolean {
  const [s1, s2] = pageSums(buf);
  const tail = new DataView(buf.buffer, buf.byteOffset + buf.length - 8, 8);
  return tail.getUint32(0, true) === s1 && tail.getUint32(4, true) === s2;
}

function writeChecksum(buf: Uint8Array): void {
  const [s1, s2] = pageSums(buf);
  const tail = new DataView(buf.buffer, buf.byteOffset + buf.length - 8, 8);
  tail.setUint32(0, s1, true);
  tail.setUint32(4, s2, true);
}

/** Bytes of a WAL frame header; SQLite writes it, then the page right after it. */
const WAL_FRAME_HEADER = 24;
/** Bytes of the WAL file header (frames start after it). */
const WAL_HEADER = 32;
/** Gathered WAL bytes past which they are written without waiting for the commit. */
const WAL_GATHER_LIMIT = 1 << 20;

/** WAL files of this process with gathered bytes. */
const gathering = new Set<OpenFile>();

/**
 * Passes gathered WAL bytes to the file (before any other operation on it).
 * On failure they are dropped: the caller reports the error to SQLite,
 * which then does not count the frames as committed.
 */
function flushWal(f: OpenFile): void {
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
function gatherWal(f: OpenFile, bytes: Uint8Array, off: number): void {
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

const dirname = (p: string) => {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
};

function resolvePath(p: string): string {
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

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Sleeps the thread synchronously (used by xSleep and busy handlers). */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

/**
 * Registers the Baton VFS with an initialised sqlite3 module.
 *
 * @param wasm the SQLite module
 * @param name VFS name to register
 * @param io file backend (tests substitute fault-injecting ones)
 * @returns the registered name
 * @throws {Error} when SQLite refuses the registration
 */
export function installVfs(wasm: SqliteWasm, name: string, io: IoBackend = denoBackend): string {
  const files = new Map<number, OpenFile>();
  openFileMaps.push(files);

  const fail = (e: unknown, path: string, ioerr: number): number => {
    vfsLastError.message = e instanceof Error ? e.message : String(e);
    vfsLastError.path = path;
    if (e instanceof IoFailure && e.kind === "full") return C.FULL;
    return ioerr;
  };

  const heapView = (p: number, n: number) => wasm.heap8u().subarray(p, p + n);

  const openLockFiles = (dbPath: string): { state: LockState; prim: LockPrimitive; files: IoFile[] } => {
    const { lockDir } = shmPaths(dbPath);
    io.mkdirp(lockDir);
    const opened: IoFile[] = [];
    try {
      for (const role of ["pending", "reserved", "shared"]) {
        opened.push(io.open(`${lockDir}/${role}`, { write: true, create: true }));
      }
    } catch (e) {
      for (const f of opened) f.close();
      throw e;
    }
    const byRole: Record<LockRole, IoFile> = { pending: opened[0], reserved: opened[1], shared: opened[2] };
    const prim: LockPrimitive = {
      tryLock: (role, excl) => byRole[role].tryLock(excl),
      unlock: (role) => byRole[role].unlock(),
    };
    return { state: newLockState(), prim, files: opened };
  };

  const closeFile = (f: OpenFile) => {
    try {
      f.shm?.unmap();
    } catch { /* closing anyway */ }
    if (f.lock) {
      for (const h of f.lock.files) {
        try {
          h.close();
        } catch { /* closing anyway */ }
      }
    }
    f.io.close();
    if (f.deleteOnClose) {
      try {
        io.remove(f.path);
      } catch { /* already gone */ }
    }
  };

  const ioImpl = {
    xClose(pFile: number): number {
      const f = files.get(pFile);
      if (!f) return 0;
      files.delete(pFile);
      try {
        try {
          flushWal(f);
        } finally {
          closeFile(f);
        }
        return 0;
      } catch (e) {
        return fail(e, f.path, C.IOERR_CLOSE);
      }
    },
    xRead(pFile: number, pDest: number, n: number, offset: bigint): number {
      const f = files.get(pFile)!;
      try {
        flushWal(f);
        const buf = heapView(pDest, n);
        const off = Number(offset);
        const got = f.io.read(buf, off);
        if (got < n) {
          buf.fill(0, got);
          return C.IOERR_SHORT_READ;
        }
        if (f.main) {
          if (off === 0) noteHeader(f, buf);
          if (f.checksums && isPage(n) && !checksumHolds(buf)) {
            vfsStats.checksumFaults++;
            vfsLastError.message = `page checksum mismatch at offset ${off} (page ${off / n + 1})`;
            vfsLastError.path = f.path;
            return C.IOERR_DATA;
          }
        }
        return 0;
      } catch (e) {
        return fail(e, f.path, C.IOERR_READ);
      }
    },
    xWrite(pFile: number, pSrc: number, n: number, offset: bigint): number {
      const f = files.get(pFile)!;
      try {
        const off = Number(offset);
        if (f.wal) {
          gatherWal(f, heapView(pSrc, n), off);
          return 0;
        }
        const buf = heapView(pSrc, n);
        if (f.main) {
          if (off === 0) noteHeader(f, buf);
          if (f.checksums && isPage(n)) writeChecksum(buf);
        }
        f.io.write(buf, off);
        return 0;
      } catch (e) {
        return fail(e, f.path, C.IOERR_WRITE);
      }
    },
    xTruncate(pFile: number, size: bigint): number {
      const f = files.get(pFile)!;
      try {
        flushWal(f);
        f.io.truncate(Number(size));
        return 0;
      } catch (e) {
        return fail(e, f.path, C.IOERR_TRUNCATE);
      }
    },
    xSync(pFile: number, flags: number): number {
      const f = files.get(pFile)!;
      try {
        flushWal(f);
        f.io.sync((flags & C.SYNC_DATAONLY) !== 0 && !f.needsDirSync);
        if (f.needsDirSync) {
          try {
            io.syncDir(dirname(f.path));
          } catch (e) {
            return fail(e, f.path, C.IOERR_DIR_FSYNC);
          }
          f.needsDirSync = false;
        }
        return 0;
      } catch (e) {
        return fail(e, f.path, C.IOERR_FSYNC);
      }
    },
    xFileSize(pFile: number, pOut: number): number {
      const f = files.get(pFile)!;
      try {
        flushWal(f);
        wasm.poke64(pOut, BigInt(f.io.size()));
        return 0;
      } catch (e) {
        return fail(e, f.path, C.IOERR_FSTAT);
      }
    },
    xLock(pFile: number, level: number): number {
      const f = files.get(pFile)!;
      if (!f.lock) return 0;
      try {
        const direct = level === EXCLUSIVE && f.lock.state.level === SHARED;
        const rc = runToEnd(protocolLock(f.lock.prim, f.lock.state, level));
        if (direct && rc === 0) vfsStats.hotJournalLocks++;
        return rc;
      } catch (e) {
        return fail(e, f.path, C.IOERR_LOCK);
      }
    },
    xUnlock(pFile: number, level: number): number {
      const f = files.get(pFile)!;
      if (!f.lock) return 0;
      try {
        return runToEnd(protocolUnlock(f.lock.prim, f.lock.state, level));
      } catch (e) {
        return fail(e, f.path, C.IOERR_UNLOCK);
      }
    },
    xCheckReservedLock(pFile: number, pOut: number): number {
      const f = files.get(pFile)!;
      try {
        const r = f.lock ? runToEnd(checkReserved(f.lock.prim, f.lock.state)) : false;
        wasm.poke32(pOut, r ? 1 : 0);
        return 0;
      } catch (e) {
        return fail(e, f.path, C.IOERR_CHECKRESERVEDLOCK);
      }
    },
    xFileControl(pFile: number, op: number, pArg: number): number {
      const f = files.get(pFile);
      if (!f) return C.NOTFOUND;
      if (op === C.FCNTL_LOCKSTATE) {
        wasm.poke32(pArg, f.lock ? f.lock.state.level : NONE);
        return 0;
      }
      if (op === C.FCNTL_HAS_MOVED) {
        let moved = 0;
        try {
          if (f.main && !io.exists(f.path)) moved = 1;
        } catch { /* treat as present */ }
        wasm.poke32(pArg, moved);
        return 0;
      }
      return C.NOTFOUND;
    },
    xSectorSize(_pFile: number): number {
      return 4096;
    },
    xDeviceCharacteristics(_pFile: number): number {
      return C.IOCAP_POWERSAFE_OVERWRITE;
    },
    xShmMap(pFile: number, iRegion: number, szRegion: number, bExtend: number, pp: number): number {
      const f = files.get(pFile)!;
      try {
        f.shm ??= new ShmConnection(io, wasm, f.path, flushGatheredWal);
        const ptr = f.shm.map(iRegion, szRegion, bExtend !== 0);
        if (ptr === -1) {
          wasm.poke32(pp, 0);
          return C.BUSY;
        }
        wasm.poke32(pp, ptr);
        return 0;
      } catch (e) {
        wasm.poke32(pp, 0);
        return fail(e, f.path, C.IOERR_SHMMAP);
      }
    },
    xShmLock(pFile: number, ofst: number, n: number, flags: number): number {
      const f = files.get(pFile)!;
      try {
        if (!f.shm) return C.IOERR_SHMLOCK;
        return f.shm.lock(ofst, n, flags) ? 0 : C.BUSY;
      } catch (e) {
        return fail(e, f.path, C.IOERR_SHMLOCK);
      }
    },
    xShmBarrier(pFile: number): void {
      const f = files.get(pFile);
      try {
        f?.shm?.barrier();
      } catch (e) {
        vfsLastError.message = e instanceof Error ? e.message : String(e);
      }
    },
    xShmUnmap(pFile: number, _deleteFlag: number): number {
      const f = files.get(pFile)!;
      try {
        f.shm?.unmap();
        f.shm = undefined;
        return 0;
      } catch (e) {
        f.shm = undefined;
        return fail(e, f.path, C.IOERR_SHMMAP);
      }
    },
  };

  const vfsImpl = {
    xOpen(_pVfs: number, zName: number, pFile: number, flags: number, pOutFlags: number): number {
      let path = "";
      try {
        const deleteOnClose = (flags & C.OPEN_DELETEONCLOSE) !== 0 || !zName;
        if (zName) path = wasm.cstrToJs(zName);
        else {
          path = Deno.makeTempFileSync({ prefix: "baton-tmp-" });
        }
        const main = (flags & C.OPEN_MAIN_DB) !== 0;
        let write = (flags & C.OPEN_READWRITE) !== 0;
        const create = (flags & C.OPEN_CREATE) !== 0;
        const createNew = (flags & C.OPEN_EXCLUSIVE) !== 0;
        const existed = create ? io.exists(path) : true;
        // Lock files first: a database we cannot lock is never created.
        const lockFiles = main ? openLockFiles(path) : undefined;
        let handle: IoFile;
        try {
          handle = io.open(path, { write, create, createNew });
        } catch (e) {
          if (write && !create && e instanceof Deno.errors.PermissionDenied) {
            try {
              handle = io.open(path, { write: false, create: false });
            } catch (e2) {
              for (const h of lockFiles?.files ?? []) h.close();
              throw e2;
            }
            write = false;
          } else {
            for (const h of lockFiles?.files ?? []) h.close();
            throw e;
          }
        }
        const f: OpenFile = {
          path,
          io: handle,
          main,
          deleteOnClose,
          needsDirSync: create && !existed,
          wal: (flags & C.OPEN_WAL) !== 0,
        };
        if (lockFiles) f.lock = lockFiles;
        files.set(pFile, f);
        wasm.poke32(pFile, ioMethodsPtr);
        if (pOutFlags) {
          let out = flags;
          if (!write) out = (out & ~C.OPEN_READWRITE) | C.OPEN_READONLY;
          wasm.poke32(pOutFlags, out);
        }
        vfsStats.opens++;
        return 0;
      } catch (e) {
        vfsLastError.message = e instanceof Error ? e.message : String(e);
        vfsLastError.path = path;
        if (e instanceof IoFailure && e.kind === "full") return C.FULL;
        return C.CANTOPEN;
      }
    },
    xDelete(_pVfs: number, zName: number, syncDir: number): number {
      const path = wasm.cstrToJs(zName);
      try {
        io.remove(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return C.IOERR_DELETE_NOENT;
        return fail(e, path, C.IOERR_DELETE);
      }
      if (syncDir) {
        try {
          io.syncDir(dirname(path));
        } catch (e) {
          return fail(e, path, C.IOERR_DIR_FSYNC);
        }
      }
      return 0;
    },
    xAccess(_pVfs: number, zName: number, flags: number, pOut: number): number {
      const path = wasm.cstrToJs(zName);
      try {
        const r = flags === C.ACCESS_READWRITE ? io.writable(path) : io.exists(path);
        wasm.poke32(pOut, r ? 1 : 0);
        return 0;
      } catch (e) {
        return fail(e, path, C.IOERR_ACCESS);
      }
    },
    xFullPathname(_pVfs: number, zName: number, nOut: number, zOut: number): number {
      const full = resolvePath(wasm.cstrToJs(zName));
      const bytes = new TextEncoder().encode(full);
      if (bytes.length + 1 > nOut) return C.CANTOPEN;
      const heap = wasm.heap8u();
      heap.set(bytes, zOut);
      heap[zOut + bytes.length] = 0;
      return 0;
    },
    xRandomness(_pVfs: number, n: number, zOut: number): number {
      crypto.getRandomValues(heapView(zOut, n));
      return n;
    },
    xSleep(_pVfs: number, micros: number): number {
      sleepSync(micros / 1000);
      return micros;
    },
    xCurrentTime(_pVfs: number, pOut: number): number {
      wasm.pokeF64(pOut, 2440587.5 + Date.now() / 86400000);
      return 0;
    },
    xCurrentTimeInt64(_pVfs: number, pOut: number): number {
      wasm.poke64(pOut, 210866760000000n + BigInt(Date.now()));
      return 0;
    },
    xGetLastError(_pVfs: number, _n: number, _z: number): number {
      return 0;
    },
  };

  // The structs live for the life of the process, as SQLite requires of a registered VFS.
  const sig: Record<string, string> = {
    xClose: "i(p)",
    xRead: "i(ppij)",
    xWrite: "i(ppij)",
    xTruncate: "i(pj)",
    xSync: "i(pi)",
    xFileSize: "i(pp)",
    xLock: "i(pi)",
    xUnlock: "i(pi)",
    xCheckReservedLock: "i(pp)",
    xFileControl: "i(pip)",
    xSectorSize: "i(p)",
    xDeviceCharacteristics: "i(p)",
    xShmMap: "i(piiip)",
    xShmLock: "i(piii)",
    xShmBarrier: "v(p)",
    xShmUnmap: "i(pi)",
    xOpen: "i(pppip)",
    xDelete: "i(ppi)",
    xAccess: "i(ppip)",
    xFullPathname: "i(ppip)",
    xRandomness: "i(pip)",
    xSleep: "i(pi)",
    xCurrentTime: "i(pp)",
    xGetLastError: "i(pip)",
    xCurrentTimeInt64: "i(pp)",
  };
  const fill = (
    struct: number,
    layout: Record<string, number>,
    // deno-lint-ignore no-explicit-any
    methods: Record<string, (...args: any[]) => any>,
  ) => {
    for (const [m, fn] of Object.entries(methods)) wasm.poke32(struct + layout[m], wasm.installFunction(sig[m], fn));
  };
  const ioMethodsPtr = wasm.alloc(IO_METHODS_LAYOUT.sizeof);
  wasm.heap8u().fill(0, ioMethodsPtr, ioMethodsPtr + IO_METHODS_LAYOUT.sizeof);
  wasm.poke32(ioMethodsPtr + IO_METHODS_LAYOUT.iVersion, 2);
  fill(ioMethodsPtr, IO_METHODS_LAYOUT, ioImpl);
  const vfs = wasm.alloc(VFS_LAYOUT.sizeof);
  wasm.heap8u().fill(0, vfs, vfs + VFS_LAYOUT.sizeof);
  wasm.poke32(vfs + VFS_LAYOUT.iVersion, 2);
  wasm.poke32(vfs + VFS_LAYOUT.szOsFile, FILE_SIZEOF);
  wasm.poke32(vfs + VFS_LAYOUT.mxPathname, 1024);
  wasm.poke32(vfs + VFS_LAYOUT.zName, wasm.allocCString(name));
  fill(vfs, VFS_LAYOUT, vfsImpl);
  const rc = wasm.x.sqlite3_vfs_register(vfs, 0);
  if (rc !== 0) throw new Error(`Registering the SQLite VFS "${name}" failed with code ${rc}`);
  return name;
}
