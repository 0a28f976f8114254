/**
 * Starts a lock-holding helper process (`hold_lock_file.ts`,
 * `hold_checkpoint_lock.ts`: each prints "locked" once it holds its lock)
 * and returns once it holds it.
 *
 * @module
 */
import assert from "node:assert/strict";

/** A running holder. */
export interface LockHolder {
  child: Deno.ChildProcess;
  /** Waits for the holder to end on its own; returns its status. */
  ended(): Promise<Deno.CommandStatus>;
  /** Kills the holder (its lock goes with it) and waits for it to end. */
  kill(): Promise<void>;
}

/**
 * @param helper the helper's file name in `tests/helpers/`
 * @param args its arguments
 * @returns the holder, holding its lock
 */
export async function startLockHolder(helper: string, args: string[]): Promise<LockHolder> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", new URL(helper, import.meta.url).pathname, ...args],
    stdout: "piped",
  }).spawn();
  const out = child.stdout.getReader();
  try {
    assert.equal(new TextDecoder().decode((await out.read()).value).trim(), "locked");
  } finally {
    out.releaseLock();
  }
  const ended = async () => {
    const status = await child.status;
    await child.stdout.cancel().catch(() => {});
    return status;
  };
  return {
    child,
    ended,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* it has ended */ }
      await ended();
    },
  };
}
