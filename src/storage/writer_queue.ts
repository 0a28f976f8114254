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

import { sleepSync } from "./sleep.ts";
import { WriterMutex } from "./writer_mutex.ts";

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
  /** Wait on the writer mutex of this lock directory instead of the writer lock file (see `writer_mutex.ts`). */
  mutexDir?: string;
}

/** How long a waiting writer lets others barge before it claims its turn, by default (ms). */
export const DEFAULT_FAIRNESS_MS = 100;

/** One connection's place in the writer queue. */
export class WriterQueue {
  readonly #writerPath: string;
  readonly #gatePath: string;
  readonly #turnPath: string;
  readonly #fairnessMs: number;
  #turn: Deno.FsFile | undefined;
  /** This connection holds `writer-turn` exclusively: it waited too long, and nobody barges. */
  #claimedTurn = false;
  readonly #ctl = new Int32Array(new SharedArrayBuffer(Q.SIZE * 4));
  #own: Deno.FsFile | undefined;
  #ownGate: Deno.FsFile | undefined;
  /** Who holds the lock for this connection: its own file (fast path), the thread, or nobody. */
  #holder: "own" | "mutex" | "thread" | null = null;
  readonly #lockDir: string;
  /** The writer mutex (undefined: not looked for yet; null: unavailable, the lock files serve). */
  #mutex: WriterMutex | null | undefined;
  #threadFailed = false;

  /**
   * @param dbPath the database file (the lock files live in `DB-lock/`)
   * @param fairnessMs how long a waiter lets others barge before it claims its turn (0: strict turns)
   */
  constructor(dbPath: string, fairnessMs: number = DEFAULT_FAIRNESS_MS) {
    this.#writerPath = `${dbPath}-lock/writer`;
    this.#gatePath = `${dbPath}-lock/writer-gate`;
    this.#turnPath = `${dbPath}-lock/writer-turn`;
    this.#lockDir = `${dbPath}-lock`;
    this.#fairnessMs = fairnessMs;
  }

  /**
   * The writer mutex, where the C library is at hand and fairness is bounded
   * (strict turns need the gate of the lock files).
   */
  #mutexIfAny(): WriterMutex | null {
    if (this.#mutex === undefined) this.#mutex = this.#fairnessMs > 0 ? WriterMutex.open(this.#lockDir) : null;
    return this.#mutex;
  }

  /** Whether no waiter has claimed its turn (bargers may go). */
  #turnFree(): boolean {
    this.#turn ??= Deno.openSync(this.#turnPath, { read: true, write: true, create: true });
    if (!this.#turn.tryLockSync(false)) return false;
    this.#turn.unlockSync();
    return true;
  }

