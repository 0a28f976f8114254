/**
 * The writer queue's lock where the C library is at hand (Linux, FFI
 * permission): a process-shared, robust pthread mutex in a mapped file
 * (`DB-lock/writer-mutex`), locked with a timeout.
 *
 * Why not only `flock`: a blocking `flock` cannot time out, so a writer
 * stopped inside its transaction would freeze every waiter, and the
 * portable queue therefore waits through a helper thread, which costs a
 * second wake-up on every hand-over (8 processes writing without pause:
 * ~370 claims/s through the thread against ~600 when the waiting thread is
 * woken directly). The mutex wakes the waiting thread itself, gives up at
 * the deadline (`pthread_mutex_clocklock` on the monotonic clock), and,
 * being robust, hands the lock on when its holder dies (`EOWNERDEAD`).
 *
 * The mutex's memory outlives processes (it is a file), so a stale one (a
 * machine that stopped while it was held) is made afresh by the first
 * process to open it while nobody else uses it: every user holds
 * `DB-lock/writer-mutex-users` shared, and the first to get it exclusive
 * initialises the mutex (the dead-man switch of the wal-index, `shm.ts`,
 * works the same way). An opener waits at most 1 s for an initialiser to
 * let the switch go (it holds it for microseconds; a process stopped while
 * it held it would hold it for good), then that connection queues on the
 * lock files instead, for the rest of its life: writers on the two then
 * queue apart and meet only at SQLite's own write lock, which keeps them
 * apart either way (as it does writers of processes without FFI).
 *
 * @module
 */
import { C, type FileMapping, libc, mapFile } from "./libc.ts";
import { sleepSync } from "./sleep.ts";

const MAGIC = 0xba70_0001;
/** Where the mutex lives in the file (cache-line aligned; `pthread_mutex_t` is 40 bytes on x86-64, 48 on arm64). */
const MUTEX_OFFSET = 64;
const FILE_BYTES = 4096;
/**
 * How long an opener waits for an initialiser to let the users' switch go (it holds it for microseconds;
 * one stopped there would hold it for good) before the lock files serve instead (ms). Long enough that an
 * initialiser merely descheduled on a loaded machine does not send a connection to the lock files for good.
 */
const SWITCH_WAIT_MS = 1000;

/** A held, given-up or unusable lock attempt. */
export type MutexResult = "held" | "timeout" | "unavailable";

/** One thread's handle on a database's writer mutex. */
export class WriterMutex {
  readonly #map: FileMapping;
  readonly #users: Deno.FsFile;
  readonly #mutex: Deno.PointerObject;
  readonly #ts = new BigInt64Array(2);
  #held = false;

  private constructor(map: FileMapping, users: Deno.FsFile) {
    this.#map = map;
    this.#users = users;
    this.#mutex = Deno.UnsafePointer.offset(map.ptr, MUTEX_OFFSET) as Deno.PointerObject;
  }

