/**
 * WAL shared memory (the wal-index) for WASM SQLite, emulated over files.
 *
 * WASM memory cannot map a file, so every connection keeps its own copy of
 * the wal-index regions in WASM memory and keeps it coherent with the
 * `-shm` file. The rules, and why they are enough for `wal.c`:
 *
 * - SQLite modifies the wal-index only while it holds at least one
 *   EXCLUSIVE shm lock (WRITE, CKPT, RECOVER or a READ slot). So a
 *   connection with no exclusive lock has no local changes, and one that is
 *   about to release an exclusive lock must first *publish* its changes.
 * - SQLite observes other connections' changes after taking a lock and at a
 *   memory barrier. So the connection *refreshes* its copy after every lock
 *   attempt (granted or not) and at every barrier taken while it holds no
 *   exclusive lock (with one held, nobody else can publish what it reads).
 *
 * Publishing diffs the local copy against a shadow (what was last
 * synchronised with the file), 32-bit word by word, and writes only the
 * words this connection changed on top of the file's current content, so
 * one connection never overwrites another's writes. Fields SQLite shares
 * are word-sized, so word granularity is exact. Only the WRITE and RECOVER
 * slots let SQLite change the hash tables; under CKPT or a READ slot it
 * changes only the header and checkpoint info (read marks, backfill counts)
 * in the first page, so a publish after holding only those compares that
 * page alone (the torture tests verify the rest is unchanged). Under WRITE
 * it changes the header and the regions of the frames it appends or clears
 * (`walIndexAppend`, `walCleanupHash`): a publish then compares page 0 and
 * the regions between the frame the hold began at and the last frame written
 * or committed, so its cost follows the commit, not how large the WAL once
 * grew (the VFS reports WAL writes through {@link noteWalWrite}).
 *
 * To keep a refresh cheap, the `shm-mutex` lock file also holds a table of
 * generation counters: one global counter and one per 4 KiB page of the
 * `-shm` file. A publisher bumps the counters of the pages it wrote under
 * the exclusive mutex; a refresh reads the global counter (one small read)
 * and, only when it moved, re-reads the pages whose counters moved.
 *
 * Where the process may map files (see `mmap.ts`), the `-shm` regions and
 * the generation table are mapped shared and read and written in place of
 * the file I/O above: same bytes, same mutex, same rules, so mapping and
 * non-mapping processes share a database safely.
 *
 * Locks: each of SQLite's eight shm lock slots is its own lock file (flock is
 * whole-file), plus a dead-man switch (`shm-dms`): the first connection to
 * get it exclusive knows nobody uses the wal-index and truncates it (SQLite
 * then rebuilds it from the WAL), then every user holds it shared.
 *
 * The mutex is held for microseconds, but a process stopped while holding it
 * keeps it. So a connection waits for it {@link MUTEX_WAIT_MS} at most to map
 * or refresh the wal-index, and answers busy otherwise (nothing was read or
 * written; SQLite retries, then reports the database locked). A read mark or
 * a checkpoint's progress it cannot publish keeps its slot, and the publish
 * is retried at the next call or from a timer; letting go of a slot with
 * nothing to publish skips the pull. Publishing a commit, and poisoning the
 * wal-index, wait without a limit: giving up there could lose the commit.
 *
 * @module
 */

import type { IoBackend, IoFile } from "./io.ts";
import type { SharedMapping } from "./mmap.ts";
import { sleepSync } from "./sleep.ts";

/** Bytes per wal-index region (SQLite always asks for 32 KiB). */
export const REGION_BYTES = 32768;
const PAGE_BYTES = 4096;
const PAGE_WORDS = PAGE_BYTES / 4;
const PAGES_PER_REGION = REGION_BYTES / PAGE_BYTES;
/** Word of the generation table saying "the wal-index must be rebuilt from the WAL". */
const POISON = 1;
/** First page-generation word of the table. */
const GEN_BASE = 2;
/** Bytes of the two copies of the WAL-index header at the start of region 0. */
const WAL_HDR_BYTES = 96;
/** Words of region 0 that SQLite's readers start from: both header copies and the checkpoint info (136 bytes). */
const HEADER_WORDS = 34;
/** Bytes of the generation table that are mapped (2,046 regions; beyond that, file I/O). */
const GEN_MAP_BYTES = 8 * PAGE_BYTES;

/**
 * How long a connection waits for the wal-index mutex before it answers busy
 * (ms). The mutex is held for microseconds; a holder that keeps it this long
 * was preempted for that long, or is stopped (`SIGSTOP`, Ctrl-Z), and a
 * blocking wait would then stop every process of the database with it. After
 * a wait that ran out, a connection tries once, without waiting, until it gets
 * the mutex again: SQLite's busy handler paces the retries, and the busy
 * timeout ends them (`database_locked`).
 */
export const MUTEX_WAIT_MS = 100;
/** Immediate retries of a held mutex before sleeping between them (its holds take ~12 µs). */
const MUTEX_SPINS = 16;
/** How often a publish that an unlock could not do is retried while the connection makes no call (ms). */
const SETTLE_RETRY_MS = 50;

/** The wal-index mutex could not be had within {@link MUTEX_WAIT_MS}: the step that needed it did not happen. */
export class MutexBusy extends Error {}

/** `xShmLock` flag bits (not exported by sqlite-wasm's capi). */
export const SHM_UNLOCK = 1, SHM_LOCK = 2, SHM_SHARED = 4, SHM_EXCLUSIVE = 8;
/** WAL frame counts, as this connection last saw them. */
export interface WalFrames {
  /** Frames in the WAL (mxFrame). */
  frames: number;
  /** Frames already copied into the database (nBackfill). */
  backfilled: number;
  /** A checkpoint is under way (or was interrupted). */
  checkpointing: boolean;
  /**
   * Frames this connection appended lately, and frames other connections
   * appended between its writes (both halved whenever their sum passes
   * {@link WRITE_SHARE_WINDOW}): who writes this WAL, as this connection saw it.
   */
  ownFrames: number;
  /** See `ownFrames`. */
  otherFrames: number;
}

