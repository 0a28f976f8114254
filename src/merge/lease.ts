/**
 * The merge worker's hold on the queue: the engine's worker lease (one
 * worker per repository), taken over from a worker of this host whose
 * process is gone, renewed on a timer for the worker's whole run, and given
 * up when it stops; and the retries of what reads or moves a remote that
 * cannot be reached, with the lease kept meanwhile.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import type { MergeWorkerLease } from "../engine/types.ts";
import { BatonError } from "../errors.ts";
import { pidGone } from "../processes.ts";

/** How long a remote that cannot be reached is tried again before the worker stops with the error (ms). */
const REACH_MS = 120_000;
/** The first wait before trying an unreachable remote again, and the longest (ms): it doubles in between. */
const REACH_FIRST_WAIT_MS = 250, REACH_MAX_WAIT_MS = 8_000;

/** A worker id that names this process: `merge@HOST:PID:XXXX`. */
export function workerIdHere(): string {
  return `merge@${Deno.hostname()}:${Deno.pid}:${crypto.randomUUID().slice(0, 4)}`;
}

/** The host and pid a worker id made by {@link workerIdHere} names (null for another id). */
function processOfWorkerId(id: string): { host: string; pid: number } | null {
  const m = /^merge@(.+):(\d+):[0-9a-f]{4}$/.exec(id);
  return m ? { host: m[1], pid: Number(m[2]) } : null;
}

/** One worker's hold on the queue. */
export class QueueLease {
  #lease: MergeWorkerLease | null = null;
  #lost = false;
  #renewing: ReturnType<typeof setInterval> | undefined;

  /**
   * @param engine the repository's engine
   * @param id the worker's id
   * @param log where its lines go
   * @param sleep the worker's wait (ends early when it is stopped)
   * @param signal stops it
   */
  constructor(
    readonly engine: Engine,
    readonly id: string,
    readonly log: (line: string) => void,
    readonly sleep: (ms?: number) => Promise<void>,
    readonly signal?: AbortSignal,
  ) {}

  /** Whether it holds the queue (as far as it knows: {@link held} says for certain at its next renewal). */
  get holding(): boolean {
    return this.#lease !== null;
  }

  /**
   * Takes the queue if nobody holds it, or if its holder is certainly gone.
   * @returns whether it holds it now
   */
  acquire(): boolean {
    const gone = this.#goneHolder();
    this.#lease = this.engine.acquireMergeWorker(this.id, gone ? { holderGone: gone.id } : {});
    if (!this.#lease) return false;
    if (gone) this.log(`merge: the worker that held the queue (${gone.id}) is gone (pid ${gone.pid}): taking it over`);
    this.#lost = false;
    return true;
  }

  /** Renews the lease every `ms` until {@link release} (idle rounds included). */
  startRenewing(ms: number): void {
    clearInterval(this.#renewing);
    this.#renewing = setInterval(() => this.renew(), ms);
  }

  /** Forgets a lease another worker took (its next round acquires again). */
  lostTo(message: string): void {
    this.log(`merge: lost the queue to another worker (${message})`);
    this.#lease = null;
  }

  /** Stops renewing and gives the queue up at once (the next worker recovers what it left). */
  release(): void {
    clearInterval(this.#renewing);
    this.#renewing = undefined;
    if (this.#lease && !this.#lost) {
      try {
        this.engine.releaseMergeWorker(this.#lease);
      } catch { /* another worker has it */ }
    }
    this.#lease = null;
  }

  /** Renews the lease now; a lease another worker took is marked lost. */
  renew(): void {
    if (!this.#lease || this.#lost) return;
    try {
      this.#lease = this.engine.renewMergeWorker(this.#lease);
    } catch (e) {
      if (e instanceof BatonError && e.code === "stale_token") this.#lost = true;
      else this.log(`merge: could not renew the lease: ${(e as Error).message}`);
    }
  }

  /**
   * The lease, or the error that says another worker took the queue.
   * @returns the lease
   * @throws {BatonError} `stale_token` once it was lost
   */
  held(): MergeWorkerLease {
    if (!this.#lease || this.#lost) throw new BatonError("stale_token", "this worker lost its lease");
    return this.#lease;
  }

  /** The id of the worker holding the queue ("?" when not known). */
  holder(): string {
    try {
      return this.engine.mergeStatus({ recent: 0 }).worker?.id ?? "?";
    } catch {
      return "?";
    }
  }

  /**
   * The worker holding the queue when it is certainly gone: one of this host (its id says so, as this worker's
   * does) whose process no longer exists. A worker of another host, or one that cannot be told, keeps its lease.
   */
  #goneHolder(): { id: string; pid: number } | null {
    const id = this.holder();
    const at = processOfWorkerId(id);
    return at && at.host === Deno.hostname() && pidGone(at.pid) ? { id, pid: at.pid } : null;
  }

  /**
   * `op` (which reads or moves the remote), tried again while the remote
   * cannot be reached, for up to `REACH_MS` with growing waits (the lease kept
   * renewed): a network that drops for a moment stops nothing. A candidate
   * pushed again is safe: the push is never forced, so a remote that moved
   * meanwhile refuses it, and one already at the candidate takes it as done.
   * @param op what reads or moves the remote
   * @param remote its name, for the log
   * @returns what `op` returned
   * @throws {BatonError} `remote_unreachable` still after `REACH_MS`, or when the worker was stopped meanwhile;
   *   `stale_token` when it lost the queue meanwhile
   */
  async reaching<T>(op: () => T, remote = "the remote"): Promise<T> {
    const started = Date.now();
    for (let wait = REACH_FIRST_WAIT_MS, failed = false;; wait = Math.min(wait * 2, REACH_MAX_WAIT_MS)) {
      try {
        const r = op();
        if (failed) this.log(`merge: ${remote} reached again`);
        return r;
      } catch (e) {
        if (!(e instanceof BatonError && e.code === "remote_unreachable")) throw e;
        if (Date.now() - started >= REACH_MS || this.signal?.aborted) throw e;
        if (!failed) {
          this.log(`merge: cannot reach ${remote}; trying again for up to ${REACH_MS / 1000} s (${e.message})`);
        }
        failed = true;
        await this.sleep(wait);
        this.renew();
        this.held(); // a worker that lost the queue meanwhile stops trying (stale_token)
      }
    }
  }
}
