/**
 * One clock for every process sharing the database. Each process has its
 * own wall clock, and they disagree: a container a day behind, a command run
 * under `faketime +1h`. Three rules keep that from bending the rules:
 *
 * - **Time never goes back.** A transaction's time is the later of the
 *   process's clock and the database's clock: a process a day behind claims,
 *   completes and audits at the database's time, so its claim is not stale
 *   at once and no duration is negative.
 * - **Expiry is judged by time seen to pass.** The database keeps the time
 *   processes have *witnessed* (`clock.now`). A lease ends, a retry comes
 *   due and bookkeeping ages out by that time as this transaction may move
 *   it: a process that just started may move it at most
 *   `agents.clock_tolerance_seconds` past what it found (default: half the
 *   shortest lease, so that no live claim, heartbeated every quarter lease,
 *   can lapse by it), once in its life; after that, only as far as its own
 *   clock ran since its last transaction (the supervisor, an MCP server, a
 *   test's injected clock). Elapsed time on one clock is trustworthy even
 *   when its absolute time is not. And where two processes' clocks agree
 *   (the latest wall time another process reported, and this one's), that
 *   much time has passed: after the database sat idle, the first two
 *   processes bring the witnessed time up to the real one (else every
 *   lease stamped then would last the idle time longer). So a dead agent's
 *   claim comes back once a lease of witnessed time has passed, while no
 *   clock alone, however wrong, ends a live one.
 * - **The database's clock moves only by those rules**, never to a process's
 *   wall time, so a process an hour ahead cannot drag everyone an hour ahead.
 *
 * @module
 */
import { advanceClock, readClock, reportWall } from "./sql/clock.ts";
import type { Database } from "../storage/sqlite.ts";

/** The times one transaction works with. */
export interface TxTimes {
  /** When it happens (what it stamps): never before the database's clock. */
  now: number;
  /** How late it may judge things to be for expiry (leases, retries, retention): witnessed time. */
  expiry: number;
  /** The database's clock when it began. */
  before: number;
  /** This process's wall time when it began. */
  wall: number;
  /** The latest wall time a process had reported when it began. */
  reported: number;
}

/** One engine's view of the shared clock. */
export class SharedClock {
  /** The witnessed time of this engine's last transaction, and its wall time then. */
  #seen: { t: number; wall: number } | undefined;
  /** How much more than its own elapsed time this engine may still move the witnessed time (once: the tolerance). */
  #extraLeft: number;

  /**
   * @param wall the process's clock (ms since the epoch; injected in tests)
   * @param toleranceMs how far past the database's clock a process that has just started may judge expiry
   * @param writer this engine's id in the clock row
   */
  constructor(readonly wall: () => number, readonly toleranceMs: number, readonly writer: string) {
    this.#extraLeft = toleranceMs;
  }

  /**
   * The times of a transaction that starts now (called inside it).
   * @param db the database, in the transaction
   * @returns its time, its expiry time, and the database's clock before it
   */
  begin(db: Database): TxTimes {
    const wall = this.wall();
    const clock = readClock(db);
    const before = clock.now;
    const now = Math.max(before, wall);
    let trusted: number;
    if (before === 0) trusted = now; // a new database: nothing to be judged by yet
    else {
      // Its own clock's elapsed time since its last transaction, then what is left of its one-time tolerance.
      const base = this.#seen ? Math.max(before, this.#seen.t + Math.max(0, wall - this.#seen.wall)) : before;
      const extra = Math.min(this.#extraLeft, Math.max(0, now - base));
      this.#extraLeft -= extra;
      // As far as another process's clock and this one's agree.
      const agreed = clock.wallWriter !== this.writer ? Math.min(wall, clock.wall) : 0;
      trusted = Math.max(base + extra, agreed);
    }
    const expiry = Math.max(before, Math.min(now, trusted));
    this.#seen = { t: expiry, wall };
    return { now, expiry, before, wall, reported: clock.wall };
  }

  /**
   * Records the witnessed time and this process's wall time in the database
   * (forward only; at most once a second, so that most transactions write no
   * extra page).
   * @param db the database, in the transaction
   * @param t the transaction's times
   */
  end(db: Database, t: TxTimes): void {
    if (t.expiry - t.before >= 1000) advanceClock(db, t.expiry, this.writer);
    if (t.wall - t.reported >= 1000) reportWall(db, t.wall, this.writer);
  }
}

/**
 * A stamp no earlier than the row's own earlier stamps: processes' clocks
 * disagree by up to the database clock's grain (above), and a phase is
 * never completed before it was claimed.
 */
export function notBefore(now: number, ...earlier: (number | null | undefined)[]): number {
  return Math.max(now, ...earlier.map((t) => t ?? 0));
}