/** Frames of recent writing that `WalFrames.ownFrames` and `otherFrames` describe (older ones fade by halves). */
export const WRITE_SHARE_WINDOW = 8192;

/** Bytes of a WAL file's header (frames start after it). */
export const WAL_HEADER = 32;
/** Bytes of a WAL frame's header; SQLite writes it, then the page right after it. */
export const WAL_FRAME_HEADER = 24;
/** `WalIndexHdr.iVersion` of the wal-index layout this file's region arithmetic is for (`WALINDEX_MAX_VERSION`). */
const WALINDEX_VERSION = 3007000;
/** Frames each wal-index region lists (region 0 fewer: the header takes `HEADER_WORDS` of its page numbers). */
const FRAMES_PER_REGION = 4096;

/** The wal-index region listing WAL frame `frame` (`walFramePage` in `wal.c`; frame 0, an empty WAL, is region 0's). */
function regionOfFrame(frame: number): number {
  return Math.floor((Math.max(frame, 1) + HEADER_WORDS - 1) / FRAMES_PER_REGION);
}

/** The slot SQLite only locks to recover the wal-index from the WAL. */
const WAL_RECOVER_SLOT = 2;
/** The slot a writer holds while it appends frames (and their hash-table entries) or restarts the WAL. */
const WAL_WRITE_SLOT = 0;

/** Counters that show which paths ran; the torture tests read them. */
export interface ShmStats {
  /** Dead-man-switch resets: this process found nobody using the wal-index. */
  dmsResets: number;
  /** WAL recoveries (exclusive locks taken on the RECOVER slot). */
  walRecoveries: number;
  /** Publishes that wrote changed words. */
  publishes: number;
  /** Wal-index pages compared by publishes (what a publish costs grows with it). */
  pagesCompared: number;
  /** Refreshes that had to re-read pages. */
  refreshReads: number;
  /** Broken assumptions about how wal.c uses shared memory (must stay 0). */
  assumptionViolations: number;
  /** Wal-indexes marked for a rebuild because a publish kept failing. */
  poisoned: number;
  /** Wal-index regions this process mapped shared. */
  mappedRegions: number;
  /** Wal-index regions this process kept in sync through file I/O. */
  fileRegions: number;
  /** Connections that stopped using their mappings because touching them was no longer safe (file I/O took over). */
  mappingsDropped: number;
  /** Times the wal-index mutex was found held and waited for (spun or slept). */
  mutexWaits: number;
  /** Waits for the wal-index mutex that ran out ({@link MUTEX_WAIT_MS}): the step answered busy or was retried later. */
  mutexTimeouts: number;
}

/** Process-wide counters. */
export const shmStats: ShmStats = {
  dmsResets: 0,
  walRecoveries: 0,
  publishes: 0,
  pagesCompared: 0,
  refreshReads: 0,
  assumptionViolations: 0,
  poisoned: 0,
  mappedRegions: 0,
  fileRegions: 0,
  mappingsDropped: 0,
  mutexWaits: 0,
  mutexTimeouts: 0,
};

/** When true, every refresh without an exclusive lock verifies local == shadow. */
export const shmChecks = { verify: false };

/** The WASM memory accessors the shm emulation needs. */
export interface WasmMemory {
  /** Current heap as bytes (call afresh: growth detaches old views). */
  heap8u(): Uint8Array;
  /** Allocates n bytes (8-aligned), returns the pointer. */
  alloc(n: number): number;
  /** Frees a pointer from alloc. */
  dealloc(p: number): void;
}

interface Region {
  ptr: number;
  /** The region's words in the WASM heap (remade when the heap grows). */
  words?: Uint32Array;
  shadow: Uint32Array;
  /** The region's words in a shared mapping of the `-shm` file, when mapped. */
  shared: Uint32Array | null;
  mapping: SharedMapping | null;
}

/** The connection of this process holding a database's WRITE slot, by the path of its WAL file. */
const walWriters = new Map<string, ShmConnection>();
/** WAL files written while no connection of this process held WRITE: their next publish under WRITE compares all. */
const unattributedWal = new Set<string>();

/** The last WRITE hold that ended in this process, per WAL file: where the WAL ended when it began and when it ended. */
const lastWriteHolds = new Map<string, { from: number; to: number }>();

/**
 * Where the WAL ended when the last WRITE hold of this process on it began,
 * and when it ended. Right after a commit (a transaction's WRITE hold ends
 * with it, and JavaScript runs nothing in between) it is that commit's: the
 * frames it appended are `from` to `to` (`from` is 0 when it started the WAL
 * over: it wrote the WAL's header).
 * @param walPath the WAL file's path (`<database>-wal`, as the VFS resolved it)
 * @returns the span, or undefined when no hold of this process has ended on it
 */
export function lastWriteHold(walPath: string): { from: number; to: number } | undefined {
  return lastWriteHolds.get(walPath);
}

/**
 * Tells the connection that holds a database's WRITE slot in this process
 * that SQLite wrote `length` bytes at `offset` of its WAL file (only the
 * WRITE slot's holder writes the WAL). Its next publish compares the
 * wal-index regions of those frames. A write nobody holds WRITE for is
 * counted as a broken assumption, and the next publish under WRITE on that
 * WAL compares every page.
 * @param walPath the WAL file's path (`<database>-wal`)
 * @param offset byte offset of the write
 * @param length bytes written
 */
