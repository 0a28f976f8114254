/**
 * The C library, through Deno's FFI, for what Deno's own APIs cannot do:
 * shared file mappings (`mmap`), process-shared robust mutexes with a
 * timeout (`pthread_mutex_clocklock`), and reserving a file's blocks
 * (`posix_fallocate`, so that a mapped page is never a hole a full disk
 * cannot fill).
 *
 * Loaded only when the process already has FFI permission (`deno run -A`,
 * the compiled binaries); it never prompts. Without it, or on a platform
 * without a known C library, {@link libc} returns null and callers keep
 * their portable paths.
 *
 * @module
 */

/** The shared file mappings' functions: every process that maps the wal-index binds these. */
const FILE_SYMBOLS = {
  // open(2) is variadic; the mode is passed as the third argument, as C allows.
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  posix_fallocate: { parameters: ["i32", "i64", "i64"], result: "i32" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  access: { parameters: ["buffer", "i32"], result: "i32" },
} as const;

/** The writer mutex's functions: bound only by a process that writes. */
const MUTEX_SYMBOLS = {
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  pthread_mutexattr_init: { parameters: ["buffer"], result: "i32" },
  pthread_mutexattr_setpshared: { parameters: ["buffer", "i32"], result: "i32" },
  pthread_mutexattr_setrobust: { parameters: ["buffer", "i32"], result: "i32" },
  pthread_mutexattr_settype: { parameters: ["buffer", "i32"], result: "i32" },
  pthread_mutex_init: { parameters: ["pointer", "buffer"], result: "i32" },
  pthread_mutex_trylock: { parameters: ["pointer"], result: "i32" },
  pthread_mutex_clocklock: { parameters: ["pointer", "i32", "buffer"], result: "i32" },
  pthread_mutex_unlock: { parameters: ["pointer"], result: "i32" },
  pthread_mutex_consistent: { parameters: ["pointer"], result: "i32" },
} as const;

const GROUPS = [FILE_SYMBOLS, MUTEX_SYMBOLS];
type Symbols = typeof FILE_SYMBOLS & typeof MUTEX_SYMBOLS;

/** The loaded C library. */
export type Libc = Deno.DynamicLibrary<Symbols>["symbols"];

/** Test hook: set `enabled` to false to make this process act as one without FFI permission. */
export const libcOptions = { enabled: true };

let loaded: Libc | null | undefined;
/** Every group's library handle, kept for the life of the process. */
const libraries: Deno.DynamicLibrary<Deno.ForeignLibraryInterface>[] = [];
const bound: string[] = [];

/**
 * The symbols, bound a group at a time at the first use of one of its functions: a process that only reads
 * (`baton list`, a `baton-mcp` answering queries) never binds the writer mutex's. Deno compiles a call stub
 * per symbol: binding all seventeen at once took ~5.9 ms of every start, the seven of the file group ~3.4
 * (the first `dlopen` of a process ~2.4 of it), measured in fresh processes.
 */
function lazySymbols(): Libc {
  const symbols = {} as Libc;
  for (const group of GROUPS) {
    const bind = () => {
      const lib = Deno.dlopen("libc.so.6", group);
      libraries.push(lib);
      for (const [name, fn] of Object.entries(lib.symbols)) {
        bound.push(name);
        Object.defineProperty(symbols, name, { value: fn, enumerable: true });
      }
    };
    for (const name of Object.keys(group)) {
      Object.defineProperty(symbols, name, {
        configurable: true,
        enumerable: true,
        get() {
          bind();
          return (symbols as Record<string, unknown>)[name];
        },
      });
    }
  }
  return symbols;
}

/**
 * The C library, when this process may use it. Its functions are bound at first use, a group at a time.
 * @returns its symbols, or null (no FFI permission, an unknown platform, or disabled)
 * @throws nothing
 * @example
 * ```ts
 * import { libc } from "./libc.ts";
 * const c = libc(); // null without --allow-ffi
 * if (c) c.clock_gettime(1, new BigInt64Array(2));
 * ```
 */
export function libc(): Libc | null {
  if (!libcOptions.enabled) return null;
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (Deno.build.os !== "linux") return null; // the robust mutexes and fallocate below are Linux (glibc) calls
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const symbols = lazySymbols();
    void symbols.close; // binding the file group proves the library loads
    loaded = symbols;
  } catch {
    loaded = null;
  }
  return loaded;
}

/**
 * The C functions this process has bound so far, in order (for tests).
 * @returns their names
 * @throws nothing
 * @example
 * ```ts
 * import { libc, libcBound } from "./libc.ts";
 * libc();
 * libcBound(); // the file group's seven with --allow-ffi on Linux
 * ```
 */
export function libcBound(): readonly string[] {
  return [...bound];
}