  /**
   * Opens (and when nobody uses it, initialises) a database's writer mutex.
   * @param lockDir the database's `DB-lock/` directory (it exists)
   * @returns the handle, or null where it cannot be had (no FFI, not Linux, a full disk, an initialiser that
   *   holds its switch for over 1 s): use the portable queue
   * @throws nothing
   * @example
   * ```ts
   * import { WriterMutex } from "./writer_mutex.ts";
   * const m = WriterMutex.open(await Deno.makeTempDir());
   * if (m && m.lock(1000) === "held") m.unlock();
   * m?.close();
   * ```
   */
  static open(lockDir: string): WriterMutex | null {
    const c = libc();
    if (!c) return null;
    let users: Deno.FsFile | undefined;
    let map: FileMapping | null = null;
    try {
      void c.pthread_mutex_trylock; // binds the mutex's functions (libc.ts), or throws: then the portable queue
      users = Deno.openSync(`${lockDir}/writer-mutex-users`, { read: true, write: true, create: true });
      const alone = users.tryLockSync(true);
      map = mapFile(`${lockDir}/writer-mutex`, 0, FILE_BYTES, true);
      if (!map) throw new Error("cannot map the writer mutex");
      const words = new Uint32Array(map.bytes.buffer, 0, 1);
      if (alone) {
        // Nobody else has it open: whatever the file holds (a mutex of a machine that stopped) is made afresh.
        map.bytes.fill(0);
        const attr = new Uint8Array(16);
        const ok = c.pthread_mutexattr_init(attr) === 0 &&
          c.pthread_mutexattr_setpshared(attr, C.PTHREAD_PROCESS_SHARED) === 0 &&
          c.pthread_mutexattr_setrobust(attr, C.PTHREAD_MUTEX_ROBUST) === 0 &&
          c.pthread_mutexattr_settype(attr, C.PTHREAD_MUTEX_ERRORCHECK) === 0 &&
          c.pthread_mutex_init(Deno.UnsafePointer.offset(map.ptr, MUTEX_OFFSET), attr) === 0;
        if (!ok) throw new Error("cannot initialise the writer mutex");
        words[0] = MAGIC;
        users.unlockSync();
      }
      // Every user holds the switch shared, waiting out an initialiser that holds it exclusive, but not for
      // ever: one stopped (SIGSTOP) while it held it would freeze every opener. The lock files serve then.
      const until = performance.now() + SWITCH_WAIT_MS;
      while (!users.tryLockSync(false)) {
        if (performance.now() >= until) throw new Error("the writer mutex's initialiser holds its switch");
        sleepSync(1);
      }
      if (words[0] !== MAGIC) throw new Error("the writer mutex was never initialised");
      return new WriterMutex(map, users);
    } catch {
      map?.unmap();
      try {
        users?.close();
      } catch { /* closing anyway */ }
      return null;
    }
  }

  /** Whether this handle holds the mutex. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Takes the mutex at once if it is free.
   * @returns whether this thread holds it now
   */
  tryLock(): boolean {
    if (this.#held) return true;
    if (!this.#map.intact()) return false; // touching it could be SIGBUS: lock() says "unavailable"
    const r = libc()!.pthread_mutex_trylock(this.#mutex);
    return this.#settle(r) === "held";
  }

  /**
   * Takes the mutex, waiting at most `timeoutMs` (the thread blocks).
   * @param timeoutMs the longest wait
   * @returns `held`, `timeout`, or `unavailable` (a mutex left unrecoverable: use SQLite's own locking)
   */
  lock(timeoutMs: number): MutexResult {
    if (this.#held) return "held";
    // A mutex file truncated or made immutable under us faults when touched (SIGBUS): SQLite's own locking takes over.
    if (!this.#map.intact()) return "unavailable";
    const c = libc()!;
    const first = c.pthread_mutex_trylock(this.#mutex);
    if (first !== C.EBUSY) return this.#settle(first);
    c.clock_gettime(C.CLOCK_MONOTONIC, this.#ts);
    const ns = this.#ts[1] + BigInt(Math.max(0, Math.round(timeoutMs * 1e6)));
    this.#ts[0] += ns / 1_000_000_000n;
    this.#ts[1] = ns % 1_000_000_000n;
    return this.#settle(c.pthread_mutex_clocklock(this.#mutex, C.CLOCK_MONOTONIC, this.#ts));
  }

  #settle(rc: number): MutexResult {
    if (rc === 0) {
      this.#held = true;
      return "held";
    }
    if (rc === C.EOWNERDEAD) {
      // Its holder died (a killed process): the queue has no state to repair, so the lock is simply taken over.
      libc()!.pthread_mutex_consistent(this.#mutex);
      this.#held = true;
      return "held";
    }
    if (rc === C.ETIMEDOUT || rc === C.EBUSY) return "timeout";
    return "unavailable";
  }

  /** Lets the mutex go (from the thread that took it). Never throws. */
  unlock(): void {
    if (!this.#held) return;
    this.#held = false;
    // A file that can no longer be touched: others find it so too and stop waiting on it.
    if (this.#map.intact()) libc()!.pthread_mutex_unlock(this.#mutex);
  }

  /** Lets go and closes the handle. Never throws. */
  close(): void {
    this.unlock();
    this.#map.unmap();
    try {
      this.#users.close();
    } catch { /* closing anyway */ }
  }
}