export function noteWalWrite(walPath: string, offset: number, length: number): void {
  const holder = walWriters.get(walPath);
  if (holder) return holder.noteWalWrite(offset, length);
  // wal.c writes the WAL only under WRITE: a write nobody holds WRITE for breaks what the narrow publish relies on.
  unattributedWal.add(walPath);
  shmStats.assumptionViolations++;
}

/** Paths of the helper files of one database. */
export function shmPaths(dbPath: string): { shm: string; lockDir: string } {
  return { shm: `${dbPath}-shm`, lockDir: `${dbPath}-lock` };
}

/** One connection's view of a database's wal-index. */
export class ShmConnection {
  #io: IoBackend;
  #mem: WasmMemory;
  #shm: IoFile;
  #mutex: IoFile;
  #dms: IoFile;
  #slots: IoFile[] = [];
  /** 0 none, 1 shared, 2 exclusive, per slot. */
  #held = new Uint8Array(8);
  #exclCount = 0;
  #regions: Region[] = [];
  /** seen[0]: global generation; seen[GEN_BASE + p]: page p's generation, as last synchronised. */
  #seen: number[] = [0, 0];
  /** Exclusive slots SQLite has released whose changes could not be published yet. */
  #deferred = new Set<number>();
  #genBuf = new Uint8Array(4);
  #dirty = false;
  #dmsHeld = false;
  /** A page's worth of words for merging with the file during a publish. */
  #tmp = new Uint32Array(PAGE_WORDS);
  #shmPath: string;
  #mutexPath: string;
  #gens: Uint32Array | null = null;
  #gensMapping: SharedMapping | null = null;
  /** Set once touching a mapping was found unsafe: this connection uses file I/O from then on. */
  #noMapping = false;
  #walPath: string;
  /** While WRITE is held: the WAL's last frame (mxFrame) when it was taken, and the byte range SQLite wrote since. */
  #writeHold: { fromFrame: number; lo: number; hi: number } | null = null;
  /** The WAL's last frame when this connection last let go of WRITE (-1: never held it). */
  #lastHoldEnd = -1;
  /** Recent frames appended by this connection and by others between its holds (see {@link WalFrames}). */
  #own = 0;
  #others = 0;