  /**
   * The synchronous wait on the writer mutex. A writer that finds no waiter
   * with a claimed turn takes the mutex if it is free (it barges); while a
   * turn is claimed, a newcomer stands aside (short sleeps) so that the
   * waiters already in line get the mutex, until it has waited `fairnessMs`
   * itself. A waiter that has waited `fairnessMs` claims the turn, then
   * waits for the rest of the timeout.
   */
  #enterMutex(m: WriterMutex, timeoutMs: number): "held" | "timeout" | "unavailable" {
    const start = performance.now();
    const deadline = start + timeoutMs;
    while (!this.#turnFree()) {
      const now = performance.now();
      if (now >= deadline) return "timeout";
      if (now - start >= this.#fairnessMs) break; // it has waited its share: into the line
      sleepSync(Math.min(1, deadline - now));
    }
    let r = m.lock(Math.max(0, Math.min(deadline, start + this.#fairnessMs) - performance.now()));
    if (r === "timeout" && performance.now() < deadline) {
      this.#claimTurn();
      try {
        r = m.lock(Math.max(0, deadline - performance.now()));
      } finally {
        this.#releaseTurn();
      }
    }
    if (r === "held") this.#holder = "mutex";
    return r;
  }

  /** The lock writers line up on, for messages: the writer mutex where it serves, else the lock file. */
  get lockFile(): string {
    return this.#mutex ? `${this.#lockDir}/writer-mutex` : this.#writerPath;
  }

  /** Whether this connection holds its place. */
  get held(): boolean {
    return this.#holder !== null;
  }

  /**
   * The fast path. With bounded fairness: the writer lock when it is free,
   * unless a waiter has claimed its turn (`writer-turn` is held). With strict
   * turns (`fairnessMs` 0): the gate first (a waiter holds it until it has
   * the writer lock), so nobody passes a waiter.
   */
  #tryOwn(): boolean {
    const m = this.#mutexIfAny();
    if (m) {
      if (!this.#turnFree() || !m.tryLock()) return false;
      this.#holder = "mutex";
      return true;
    }
    this.#own ??= Deno.openSync(this.#writerPath, { read: true, write: true, create: true });
    if (this.#fairnessMs > 0) {
      if (!this.#turnFree()) return false; // a waiter's turn: join the line
      if (!this.#own.tryLockSync(true)) return false;
      this.#holder = "own";
      return true;
    }
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

  /** A waiter that waited `fairnessMs`: nobody barges from now on until it has the lock. */
  #claimTurn(): void {
    if (this.#claimedTurn || this.#fairnessMs <= 0) return;
    try {
      this.#turn ??= Deno.openSync(this.#turnPath, { read: true, write: true, create: true });
      // Held already by another waiter that waited too: its claim stops the bargers just as well.
      this.#claimedTurn = this.#turn.tryLockSync(true);
    } catch { /* fairness is best effort; the busy timeout still bounds the wait */ }
  }

  /**
   * How long a waiter sleeps before it looks again: until `fairnessMs` have
   * passed, then it claims its turn (retried each millisecond while bargers
   * hold `writer-turn` shared for an instant), then until the deadline.
   */
  #nextWait(start: number, now: number, left: number): number {
    if (this.#claimedTurn || this.#fairnessMs <= 0) return left;
    const untilTurn = start + this.#fairnessMs - now;
    if (untilTurn > 0) return Math.min(left, untilTurn);
    this.#claimTurn();
    return this.#claimedTurn ? left : Math.min(left, 1);
  }

  #releaseTurn(): void {
    if (!this.#claimedTurn) return;
    this.#claimedTurn = false;
    try {
      this.#turn?.unlockSync();
    } catch { /* closing releases it */ }
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
        mutexDir: this.#mutex ? this.#lockDir : undefined,
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
    if (this.#holder) return "held";
    let m: WriterMutex | null;
    try {
      m = this.#mutexIfAny();
    } catch {
      return "unavailable";
    }
    if (m) return this.#enterMutex(m, timeoutMs);
    const now = this.#begin();
    if (now) return now;
    const start = performance.now();
    const deadline = start + timeoutMs;
    try {
      for (;;) {
        const now = performance.now();
        const left = deadline - now;
        if (Atomics.load(this.#ctl, Q.STATE) !== S.WANT || left <= 0) break;
        const wait = this.#nextWait(start, now, left);
        Atomics.wait(this.#ctl, Q.STATE, S.WANT, wait);
      }
      if (this.#settle()) return "held";
      return this.#threadFailed ? "unavailable" : "timeout";
    } finally {
      this.#releaseTurn();
    }
  }

  /**
   * Waits for this connection's turn without blocking the event loop.
   * @param timeoutMs the longest wait
   * @returns as {@link enter}
   */
  async enterAsync(timeoutMs: number): Promise<"held" | "timeout" | "unavailable"> {
    const now = this.#begin();
    if (now) return now;
    const start = performance.now();
    const deadline = start + timeoutMs;
    try {
      for (;;) {
        const now = performance.now();
        const left = deadline - now;
        if (Atomics.load(this.#ctl, Q.STATE) !== S.WANT || left <= 0) break;
        const wait = this.#nextWait(start, now, left);
        const w = Atomics.waitAsync(this.#ctl, Q.STATE, S.WANT, wait);
        if (w.async) await w.value;
      }
      if (this.#settle()) return "held";
      return this.#threadFailed ? "unavailable" : "timeout";
    } finally {
      this.#releaseTurn();
    }
  }

  /** Gives this connection's place up. Never throws. */
  leave(): void {
    const h = this.#holder;
    this.#holder = null;
    try {
      if (h === "own") this.#own?.unlockSync();
      else if (h === "mutex") this.#mutex?.unlock();
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
    this.#releaseTurn();
    this.#mutex?.close();
    this.#mutex = undefined;
    for (const f of [this.#own, this.#ownGate, this.#turn]) {
      try {
        f?.close();
      } catch { /* already closed */ }
    }
    this.#own = this.#ownGate = this.#turn = undefined;
  }
}
