/**
 * The rollback-journal lock protocol of Baton's VFS, written once as pure
 * logic over an abstract whole-file lock primitive so that the real VFS
 * (flock through Deno's `FsFile.tryLockSync`) and the model checker in
 * `tests/storage/lock_model_test.ts` execute the very same steps.
 *
 * ## Why a protocol at all
 * SQLite asks a VFS for five lock levels on the database file (NONE <
 * SHARED < RESERVED < PENDING < EXCLUSIVE). The unix VFS maps them onto
 * fcntl byte-range locks. Deno only offers `flock`: whole-file locks, owned
 * by the open file description, shared or exclusive, and converting a lock
 * in place is NOT atomic: a failed `LOCK_EX|LOCK_NB` on a file we hold
 * `LOCK_SH` on first drops our shared lock. So we never convert in place;
 * each role lives in its own lock file beside the database:
 *
 * - `P` (pending): taken shared, briefly, by anyone entering SHARED; taken
 *   exclusive by a writer that wants EXCLUSIVE. While a writer holds P
 *   exclusive no new reader can enter.
 * - `R` (reserved): taken exclusive by the one writer allowed to prepare a
 *   transaction (RESERVED). Probed with a *shared* try-lock.
 * - `S` (shared): held shared by every connection at SHARED or above, held
 *   exclusive by the writer at EXCLUSIVE.
 *
 * ## The steps (every attempt non-blocking; failure answers SQLITE_BUSY)
 * - NONE → SHARED: try P shared (fails while a writer is pending); try S
 *   shared (fails while a writer is exclusive; then release P); release P.
 * - SHARED → RESERVED: try R exclusive.
 * - SHARED/RESERVED/PENDING → EXCLUSIVE: unless P is already held, try P
 *   exclusive (we are now PENDING: no new readers). Release S, try S
 *   exclusive. If that fails (readers still hold S) take S shared again,
 *   which cannot fail (nobody gets S exclusive without P, and no reader gets
 *   past P), and answer BUSY, staying PENDING.
 * - EXCLUSIVE → SHARED: while still holding P, swap S exclusive for S shared
 *   (release, then take shared; cannot fail for the same reason), then
 *   release P and R.
 * - PENDING/RESERVED → SHARED: release P and R.
 * - any → NONE: release S, P and R.
 * - xCheckReservedLock: true when we hold R; else probe R with a *shared*
 *   try-lock: it fails only while a writer holds R exclusive. (An exclusive
 *   probe lets two probers each see the other's probe as a reservation and
 *   misjudge a hot journal.)
 *
 * A lock file is never deleted: deleting a file that somebody holds a lock
 * on splits the lock between the old inode and a new one.
 *
 * Each function below is a generator that yields between primitive
 * operations; the VFS runs it to completion with {@link runToEnd}, the model
 * checker interleaves many of them to explore every schedule.
 *
 * @module
 */

/** The lock files of the protocol. */
export type LockRole = "pending" | "reserved" | "shared";

/** A whole-file, non-blocking lock primitive (flock semantics). */
export interface LockPrimitive {
  /** Try to take `role` shared or exclusive without blocking. */
  tryLock(role: LockRole, exclusive: boolean): boolean;
  /** Release whatever this handle holds on `role`. */
  unlock(role: LockRole): void;
}

/** SQLite's lock levels (same numbers as `SQLITE_LOCK_*`). */
export const NONE = 0, SHARED = 1, RESERVED = 2, PENDING = 3, EXCLUSIVE = 4;

/** SQLite result codes used by the protocol. */
export const OK = 0, BUSY = 5;

/** What a connection holds, logically and per lock file. */
export interface LockState {
  /** SQLite lock level this connection has been granted. */
  level: number;
  /** Mode held on each lock file: 0 none, 1 shared, 2 exclusive. */
  held: Record<LockRole, 0 | 1 | 2>;
  /** Set when a step that must not fail did fail (a protocol bug). */
  violation?: string;
}

/** A fresh state: nothing held. */
export function newLockState(): LockState {
  return { level: NONE, held: { pending: 0, reserved: 0, shared: 0 } };
}

/** Switches for the model checker's mutation tests. Never set in production. */
export interface ProtocolVariant {
  /** Convert S shared → exclusive in place (the known-bad flock upgrade). */
  inPlaceUpgrade?: boolean;
  /** Readers take S without passing through P. */
  readersSkipPending?: boolean;
  /** xCheckReservedLock probes R with an exclusive try-lock. */
  exclusiveProbe?: boolean;
}