  #beforePublish: () => void;
  /**
   * Opens the helper files. Throws when they cannot be opened.
   * @param io file backend
   * @param mem WASM memory access
   * @param dbPath absolute database path
   * @param beforePublish called before this connection's changes are made
   *   visible to others (the VFS writes the WAL bytes it gathered)
   */
  constructor(io: IoBackend, mem: WasmMemory, dbPath: string, beforePublish: () => void = () => {}) {
    this.#beforePublish = beforePublish;
    this.#io = io;
    this.#mem = mem;
    const { shm, lockDir } = shmPaths(dbPath);
    this.#shmPath = shm;
    this.#walPath = `${dbPath}-wal`;
    this.#mutexPath = `${lockDir}/shm-mutex`;
    const rw = { write: true, create: true };
    const opened: IoFile[] = [];
    try {
      this.#shm = io.open(shm, rw);
      opened.push(this.#shm);
      this.#mutex = io.open(this.#mutexPath, rw);
      opened.push(this.#mutex);
      this.#dms = io.open(`${lockDir}/shm-dms`, rw);
      opened.push(this.#dms);
      for (let i = 0; i < 8; i++) {
        const f = io.open(`${lockDir}/shm-${i}`, rw);
        opened.push(f);
        this.#slots.push(f);
      }
    } catch (e) {
      for (const f of opened) f.close();
      throw e;
    }
  }

  /**
   * Takes the dead-man switch (shared) once; resets the wal-index first when
   * this connection is its only user. Returns false when busy.
   */
  #ensureDms(): boolean {
    if (this.#dmsHeld) return true;
    if (this.#dms.tryLock(true)) {
      this.#shm.truncate(0);
      this.#mutex.truncate(0);
      shmStats.dmsResets++;
      this.#dms.unlock();
    }
    if (!this.#dms.tryLock(false)) return false;
    this.#dmsHeld = true;
    return true;
  }

  /**
   * xShmMap. Returns the region pointer, 0 when it does not exist and
   * `extend` is false, or -1 when busy.
   */
  map(iRegion: number, size: number, extend: boolean): number {
    if (size !== REGION_BYTES) throw new Error(`unexpected wal-index region size ${size}`);
    if (!this.#ensureDms()) return -1;
    const have = this.#regions[iRegion];
    if (have) return have.ptr;
    const need = (iRegion + 1) * REGION_BYTES;
    if (!this.#lockMutex(true)) return -1;
    try {
      const fileSize = this.#shm.size();
      if (fileSize < need) {
        if (!extend) return 0;
        // Write real zeros (not a sparse ftruncate) so that running out of
        // disk shows up here, before a transaction, and not later when a
        // publish writes into a hole.
        const zeros = new Uint8Array(PAGE_BYTES);
        for (let off = fileSize - (fileSize % PAGE_BYTES); off < need; off += PAGE_BYTES) {
          if (off >= fileSize) this.#shm.write(zeros, off);
        }
      }
      if (this.#io.mapShared && !this.#noMapping) this.#mapGens();
      // Map every region up to iRegion so page numbering stays dense.
      const first = this.#regions.length;
      for (let r = first; r <= iRegion; r++) {
        const ptr = this.#mem.alloc(REGION_BYTES);
        const mapping = this.#noMapping
          ? null
          : this.#io.mapShared?.(this.#shmPath, r * REGION_BYTES, REGION_BYTES) ?? null;
        const shared = mapping
          ? new Uint32Array(mapping.bytes.buffer, mapping.bytes.byteOffset, REGION_BYTES / 4)
          : null;
        const heap = this.#mem.heap8u();
        const bytes = heap.subarray(ptr, ptr + REGION_BYTES);
        if (mapping) bytes.set(mapping.bytes);
        else {
          const n = this.#shm.read(bytes, r * REGION_BYTES);
          if (n < REGION_BYTES) bytes.fill(0, n);
        }
        const shadow = new Uint32Array(REGION_BYTES / 4);
        new Uint8Array(shadow.buffer).set(bytes);
        this.#regions[r] = { ptr, shadow, shared, mapping };
        if (mapping) shmStats.mappedRegions++;
        else shmStats.fileRegions++;
      }
      // Record the generations the new regions now reflect.
      const gens = this.#readGens();
      for (let p = first * PAGES_PER_REGION; p < this.#regions.length * PAGES_PER_REGION; p++) {
        this.#seen[p + GEN_BASE] = gens[p + GEN_BASE];
      }
      if (first === 0 && gens[POISON]) this.#forgetHeader(this.#mem.heap8u());
    } finally {
      this.#mutex.unlock();
    }
    return this.#regions[iRegion].ptr;
  }

  /**
   * Maps the start of the generation table, extending the mutex file with
   * zeros first (a zero generation reads the same as a missing one). Called
   * under the exclusive mutex.
   */
  #mapGens(): void {
    if (this.#gensMapping) return;
    const size = this.#mutex.size();
    if (size < GEN_MAP_BYTES) this.#mutex.write(new Uint8Array(GEN_MAP_BYTES - size), size);
    const mapping = this.#io.mapShared!(this.#mutexPath, 0, GEN_MAP_BYTES);
    if (!mapping) return;
    this.#gensMapping = mapping;
    this.#gens = new Uint32Array(mapping.bytes.buffer, mapping.bytes.byteOffset, GEN_MAP_BYTES / 4);
  }

  /** Reads the generation table (global + one per mapped page). */
  #readGens(): Uint32Array {
    const words = GEN_BASE + this.#regions.length * PAGES_PER_REGION;
    if (this.#gens && words <= this.#gens.length) return this.#gens.slice(0, words);
    const buf = new Uint8Array(words * 4);
    const n = this.#mutex.read(buf, 0);
    if (n < buf.length) buf.fill(0, n);
    return new Uint32Array(buf.buffer);
  }

  /** Writes the first `words` words of the generation table (under the exclusive mutex). */
  #writeGens(gens: Uint32Array, words: number): void {
    if (this.#gens && words <= this.#gens.length) this.#gens.set(gens.subarray(0, words));
    else this.#mutex.write(new Uint8Array(gens.buffer, 0, words * 4), 0);
  }

  #readGlobal(): number {
    if (this.#gens) return this.#gens[0];
    const n = this.#mutex.read(this.#genBuf, 0);
    if (n < 4) return 0;
    const b = this.#genBuf;
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  /** Whether page p of the local copy differs from its shadow (no views made: this runs at every publish). */
  #pageChanged(heap: Uint8Array, p: number): boolean {
    const region = this.#regions[(p / PAGES_PER_REGION) | 0];
    const base = (p % PAGES_PER_REGION) * PAGE_WORDS;
    const local = this.#words(heap, region);
    const shadow = region.shadow;
    for (let i = base, end = base + PAGE_WORDS; i < end; i++) if (local[i] !== shadow[i]) return true;
    return false;
  }

  /** A region's words in the heap, made once per heap (growing the heap detaches the old view). */
  #words(heap: Uint8Array, region: Region): Uint32Array {
    if (region.words?.buffer !== heap.buffer) region.words = new Uint32Array(heap.buffer, region.ptr, REGION_BYTES / 4);
    return region.words!;
  }

  /** Words of page p in the heap. */
  #pageView(heap: Uint8Array, p: number): Uint32Array {
    const region = this.#regions[(p / PAGES_PER_REGION) | 0];
    const off = region.ptr + (p % PAGES_PER_REGION) * PAGE_BYTES;
    return new Uint32Array(heap.buffer, off, PAGE_WORDS);
  }

  #shadowView(p: number): Uint32Array {
    const region = this.#regions[(p / PAGES_PER_REGION) | 0];
    const w = (p % PAGES_PER_REGION) * PAGE_WORDS;
    return region.shadow.subarray(w, w + PAGE_WORDS);
  }

  #readPageFromFile(p: number, into: Uint32Array): void {
    const shared = this.#regions[(p / PAGES_PER_REGION) | 0].shared;
    if (shared) {
      const w = (p % PAGES_PER_REGION) * PAGE_WORDS;
      into.set(shared.subarray(w, w + PAGE_WORDS));
      return;
    }
    const bytes = new Uint8Array(into.buffer, into.byteOffset, PAGE_BYTES);
    const n = this.#shm.read(bytes, p * PAGE_BYTES);
    if (n < PAGE_BYTES) bytes.fill(0, n);
  }

  /** Pull other connections' changes (no local changes may exist). */
  #refresh(): void {
    if (this.#regions.length === 0) return;
    const g = this.#readGlobal();
    if (g === this.#seen[0]) {
      if (shmChecks.verify) this.#verifyClean();
      return;
    }
    if (!this.#lockMutex(false)) throw new MutexBusy("the wal-index mutex is held by another process");
    try {
      const gens = this.#readGens();
      const heap = this.#mem.heap8u();
      const pages = this.#regions.length * PAGES_PER_REGION;
      for (let p = 0; p < pages; p++) {
        if (gens[p + GEN_BASE] !== this.#seen[p + GEN_BASE]) {
          const local = this.#pageView(heap, p);
          if (shmChecks.verify) this.#verifyPage(local, this.#shadowView(p));
          this.#readPageFromFile(p, local);
          this.#shadowView(p).set(local);
          this.#seen[p + GEN_BASE] = gens[p + GEN_BASE];
          shmStats.refreshReads++;
        }
      }
      if (gens[POISON]) this.#forgetHeader(heap);
      this.#seen[0] = gens[0];
    } finally {
      this.#mutex.unlock();
    }
  }

  /** Per mode (0 shared, 1 exclusive): a wait ran out, and the mutex has not been had so since. Try once, without waiting. */
  #mutexStuck = [false, false];

  /**
   * Takes the wal-index mutex, waiting {@link MUTEX_WAIT_MS} at most (not at
   * all after a wait that ran out, until it is had again).
   * @returns whether it is held now
   */
  #lockMutex(exclusive: boolean): boolean {
    const mode = exclusive ? 1 : 0;
    if (this.#mutex.tryLock(exclusive)) {
      this.#hadMutex(exclusive);
      return true;
    }
    if (this.#mutexStuck[mode]) return false;
    shmStats.mutexWaits++;
    const until = performance.now() + MUTEX_WAIT_MS;
    for (let n = 0;; n++) {
      // Spin first (a hold takes microseconds), then sleep a little longer each time, up to 1 ms.
      // (A requested 20 µs sleeps ~0.1 ms here: futex timeouts are that coarse.)
      if (n >= MUTEX_SPINS) sleepSync(Math.min(1, 0.02 * (n - MUTEX_SPINS + 1)));
      if (this.#mutex.tryLock(exclusive)) return true;
      if (performance.now() >= until) break;
    }
    this.#mutexStuck[mode] = true;
    shmStats.mutexTimeouts++;
    return false;
  }

  /** The mutex was had in this mode (exclusive: shared too): waits for it in that mode are worth making again. */
  #hadMutex(exclusive: boolean): void {
    this.#mutexStuck[0] = false;
    if (exclusive) this.#mutexStuck[1] = false;
  }

  /** Whether this connection changed the wal-index header (both copies, {@link WAL_HDR_BYTES}) since it last synchronised it. */
  #headerChanged(heap: Uint8Array): boolean {
    const local = this.#pageView(heap, 0), shadow = this.#shadowView(0);
    for (let i = 0; i < WAL_HDR_BYTES / 4; i++) if (local[i] !== shadow[i]) return true;
    return false;
  }

  #verifyPage(local: Uint32Array, shadow: Uint32Array): void {
    for (let i = 0; i < PAGE_WORDS; i++) {
      if (local[i] !== shadow[i]) {
        shmStats.assumptionViolations++;
        return;
      }
    }
  }

  #verifyClean(): void {
    const heap = this.#mem.heap8u();
    for (let p = 0; p < this.#regions.length * PAGES_PER_REGION; p++) {
      this.#verifyPage(this.#pageView(heap, p), this.#shadowView(p));
    }
  }

  /** Writes words lo..hi of page p from `local` to the shared wal-index. */
  #writeWords(p: number, local: Uint32Array, lo: number, hi: number): void {
    const shared = this.#regions[(p / PAGES_PER_REGION) | 0].shared;
    if (shared) {
      shared.set(local.subarray(lo, hi + 1), (p % PAGES_PER_REGION) * PAGE_WORDS + lo);
      return;
    }
    const bytes = new Uint8Array(local.buffer, local.byteOffset + lo * 4, (hi - lo + 1) * 4);
    this.#shm.write(bytes, p * PAGE_BYTES + lo * 4);
  }