/** Flags and error numbers of Linux. */
export const C = {
  O_RDWR: 2,
  O_CREAT: 0o100,
  O_CLOEXEC: 0x80000,
  PROT_READ: 1,
  PROT_WRITE: 2,
  MAP_SHARED: 1,
  SEEK_END: 2,
  W_OK: 2,
  CLOCK_MONOTONIC: 1,
  PTHREAD_PROCESS_SHARED: 1,
  PTHREAD_MUTEX_ROBUST: 1,
  PTHREAD_MUTEX_ERRORCHECK: 2,
  EBUSY: 16,
  EDEADLK: 35,
  ETIMEDOUT: 110,
  EOWNERDEAD: 130,
  ENOTRECOVERABLE: 131,
} as const;

const MAP_FAILED = 0xffffffffffffffffn;

/**
 * How long a mapping found intact is trusted without looking again (ms). A
 * file spoiled within this window of the last look can still fault; the
 * window is about the length of one transaction.
 */
export const INTACT_RECHECK_MS = 1;

/** A shared mapping of the start of a file, with its address for C calls. */
export interface FileMapping {
  /** The address, for C calls. */
  readonly ptr: Deno.PointerObject;
  /** The mapped bytes; invalid after {@link FileMapping.unmap}. */
  readonly bytes: Uint8Array;
  /** Unmaps; the caller must drop every view of `bytes` first. */
  unmap(): void;
  /**
   * Whether touching the mapping is still safe: the file still covers it
   * (a page past the end of a file faults) and, unless only reading, may
   * still be written (a file made immutable, or on a file system remounted
   * read-only, faults at the first write to a page; reads do not). A fault
   * is SIGBUS, which kills the process.
   * @param write whether the caller may write to the mapping (default: true)
   */
  intact(write?: boolean): boolean;
}

/**
 * Maps `length` bytes of a file at `offset` (page aligned), shared. With
 * `reserve`, the file's blocks are allocated first (`posix_fallocate`), so
 * that touching a mapped page can never meet a full disk (which the kernel
 * reports as SIGBUS, killing the process); a disk that is full already
 * makes this return null instead.
 * @param path the file (created when missing)
 * @param offset byte offset, page aligned
 * @param length bytes to map
 * @param reserve allocate the blocks first (the file grows to `offset + length` if shorter)
 * @returns the mapping, or null when mapping is unavailable or failed
 * @throws nothing
 * @example
 * ```ts
 * import { mapFile } from "./libc.ts";
 * const m = mapFile(`${await Deno.makeTempDir()}/m`, 0, 4096, true);
 * if (m) { m.bytes[0] = 1; m.unmap(); }
 * ```
 */
export function mapFile(path: string, offset: number, length: number, reserve: boolean): FileMapping | null {
  const c = libc();
  if (!c) return null;
  const cpath = new TextEncoder().encode(path + "\0");
  const fd = c.open(cpath, C.O_RDWR | C.O_CLOEXEC | (reserve ? C.O_CREAT : 0), 0o644);
  if (fd < 0) return null;
  let ptr: Deno.PointerValue = null;
  try {
    if (reserve && c.posix_fallocate(fd, BigInt(offset), BigInt(length)) !== 0) return null;
    ptr = c.mmap(null, BigInt(length), C.PROT_READ | C.PROT_WRITE, C.MAP_SHARED, fd, BigInt(offset));
  } finally {
    // The descriptor stays open while mapped, to see the file's size (the mapping keeps its own reference).
    if (ptr === null || BigInt(Deno.UnsafePointer.value(ptr)) === MAP_FAILED) c.close(fd);
  }
  if (ptr === null || BigInt(Deno.UnsafePointer.value(ptr)) === MAP_FAILED) return null;
  const mapped = ptr;
  const end = BigInt(offset + length);
  let live = true;
  // When the file was last seen to cover the mapping, and to be writable too.
  let coveredAt = -Infinity, writableAt = -Infinity;
  return {
    ptr: mapped,
    bytes: new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(mapped, length)),
    unmap() {
      if (live) {
        c.munmap(mapped, BigInt(length));
        c.close(fd);
      }
      live = false;
    },
    intact(write = true) {
      if (!live) return false;
      // Looked at most once per INTACT_RECHECK_MS: two system calls per lock were ~5% of a claim under load.
      // A reader asks only whether the file covers the mapping: `access` (a path lookup) is for writers.
      const now = performance.now();
      if (now - (write ? writableAt : coveredAt) < INTACT_RECHECK_MS) return true;
      if (c.lseek(fd, 0n, C.SEEK_END) < end) return false;
      coveredAt = now;
      if (!write) return true;
      if (c.access(cpath, C.W_OK) !== 0) return false;
      writableAt = now;
      return true;
    },
  };
}
