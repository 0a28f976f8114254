/**
 * An exhaustive model checker for the rollback-journal lock protocol of
 * `src/storage/lock_protocol.ts`.
 *
 * ## The model
 * - {@link SimulatedFlock} is Linux `flock(2)` per open file description:
 *   every simulated process owns one handle per lock file (P, R, S). Shared
 *   locks coexist, an exclusive lock excludes every other handle, a failed
 *   non-blocking shared→exclusive conversion RELEASES the shared lock the
 *   handle held (the kernel removes the old lock before looking for
 *   conflicts), exclusive→shared always succeeds, unlock releases.
 * - A process runs a script of SQLite-like requests (reader, writer,
 *   hot-journal recoverer; see {@link ProcessKind}) over the very protocol
 *   generators the VFS runs. One atomic step is one `next()` of a protocol
 *   generator (the protocol `yield`s between primitive operations), and
 *   between two protocol calls of a script there is one more scheduling
 *   point, where the process "works" at its current level.
 * - {@link explore} enumerates every interleaving of those steps by
 *   depth-first search. Generators cannot be cloned, so a state is rebuilt
 *   by replaying its schedule from scratch (only when the search backtracks;
 *   the first child continues the live world). States are memoised: the
 *   protocol and scripts are deterministic, so a process's position is fully
 *   determined by its trace (step boundaries + primitive results), and the
 *   tuple of traces is the global state (program counters, lock states and
 *   the primitive lock table are all functions of it).
 *
 * ## Logical levels
 * The level SQLite relies on. Inside `lock()` it is the protocol's
 * `state.level` (which turns PENDING mid-call, when P is taken exclusive).
 * Inside `unlock(target)` it is already `min(level, target)`: the caller
 * has stopped relying on the higher level when it asks to drop it.
 * A process "holds a reservation" from the moment `lock(RESERVED)` returns
 * OK until the `unlock` that lowers it below RESERVED returns ("definitely"
 * while it has not yet called that unlock). A hot-journal recoverer going
 * SHARED → EXCLUSIVE never holds a reservation (it never takes R), exactly
 * like SQLite's unix VFS, where it holds PENDING but not the RESERVED byte.
 *
 * ## Invariants (checked after every atomic step)
 * - `exclusive-unique`: at most one process at logical EXCLUSIVE.
 * - `exclusive-excludes-shared`: EXCLUSIVE excludes every other process at
 *   SHARED or above.
 * - `reserved-unique`: at most one process holds a reservation.
 * - `reserved-lock-held`: a process definitely holding a reservation holds
 *   R exclusive in the primitive table.
 * - `shared-lock-held`: a process at rest (between calls, or probing in
 *   `checkReserved`) at logical level >= SHARED holds S in the primitive
 *   table, exclusive if it is at EXCLUSIVE. (`lock(EXCLUSIVE)` and `unlock`
 *   deliberately drop and re-take S mid-call, hence "at rest".)
 * - `bookkeeping-matches-flock`: between calls, what the protocol believes
 *   it holds (`state.held`) is what the primitive table says it holds.
 * - `pending-blocks-readers`: when `lock(SHARED)` takes a process from NONE
 *   to SHARED, no other process is at logical PENDING or EXCLUSIVE.
 * - `check-reserved-accurate`: at the probe step, a failed probe (answer
 *   true) needs another process holding a reservation (possibly: it may be
 *   inside the unlock that releases it); a successful probe (answer false)
 *   needs no other process definitely holding one. The answer returned must
 *   match the probe.
 * - `protocol-violation`: `state.violation` is never set by the protocol.
 * - `clean-exit`: when every script has finished, everybody is at NONE and
 *   the primitive lock table is empty.
 *
 * @module
 */

import {
  BUSY,
  checkReserved,
  EXCLUSIVE,
  lock,
  type LockPrimitive,
  type LockRole,
  newLockState,
  NONE,
  OK,
  PENDING,
  type ProtocolVariant,
  RESERVED,
  SHARED,
  unlock,
} from "../../src/storage/lock_protocol.ts";