  /**
   * Push this connection's changes, and pull everyone else's. `mustPull`
   * false (letting go of slots): with nothing to push, a pull the mutex is
   * too busy for is skipped; the next lock attempt or barrier pulls.
   */
  #publish(mustPull = true): void {
    this.#beforePublish();
    if (this.#regions.length === 0) return;
    const heap = this.#mem.heap8u();
    const pages = this.#regions.length * PAGES_PER_REGION;
    const changed: number[] = [];
    const [from, to] = this.#compareRange(heap, pages);
    if (shmChecks.verify) {
      for (let p = 1; p < pages; p++) {
        if (p < from || p >= to) this.#verifyPage(this.#pageView(heap, p), this.#shadowView(p));
      }
    }
    if (this.#pageChanged(heap, 0)) changed.push(0);
    for (let p = Math.max(from, 1); p < to; p++) if (this.#pageChanged(heap, p)) changed.push(p);
    shmStats.pagesCompared += 1 + Math.max(0, to - Math.max(from, 1));
    if (changed.length === 0) {
      try {
        this.#refresh();
      } catch (e) {
        if (mustPull || !(e instanceof MutexBusy)) throw e;
      }
      return;
    }
    if (this.#held[WAL_WRITE_SLOT] === 2 || this.#held[WAL_RECOVER_SLOT] === 2) {
      // A commit (or a recovery) is made visible here, and SQLite ignores a failed unlock: giving up would report the
      // commit done while others cannot see it, and a process that ended before a retry would lose it (the next
      // writer overwrites its frames). So this waits without a time limit, as the publish of a read mark need not.
      this.#mutex.lockWait(true);
      this.#hadMutex(true);
    } else if (!this.#lockMutex(true)) throw new MutexBusy("the wal-index mutex is held by another process");
    try {
      const gens = this.#readGens();
      // Which pages others changed since this connection last synchronised them, before their counters move.
      const remote = (p: number) => gens[p + GEN_BASE] !== this.#seen[p + GEN_BASE];
      const merge = changed.map(remote);
      for (let p = 0, ci = 0; p < pages; p++) {
        if (changed[ci] === p) {
          ci++;
        } else if (remote(p)) {
          const local = this.#pageView(heap, p);
          this.#readPageFromFile(p, local);
          this.#shadowView(p).set(local);
          this.#seen[p + GEN_BASE] = gens[p + GEN_BASE];
          shmStats.refreshReads++;
        }
      }
      // Announce before writing: the counters of the pages about to change move first. A process killed
      // half-way through the writes below then leaves pages that everyone re-reads (and SQLite's own
      // crash clean-up sees, as with real shared memory), never words nobody knows were written.
      for (const p of changed) {
        gens[p + GEN_BASE] = (gens[p + GEN_BASE] + 1) >>> 0;
        this.#seen[p + GEN_BASE] = gens[p + GEN_BASE];
      }
      // A connection that rebuilt the header (recovery holds WRITE) lifts a poison mark; a recovery cut short (a region
      // it could not map) may have changed page 0 below the header only, which rebuilds nothing.
      if (gens[POISON] && changed[0] === 0 && this.#held[0] === 2 && this.#headerChanged(heap)) gens[POISON] = 0;
      else if (gens[POISON]) this.#forgetHeader(heap);
      gens[0] = (gens[0] + 1) >>> 0;
      this.#seen[0] = gens[0];
      this.#writeGens(gens, gens.length);
      // Then the words, in the order wal.c writes shared memory: page numbers and hash slots first, the
      // header (which makes a commit visible) last. Killed before the header, the commit stays invisible
      // as a whole; its leftover entries lie beyond mxFrame, where SQLite ignores and later clears them.
      const tmp = this.#tmp;
      let header: [number, number] | null = null;
      changed.forEach((p, i) => {
        const local = this.#pageView(heap, p);
        const shadow = this.#shadowView(p);
        let lo = PAGE_WORDS, hi = -1;
        if (merge[i]) {
          this.#readPageFromFile(p, tmp);
          for (let w = 0; w < PAGE_WORDS; w++) {
            if (local[w] !== shadow[w]) {
              if (tmp[w] !== shadow[w]) shmStats.assumptionViolations++;
              tmp[w] = local[w];
              if (w < lo) lo = w;
              hi = w;
            }
          }
          local.set(tmp);
        } else {
          for (let w = 0; w < PAGE_WORDS; w++) {
            if (local[w] !== shadow[w]) {
              if (w < lo) lo = w;
              hi = w;
            }
          }
        }
        if (p === 0 && lo < HEADER_WORDS) {
          header = [lo, Math.min(hi, HEADER_WORDS - 1)];
          lo = HEADER_WORDS;
          while (lo <= hi && local[lo] === shadow[lo]) lo++;
        }
        if (lo <= hi) this.#writeWords(p, local, lo, hi);
        if (p !== 0) shadow.set(local);
      });
      if (changed[0] === 0) {
        if (header) this.#writeWords(0, this.#pageView(heap, 0), header[0], header[1]);
        this.#shadowView(0).set(this.#pageView(heap, 0));
      }
      shmStats.publishes++;
    } finally {
      this.#mutex.unlock();
    }
  }

  /**
   * The pages a publish compares besides page 0: `[from, to)`. Under
   * RECOVER, every page (a recovery rebuilds the wal-index). Under WRITE, the
   * regions from the one listing the frame the hold began at (`walCleanupHash`
   * clears past it) to the one listing the last frame written or committed
   * (`walIndexAppend` zeroes a region at its first frame; a WAL restarted
   * under this hold starts again at frame 1). Under CKPT or READ slots alone,
   * none: `wal.c` changes only page 0 there.
   */
  #compareRange(heap: Uint8Array, pages: number): [number, number] {
    if (this.#held[WAL_RECOVER_SLOT] === 2) return [0, pages];
    if (this.#held[WAL_WRITE_SLOT] !== 2) return [1, 1];
    // Being granted (the refresh after the lock): nothing has changed under WRITE yet.
    if (!this.#writeHold) return [1, 1];
    if (unattributedWal.delete(this.#walPath)) return [0, pages];
    const header = this.#words(heap, this.#regions[0]);
    // WalIndexHdr.iVersion: the layout the region arithmetic below is for (a wal2 build, say, is not).
    if (header[0] !== WALINDEX_VERSION) return [0, pages];
    const { fromFrame, lo, hi } = this.#writeHold;
    const mxFrame = header[4];
    let first = Math.min(fromFrame, mxFrame), last = Math.max(fromFrame, mxFrame);
    if (hi >= 0) {
      // WalIndexHdr.szPage (bytes 14-15; 1 stands for 65536). Not known yet: compare everything.
      const sz = header[3] >>> 16;
      if (sz === 0) return [0, pages];
      const frameAt = (off: number) =>
        Math.floor((off - WAL_HEADER) / ((sz === 1 ? 65536 : sz) + WAL_FRAME_HEADER)) + 1;
      first = Math.min(first, lo < WAL_HEADER ? 1 : frameAt(lo));
      last = Math.max(last, frameAt(Math.max(hi - 1, WAL_HEADER)));
    }
    return [
      regionOfFrame(first) * PAGES_PER_REGION,
      Math.min(pages, (regionOfFrame(last) + 1) * PAGES_PER_REGION),
    ];
  }

  /** SQLite wrote `length` bytes at `offset` of the WAL while this connection holds WRITE (see {@link noteWalWrite}). */
  noteWalWrite(offset: number, length: number): void {
    const h = this.#writeHold;
    if (!h) return; // registered only while a hold is open
    if (offset < h.lo) h.lo = offset;
    if (offset + length > h.hi) h.hi = offset + length;
  }

  /** WRITE was granted: remember where the WAL ended, and take this process's WAL writes from now on. */
  #beginWriteHold(): void {
    const from = this.walFrames().frames;
    // What others appended since our last hold (a WAL restarted since then
    // holds only frames written after the restart; at the first hold, all
    // the frames already there are someone else's).
    this.#countWriting(0, this.#lastHoldEnd >= 0 && from >= this.#lastHoldEnd ? from - this.#lastHoldEnd : from);
    this.#writeHold = { fromFrame: from, lo: Infinity, hi: -1 };
    walWriters.set(this.#walPath, this);
  }

  /** WRITE was released. */
  #endWriteHold(): void {
    const h = this.#writeHold;
    if (h) {
      const end = this.walFrames().frames;
      // Restarting the WAL is done by the first frame a writer appends.
      this.#countWriting(end >= h.fromFrame ? end - h.fromFrame : end, 0);
      this.#lastHoldEnd = end;
      // A hold that wrote the WAL's header started the WAL over: its frames run from 0, however many there were.
      lastWriteHolds.set(this.#walPath, { from: h.lo < WAL_HEADER ? 0 : h.fromFrame, to: end });
    }
    this.#writeHold = null;
    if (walWriters.get(this.#walPath) === this) walWriters.delete(this.#walPath);
  }

  #countWriting(own: number, others: number): void {
    this.#own += own;
    this.#others += others;
    if (this.#own + this.#others > WRITE_SHARE_WINDOW) {
      this.#own /= 2;
      this.#others /= 2;
    }
  }

  /**
   * Zeroes this connection's copy of the WAL-index header, so that SQLite
   * finds it invalid and rebuilds the wal-index from the WAL (recovery).
   */
  #forgetHeader(heap: Uint8Array): void {
    if (this.#regions.length === 0) return;
    const ptr = this.#regions[0].ptr;
    heap.fill(0, ptr, ptr + WAL_HDR_BYTES);
    new Uint8Array(this.#regions[0].shadow.buffer, 0, WAL_HDR_BYTES).fill(0);
  }

  /**
   * Marks the shared wal-index as needing a rebuild from the WAL: the last
   * resort of a connection that must let go of a lock without having been
   * able to publish what it changed under it.
   */
  #poison(): void {
    // Without a time limit: a connection that lets go of its locks without this would let others build on a
    // wal-index missing its commit, and overwrite the commit's frames.
    this.#mutex.lockWait(true);
    this.#hadMutex(true);
    try {
      const gens = this.#readGens();
      gens[POISON] = 1;
      gens[0] = (gens[0] + 1) >>> 0;
      this.#writeGens(gens, GEN_BASE);
      shmStats.poisoned++;
    } finally {
      this.#mutex.unlock();
    }
  }

  /**
   * Retries the publish that an earlier unlock could not do, then releases
   * the slots it kept. Throws while the publish keeps failing.
   */
  #settle(): void {
    if (this.#deferred.size === 0) return;
    this.#publish(false);
    for (const i of this.#deferred) {
      this.#slots[i].unlock(); // when this throws, this slot and the ones after it stay put off, and counted once
      this.#held[i] = 0;
      this.#exclCount--;
      if (i === WAL_WRITE_SLOT) this.#endWriteHold();
      this.#deferred.delete(i);
    }
    this.#dirty = this.#exclCount > 0;
  }

  /**
   * Retries a deferred publish from a timer until it is done: a connection
   * that makes no call for a while (an idle server) would otherwise keep the
   * slots it could not let go of, and a checkpoint or a reader would wait for
   * them. Safe between SQLite's calls: SQLite believes those slots released.
   */
  #settleLater(): void {
    if (this.#settleTimer !== undefined) return;
    const timer = setTimeout(() => {
      this.#settleTimer = undefined;
      if (this.#deferred.size === 0) return;
      try {
        this.#settle();
      } catch {
        this.#settleLater();
      }
    }, SETTLE_RETRY_MS);
    Deno.unrefTimer(timer); // never what keeps a process alive
    this.#settleTimer = timer;
  }

  #settleTimer: ReturnType<typeof setTimeout> | undefined;

  #sync(): void {
    if (this.#dirty) {
      this.#publish();
      this.#dirty = this.#exclCount > 0;
    } else {
      this.#refresh();
    }
  }

  /**
   * Stops using the shared mappings when touching them is no longer safe
   * (the `-shm` or mutex file was truncated, made immutable, or its file
   * system went read-only: the next touch of a page would be SIGBUS and kill
   * the process, losing the request in flight). File I/O takes over, whose
   * failures are coded errors. Checked when a lock is taken, before the
   * mappings are read or written: that they may still be written only where
   * this connection will write them (`write`).
   */
  #guardMappings(write: boolean): void {
    if (this.#noMapping) return;
    const last = this.#regions.findLast((r) => r.mapping);
    if ((this.#gensMapping?.intact(write) ?? true) && (last?.mapping?.intact(write) ?? true)) return;
    this.#noMapping = true;
    shmStats.mappingsDropped++;
    for (const r of this.#regions) {
      r.shared = null;
      r.mapping?.unmap();
      r.mapping = null;
    }
    this.#gens = null;
    this.#gensMapping?.unmap();
    this.#gensMapping = null;
  }

  /** xShmLock. Returns true when granted (or released), false for BUSY. */
  lock(ofst: number, n: number, flags: number): boolean {
    const excl = (flags & SHM_EXCLUSIVE) !== 0;
    // Only a connection that holds or takes an exclusive slot (or has a publish to retry) writes to the mappings:
    // one taking a shared slot reads them, and needs only that the files still cover them.
    if (!(flags & SHM_UNLOCK)) this.#guardMappings(excl || this.#exclCount > 0 || this.#deferred.size > 0);
    // A publish left over from a failed unlock comes first (throws while it fails).
    try {
      this.#settle();
    } catch (e) {
      // A lock is refused: busy when the mutex is held elsewhere (SQLite retries), the error otherwise. An unlock goes
      // on whatever failed: the slots it lets go are released, or deferred with their changes below, never kept
      // unaccounted.
      if (!(flags & SHM_UNLOCK)) {
        if (e instanceof MutexBusy) return false;
        throw e;
      }
    }
    if (flags & SHM_UNLOCK) {
      let hadExcl = false;
      for (let i = ofst; i < ofst + n; i++) if (this.#held[i] === 2) hadExcl = true;
      if (hadExcl) {
        try {
          this.#publish(false);
        } catch (e) {
          // SQLite ignores unlock errors and believes the slot released. Keep
          // holding it (nobody may build on changes we could not publish) and
          // retry at the next call, or soon if none comes; shared slots can go.
          for (let i = ofst; i < ofst + n; i++) {
            if (this.#held[i] === 2) this.#deferred.add(i);
            else if (this.#held[i] === 1) {
              this.#slots[i].unlock();
              this.#held[i] = 0;
            }
          }
          this.#settleLater();
          throw e;
        }
      }
      // Every slot of the range is let go even if one unlock fails (the first failure is then reported).
      let failed: unknown;
      for (let i = ofst; i < ofst + n; i++) {
        if (this.#held[i] !== 0) {
          if (this.#held[i] === 2) this.#exclCount--;
          if (i === WAL_WRITE_SLOT && this.#held[i] === 2) this.#endWriteHold();
          this.#held[i] = 0;
          try {
            this.#slots[i].unlock();
          } catch (e) {
            failed ??= e;
          }
        }
      }
      this.#dirty = this.#exclCount > 0;
      if (failed !== undefined) throw failed;
      return true;
    }
    let got = ofst;
    try {
      for (let i = ofst; i < ofst + n; i++) {
        if (this.#held[i] !== 0) {
          // wal.c never re-locks a slot it holds; converting a flock in place
          // could silently drop it, so refuse and count it.
          shmStats.assumptionViolations++;
          this.#releaseRange(ofst, got);
          return false;
        }
        if (!this.#slots[i].tryLock(excl)) {
          this.#releaseRange(ofst, got);
          this.#sync();
          return false;
        }
        this.#held[i] = excl ? 2 : 1;
        got = i + 1;
      }
      this.#sync();
    } catch (e) {
      // Never leave a slot held that SQLite believes it failed to get.
      this.#releaseRange(ofst, got);
      if (e instanceof MutexBusy) return false; // nothing was read or written: SQLite retries
      throw e;
    }
    if (excl) {
      if (ofst <= WAL_RECOVER_SLOT && WAL_RECOVER_SLOT < ofst + n) shmStats.walRecoveries++;
      if (ofst <= WAL_WRITE_SLOT && WAL_WRITE_SLOT < ofst + n) this.#beginWriteHold();
      this.#exclCount += n;
      this.#dirty = true;
    }
    return true;
  }

  #releaseRange(from: number, to: number): void {
    for (let j = from; j < to; j++) {
      if (this.#held[j] === 0) continue;
      this.#held[j] = 0;
      try {
        this.#slots[j].unlock();
      } catch { /* closing the handle releases it at the latest */ }
    }
  }

  /**
   * Frames in the WAL, and how many of them are copied into the database,
   * as this connection's copy of the wal-index last saw them (zeros before
   * the wal-index is mapped).
   */
  walFrames(): WalFrames {
    const r = this.#regions[0];
    if (!r) return { frames: 0, backfilled: 0, checkpointing: false, ownFrames: this.#own, otherFrames: this.#others };
    const words = this.#words(this.#mem.heap8u(), r);
    // WalIndexHdr.mxFrame is byte 16; WalCkptInfo.nBackfill follows the two
    // 48-byte header copies (byte 96), nBackfillAttempted is byte 128: a
    // checkpoint sets it when it starts, and nBackfill to it when done.
    return {
      frames: words[4],
      backfilled: Math.min(words[24], words[4]),
      checkpointing: words[32] > words[24],
      ownFrames: this.#own,
      otherFrames: this.#others,
    };
  }

  /** xShmBarrier. */
  barrier(): void {
    this.#settle();
    if (!this.#dirty) this.#refresh();
  }

  /** xShmUnmap: frees the regions and closes the helper files (never deletes them). */
  unmap(): void {
    if (this.#settleTimer !== undefined) clearTimeout(this.#settleTimer);
    this.#settleTimer = undefined;
    if (this.#deferred.size > 0) {
      try {
        this.#settle();
      } catch {
        // Closing releases the locks: make everyone rebuild the wal-index
        // from the WAL rather than build on a header missing our commit. A
        // read mark or a checkpoint's progress left unpublished needs nothing:
        // as if the process had died before storing it (no reader used the
        // mark, since no lock was granted meanwhile; copied frames are copied
        // again), and waiting for the mutex here could wait for ever.
        if (this.#deferred.has(WAL_WRITE_SLOT) || this.#deferred.has(WAL_RECOVER_SLOT)) {
          try {
            this.#poison();
          } catch { /* nothing more can be done; the error was reported at unlock */ }
        }
      }
    }
    for (const r of this.#regions) {
      this.#mem.dealloc(r.ptr);
      r.shared = null;
      r.mapping?.unmap();
    }
    this.#endWriteHold();
    lastWriteHolds.delete(this.#walPath); // read right after a commit only: one entry per database in use, not per one opened
    this.#regions = [];
    this.#gens = null;
    this.#gensMapping?.unmap();
    this.#gensMapping = null;
    for (const f of this.#slots) f.close();
    this.#slots = [];
    this.#shm.close();
    this.#mutex.close();
    this.#dms.close();
  }
}
