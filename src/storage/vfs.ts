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

import { denoBackend, type IoBackend, IoFailure } from "./io.ts";
import { FILE_SIZEOF, IO_METHODS_LAYOUT, type SqliteWasm, VFS_LAYOUT } from "./wasm.ts";
import { fileMethods } from "./vfs_file.ts";
import { useChecksumMemory } from "./vfs_checksums.ts";
import { vfsMethods } from "./vfs_open.ts";
import { type OpenFile, openFileMaps, type VfsEnv, vfsLastError } from "./vfs_state.ts";
import { SQLITE as C } from "./wasm.ts";

export { lastWalWrite, vfsLastError, type VfsStats, vfsStats, walFrames } from "./vfs_state.ts";
export { flushGatheredWal } from "./vfs_wal_gather.ts";

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
  useChecksumMemory(wasm.memory);
  const env: VfsEnv = {
    wasm,
    io,
    files,
    fail(e: unknown, path: string, ioerr: number): number {
      vfsLastError.message = e instanceof Error ? e.message : String(e);
      vfsLastError.path = path;
      if (e instanceof IoFailure && e.kind === "full") return C.FULL;
      return ioerr;
    },
    heap: (p: number, n: number) => wasm.heap8u().subarray(p, p + n),
  };
  const ioMethodsPtr = wasm.alloc(IO_METHODS_LAYOUT.sizeof);
  register(wasm, ioMethodsPtr, IO_METHODS_LAYOUT, fileMethods(env));
  const vfs = wasm.alloc(VFS_LAYOUT.sizeof);
  register(wasm, vfs, VFS_LAYOUT, vfsMethods(env, ioMethodsPtr));
  wasm.poke32(vfs + VFS_LAYOUT.szOsFile, FILE_SIZEOF);
  wasm.poke32(vfs + VFS_LAYOUT.mxPathname, 1024);
  wasm.poke32(vfs + VFS_LAYOUT.zName, wasm.allocCString(name));
  const rc = wasm.x.sqlite3_vfs_register(vfs, 0);
  if (rc !== 0) throw new Error(`Registering the SQLite VFS "${name}" failed with code ${rc}`);
  return name;
}

/** Each method's signature for the WASM function table. */
const SIG: Record<string, string> = {
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

/**
 * Fills a method struct (`sqlite3_io_methods` or `sqlite3_vfs`, version 2):
 * zeroed, its version, and a function-table slot for each method. The
 * structs live for the life of the process, as SQLite requires of a
 * registered VFS.
 */
function register(
  wasm: SqliteWasm,
  struct: number,
  layout: Record<string, number>,
  // deno-lint-ignore no-explicit-any
  methods: Record<string, (...args: any[]) => any>,
): void {
  wasm.heap8u().fill(0, struct, struct + layout.sizeof);
  wasm.poke32(struct + layout.iVersion, 2);
  for (const [m, fn] of Object.entries(methods)) wasm.poke32(struct + layout[m], wasm.installFunction(SIG[m], fn));
}