/** Script kinds a simulated process can run. */
export type ProcessKind = "reader" | "writer" | "recoverer";

/** Names of the invariants the explorer checks. */
export type InvariantName =
  | "exclusive-unique"
  | "exclusive-excludes-shared"
  | "reserved-unique"
  | "reserved-lock-held"
  | "shared-lock-held"
  | "bookkeeping-matches-flock"
  | "pending-blocks-readers"
  | "check-reserved-accurate"
  | "protocol-violation"
  | "clean-exit";

/** One model-checking run. */
export interface ModelConfig {
  name: string;
  processes: ProcessKind[];
  /** Protocol mutation (mutation tests); production when absent. */
  variant?: ProtocolVariant;
  /** Attempts of `lock(EXCLUSIVE)` before giving up (1 try + retries). */
  exclusiveAttempts?: number;
  /** Invariants not checked (to expose the consequence of a weaker one). */
  ignore?: InvariantName[];
}

/** An invariant failure with the schedule that leads to it. */
export interface Violation {
  invariant: InvariantName;
  message: string;
  /** One line per atomic step, from the initial state. */
  schedule: string[];
}

/** Outcome of {@link explore}. */
export interface ExplorationResult {
  config: string;
  /** Distinct global states expanded. */
  states: number;
  /** Transitions (atomic steps) taken from those states. */
  transitions: number;
  /** Complete interleavings covered (counted through the memo). */
  schedules: bigint;
  /** Per invariant: how many violating transitions, and the shortest schedule found. */
  violations: Map<InvariantName, { count: number; shortest: Violation }>;
  /** Coverage events seen in some schedule, e.g. `writer:EXCLUSIVE`. */
  events: Set<string>;
  ms: number;
}

const LEVEL_NAMES = ["NONE", "SHARED", "RESERVED", "PENDING", "EXCLUSIVE"];
const MODE_NAMES = ["not at all", "shared", "exclusive"];
const ROLES: readonly LockRole[] = ["pending", "reserved", "shared"];
const ROLE_LETTER: Record<LockRole, string> = { pending: "P", reserved: "R", shared: "S" };

/** Linux `flock` semantics, one handle per (process, lock file). */
export class SimulatedFlock {
  /** `modes[role][process]`: 0 none, 1 shared, 2 exclusive. */
  readonly modes: Record<LockRole, Uint8Array>;

  constructor(processes: number) {
    this.modes = {
      pending: new Uint8Array(processes),
      reserved: new Uint8Array(processes),
      shared: new Uint8Array(processes),
    };
  }

  /** `flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB)` by `owner`. */
  tryLock(owner: number, role: LockRole, exclusive: boolean): boolean {
    const m = this.modes[role];
    const own = m[owner];
    let othersHold = false, othersExclusive = false;
    for (let i = 0; i < m.length; i++) {
      if (i === owner || m[i] === 0) continue;
      othersHold = true;
      if (m[i] === 2) othersExclusive = true;
    }
    if (exclusive) {
      if (own === 2) return true;
      if (othersHold) {
        // The kernel removes the old lock before checking for conflicts, so
        // a failed LOCK_EX|LOCK_NB conversion leaves the handle with nothing.
        m[owner] = 0;
        return false;
      }
      m[owner] = 2;
      return true;
    }
    if (own === 1) return true;
    if (own === 2) {
      // exclusive → shared: nobody else can hold anything, never conflicts.
      if (othersHold) throw new Error(`flock model: ${role} exclusive and shared at once`);
      m[owner] = 1;
      return true;
    }
    if (othersExclusive) return false;
    m[owner] = 1;
    return true;
  }

  /** `flock(fd, LOCK_UN)` by `owner`. */
  unlock(owner: number, role: LockRole): void {
    this.modes[role][owner] = 0;
  }

  /** Mode `owner` holds on `role`. */
  mode(owner: number, role: LockRole): number {
    return this.modes[role][owner];
  }

  /** True when no handle holds anything. */
  empty(): boolean {
    return ROLES.every((r) => this.modes[r].every((m) => m === 0));
  }

