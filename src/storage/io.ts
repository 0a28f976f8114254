/**
 * The file I/O layer under Baton's VFS: the only code that touches database
 * files. The VFS speaks to an {@link IoBackend}; production uses
 * {@link denoBackend} (Deno's synchronous file APIs and `flock`), the tests
 * wrap it to inject faults or simulate power loss.
 *
 * @module
 */

import { mapShared, type SharedMapping } from "./mmap.ts";

/** An I/O failure the VFS turns into an SQLite result code. */
export class IoFailure extends Error {
  /** `full` maps to SQLITE_FULL, `io` to an SQLITE_IOERR_* code. */
  readonly kind: "io" | "full";
  /**
   * @param kind failure class
   * @param message what failed
   * @param cause underlying error
   */
  constructor(kind: "io" | "full", message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.kind = kind;
  }
}

/** One open file. Offsets are absolute; there is no shared file position. */
export interface IoFile {
  /** Reads into `buf` from `offset`; returns bytes read (short at end of file). */
  read(buf: Uint8Array, offset: number): number;
  /** Writes all of `buf` at `offset` or throws. */
  write(buf: Uint8Array, offset: number): void;
  /** Sets the file size. */
  truncate(size: number): void;
  /** Current size in bytes. */
  size(): number;
  /** Flushes to stable storage (`dataOnly`: fdatasync). */
  sync(dataOnly: boolean): void;
  /** Non-blocking whole-file lock attempt (flock semantics). */
  tryLock(exclusive: boolean): boolean;
  /** Blocking whole-file lock, only for locks held a few microseconds. */
  lockWait(exclusive: boolean): void;
  /** Releases this handle's lock. */
  unlock(): void;
  /** Closes the handle, releasing its lock. */
  close(): void;
}

/** How to open a file. */
export interface OpenMode {
  /** Open for writing too. */
  write: boolean;
  /** Create when missing. */
  create: boolean;
  /** Fail when it exists. */
  createNew?: boolean;
}

/** A filesystem: the VFS's only view of the outside world. */
export interface IoBackend {
  /** Opens a file. Throws `Deno.errors.*` style errors on failure. */
  open(path: string, mode: OpenMode): IoFile;
  /** Deletes a file; throws `Deno.errors.NotFound` when missing. */
  remove(path: string): void;
  /** Whether a path exists. */
  exists(path: string): boolean;
  /** Whether a path can be opened for writing. */
  writable(path: string): boolean;
  /** Creates a directory (and parents) if missing. */
  mkdirp(path: string): void;
  /** fsyncs a directory so that a create or delete in it is durable. */
  syncDir(path: string): void;
  /**
   * Maps part of an existing file shared, or returns null (backends without
   * it, or a process that cannot map, use file I/O for the wal-index).
   */
  mapShared?(path: string, offset: number, length: number): SharedMapping | null;
}

/** Classifies an error thrown by Deno's file APIs. */
export function isDiskFull(e: unknown): boolean {
  const m = e instanceof Error ? `${(e as { code?: string }).code ?? ""} ${e.message}` : String(e);
  return /ENOSPC|EDQUOT|os error 28|os error 122|No space left/i.test(m);
}

class DenoFile implements IoFile {
  #f: Deno.FsFile;
  #pos = 0;
  constructor(f: Deno.FsFile) {
    this.#f = f;
  }
  #seek(offset: number): void {
    if (this.#pos !== offset) {
      this.#pos = -1;
      this.#f.seekSync(offset, Deno.SeekMode.Start);
      this.#pos = offset;
    }
  }
  read(buf: Uint8Array, offset: number): number {
    this.#seek(offset);
    let n = 0;
    try {
      while (n < buf.length) {
        const r = this.#f.readSync(n === 0 ? buf : buf.subarray(n));
        if (r === null || r === 0) break;
        n += r;
      }
    } catch (e) {
      this.#pos = -1;
      throw e;
    }
    this.#pos = offset + n;
    return n;
  }
  write(buf: Uint8Array, offset: number): void {
    this.#seek(offset);
    let n = 0;
    try {
      while (n < buf.length) {
        const w = this.#f.writeSync(n === 0 ? buf : buf.subarray(n));
        if (w <= 0) throw new IoFailure("io", "write made no progress");
        n += w;
      }
    } catch (e) {
      this.#pos = -1;
      if (isDiskFull(e)) throw new IoFailure("full", "disk full", e);
      throw e;
    }
    this.#pos = offset + n;
  }
  truncate(size: number): void {
    this.#f.truncateSync(size);
  }
  size(): number {
    return this.#f.statSync().size;
  }
  sync(dataOnly: boolean): void {
    if (dataOnly) this.#f.syncDataSync();
    else this.#f.syncSync();
  }
  tryLock(exclusive: boolean): boolean {
    return this.#f.tryLockSync(exclusive);
  }
  lockWait(exclusive: boolean): void {
    this.#f.lockSync(exclusive);
  }
  unlock(): void {
    this.#f.unlockSync();
  }
  close(): void {
    this.#f.close();
  }
}

/** The production backend: Deno's synchronous file APIs. */
export const denoBackend: IoBackend = {
  open(path, mode) {
    const f = Deno.openSync(path, {
      read: true,
      write: mode.write,
      create: mode.create && !mode.createNew,
      createNew: mode.createNew,
    });
    return new DenoFile(f);
  },
  remove(path) {
    Deno.removeSync(path);
  },
  exists(path) {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  writable(path) {
    try {
      Deno.openSync(path, { read: true, write: true }).close();
      return true;
    } catch {
      return false;
    }
  },
  mkdirp(path) {
    Deno.mkdirSync(path, { recursive: true });
  },
  syncDir(path) {
    const d = Deno.openSync(path, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  },
  mapShared,
};
