/**
 * Test helper process: reads the database at `Deno.args[0]` in read
 * transactions of `Deno.args[1]` ms each, one right after the other, until
 * the file `Deno.args[2]` exists, as a busy server's long queries do. Each
 * transaction reads `t` once (taking a snapshot and a WAL read mark) and
 * holds it. Prints "ready" once its first snapshot is held, then a JSON line
 * with how many transactions it ran.
 */
import { Database } from "../../src/storage/sqlite.ts";
import { sleepSync } from "../../src/storage/sleep.ts";
import { existsSync } from "node:fs";

const [path, holdArg, stopFile] = Deno.args;
const hold = Number(holdArg);
const db = await Database.open(path);
let reads = 0;
const deadline = Date.now() + 120_000;
while (!existsSync(stopFile) && Date.now() < deadline) {
  db.exec("BEGIN");
  db.get("SELECT count(*) AS n FROM t");
  if (reads++ === 0) console.log("ready");
  sleepSync(hold);
  db.exec("COMMIT");
}
db.close();
console.log(JSON.stringify({ reads }));
