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

import { libc, mapFile } from "./libc.ts";

/** A shared mapping of part of a file. */
export interface SharedMapping {
  /** The mapped bytes; invalid after {@link SharedMapping.unmap}. */
  readonly bytes: Uint8Array;
  /** Unmaps; the caller must drop every view of `bytes` first. */
  unmap(): void;
  /** Whether touching it is still safe (the file covers it and, unless `write` is false, may be written); see `libc.ts`. */
  intact(write?: boolean): boolean;
}

/** Test hook: set `enabled` to false to make this process use file I/O only. */
export const sharedMappingOptions = { enabled: true };

/** Whether this process can map files (FFI permission, known C library, not disabled). */
export function canMapShared(): boolean {
  return sharedMappingOptions.enabled && libc() !== null;
}

/**
 * Maps `length` bytes of an existing file at `offset` (a multiple of the
 * page size), read-write and shared. The file must already be at least
 * `offset + length` bytes long and must not shrink while mapped (touching a
 * page past the end of a file kills the process with SIGBUS). Its blocks are
 * allocated before it is mapped, so a full disk refuses the mapping (the
 * caller then uses file I/O, whose writes fail with a coded error) instead
 * of killing the process with SIGBUS at the first write to a page.
 * @param path file path
 * @param offset byte offset, page aligned
 * @param length bytes to map
 * @returns the mapping, or null when mapping is unavailable or failed
 */
export function mapShared(path: string, offset: number, length: number): SharedMapping | null {
  if (!canMapShared()) return null;
  const m = mapFile(path, offset, length, true);
  return m ? { bytes: m.bytes, unmap: () => m.unmap(), intact: (write?: boolean) => m.intact(write) } : null;
}
