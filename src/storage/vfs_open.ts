/**
 * The VFS's own methods (`sqlite3_vfs`): opening a file (with its lock
 * files first: a database Baton cannot lock is never created), delete,
 * access, full path names, randomness, sleep and time.
 *
 * @module
 */
import { type LockPrimitive, type LockRole, type LockState, newLockState } from "./lock_protocol.ts";
import { IoFailure, type IoFile } from "./io.ts";
import { shmPaths } from "./shm.ts";
import { SQLITE as C } from "./wasm.ts";
import { sleepSync } from "./sleep.ts";
import { dirname, type OpenFile, resolvePath, type VfsEnv, vfsLastError, vfsStats } from "./vfs_state.ts";

/** Opens the three lock files of a database (`X-lock/pending`, `reserved`, `shared`). */
function openLockFiles(env: VfsEnv, dbPath: string): { state: LockState; prim: LockPrimitive; files: IoFile[] } {
  const { lockDir } = shmPaths(dbPath);
  env.io.mkdirp(lockDir);
  const opened: IoFile[] = [];
  try {
    for (const role of ["pending", "reserved", "shared"]) {
      opened.push(env.io.open(`${lockDir}/${role}`, { write: true, create: true }));
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
}

/**
 * The VFS methods of one installed VFS.
 * @param env the VFS's state
 * @param ioMethodsPtr the `sqlite3_io_methods` struct every opened file points to
 * @returns the methods, by their name in `sqlite3_vfs`
 */
export function vfsMethods(env: VfsEnv, ioMethodsPtr: number) {
  const { wasm, io, files, fail } = env;
  const heapView = env.heap;
  return {
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
        const lockFiles = main ? openLockFiles(env, path) : undefined;
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
}
