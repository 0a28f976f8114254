/**
 * An in-memory {@link IoBackend} that simulates power loss, for
 * `tests/power_loss_test.ts`.
 *
 * ## The model
 * - A file (an "inode") is a growable byte array. Paths map to inodes;
 *   directories are implicit (`mkdirp` and `syncDir` do nothing but count as
 *   operations). An open handle keeps its inode even after the path is
 *   removed, as on POSIX.
 * - Each inode has a *volatile* image (what reads see) and a *durable* image
 *   (what survives power loss). `write` and `truncate` change the volatile
 *   image and are appended to the inode's list of pending (unsynced)
 *   operations; `sync` applies the pending list to the durable image and
 *   clears it, so after a sync the durable image equals the volatile one.
 * - File creation and deletion are durable at once. This models a
 *   filesystem that journals metadata synchronously (and keeps the test
 *   about SQLite's data-sync protocol): the directory fsyncs the VFS issues
 *   are therefore not exercised by this model, and a journal deleted at
 *   commit in DELETE mode can never reappear after a crash (on a real
 *   filesystem that guarantee needs `synchronous=EXTRA`).
 * - Locks have flock semantics per handle: whole-file, shared or exclusive,
 *   converted by releasing first (not atomically), released on close. A
 *   blocking wait that could never be granted (another handle of this
 *   single-threaded process holds the lock) throws instead of hanging.
 *
 * ## Crashing
 * {@link PowerLossBackend.armCrash}`(n)` makes every operation after the
 * n-th throw `IoFailure("io")`: the process "dies" at that point (the
 * engine sees I/O errors, and the test stops using it). Nothing done after
 * that point reaches the disk.
 *
 * By default the *coordination* files (the `-shm` wal-index and everything
 * in the `-lock/` directory) are spared: after the crash their operations
 * keep working on the volatile image, as the shared memory and kernel locks
 * of a native VFS would, so the dying engine unwinds at once. Their content
 * never matters after a reboot (the first connection resets the wal-index).
 * `armCrash(n, { strict: true })` fails them too; that currently wedges the
 * dying connection for ~10 s when the crash lands inside an shm lock (see
 * the report accompanying these tests: `ShmConnection.lock` keeps a slot
 * marked held when its refresh throws, and wal.c then spins on BUSY until
 * SQLITE_PROTOCOL).
 * {@link PowerLossBackend.crash} then builds the disk as a reboot would see
 * it: each surviving file's durable image plus, for each pending operation
 * in order, a random choice: dropped, applied, or (writes only) torn, where
 * only a random subset of the 512-byte sectors the write touched is applied.
 *
 * @module
 */

import { type IoBackend, IoFailure, type IoFile, type OpenMode } from "../../src/storage/io.ts";
import type { Rng } from "./prng.ts";

/** Sector size used to tear writes. */
export const TEAR_SECTOR = 512;

export { mulberry32, type Rng } from "./prng.ts";

