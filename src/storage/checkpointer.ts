/**
 * Background checkpoints: a worker thread with its own connection copies the
 * WAL back into the database, so that the fsyncs of a checkpoint (a few ms
 * each on ordinary disks) are not paid inside somebody's transaction.
 *
 * The owning connection asks for a checkpoint after a commit that leaves at
 * least `threshold` frames not yet copied. It keeps SQLite's automatic
 * checkpoint on at a multiple of that threshold: that one finds only the
 * frames written since the thread's last round (little to sync), and it is
 * what lets the next writer start the WAL over (SQLite restarts the WAL only
 * when a writer begins with every frame copied, a moment that a thread
 * racing the writers rarely produces). It is also the safety bound that
 * keeps the WAL bounded if the thread falls behind or cannot start.
 *
 * The two threads share one small `Int32Array` (no messages, so a caller
 * that never yields to the event loop is served too):
 * - `REQUEST`: 0 idle, 1 asked, 2 no thread running. The owner flips 0→1
 *   (and wakes the thread) or, finding 2, starts a thread; it also starts
 *   one early, between the caller's calls
 *   ({@link BackgroundCheckpointer.warm}: 2→0), so that loading it does not
 *   delay the first checkpoint. The thread flips 1→0 before each
 *   checkpoint, and 0→2 when it leaves (after 10 idle seconds, or when told
 *   to stop), so a request is never lost in between.
 * - `STOP`: set by {@link BackgroundCheckpointer.close}; the thread closes
 *   its connection and ends (a thread is never terminated from outside: a
 *   terminated thread keeps its file locks).
 * - `CONN`: whether the thread has a connection. The owner's `close` waits
 *   until the thread has closed it, and a thread still starting when its
 *   owner closes never opens one: once `close` returns, no thread of this
 *   owner uses the database's files (a caller may delete them).
 * - counters: checkpoints run, errors.
 *
 * @module
 */

/** Slots of the shared control array. */
export const CTL = { REQUEST: 0, STOP: 1, CHECKPOINTS: 2, ERRORS: 3, CONN: 4, SIZE: 5 } as const;
/** `REQUEST` values. */
export const REQ = { IDLE: 0, ASKED: 1, GONE: 2 } as const;
/**
 * `CONN` values: whether the thread has a connection to the database. The
 * thread flips NONE→OPEN before it opens one (never once the owner has
 * closed) and sets CLOSED after closing it; the owner's close flips
 * NONE→OWNER_CLOSED, or waits for CLOSED.
 */
export const CONN = { NONE: 0, OPEN: 1, CLOSED: 2, OWNER_CLOSED: 3 } as const;
/** How long the owner's close waits for its thread to close its connection (a checkpoint under way ends first). */
export const CLOSE_WAIT_MS = 10_000;
/**
 * A thread with nothing to do for this long closes its connection and ends
 * (a running thread keeps the process alive, e.g. a script that forgot to
 * close its engine).
 */
export const IDLE_EXIT_MS = 10_000;

/** What the owner sends a new thread. */
export interface CheckpointWorkerInit {
  /** Absolute database path. */
  path: string;
  /** The shared control array's buffer. */
  ctl: SharedArrayBuffer;
}

/** Counters of one owner's checkpoint thread(s). */
export interface CheckpointerStats {
  /** Checkpoints the thread ran. */
  checkpoints: number;
  /** Checkpoints that failed (the next request retries). */
  errors: number;
  /** Threads started. */
  threads: number;
  /** Whether a thread is running (or starting) now. */
  running: boolean;
}

/** Runs PASSIVE checkpoints of one database in a worker thread, on request. */
export class BackgroundCheckpointer {
  readonly #path: string;
  readonly #ctl = new Int32Array(new SharedArrayBuffer(CTL.SIZE * 4));
  readonly #onFailure: (e: unknown) => void;
  #threads = 0;
  #failed = false;

