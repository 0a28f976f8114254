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
 *   processes have *witnessed* (`clock.now`), with a mark of the machine
 *   boot it was last moved on, the time since that boot then and the
 *   witnessed time then (`clock.mark`, written whole). A lease ends, a retry comes due and bookkeeping
 *   ages out by that time as this transaction may move it: as far past
 *   the mark's time as the machine's boot clock (the kernel's time since boot,
 *   which no process's wall clock or `faketime` changes) ran since, on the
 *   same boot (a writer that moved `now` without recording its boot, an
 *   older Baton still running, adds nothing); at least the time since the boot, on
 *   a later boot of the same host (how long it was down is not known); and
 *   as far as this process's own clock ran since its last transaction (the
 *   supervisor, an MCP server, a test's injected clock): elapsed time on one
 *   clock is trustworthy even when its absolute time is not. Where the
 *   machine cannot tell (another host's record, no `/proc`, no mark yet),
 *   or where `agents.clock_tolerance_seconds` is set,
 *   a process that just started may move it at most that tolerance past
 *   what it found (default: half the shortest lease, so that no live claim,
 *   heartbeated every quarter lease, can lapse by it), once in its life.
 *   So after the database sat idle, the first process brings the witnessed
 *   time up to the real one (else every lease stamped then would last the
 *   idle time longer), a dead agent's claim comes back once a lease of
 *   witnessed time has passed, and no clock, however wrong, and however
 *   many processes share it, ends a live one.
 * - **The database's clock moves only by those rules**, never to a process's
 *   wall time, so a process an hour ahead cannot drag everyone an hour ahead.
 *
 * @module
 */
import { advanceClock, type BootMark, readClock } from "./sql/clock.ts";
import type { Database } from "../storage/sqlite.ts";

/** The times one transaction works with. */
export interface TxTimes {
  /** When it happens (what it stamps): never before the database's clock. */
  now: number;
  /** How late it may judge things to be for expiry (leases, retries, retention): witnessed time. */
  expiry: number;
  /** The database's clock when it began. */
  before: number;
  /** The machine's boot and the time since it when it began (null: not known). */
  machine: MachineTime | null;
  /** The database's schema version when it began. */
  schema: number;
}

/** A machine's boot (its host name and the kernel's boot id) and the time since it, in ms. */
export interface MachineTime {
  /** `HOST BOOT-ID`. */
  boot: string;
  /** Milliseconds since that boot. */
  ms: number;
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
   * @param machine the machine's boot clock (null where it is not known)
   * @param toleranceSet the tolerance was configured (`agents.clock_tolerance_seconds`): it applies even where the
   *   machine's clock says how much time passed
   */
  constructor(
    readonly wall: () => number,
    readonly toleranceMs: number,
    readonly writer: string,
    readonly machine: () => MachineTime | null = () => null,
    readonly toleranceSet = false,
  ) {
    this.#extraLeft = toleranceMs;
  }

  /**
   * The times of a transaction that starts now (called inside it).
   * @param db the database, in the transaction
   * @returns its time, its expiry time, and the database's clock before it
   */
  begin(db: Database): TxTimes {
    const wall = this.wall();
    const machine = this.machine();
    const clock = readClock(db);
    const before = clock.now;
    const now = Math.max(before, wall);
    let trusted: number;
    if (before === 0) trusted = now; // a new database: nothing to be judged by yet
    else {
      // Its own clock's elapsed time since its last transaction, then what is left of its one-time tolerance.
      const base = this.#seen ? Math.max(before, this.#seen.t + Math.max(0, wall - this.#seen.wall)) : before;
      const witnessed = machineWitnessed(clock.mark, machine);
      trusted = witnessed === null ? base : Math.max(base, witnessed); // the machine says how much time passed
      if (witnessed === null || this.toleranceSet) {
        const extra = Math.min(this.#extraLeft, Math.max(0, now - trusted));
        this.#extraLeft -= extra;
        trusted += extra;
      }
    }
    const expiry = Math.max(before, Math.min(now, trusted));
    this.#seen = { t: expiry, wall };
    return { now, expiry, before, machine, schema: clock.schema };
  }

  /**
   * Records the witnessed time in the database (forward only; at most once a
   * second, so that most transactions write no extra page).
   * @param db the database, in the transaction
   * @param t the transaction's times
   */
  end(db: Database, t: TxTimes): void {
    if (t.expiry - t.before >= 1000) advanceClock(db, t.expiry, this.writer, t.machine);
  }
}

/**
 * The witnessed time the machine's boot clock certainly reached, counted from the mark the database's clock was last
 * moved with (its witnessed time then, not `now`: a writer that moves `now` without a mark, an older Baton still
 * running, adds nothing): on the same boot, what that clock ran since; on a later boot of the same host, at least the
 * time since that boot (the time it was down is not known); else (another host, or not known) null, and the
 * tolerance rule applies.
 */
function machineWitnessed(mark: BootMark | null, machine: MachineTime | null): number | null {
  if (!machine || !mark) return null;
  if (mark.boot === machine.boot) return mark.at + Math.max(0, Math.floor(machine.ms - mark.uptime)); // whole ms
  const host = (b: string) => b.slice(0, b.lastIndexOf(" "));
  return host(mark.boot) === host(machine.boot) ? mark.at + Math.max(0, Math.floor(machine.ms)) : null;
}

/**
 * A stamp no earlier than the row's own earlier stamps: processes' clocks
 * disagree by up to the database clock's grain (above), and a phase is
 * never completed before it was claimed.
 */
export function notBefore(now: number, ...earlier: (number | null | undefined)[]): number {
  return Math.max(now, ...earlier.map((t) => t ?? 0));
}
