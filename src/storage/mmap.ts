/**
 * Shared file mappings (`mmap(MAP_SHARED)` through the C library), used by
 * the wal-index emulation of `shm.ts` in place of reading and writing the
 * `-shm` file: the same bytes, the same locking protocol, no system call
 * per access. Mapped pages and the file share the kernel's page cache, so a
 * process that maps and one that uses file I/O see each other's writes.
 *
 * Only used when the process already has FFI permission (`deno run -A`,
 * the compiled binaries); never prompts. Without it, or on a platform
 * without a known C library, {@link mapShared} returns null and callers
 * keep using file I/O.
 *
 * @module
 */

/** A shared mapping of part of a file. */
export interface SharedMapping {
  /** The mapped bytes; invalid after {@link SharedMapping.unmap}. */
  readonly bytes: Uint8Array;
  /** Unmaps; the caller must drop every view of `bytes` first. */
  unmap(): void;
}

/** Test hook: set `enabled` to false to make this process use file I/O only. */
export const sharedMappingOptions = { enabled: true };

type Libc = ReturnType<typeof openLibc>;
let libc: Libc | null | undefined;

const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1, O_RDWR = 2;
const O_CLOEXEC = Deno.build.os === "darwin" ? 0x1000000 : 0x80000;
const MAP_FAILED = 0xffffffffffffffffn;

function openLibc(name: string) {
  return Deno.dlopen(name, {
    // open(2) is variadic; called with two arguments only (no O_CREAT), as C allows.
    open: { parameters: ["buffer", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
    mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
    munmap: { parameters: ["pointer", "usize"], result: "i32" },
  });
}

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  const name = Deno.build.os === "linux" ? "libc.so.6" : Deno.build.os === "darwin" ? "libSystem.B.dylib" : null;
  if (name === null) return null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    libc = openLibc(name);
  } catch {
    libc = null;
  }
  return libc;
}

/** Whether this process can map files (FFI permission, known C library, not disabled). */
export function canMapShared(): boolean {
  return sharedMappingOptions.enabled && loadLibc() !== null;
}

/**
 * Maps `length` bytes of an existing file at `offset` (a multiple of the
 * page size), read-write and shared. The file must already be at least
 * `offset + length` bytes long and must not shrink while mapped (touching a
 * page past the end of a file kills the process with SIGBUS).
 * @param path file path
 * @param offset byte offset, page aligned
 * @param length bytes to map
 * @returns the mapping, or null when mapping is unavailable or failed
 */
export function mapShared(path: string, offset: number, length: number): SharedMapping | null {
  if (!canMapShared()) return null;
  const c = loadLibc()!.symbols;
  const fd = c.open(new TextEncoder().encode(path + "\0"), O_RDWR | O_CLOEXEC);
  if (fd < 0) return null;
  let ptr: Deno.PointerValue;
  try {
    ptr = c.mmap(null, BigInt(length), PROT_READ | PROT_WRITE, MAP_SHARED, fd, BigInt(offset));
  } finally {
    c.close(fd); // the mapping keeps its own reference to the file
  }
  if (ptr === null || BigInt(Deno.UnsafePointer.value(ptr)) === MAP_FAILED) return null;
  const mapped = ptr;
  let live = true;
  return {
    bytes: new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(mapped, length)),
    unmap() {
      if (live) c.munmap(mapped, BigInt(length));
      live = false;
    },
  };
}