  /** Self-check of the model: an exclusive holder is the only holder. */
  consistent(): boolean {
    for (const r of ROLES) {
      let holders = 0, exclusive = 0;
      for (const m of this.modes[r]) {
        if (m !== 0) holders++;
        if (m === 2) exclusive++;
      }
      if (exclusive > 0 && holders > 1) return false;
    }
    return true;
  }
}

type CallName = "lock" | "unlock" | "checkReserved";

interface ActiveCall {
  name: CallName;
  target: number;
  /** Level when the call started. */
  from: number;
  /** checkReserved: whether the probe of R succeeded (answer false). */
  probeFree?: boolean;
}

type Script = Generator<void, void, void>;

interface StepReport {
  invariant: InvariantName;
  message: string;
}

class Process {
  readonly state = newLockState();
  call: ActiveCall | null = null;
  /** Set when lock(RESERVED) returns OK, cleared when the unlock below RESERVED returns. */
  reservation = false;
  callsStarted = 0;
  done = false;
  /** Step boundaries and primitive results: this process's program counter. */
  trace = "";
  readonly primitive: LockPrimitive;
  readonly script: Script;

  constructor(
    readonly world: World,
    readonly id: number,
    readonly kind: ProcessKind,
    readonly name: string,
  ) {
    this.primitive = {
      tryLock: (role, exclusive) => world.primitiveTry(this, role, exclusive),
      unlock: (role) => world.primitiveUnlock(this, role),
    };
    this.script = SCRIPTS[kind](world, this);
  }

  /** The level SQLite relies on (see module doc). */
  logicalLevel(): number {
    const c = this.call;
    if (c !== null && c.name === "unlock") return Math.min(this.state.level, c.target);
    return this.state.level;
  }

  /** Holds a reservation and has not yet started releasing it. */
  definitelyReserved(): boolean {
    return this.reservation && this.call?.name !== "unlock";
  }
}

class World {
  readonly processes: Process[];
  readonly flock: SimulatedFlock;
  readonly variant: ProtocolVariant;
  readonly exclusiveAttempts: number;
  /** Violations reported during the current step. */
  private found: StepReport[] = [];
  /** Human-readable schedule, only when describing a violation. */
  log: string[] | null = null;
  private stepOps: string[] = [];

  constructor(config: ModelConfig, readonly events: Set<string>) {
    this.variant = config.variant ?? {};
    this.exclusiveAttempts = config.exclusiveAttempts ?? 3;
    this.flock = new SimulatedFlock(config.processes.length);
    const counts: Record<ProcessKind, number> = { reader: 0, writer: 0, recoverer: 0 };
    const letter: Record<ProcessKind, string> = { reader: "R", writer: "W", recoverer: "H" };
    this.processes = config.processes.map((kind, id) =>
      new Process(this, id, kind, `${letter[kind]}${++counts[kind]}`)
    );
  }

  key(): string {
    let k = "";
    for (const p of this.processes) k += p.trace + "|";
    return k;
  }

  runnable(): number[] {
    const r: number[] = [];
    for (const p of this.processes) if (!p.done) r.push(p.id);
    return r;
  }

  /** One atomic step of process `id`; returns the invariants it broke. */
  step(id: number): StepReport[] {
    const p = this.processes[id];
    this.found = [];
    this.stepOps = [];
    p.trace += ".";
    if (p.script.next().done) p.done = true;
    if (this.log !== null) this.log.push(`${p.name}: ${this.stepOps.join("; ") || "(rest)"}`);
    this.checkState();
    return this.found;
  }

  private report(invariant: InvariantName, message: string): void {
    this.found.push({ invariant, message });
  }

  private note(op: string): void {
    if (this.log !== null) this.stepOps.push(op);
  }

