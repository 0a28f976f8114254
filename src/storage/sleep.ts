/**
 * A synchronous sleep, for the storage layer's waits (SQLite's `xSleep`,
 * busy handlers, the wal-index mutex): a module of its own, so that both
 * the VFS state and the wal-index emulation use it without importing each
 * other.
 *
 * @module
 */

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps the thread synchronously (used by xSleep and busy handlers). */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}
