/**
 * A fault-injecting wrapper over a real {@link IoBackend} (by default
 * {@link denoBackend}), for `tests/io_fault_test.ts`.
 *
 * It counts the operations of each kind (only on paths the filter accepts)
 * and, at the N-th operation of the armed kind, injects one fault:
 *
 * - `io`: throws `IoFailure("io")` without touching the file;
 * - `full`: throws `IoFailure("full")` (disk full) without touching the file;
 * - `short` (writes only): writes a prefix of the buffer to the real file,
 *   then throws `IoFailure("full")`, like a write that ran out of space
 *   half-way.
 *
 * The fault fires once; later operations pass through.
 *
 * @module
 */

import { denoBackend, type IoBackend, IoFailure, type IoFile, type OpenMode } from "../../src/storage/io.ts";

/** Operation classes a fault can target. */
export type FaultOp = "read" | "write" | "sync" | "truncate" | "open" | "lock" | "unlock";
/** What the fault does. */
export type FaultKind = "io" | "full" | "short";

/** All operation classes. */
export const FAULT_OPS: readonly FaultOp[] = ["read", "write", "sync", "truncate", "open", "lock", "unlock"];

/** An armed fault. */
export interface FaultPlan {
  /** Operation class to fail. */
  op: FaultOp;
  /** Fail the n-th matching operation (1-based) after arming. */
  n: number;
  /** What to do. */
  kind: FaultKind;
  /** Keep failing every matching operation after the n-th, until disarmed. */
  sticky?: boolean;
}

/** Where and how the fault fired. */
export interface FiredFault extends FaultPlan {
  /** The file the failing operation was on. */
  path: string;
  /** Bytes that reached the file (short writes). */
  written?: number;
}

/** The wrapper. Arm it, run a workload, read `fired`, disarm. */
export class FaultBackend implements IoBackend {
  #inner: IoBackend;
  /** Matching operations counted since the last `arm`/`reset`. */
  counts: Record<FaultOp, number> = zeroCounts();
  /** The armed fault, if any. */
  plan?: FaultPlan;
  /** Set once the fault fired. */
  fired?: FiredFault;
  /** Only operations on paths this accepts are counted and faulted. */
  filter: (path: string) => boolean = () => true;

  /**
   * @param inner the backend doing the real I/O
   */
  constructor(inner: IoBackend = denoBackend) {
    this.#inner = inner;
  }

  /** Zeroes the counters and forgets the fault. */
  reset(): void {
    this.counts = zeroCounts();
    this.plan = undefined;
    this.fired = undefined;
  }

  /** Arms one fault (resets the counters). */
  arm(plan: FaultPlan): void {
    if (plan.kind === "short" && plan.op !== "write") throw new Error("short faults apply to writes only");
    this.reset();
    this.plan = plan;
  }

  /** No more faults; counting continues. */
  disarm(): void {
    this.plan = undefined;
  }

  /**
   * Counts an operation; returns the plan when this one must fail.
   * Internal to the wrapper's handles.
   */
  hit(op: FaultOp, path: string): FaultPlan | undefined {
    if (!this.filter(path)) return undefined;
    const n = ++this.counts[op];
    const p = this.plan;
    if (p && p.op === op && (this.fired ? p.sticky : p.n === n)) {
      this.fired ??= { ...p, path };
      return p;
    }
    return undefined;
  }

  /** Throws the failure a plan calls for (`short` ends as disk full). */
  static fail(p: FaultPlan, what: string): never {
    const kind = p.kind === "io" ? "io" : "full";
    throw new IoFailure(kind, `injected ${p.kind} fault on ${what} #${p.n}`);
  }

  open(path: string, mode: OpenMode): IoFile {
    const p = this.hit("open", path);
    if (p) FaultBackend.fail(p, `open ${path}`);
    return new FaultFile(this, this.#inner.open(path, mode), path);
  }

  remove(path: string): void {
    this.#inner.remove(path);
  }

  exists(path: string): boolean {
    return this.#inner.exists(path);
  }

  writable(path: string): boolean {
    return this.#inner.writable(path);
  }

  mkdirp(path: string): void {
    this.#inner.mkdirp(path);
  }

  syncDir(path: string): void {
    const p = this.hit("sync", path);
    if (p) FaultBackend.fail(p, `syncDir ${path}`);
    this.#inner.syncDir(path);
  }
}

function zeroCounts(): Record<FaultOp, number> {
  return { read: 0, write: 0, sync: 0, truncate: 0, open: 0, lock: 0, unlock: 0 };
}

class FaultFile implements IoFile {
  #be: FaultBackend;
  #f: IoFile;
  #path: string;

  constructor(be: FaultBackend, f: IoFile, path: string) {
    this.#be = be;
    this.#f = f;
    this.#path = path;
  }

  #check(op: FaultOp): void {
    const p = this.#be.hit(op, this.#path);
    if (p) FaultBackend.fail(p, `${op} ${this.#path}`);
  }

  read(buf: Uint8Array, offset: number): number {
    this.#check("read");
    return this.#f.read(buf, offset);
  }

  write(buf: Uint8Array, offset: number): void {
    const p = this.#be.hit("write", this.#path);
    if (p) {
      if (p.kind === "short" && buf.length > 1) {
        // Half of it (at least one byte, never all) reaches the file.
        const n = Math.max(1, Math.floor(buf.length / 2));
        this.#f.write(buf.subarray(0, n), offset);
        this.#be.fired!.written = n;
      }
      FaultBackend.fail(p, `write ${this.#path}`);
    }
    this.#f.write(buf, offset);
  }

  truncate(size: number): void {
    this.#check("truncate");
    this.#f.truncate(size);
  }

  size(): number {
    return this.#f.size();
  }

  sync(dataOnly: boolean): void {
    this.#check("sync");
    this.#f.sync(dataOnly);
  }

  tryLock(exclusive: boolean): boolean {
    this.#check("lock");
    return this.#f.tryLock(exclusive);
  }

  lockWait(exclusive: boolean): void {
    this.#check("lock");
    this.#f.lockWait(exclusive);
  }

  unlock(): void {
    this.#check("unlock");
    this.#f.unlock();
  }

  close(): void {
    this.#f.close();
  }
}