  primitiveTry(p: Process, role: LockRole, exclusive: boolean): boolean {
    const ok = this.flock.tryLock(p.id, role, exclusive);
    p.trace += `${ROLE_LETTER[role]}${exclusive ? "x" : "s"}${ok ? "+" : "-"}`;
    this.note(`try ${ROLE_LETTER[role]} ${exclusive ? "excl" : "shared"} ${ok ? "ok" : "FAILED"}`);
    const c = p.call;
    if (c !== null && c.name === "checkReserved" && role === "reserved") {
      c.probeFree = ok;
      this.checkProbe(p, ok);
    }
    return ok;
  }

  primitiveUnlock(p: Process, role: LockRole): void {
    this.flock.unlock(p.id, role);
    p.trace += `${ROLE_LETTER[role]}u`;
    this.note(`unlock ${ROLE_LETTER[role]}`);
  }

  /** `check-reserved-accurate`, at the moment of the probe. */
  private checkProbe(p: Process, free: boolean): void {
    const others = this.processes.filter((o) => o !== p);
    if (!free && !others.some((o) => o.reservation)) {
      this.report(
        "check-reserved-accurate",
        `${p.name}: checkReserved probe failed (answer true) but no other process holds a reservation`,
      );
    }
    const holder = others.find((o) => o.definitelyReserved());
    if (free && holder !== undefined) {
      this.report(
        "check-reserved-accurate",
        `${p.name}: checkReserved probe succeeded (answer false) while ${holder.name} holds a reservation`,
      );
    }
  }

  /** Runs one protocol call as part of a script, one protocol step per atomic step. */
  *invoke<T extends number | boolean>(
    p: Process,
    call: ActiveCall,
    g: Generator<void, T, void>,
  ): Generator<void, T, void> {
    // A scheduling point between two calls: the process works at its level.
    if (p.callsStarted++ > 0) yield;
    p.call = call;
    this.note(`${describeCall(call)} begins at ${LEVEL_NAMES[p.state.level]}`);
    let r = g.next();
    while (!r.done) {
      yield;
      r = g.next();
    }
    p.call = null;
    this.afterCall(p, call, r.value);
    return r.value;
  }

  *lock(p: Process, target: number): Generator<void, number, void> {
    const call: ActiveCall = { name: "lock", target, from: p.state.level };
    return yield* this.invoke(p, call, lock(p.primitive, p.state, target, this.variant));
  }

  *unlock(p: Process, target: number): Generator<void, number, void> {
    const call: ActiveCall = { name: "unlock", target, from: p.state.level };
    return yield* this.invoke(p, call, unlock(p.primitive, p.state, target, this.variant));
  }

  *checkReserved(p: Process): Generator<void, boolean, void> {
    const call: ActiveCall = { name: "checkReserved", target: p.state.level, from: p.state.level };
    return yield* this.invoke(p, call, checkReserved(p.primitive, p.state, this.variant));
  }

  event(e: string): void {
    this.events.add(e);
  }

  private afterCall(p: Process, call: ActiveCall, result: number | boolean): void {
    const level = LEVEL_NAMES[p.state.level];
    this.note(`${describeCall(call)} → ${describeResult(result)} at ${level}`);
    if (call.name === "lock") {
      this.event(`${p.kind}:lock(${LEVEL_NAMES[call.target]})=${result === OK ? "OK" : "BUSY"}`);
      if (result === OK && call.target === RESERVED) p.reservation = true;
      if (result === OK && p.state.level === EXCLUSIVE) this.event(`${p.kind}:EXCLUSIVE`);
      if (result === OK && call.target === SHARED && call.from === NONE) {
        for (const o of this.processes) {
          if (o !== p && o.logicalLevel() >= PENDING) {
            this.report(
              "pending-blocks-readers",
              `${p.name} went NONE → SHARED while ${o.name} is at ${LEVEL_NAMES[o.logicalLevel()]}`,
            );
          }
        }
      }
    } else if (call.name === "unlock") {
      if (p.state.level < RESERVED) p.reservation = false;
    } else {
      this.event(`${p.kind}:checkReserved=${result}`);
      if (call.probeFree !== undefined && result !== !call.probeFree) {
        this.report(
          "check-reserved-accurate",
          `${p.name}: checkReserved answered ${result} but its probe ${call.probeFree ? "succeeded" : "failed"}`,
        );
      }
    }
  }