const PRODUCTION: ProtocolVariant = {};

type Step<T> = Generator<void, T, void>;

function take(p: LockPrimitive, s: LockState, role: LockRole, excl: boolean): boolean {
  const ok = p.tryLock(role, excl);
  if (ok) s.held[role] = excl ? 2 : 1;
  return ok;
}

function drop(p: LockPrimitive, s: LockState, role: LockRole): void {
  if (s.held[role] !== 0) {
    p.unlock(role);
    s.held[role] = 0;
  }
}

/**
 * xLock: raise the lock to `target` (SHARED, RESERVED or EXCLUSIVE).
 * Returns OK or BUSY; on BUSY the state is left at a level SQLite expects.
 */
export function* lock(
  p: LockPrimitive,
  s: LockState,
  target: number,
  v: ProtocolVariant = PRODUCTION,
): Step<number> {
  if (s.level >= target) return OK;
  if (target === SHARED) {
    if (!v.readersSkipPending) {
      if (!take(p, s, "pending", false)) return BUSY;
      yield;
    }
    if (!take(p, s, "shared", false)) {
      if (!v.readersSkipPending) {
        yield;
        drop(p, s, "pending");
      }
      return BUSY;
    }
    if (!v.readersSkipPending) {
      yield;
      drop(p, s, "pending");
    }
    s.level = SHARED;
    return OK;
  }
  if (target === RESERVED) {
    if (s.level !== SHARED) {
      s.violation = `RESERVED requested from level ${s.level}`;
      return BUSY;
    }
    if (!take(p, s, "reserved", true)) return BUSY;
    s.level = RESERVED;
    return OK;
  }
  // EXCLUSIVE (from SHARED for a hot journal, from RESERVED, or a retry from PENDING)
  if (s.level < SHARED) {
    s.violation = `EXCLUSIVE requested from level ${s.level}`;
    return BUSY;
  }
  if (v.inPlaceUpgrade) {
    // Known-bad: flock converts in place; a failure silently drops S.
    if (s.held.pending !== 2) {
      if (!take(p, s, "pending", true)) return BUSY;
      s.level = PENDING;
      yield;
    }
    if (p.tryLock("shared", true)) {
      s.held.shared = 2;
      s.level = EXCLUSIVE;
      return OK;
    }
    // flock dropped our shared lock on failure, but we believe we still hold it.
    p.unlock("shared");
    return BUSY;
  }
  if (s.held.pending !== 2) {
    if (!take(p, s, "pending", true)) return BUSY;
    s.level = PENDING;
    yield;
  }
  drop(p, s, "shared");
  yield;
  if (take(p, s, "shared", true)) {
    s.level = EXCLUSIVE;
    return OK;
  }
  yield;
  if (!take(p, s, "shared", false)) {
    s.violation = "re-taking S shared while PENDING failed";
  }
  return BUSY;
}

/** xUnlock: lower the lock to SHARED or NONE. Always OK. */
export function* unlock(
  p: LockPrimitive,
  s: LockState,
  target: number,
  _v: ProtocolVariant = PRODUCTION,
): Step<number> {
  if (s.level <= target) return OK;
  if (target === SHARED) {
    if (s.level === EXCLUSIVE) {
      drop(p, s, "shared");
      yield;
      if (!take(p, s, "shared", false)) {
        s.violation = "swapping S exclusive for shared failed";
      }
      yield;
    }
    drop(p, s, "pending");
    if (s.held.reserved) {
      yield;
      drop(p, s, "reserved");
    }
    s.level = SHARED;
    return OK;
  }
  drop(p, s, "shared");
  if (s.held.pending) {
    yield;
    drop(p, s, "pending");
  }
  if (s.held.reserved) {
    yield;
    drop(p, s, "reserved");
  }
  s.level = NONE;
  return OK;
}

/** xCheckReservedLock: does any connection hold RESERVED or higher? */
export function* checkReserved(
  p: LockPrimitive,
  s: LockState,
  v: ProtocolVariant = PRODUCTION,
): Step<boolean> {
  if (s.level >= RESERVED) return true;
  const excl = !!v.exclusiveProbe;
  if (p.tryLock("reserved", excl)) {
    yield;
    p.unlock("reserved");
    return false;
  }
  return true;
}

/** Runs a protocol step to completion (what the real VFS does). */
export function runToEnd<T>(g: Step<T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}
