/**
 * The WAL writer queue: writers of every process line up on one lock file
 * (`DB-lock/writer`) before `BEGIN IMMEDIATE`, so the kernel hands the write
 * lock from one writer to the next the moment it is free, instead of waiters
 * polling SQLite's lock with sleeps.
 *
 * Deno's blocking `lockSync` cannot time out, and a process stopped inside a
 * write transaction (`kill -STOP`) would freeze every other writer forever.
 * So a wait that the fast path (`tryLockSync`) cannot settle is done by a
 * small thread ({@link ./writer_queue_worker.ts}) that blocks on the lock for
 * this connection, while the connection waits on shared memory with a
 * deadline: synchronously (`Atomics.wait`) for the engine's synchronous
 * calls, or asynchronously (`Atomics.waitAsync`) so that a server's event
 * loop keeps answering. A wait that reaches the deadline gives up, and the
 * thread lets the lock go as soon as it gets it.
 *
 * @module
 */

/** Shared control words. */
export const Q = { STATE: 0, STOP: 1, SIZE: 2 } as const;
/** States of the one request in flight. */
export const S = {
  /** No thread is running. */
  GONE: 0,
  /** The thread waits for a request. */
  IDLE: 1,
  /** The connection wants the lock; the thread is getting it. */
  WANT: 2,
  /** The thread holds the lock for the connection. */
  HELD: 3,
  /** The connection gave up waiting; the thread lets the lock go once it has it. */
  CANCEL: 4,
  /** The connection is done; the thread lets the lock go. */
  RELEASE: 5,
} as const;
/** An idle thread leaves after this long (the next contention starts another). */
export const QUEUE_IDLE_EXIT_MS = 10_000;

/** What the thread is started with. */
export interface WriterQueueInit {
  writer: string;
  gate: string;
  ctl: SharedArrayBuffer;
}

/** One connection's place in the writer queue. */
export class WriterQueue {
  readonly #writerPath: string;
  readonly #gatePath: string;
  readonly #ctl = new Int32Array(new SharedArrayBuffer(Q.SIZE * 4));
  #own: Deno.FsFile | undefined;
  #ownGate: Deno.FsFile | undefined;
  /** Who holds the lock for this connection: its own file (fast path), the thread, or nobody. */
  #holder: "own" | "thread" | null = null;
  #threadFailed = false;

  /**
   * @param dbPath the database file (the lock files live in `DB-lock/`)
   */
  constructor(dbPath: string) {
    this.#writerPath = `${dbPath}-lock/writer`;
    this.#gatePath = `${dbPath}-lock/writer-gate`;
  }

  /** The lock file writers line up on, for messages. */
  get lockFile(): string {
    return this.#writerPath;
  }

  /** Whether this connection holds its place. */
  get held(): boolean {
    return this.#holder !== null;
  }