  /** The state invariants, after every step. */
  private checkState(): void {
    if (!this.flock.consistent()) throw new Error("flock model: inconsistent lock table");
    const ps = this.processes;
    const exclusive = ps.filter((p) => p.logicalLevel() === EXCLUSIVE);
    if (exclusive.length > 1) {
      this.report("exclusive-unique", `${exclusive.map((p) => p.name).join(" and ")} are all at EXCLUSIVE`);
    }
    for (const x of exclusive) {
      for (const o of ps) {
        if (o !== x && o.logicalLevel() >= SHARED && o.logicalLevel() !== EXCLUSIVE) {
          this.report(
            "exclusive-excludes-shared",
            `${x.name} is at EXCLUSIVE while ${o.name} is at ${LEVEL_NAMES[o.logicalLevel()]}`,
          );
        }
      }
    }
    const reserved = ps.filter((p) => p.reservation);
    if (reserved.length > 1) {
      this.report("reserved-unique", `${reserved.map((p) => p.name).join(" and ")} all hold a reservation`);
    }
    for (const p of ps) {
      if (p.definitelyReserved() && this.flock.mode(p.id, "reserved") !== 2) {
        this.report("reserved-lock-held", `${p.name} holds a reservation but not R exclusive`);
      }
      const atRest = p.call === null || p.call.name === "checkReserved";
      const level = p.logicalLevel();
      if (atRest && level >= SHARED) {
        const s = this.flock.mode(p.id, "shared");
        if (s === 0 || (level === EXCLUSIVE && s !== 2)) {
          this.report(
            "shared-lock-held",
            `${p.name} is at ${LEVEL_NAMES[level]} but holds S ${MODE_NAMES[s]}`,
          );
        }
      }
      if (p.call === null) {
        for (const role of ROLES) {
          const real = this.flock.mode(p.id, role);
          if (p.state.held[role] !== real) {
            this.report(
              "bookkeeping-matches-flock",
              `${p.name} believes it holds ${ROLE_LETTER[role]} ${MODE_NAMES[p.state.held[role]]} ` +
                `but holds it ${MODE_NAMES[real]}`,
            );
          }
        }
      }
      if (p.state.violation !== undefined) {
        this.report("protocol-violation", `${p.name}: ${p.state.violation}`);
      }
    }
    if (ps.every((p) => p.done)) {
      const stuck = ps.filter((p) => p.state.level !== NONE);
      if (stuck.length > 0 || !this.flock.empty()) {
        this.report(
          "clean-exit",
          `all scripts finished but ${
            stuck.map((p) => `${p.name} is at ${LEVEL_NAMES[p.state.level]}`).join(", ") || "lock files are still held"
          }`,
        );
      }
    }
  }
}

function describeCall(c: ActiveCall): string {
  return c.name === "checkReserved" ? "checkReserved()" : `${c.name}(${LEVEL_NAMES[c.target]})`;
}

function describeResult(r: number | boolean): string {
  if (typeof r === "boolean") return String(r);
  return r === OK ? "OK" : r === BUSY ? "BUSY" : String(r);
}

/** Retries `lock(EXCLUSIVE)` on BUSY, bounded; returns the last answer. */
function* lockExclusive(w: World, p: Process): Generator<void, number, void> {
  let rc = BUSY;
  for (let attempt = 0; attempt < w.exclusiveAttempts && rc !== OK; attempt++) {
    rc = yield* w.lock(p, EXCLUSIVE);
  }
  return rc;
}