/** A growable byte array. */
class Image {
  buf: Uint8Array;
  len: number;
  constructor(buf = new Uint8Array(0), len = 0) {
    this.buf = buf;
    this.len = len;
  }
  clone(): Image {
    return new Image(this.buf.slice(0, Math.max(this.len, 16)), this.len);
  }
  #reserve(n: number): void {
    if (n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(n, this.buf.length * 2, 4096));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  write(data: Uint8Array, offset: number): void {
    const end = offset + data.length;
    this.#reserve(end);
    // Bytes between the old end and `offset` must read as zeros: the buffer
    // past `len` may hold stale bytes from an earlier truncate.
    if (offset > this.len) this.buf.fill(0, this.len, offset);
    this.buf.set(data, offset);
    if (end > this.len) this.len = end;
  }
  truncate(size: number): void {
    if (size > this.len) {
      this.#reserve(size);
      this.buf.fill(0, this.len, size);
    }
    this.len = size;
  }
  read(into: Uint8Array, offset: number): number {
    if (offset >= this.len) return 0;
    const n = Math.min(into.length, this.len - offset);
    into.set(this.buf.subarray(offset, offset + n));
    return n;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

type PendingOp =
  | { kind: "write"; offset: number; data: Uint8Array }
  | { kind: "truncate"; size: number };

class Inode {
  volatile: Image;
  durable: Image;
  pending: PendingOp[] = [];
  shared = new Set<SimFile>();
  exclusive: SimFile | null = null;
  constructor(content?: Image) {
    this.volatile = content ? content.clone() : new Image();
    this.durable = content ? content.clone() : new Image();
  }
}

/** What one {@link PowerLossBackend.crash} did to the pending operations. */
export interface CrashReport {
  /** The policy drawn for this crash. */
  policy: "keep-all" | "drop-all" | "mixed";
  /** Pending writes and truncates considered (all files). */
  pendingOps: number;
  /** Pending writes dropped entirely. */
  droppedWrites: number;
  /** Pending truncates dropped. */
  droppedTruncates: number;
  /** Pending writes torn: some but not all of their sectors applied. */
  tornWrites: number;
  /** Pending operations applied whole. */
  appliedOps: number;
  /** Data files whose surviving content differs from what the process last saw. */
  filesDiverged: string[];
  /** Pending (unsynced) writes per data file at the crash. */
  pendingWrites: Record<string, number>;
}

/** Operation counters. */
export interface PowerLossStats {
  /** Every backend or handle call. */
  ops: number;
  /** Writes. */
  writes: number;
  /** Syncs. */
  syncs: number;
}

/** The simulated disk. See the module documentation. */
export class PowerLossBackend implements IoBackend {
  #files: Map<string, Inode>;
  #crashAfter = Infinity;
  #crashed = false;
  #strict = false;
  /** Counters. */
  readonly stats: PowerLossStats = { ops: 0, writes: 0, syncs: 0 };
  /** Called after every successful `sync` with the file's path (as opened). */
  onSync?: (path: string) => void;
  /** Set on a backend built by {@link crash}: what the crash did. */
  crashReport?: CrashReport;

  constructor(files?: Map<string, Inode>) {
    this.#files = files ?? new Map();
  }

  /**
   * The power goes out after the n-th operation from now: later operations
   * throw (on coordination files too when `strict`) and change nothing on disk.
   */
  armCrash(n: number, options: { strict?: boolean } = {}): void {
    this.#crashAfter = this.stats.ops + n;
    this.#strict = options.strict ?? false;
  }

  /** Power goes out now (if it has not already). */
  crashNow(): void {
    this.#crashed = true;
  }

  /** Whether the simulated power loss has happened. */
  get crashed(): boolean {
    return this.#crashed;
  }

  /** Counts an operation on `path`; throws once the crash point has passed. */
  tick(what: string, path: string): void {
    if (!this.#crashed) {
      this.stats.ops++;
      if (this.stats.ops > this.#crashAfter) this.#crashed = true;
    }
    if (this.#crashed && (this.#strict || !isCoordination(path))) {
      throw new IoFailure("io", `simulated power loss (${what} ${path})`);
    }
  }

  /** Paths of existing files. */
  paths(): string[] {
    return [...this.#files.keys()].sort();
  }

  /** The volatile content of a file (for debugging). */
  contents(path: string): Uint8Array | undefined {
    return this.#files.get(path)?.volatile.bytes();
  }

  /**
   * Builds the disk a reboot would find: durable images plus a random fate
   * for each pending operation. Also crashes this backend if it is not yet.
   *
   * @param rng random source deciding the fates
   * @returns a fresh backend (no locks held, nothing pending)
   */
  crash(rng: Rng): PowerLossBackend {
    this.#crashed = true;
    const r = rng();
    const policy: CrashReport["policy"] = r < 0.2 ? "keep-all" : r < 0.4 ? "drop-all" : "mixed";
    const report: CrashReport = {
      policy,
      pendingOps: 0,
      droppedWrites: 0,
      droppedTruncates: 0,
      tornWrites: 0,
      appliedOps: 0,
      filesDiverged: [],
      pendingWrites: {},
    };
    const out = new Map<string, Inode>();
    for (const [path, inode] of this.#files) {
      const img = inode.durable.clone();
      const writes = inode.pending.filter((op) => op.kind === "write").length;
      if (writes > 0 && !isCoordination(path)) report.pendingWrites[path] = writes;
      for (const op of inode.pending) {
        report.pendingOps++;
        const fate = policy === "keep-all" ? 0.5 : policy === "drop-all" ? 0 : rng();
        if (op.kind === "truncate") {
          if (fate < 0.5) report.droppedTruncates++;
          else {
            img.truncate(op.size);
            report.appliedOps++;
          }
          continue;
        }
        if (fate < 1 / 3) {
          report.droppedWrites++;
        } else if (fate < 2 / 3 || policy === "keep-all") {
          img.write(op.data, op.offset);
          report.appliedOps++;
        } else {
          // Torn: each sector the write touches survives or not.
          const end = op.offset + op.data.length;
          let applied = 0, total = 0;
          for (let s = Math.floor(op.offset / TEAR_SECTOR) * TEAR_SECTOR; s < end; s += TEAR_SECTOR) {
            const a = Math.max(s, op.offset), b = Math.min(s + TEAR_SECTOR, end);
            total++;
            if (rng() < 0.5) {
              img.write(op.data.subarray(a - op.offset, b - op.offset), a);
              applied++;
            }
          }
          if (applied === 0) report.droppedWrites++;
          else if (applied === total) report.appliedOps++;
          else report.tornWrites++;
        }
      }
      if (!isCoordination(path) && !sameBytes(img.bytes(), inode.volatile.bytes())) {
        report.filesDiverged.push(path);
      }
      out.set(path, new Inode(img));
    }
    const next = new PowerLossBackend(out);
    next.crashReport = report;
    return next;
  }

  #inode(path: string): Inode | undefined {
    return this.#files.get(path);
  }

  open(path: string, mode: OpenMode): IoFile {
    this.tick("open", path);
    let inode = this.#inode(path);
    if (inode && mode.createNew) throw new Deno.errors.AlreadyExists(`exists: ${path}`);
    if (!inode) {
      if (!mode.create && !mode.createNew) throw new Deno.errors.NotFound(`no such file: ${path}`);
      inode = new Inode();
      // Created after the crash (coordination files only): not on the disk.
      if (!this.#crashed) this.#files.set(path, inode);
    }
    return new SimFile(this, path, inode, mode.write);
  }

  remove(path: string): void {
    this.tick("remove", path);
    if (!this.#files.delete(path)) throw new Deno.errors.NotFound(`no such file: ${path}`);
  }

  exists(path: string): boolean {
    this.tick("exists", path);
    return this.#files.has(path);
  }

  writable(path: string): boolean {
    this.tick("writable", path);
    return this.#files.has(path);
  }

  mkdirp(path: string): void {
    this.tick("mkdirp", path);
  }

  syncDir(path: string): void {
    this.tick("syncDir", path);
  }

  /** Internal: a handle wrote. */
  recordWrite(inode: Inode, data: Uint8Array, offset: number): void {
    this.stats.writes++;
    inode.volatile.write(data, offset);
    // After the crash (coordination files only) nothing reaches the disk.
    if (!this.#crashed) inode.pending.push({ kind: "write", offset, data: data.slice() });
  }

  /** Internal: a handle truncated. */
  recordTruncate(inode: Inode, size: number): void {
    inode.volatile.truncate(size);
    if (!this.#crashed) inode.pending.push({ kind: "truncate", size });
  }

  /** Internal: a handle synced. */
  recordSync(inode: Inode, path: string): void {
    if (this.#crashed) return;
    this.stats.syncs++;
    for (const op of inode.pending) {
      if (op.kind === "write") inode.durable.write(op.data, op.offset);
      else inode.durable.truncate(op.size);
    }
    inode.pending = [];
    this.onSync?.(path);
  }
}

/** The wal-index and lock files: shared memory and kernel locks in a native VFS. */
export function isCoordination(path: string): boolean {
  return path.endsWith("-shm") || path.endsWith("-lock") || path.includes("-lock/");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One open handle on a simulated file. */
class SimFile implements IoFile {
  #be: PowerLossBackend;
  #path: string;
  #inode: Inode;
  #write: boolean;
  #held: 0 | 1 | 2 = 0;
  #closed = false;

  constructor(be: PowerLossBackend, path: string, inode: Inode, write: boolean) {
    this.#be = be;
    this.#path = path;
    this.#inode = inode;
    this.#write = write;
  }

  #check(what: string): void {
    this.#be.tick(what, this.#path);
    if (this.#closed) throw new Deno.errors.BadResource(`${what} on a closed handle: ${this.#path}`);
  }

  read(buf: Uint8Array, offset: number): number {
    this.#check("read");
    return this.#inode.volatile.read(buf, offset);
  }

  write(buf: Uint8Array, offset: number): void {
    this.#check("write");
    if (!this.#write) throw new Deno.errors.PermissionDenied(`read-only handle: ${this.#path}`);
    this.#be.recordWrite(this.#inode, buf, offset);
  }

  truncate(size: number): void {
    this.#check("truncate");
    if (!this.#write) throw new Deno.errors.PermissionDenied(`read-only handle: ${this.#path}`);
    this.#be.recordTruncate(this.#inode, size);
  }

  size(): number {
    this.#check("size");
    return this.#inode.volatile.len;
  }

  sync(_dataOnly: boolean): void {
    this.#check("sync");
    this.#be.recordSync(this.#inode, this.#path);
  }

  #release(): void {
    if (this.#held === 1) this.#inode.shared.delete(this);
    else if (this.#held === 2 && this.#inode.exclusive === this) this.#inode.exclusive = null;
    this.#held = 0;
  }

  #try(exclusive: boolean): boolean {
    // flock converts a held lock by dropping it first: a failed conversion
    // leaves the handle with nothing.
    this.#release();
    const ino = this.#inode;
    if (ino.exclusive) return false;
    if (exclusive) {
      if (ino.shared.size > 0) return false;
      ino.exclusive = this;
      this.#held = 2;
    } else {
      ino.shared.add(this);
      this.#held = 1;
    }
    return true;
  }

  tryLock(exclusive: boolean): boolean {
    this.#check("tryLock");
    return this.#try(exclusive);
  }

  lockWait(exclusive: boolean): void {
    this.#check("lockWait");
    if (!this.#try(exclusive)) {
      throw new IoFailure("io", `lockWait would block forever in a single-threaded simulation: ${this.#path}`);
    }
  }

  unlock(): void {
    this.#check("unlock");
    this.#release();
  }

  close(): void {
    this.#check("close");
    this.#release();
    this.#closed = true;
  }
}
