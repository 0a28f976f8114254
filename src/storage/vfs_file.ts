/**
 * The file methods of the VFS (`sqlite3_io_methods`): read, write, sync,
 * truncate, size, the database locks, the wal-index (`xShm*`), file
 * controls. Each one turns every failure into SQLite's result code.
 *
 * @module
 */
import {
  checkReserved,
  EXCLUSIVE,
  lock as protocolLock,
  NONE,
  runToEnd,
  SHARED,
  unlock as protocolUnlock,
} from "./lock_protocol.ts";
import { noteWalWrite, ShmConnection } from "./shm.ts";
import { SQLITE as C } from "./wasm.ts";
import { checksumHolds, isPage, noteHeader, writeChecksum } from "./vfs_checksums.ts";
import { dirname, type OpenFile, type VfsEnv, vfsLastError, vfsStats } from "./vfs_state.ts";
import { flushGatheredWal, flushWal, gatherWal } from "./vfs_wal_gather.ts";

/** Closes a file: its wal-index mapping, its lock files, the file, and a delete-on-close file itself. */
function closeFile(env: VfsEnv, f: OpenFile): void {
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
      env.io.remove(f.path);
    } catch { /* already gone */ }
  }
}

/**
 * The file methods of one installed VFS.
 * @param env the VFS's state
 * @returns the methods, by their name in `sqlite3_io_methods`
 */
export function fileMethods(env: VfsEnv) {
  const { wasm, io, files, fail } = env;
  const heapView = env.heap;
  return {
    xClose(pFile: number): number {
      const f = files.get(pFile);
      if (!f) return 0;
      files.delete(pFile);
      try {
        try {
          flushWal(f);
        } finally {
          closeFile(env, f);
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
          noteWalWrite(f.path, off, n);
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
}
