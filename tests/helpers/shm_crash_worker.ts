/**
 * Dies (SIGKILL, like `kill -9`) in the middle of publishing a commit's
 * wal-index changes: after the K-th write to the `-shm` file made while the
 * commit of its last transaction is under way. Its wal-index goes through
 * file I/O (a backend without shared mappings), so every change it
 * publishes is a write this backend sees.
 *
 * Usage: shm_crash_worker.ts DB K WARMUPS SQL
 * Runs SQL in WARMUPS transactions, then once more in the transaction it
 * dies committing. Prints "survived" and exits 0 when the publish needed
 * fewer than K writes.
 */
import { denoBackend, type IoBackend, type IoFile, type OpenMode } from "../../src/storage/io.ts";
import { Database, registerVfs } from "../../src/storage/sqlite.ts";

const [path, kArg, warmups, sql] = Deno.args;
const k = Number(kArg);
let armed = false;
let writes = 0;

/** Passes everything through; counts `-shm` writes once armed and dies after the K-th. */
const dying: IoBackend = {
  open(p: string, mode: OpenMode): IoFile {
    const f = denoBackend.open(p, mode);
    if (!p.endsWith("-shm")) return f;
    return {
      read: (b, o) => f.read(b, o),
      write(b, o) {
        f.write(b, o);
        if (armed && ++writes === k) Deno.kill(Deno.pid, "SIGKILL");
      },
      truncate: (s) => f.truncate(s),
      size: () => f.size(),
      sync: (d) => f.sync(d),
      tryLock: (e) => f.tryLock(e),
      lockWait: (e) => f.lockWait(e),
      unlock: () => f.unlock(),
      close: () => f.close(),
    };
  },
  remove: (p) => denoBackend.remove(p),
  exists: (p) => denoBackend.exists(p),
  writable: (p) => denoBackend.writable(p),
  mkdirp: (p) => denoBackend.mkdirp(p),
  syncDir: (p) => denoBackend.syncDir(p),
};

const db = await Database.open(path, { journalMode: "wal", vfs: await registerVfs("dying", dying) });
for (let i = 0; i < Number(warmups); i++) db.transaction(() => db.run(sql));
db.transaction(() => {
  db.run(sql);
  armed = true; // the COMMIT below writes the frames, then publishes the wal-index
});
console.log("survived");
db.close();