  /**
   * The fast path, when nobody waits: the gate first (a waiter holds it
   * until it has the writer lock, so a writer that let the lock go moments
   * ago cannot take it again before the one that waited: no barging, and a
   * busy writer such as an import cannot starve the others), then the
   * writer lock. Fairness costs throughput when every process writes
   * without pause (8 processes looping claims: ~500 claims/s against ~650
   * with barging), and is what agents working side by side need.
   */
  #tryOwn(): boolean {
    this.#own ??= Deno.openSync(this.#writerPath, { read: true, write: true, create: true });
    this.#ownGate ??= Deno.openSync(this.#gatePath, { read: true, write: true, create: true });
    if (!this.#ownGate.tryLockSync(true)) return false;
    try {
      if (!this.#own.tryLockSync(true)) return false;
    } finally {
      this.#ownGate.unlockSync();
    }
    this.#holder = "own";
    return true;
  }

  /** Puts in a request for the thread; returns false when no thread can run. */
  #ask(): boolean {
    if (this.#threadFailed) return false;
    for (;;) {
      const s = Atomics.load(this.#ctl, Q.STATE);
      if (s === S.IDLE) {
        if (Atomics.compareExchange(this.#ctl, Q.STATE, S.IDLE, S.WANT) !== S.IDLE) continue;
        Atomics.notify(this.#ctl, Q.STATE);
        return true;
      }
      if (s === S.CANCEL) {
        // The thread still waits for the lock from an earlier request: take that wait over.
        if (Atomics.compareExchange(this.#ctl, Q.STATE, S.CANCEL, S.WANT) === S.CANCEL) return true;
        continue;
      }
      if (s === S.RELEASE) {
        Atomics.wait(this.#ctl, Q.STATE, S.RELEASE, 50); // the thread is letting the last lock go
        continue;
      }
      if (s === S.GONE) {
        Atomics.store(this.#ctl, Q.STATE, S.WANT);
        if (!this.#start()) return false;
        return true;
      }
      return true; // WANT or HELD cannot happen here: this connection has one request at a time
    }
  }

  #start(): boolean {
    try {
      const w = new Worker(new URL("./writer_queue_worker.ts", import.meta.url), { type: "module" });
      w.addEventListener("error", (ev) => {
        ev.preventDefault();
        this.#threadFailed = true;
        Atomics.store(this.#ctl, Q.STATE, S.GONE);
        Atomics.notify(this.#ctl, Q.STATE);
      });
      const init: WriterQueueInit = {
        writer: this.#writerPath,
        gate: this.#gatePath,
        ctl: this.#ctl.buffer as SharedArrayBuffer,
      };
      w.postMessage(init);
      return true;
    } catch {
      this.#threadFailed = true;
      Atomics.store(this.#ctl, Q.STATE, S.GONE);
      return false;
    }
  }

  /** After the wait: held, or given up (the thread lets the lock go when it gets it). */
  #settle(): boolean {
    if (Atomics.compareExchange(this.#ctl, Q.STATE, S.WANT, S.CANCEL) === S.WANT) return false;
    if (Atomics.load(this.#ctl, Q.STATE) === S.HELD) {
      this.#holder = "thread";
      return true;
    }
    return false; // the thread failed
  }

  /** What both waits start with: settled at once (held, or no queue), or null once the thread was asked. */
  #begin(): "held" | "unavailable" | null {
    if (this.#holder) return "held";
    try {
      if (this.#tryOwn()) return "held";
    } catch {
      return "unavailable";
    }
    return this.#ask() ? null : "unavailable";
  }

  /**
   * Waits for this connection's turn, at most `timeoutMs`, blocking the thread.
   * @param timeoutMs the longest wait
   * @returns "held", "timeout", or "unavailable" (no lock file or thread: SQLite's own locking decides)
   */
  enter(timeoutMs: number): "held" | "timeout" | "unavailable" {
    const now = this.#begin();
    if (now) return now;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (Atomics.load(this.#ctl, Q.STATE) !== S.WANT || left <= 0) break;
      Atomics.wait(this.#ctl, Q.STATE, S.WANT, left);
    }
    if (this.#settle()) return "held";
    return this.#threadFailed ? "unavailable" : "timeout";
  }

  /**
   * Waits for this connection's turn without blocking the event loop.
   * @param timeoutMs the longest wait
   * @returns as {@link enter}
   */
  async enterAsync(timeoutMs: number): Promise<"held" | "timeout" | "unavailable"> {
    const now = this.#begin();
    if (now) return now;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (Atomics.load(this.#ctl, Q.STATE) !== S.WANT || left <= 0) break;
      const w = Atomics.waitAsync(this.#ctl, Q.STATE, S.WANT, left);
      if (w.async) await w.value;
    }
    if (this.#settle()) return "held";
    return this.#threadFailed ? "unavailable" : "timeout";
  }

  /** Gives this connection's place up. Never throws. */
  leave(): void {
    const h = this.#holder;
    this.#holder = null;
    try {
      if (h === "own") this.#own?.unlockSync();
      else if (h === "thread") {
        Atomics.store(this.#ctl, Q.STATE, S.RELEASE);
        Atomics.notify(this.#ctl, Q.STATE);
      }
    } catch { /* closing releases it */ }
  }

  /** Leaves the queue and stops the thread (it ends once it has the lock, if it waits for one). */
  close(): void {
    this.leave();
    Atomics.store(this.#ctl, Q.STOP, 1);
    Atomics.notify(this.#ctl, Q.STATE);
    for (const f of [this.#own, this.#ownGate]) {
      try {
        f?.close();
      } catch { /* already closed */ }
    }
    this.#own = this.#ownGate = undefined;
  }
}