  /**
   * @param path absolute database path (the thread opens its own connection)
   * @param onFailure called once, from the event loop, if a thread cannot run
   */
  constructor(path: string, onFailure: (e: unknown) => void) {
    this.#path = path;
    this.#onFailure = onFailure;
    Atomics.store(this.#ctl, CTL.REQUEST, REQ.GONE);
  }

  /**
   * Asks for a checkpoint soon. Waits for nothing when a thread runs; when
   * none does, starts one, which blocks the caller while the worker is
   * created (23–35 ms here), and first while a thread leaving after its idle
   * time closes its connection.
   */
  request(): void {
    if (this.#failed || Atomics.load(this.#ctl, CTL.STOP)) return;
    const prev = Atomics.compareExchange(this.#ctl, CTL.REQUEST, REQ.IDLE, REQ.ASKED);
    if (prev === REQ.IDLE) {
      Atomics.notify(this.#ctl, CTL.REQUEST);
    } else if (prev === REQ.GONE) {
      Atomics.store(this.#ctl, CTL.REQUEST, REQ.ASKED);
      this.#start();
    }
  }

  /**
   * Starts the thread soon, if none runs, without asking it for anything
   * yet: from a macrotask, because creating a worker blocks the calling
   * thread while the new one's isolate is made (23–35 ms on a 2-core VM), and
   * the caller is finishing a commit. A caller that never yields gets its
   * thread at its first request instead.
   */
  warm(): void {
    if (this.#failed || Atomics.load(this.#ctl, CTL.STOP) || this.#warming !== undefined) return;
    if (Atomics.load(this.#ctl, CTL.REQUEST) !== REQ.GONE) return;
    const timer = setTimeout(() => {
      this.#warming = undefined;
      if (this.#failed || Atomics.load(this.#ctl, CTL.STOP)) return;
      if (Atomics.compareExchange(this.#ctl, CTL.REQUEST, REQ.GONE, REQ.IDLE) === REQ.GONE) this.#start();
    }, 0);
    Deno.unrefTimer(timer); // never what keeps a process alive
    this.#warming = timer;
  }

  /** The macrotask that will start the thread ({@link warm}). */
  #warming: ReturnType<typeof setTimeout> | undefined;

  #start(): void {
    // A thread leaving after its idle time says GONE before it has closed its connection: let it finish.
    if (Atomics.load(this.#ctl, CTL.CONN) === CONN.OPEN) Atomics.wait(this.#ctl, CTL.CONN, CONN.OPEN, CLOSE_WAIT_MS);
    // The new thread may open a connection (unless the owner closes first).
    if (Atomics.compareExchange(this.#ctl, CTL.CONN, CONN.CLOSED, CONN.NONE) === CONN.OPEN) return;
    let worker: Worker;
    try {
      worker = new Worker(new URL("./checkpoint_worker.ts", import.meta.url), { type: "module" });
    } catch (e) {
      this.#fail(e);
      return;
    }
    this.#threads++;
    worker.addEventListener("error", (ev) => {
      ev.preventDefault();
      this.#fail(ev.error ?? new Error(ev.message));
    });
    const init: CheckpointWorkerInit = { path: this.#path, ctl: this.#ctl.buffer as SharedArrayBuffer };
    worker.postMessage(init);
  }

  #fail(e: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#onFailure(e);
  }

  /** Counters so far. */
  stats(): CheckpointerStats {
    return {
      checkpoints: Atomics.load(this.#ctl, CTL.CHECKPOINTS),
      errors: Atomics.load(this.#ctl, CTL.ERRORS),
      threads: this.#threads,
      running: Atomics.load(this.#ctl, CTL.REQUEST) !== REQ.GONE,
    };
  }

  /**
   * Tells the thread to finish what it is doing, close its connection and
   * end, and waits (up to {@link CLOSE_WAIT_MS}) until its connection is
   * closed; a thread that has not opened one yet never will. Idempotent.
   */
  close(): void {
    // Only when one is set: a process's first use of the timer globals loads Deno's timers module (~11 ms here),
    // which a short command that never warmed a thread (`baton list`) would pay at its end.
    if (this.#warming !== undefined) clearTimeout(this.#warming);
    this.#warming = undefined;
    Atomics.store(this.#ctl, CTL.STOP, 1);
    Atomics.notify(this.#ctl, CTL.REQUEST);
    if (Atomics.compareExchange(this.#ctl, CTL.CONN, CONN.NONE, CONN.OWNER_CLOSED) === CONN.OPEN) {
      const until = performance.now() + CLOSE_WAIT_MS;
      for (let left = CLOSE_WAIT_MS; left > 0; left = until - performance.now()) {
        if (Atomics.wait(this.#ctl, CTL.CONN, CONN.OPEN, left) !== "timed-out") break;
      }
    }
    // No request is served from now on (request and warm return early).
    if (Atomics.load(this.#ctl, CTL.CONN) !== CONN.OPEN) Atomics.store(this.#ctl, CTL.REQUEST, REQ.GONE);
  }
}
