/**
 * Test helper process: one of `n` writers of the database at `Deno.args[0]`
 * that take turns, as agents sharing a repository do. Writer `me` waits
 * until the `turn` row's counter modulo `n` is its own index, commits
 * `txPerTurn` transactions of one ~3,000-byte row each (the last one passes
 * the turn on), and does that `rounds` times. The database must hold
 * `t(id INTEGER PRIMARY KEY, pad BLOB)` and `turn(k INTEGER)` with one row.
 *
 * Arguments: path, me, n, rounds, txPerTurn, mode (`OpenOptions.checkpoint`),
 * threshold (`walAutocheckpoint`). Prints "ready" once open, then one JSON
 * line: its checkpoint thread's counters, how many frames the WAL file held
 * at most after its commits, and who it saw write the WAL.
 */
import { Database } from "../../src/storage/sqlite.ts";
import { walFrames } from "../../src/storage/vfs.ts";
import type { CheckpointMode } from "../../src/storage/sqlite.ts";

const [path, me, n, rounds, txPerTurn, mode, threshold] = [
  Deno.args[0],
  Number(Deno.args[1]),
  Number(Deno.args[2]),
  Number(Deno.args[3]),
  Number(Deno.args[4]),
  Deno.args[5] as CheckpointMode,
  Number(Deno.args[6]),
];
const db = await Database.open(path, { checkpoint: mode, walAutocheckpoint: threshold });
console.log("ready");
const deadline = Date.now() + 120_000;
let maxWalFrames = 0;
for (let r = 0; r < rounds; r++) {
  while (db.get<{ k: number }>("SELECT k FROM turn")!.k % n !== me) {
    if (Date.now() > deadline) throw new Error(`writer ${me}: no turn for 120 s`);
    await new Promise((res) => setTimeout(res, 1));
  }
  for (let j = 0; j < txPerTurn; j++) {
    db.transaction(() => {
      db.run("INSERT INTO t(pad) VALUES (zeroblob(3000))");
      if (j === txPerTurn - 1) db.run("UPDATE turn SET k = k + 1");
    });
    maxWalFrames = Math.max(maxWalFrames, Math.max(0, (Deno.statSync(`${path}-wal`).size - 32) / 4120));
  }
}
const { ownFrames, otherFrames } = walFrames(path);
// A thread asked for a checkpoint loads its own SQLite first: let it answer before closing.
for (let i = 0; i < 1000; i++) {
  const s = db.backgroundCheckpoints();
  if (!s || s.threads === 0 || s.checkpoints > 0) break;
  await new Promise((res) => setTimeout(res, 10));
}
const ckpt = db.backgroundCheckpoints();
console.log(
  JSON.stringify({
    threads: ckpt?.threads ?? 0,
    checkpoints: ckpt?.checkpoints ?? 0,
    maxWalFrames,
    ownFrames,
    otherFrames,
  }),
);
db.close();
