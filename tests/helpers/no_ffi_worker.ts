/**
 * Opens a WAL database in a process without FFI permission (so its
 * wal-index goes through file I/O), inserts a row and prints what it saw.
 * Usage: no_ffi_worker.ts DB VALUE
 */
import { Database } from "../../src/storage/sqlite.ts";
import { shmStats } from "../../src/storage/shm.ts";

const db = await Database.open(Deno.args[0], { journalMode: "wal" });
db.run("INSERT INTO t VALUES (?)", [Number(Deno.args[1])]);
const n = db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n;
db.close();
console.log(JSON.stringify({ n, mapped: shmStats.mappedRegions, file: shmStats.fileRegions }));
