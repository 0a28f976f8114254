/**
 * Test helper process: a writer whose checkpoints sync the database file
 * slowly, as on a loaded disk. It opens the database at `Deno.args[0]`
 * (WAL, `checkpoint` mode `Deno.args[2]`, threshold `Deno.args[3]` frames)
 * through a backend whose `sync` of the database file itself, which only a
 * checkpoint makes in WAL mode, prints "syncing" and then waits, for at
 * most 15 s, until the file `Deno.args[1]` exists: the test creates it once
 * it has committed a transaction of its own meanwhile. It writes rows of
 * ~3,000 bytes until one such sync has happened, then prints one JSON line:
 * `{ seenDuringSync }`, whether the test's commit landed while this
 * process's checkpoint was syncing.
 */
import { Database, registerVfs } from "../../src/storage/sqlite.ts";
import { denoBackend, type IoBackend, type IoFile } from "../../src/storage/io.ts";
import { sleepSync } from "../../src/storage/sleep.ts";
import type { CheckpointMode } from "../../src/storage/sqlite.ts";

const [path, flag, mode, threshold] = [
  Deno.args[0],
  Deno.args[1],
  Deno.args[2] as CheckpointMode,
  Number(Deno.args[3]),
];
const say = (s: string) => Deno.stdout.writeSync(new TextEncoder().encode(`${s}\n`));
let syncs = 0;
let seenDuringSync = false;

/** Waits in the database file's sync until the test has committed (or 15 s passed). */
function slowSync(): void {
  syncs++;
  say("syncing");
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    try {
      Deno.statSync(flag);
      seenDuringSync = true;
      return;
    } catch {
      sleepSync(2);
    }
  }
}

const backend: IoBackend = {
  ...denoBackend,
  open(p, m): IoFile {
    const f = denoBackend.open(p, m);
    if (p !== path) return f;
    return {
      read: (b, o) => f.read(b, o),
      write: (b, o) => f.write(b, o),
      truncate: (s) => f.truncate(s),
      size: () => f.size(),
      sync: (d) => {
        if (armed) slowSync();
        f.sync(d);
      },
      tryLock: (e) => f.tryLock(e),
      lockWait: (e) => f.lockWait(e),
      unlock: () => f.unlock(),
      close: () => f.close(),
    };
  },
};
let armed = false;
const vfs = await registerVfs("slow-db-sync", backend);
// Writers of every process line up in the writer queue, as with Baton's own VFS.
const db = await Database.open(path, { vfs, writerQueue: true, checkpoint: mode, walAutocheckpoint: threshold });
say("ready");
armed = true;
for (let i = 0; i < 100_000 && syncs === 0; i++) {
  db.transaction(() => db.run("INSERT INTO t(pad) VALUES (zeroblob(3000))"));
  if (i % 20 === 0) await new Promise((r) => setTimeout(r, 0)); // between requests, as a server is
}
armed = false;
say(JSON.stringify({ seenDuringSync, syncs }));
db.close();