const SCRIPTS: Record<ProcessKind, (w: World, p: Process) => Script> = {
  /** lock(SHARED) → read → unlock(NONE). */
  *reader(w, p) {
    if ((yield* w.lock(p, SHARED)) !== OK) return;
    yield* w.unlock(p, NONE);
  },

  /**
   * lock(SHARED) → lock(RESERVED) → lock(EXCLUSIVE) with bounded retries →
   * write → unlock(SHARED) → unlock(NONE). BUSY at SHARED or RESERVED gives
   * up; giving up on EXCLUSIVE (from RESERVED or PENDING) goes through
   * unlock(SHARED) like SQLite's rollback does.
   */
  *writer(w, p) {
    if ((yield* w.lock(p, SHARED)) !== OK) return;
    if ((yield* w.lock(p, RESERVED)) !== OK) {
      yield* w.unlock(p, NONE);
      return;
    }
    if ((yield* lockExclusive(w, p)) === OK) w.event("writer:wrote");
    yield* w.unlock(p, SHARED);
    yield* w.unlock(p, NONE);
  },

  /**
   * Hot-journal recovery: lock(SHARED) → checkReserved(); if nobody holds a
   * reservation, lock(EXCLUSIVE) straight from SHARED (bounded retries) →
   * roll back → unlock(SHARED) → unlock(NONE).
   */
  *recoverer(w, p) {
    if ((yield* w.lock(p, SHARED)) !== OK) return;
    if (yield* w.checkReserved(p)) {
      yield* w.unlock(p, NONE);
      return;
    }
    if ((yield* lockExclusive(w, p)) === OK) w.event("recoverer:rolled-back");
    yield* w.unlock(p, SHARED);
    yield* w.unlock(p, NONE);
  },
};

/** Rebuilds the world reached by `schedule`, optionally with a readable log. */
function replay(config: ModelConfig, events: Set<string>, schedule: readonly number[], withLog = false): World {
  const w = new World(config, events);
  if (withLog) w.log = [];
  for (const id of schedule) w.step(id);
  return w;
}

/** Explores every interleaving of `config`'s processes. */
export function explore(config: ModelConfig): ExplorationResult {
  const started = performance.now();
  const ignore = new Set(config.ignore ?? []);
  const events = new Set<string>();
  const memo = new Map<string, bigint>();
  const violations = new Map<InvariantName, { count: number; shortest: Violation }>();
  const schedule: number[] = [];
  let transitions = 0;
  let world = new World(config, events);

  const record = (found: StepReport[]): boolean => {
    let any = false;
    for (const f of found) {
      if (ignore.has(f.invariant)) continue;
      any = true;
      const seen = violations.get(f.invariant);
      if (seen !== undefined) seen.count++;
      if (seen === undefined || schedule.length < seen.shortest.schedule.length) {
        const log = replay(config, new Set(), schedule, true).log ?? [];
        const shortest = { invariant: f.invariant, message: f.message, schedule: log };
        violations.set(f.invariant, { count: seen?.count ?? 1, shortest });
      }
    }
    return any;
  };

  // Returns the number of complete interleavings from the current state.
  const dfs = (): bigint => {
    const key = world.key();
    const known = memo.get(key);
    if (known !== undefined) return known;
    const runnable = world.runnable();
    let paths = runnable.length === 0 ? 1n : 0n;
    for (let k = 0; k < runnable.length; k++) {
      if (k > 0) world = replay(config, events, schedule);
      schedule.push(runnable[k]);
      transitions++;
      if (record(world.step(runnable[k]))) paths += 1n; // stop at a violation
      else paths += dfs();
      schedule.pop();
    }
    memo.set(key, paths);
    return paths;
  };

  const schedules = dfs();
  return {
    config: config.name,
    states: memo.size,
    transitions,
    schedules,
    violations,
    events,
    ms: performance.now() - started,
  };
}

/** One line for the test output. */
export function summary(r: ExplorationResult): string {
  const v = r.violations.size === 0
    ? "no violations"
    : [...r.violations].map(([name, { count }]) => `${name}×${count}`).join(", ");
  return `[lock-model] ${r.config}: ${r.states} states, ${r.transitions} transitions, ` +
    `${r.schedules} complete interleavings, ${v}, ${r.ms.toFixed(0)} ms`;
}

/** A violation with its schedule, for assertion messages and logs. */
export function formatViolation(v: Violation): string {
  return `${v.invariant}: ${v.message}\n` + v.schedule.map((s, i) => `  ${String(i + 1).padStart(3)}. ${s}`).join("\n");
}
