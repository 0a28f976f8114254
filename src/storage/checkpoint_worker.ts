/**
 * The thread behind {@link BackgroundCheckpointer} (`checkpointer.ts`): opens
 * its own connection and runs a PASSIVE checkpoint each time it is asked,
 * until told to stop or idle for {@link IDLE_EXIT_MS}.
 *
 * @module
 */

import { type CheckpointWorkerInit, CONN, CTL, IDLE_EXIT_MS, REQ } from "./checkpointer.ts";
import { Database } from "./sqlite.ts";

async function serve({ path, ctl: buf }: CheckpointWorkerInit): Promise<void> {
  const ctl = new Int32Array(buf);
  let db: Database | undefined;
  // The owner closed before this thread got going: never open the database (its files may be gone already).
  if (Atomics.compareExchange(ctl, CTL.CONN, CONN.NONE, CONN.OPEN) !== CONN.NONE) {
    Atomics.store(ctl, CTL.REQUEST, REQ.GONE);
    return;
  }
  try {
    // A failure to open is thrown: the owner gets an error event and goes back to inline checkpoints.
    db = await Database.open(path, {
      journalMode: "wal",
      create: false,
      walAutocheckpoint: 0,
      writerQueue: false,
      busyTimeoutMs: 2000,
    });
    let idleSince = performance.now();
    for (;;) {
      if (Atomics.load(ctl, CTL.STOP)) break;
      if (Atomics.compareExchange(ctl, CTL.REQUEST, REQ.ASKED, REQ.IDLE) === REQ.ASKED) {
        try {
          db.checkpoint("passive");
          Atomics.add(ctl, CTL.CHECKPOINTS, 1);
        } catch {
          Atomics.add(ctl, CTL.ERRORS, 1); // the owner's next request, or its safety bound, retries
        }
        idleSince = performance.now();
        continue;
      }
      // Waiting lets the event loop turn: the wal-index emulation retries a publish it had to put off from a timer.
      const w = Atomics.waitAsync(ctl, CTL.REQUEST, REQ.IDLE, 1000);
      const r = w.async ? await w.value : w.value;
      if (r === "timed-out" && performance.now() - idleSince > IDLE_EXIT_MS) {
        // Leave only if no request slipped in; the owner starts a new thread for the next one.
        if (Atomics.compareExchange(ctl, CTL.REQUEST, REQ.IDLE, REQ.GONE) === REQ.IDLE) break;
      }
    }
  } finally {
    try {
      db?.close();
    } finally {
      // Closed first, then gone: an owner that sees GONE may start a new thread at once.
      Atomics.store(ctl, CTL.CONN, CONN.CLOSED);
      Atomics.notify(ctl, CTL.CONN);
      Atomics.store(ctl, CTL.REQUEST, REQ.GONE);
    }
  }
}

addEventListener("message", (e) => {
  // A rejection is left unhandled on purpose: it ends the thread with an error event at the owner.
  serve((e as MessageEvent<CheckpointWorkerInit>).data).then(() =>
    (globalThis as unknown as { close(): void }).close()
  );
}, { once: true });
