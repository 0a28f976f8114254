/**
 * The thread behind {@link WriterQueue} (`writer_queue.ts`): blocks on the
 * writer lock for its connection, which waits with a deadline meanwhile.
 * At most one process sleeps on the writer lock itself; the others wait in
 * line on the gate first (a release wakes every process blocked on a flock).
 * Leaves when idle for {@link QUEUE_IDLE_EXIT_MS} or told to stop.
 *
 * @module
 */

import { Q, QUEUE_IDLE_EXIT_MS, S, type WriterQueueInit } from "./writer_queue.ts";
import { WriterMutex } from "./writer_mutex.ts";

/**
 * The mutex variant: waits on the writer mutex in slices, so that a request
 * the connection gave up on (CANCEL) is noticed, and holds it for the
 * connection until it is released.
 */
function serveMutex(m: WriterMutex, ctl: Int32Array): void {
  let idleSince = performance.now();
  for (;;) {
    const s = Atomics.load(ctl, Q.STATE);
    if (s === S.WANT || s === S.CANCEL) {
      const r = m.lock(50);
      if (r === "unavailable") throw new Error("the writer mutex is unrecoverable");
      if (r === "timeout") {
        // Given up by the connection while we waited: stop trying.
        if (Atomics.compareExchange(ctl, Q.STATE, S.CANCEL, S.IDLE) === S.CANCEL) Atomics.notify(ctl, Q.STATE);
        continue;
      }
      if (Atomics.compareExchange(ctl, Q.STATE, S.WANT, S.HELD) === S.WANT) {
        Atomics.notify(ctl, Q.STATE);
        while (Atomics.load(ctl, Q.STATE) === S.HELD) Atomics.wait(ctl, Q.STATE, S.HELD, 1000);
      }
      m.unlock();
      const now = Atomics.load(ctl, Q.STATE);
      if (now === S.RELEASE || now === S.CANCEL) Atomics.compareExchange(ctl, Q.STATE, now, S.IDLE);
      Atomics.notify(ctl, Q.STATE);
      idleSince = performance.now();
      continue;
    }
    if (Atomics.load(ctl, Q.STOP)) return;
    const r = Atomics.wait(ctl, Q.STATE, S.IDLE, 1000);
    if (r === "timed-out" && performance.now() - idleSince > QUEUE_IDLE_EXIT_MS) {
      if (Atomics.compareExchange(ctl, Q.STATE, S.IDLE, S.GONE) === S.IDLE) return;
    }
  }
}

function serve({ writer: writerPath, gate: gatePath, ctl: buf, mutexDir }: WriterQueueInit): void {
  const ctl = new Int32Array(buf);
  const m = mutexDir ? WriterMutex.open(mutexDir) : null;
  if (m) {
    try {
      if (Atomics.load(ctl, Q.STATE) === S.GONE) Atomics.store(ctl, Q.STATE, S.IDLE);
      serveMutex(m, ctl);
    } finally {
      m.close();
      if (Atomics.load(ctl, Q.STATE) !== S.WANT) Atomics.store(ctl, Q.STATE, S.GONE);
      Atomics.notify(ctl, Q.STATE);
    }
    return;
  }
  const writer = Deno.openSync(writerPath, { read: true, write: true, create: true });
  const gate = Deno.openSync(gatePath, { read: true, write: true, create: true });
  try {
    if (Atomics.load(ctl, Q.STATE) === S.GONE) Atomics.store(ctl, Q.STATE, S.IDLE);
    let idleSince = performance.now();
    for (;;) {
      const s = Atomics.load(ctl, Q.STATE);
      if (s === S.WANT || s === S.CANCEL) {
        // Always through the gate, never a try at the writer lock first: the
        // one that holds the gate is next. A try here could take the lock from
        // the waiter that an unlock just woke, before it runs; a busy writer
        // (an import) then kept it from another process for its whole run.
        gate.lockSync(true);
        try {
          writer.lockSync(true);
        } finally {
          gate.unlockSync();
        }
        if (Atomics.compareExchange(ctl, Q.STATE, S.WANT, S.HELD) === S.WANT) {
          Atomics.notify(ctl, Q.STATE);
          while (Atomics.load(ctl, Q.STATE) === S.HELD) Atomics.wait(ctl, Q.STATE, S.HELD, 1000);
        }
        // Released, or given up on before we had it: let it go.
        writer.unlockSync();
        const now = Atomics.load(ctl, Q.STATE);
        if (now === S.RELEASE || now === S.CANCEL) Atomics.compareExchange(ctl, Q.STATE, now, S.IDLE);
        Atomics.notify(ctl, Q.STATE);
        idleSince = performance.now();
        continue;
      }
      if (Atomics.load(ctl, Q.STOP)) break;
      const r = Atomics.wait(ctl, Q.STATE, S.IDLE, 1000);
      if (r === "timed-out" && performance.now() - idleSince > QUEUE_IDLE_EXIT_MS) {
        // Leave only if no request slipped in; the connection starts a new thread for the next one.
        if (Atomics.compareExchange(ctl, Q.STATE, S.IDLE, S.GONE) === S.IDLE) return;
      }
    }
  } finally {
    writer.close();
    gate.close();
    if (Atomics.load(ctl, Q.STATE) !== S.WANT) Atomics.store(ctl, Q.STATE, S.GONE);
    Atomics.notify(ctl, Q.STATE);
  }
}

addEventListener("message", (e) => {
  serve((e as MessageEvent<WriterQueueInit>).data);
  (globalThis as unknown as { close(): void }).close();
}, { once: true });
