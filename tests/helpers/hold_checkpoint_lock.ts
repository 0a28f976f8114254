/**
 * Test helper process: holds the checkpoint lock of the database at
 * `Deno.args[0]` (the flock on its `-lock/shm-1` file, SQLite's CKPT slot),
 * as a background checkpoint stuck on a slow fsync would, until the WAL
 * holds `Deno.args[1]` frames; then holds it `Deno.args[2]` ms more.
 * Prints "locked" once it holds the lock.
 */
const [path, frames, ms] = [Deno.args[0], Number(Deno.args[1]), Number(Deno.args[2])];
const slot = Deno.openSync(`${path}-lock/shm-1`, { read: true, write: true });
slot.lockSync(true);
console.log("locked");
const walFrames = () => {
  try {
    return (Deno.statSync(`${path}-wal`).size - 32) / 4120;
  } catch {
    return 0;
  }
};
while (walFrames() < frames) await new Promise((r) => setTimeout(r, 5));
await new Promise((r) => setTimeout(r, ms));
slot.unlockSync();
slot.close();
