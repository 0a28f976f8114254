/**
 * A synchronous sleep, for the storage layer's waits (SQLite's `xSleep`,
 * busy handlers, the wal-index mutex, the writer queue and its mutex): a
 * module of its own, so that both the VFS state and the wal-index emulation
 * use it without importing each other.
 *
 * @module
 */

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps the thread synchronously (xSleep, busy handlers, the wal-index mutex, the writer queue and mutex). */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}
