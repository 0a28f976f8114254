/**
 * One process of `bench/storage.ts`: runs the claim transaction N times on
 * one engine and prints a JSON line with its latencies.
 * Usage: storage_worker.ts ENGINE DB COUNT GOFILE CHECKPOINT_MODE
 */
import { DatabaseSync } from "node:sqlite";
import { type CheckpointMode, Database } from "../src/storage/sqlite.ts";
import { sleepSync } from "../src/storage/vfs.ts";

const [engine, path, countArg, goFile, checkpointMode] = Deno.args;
const count = Number(countArg);
const me = `p${Deno.pid}`;
const CLAIM =
  "UPDATE slots SET claimed_by = ? WHERE id = (SELECT id FROM slots WHERE claimed_by IS NULL ORDER BY id LIMIT 1) AND claimed_by IS NULL RETURNING id";
const EVENT = "INSERT INTO events(slot, who, at) VALUES (?, ?, ?)";

let claim: () => void;
let close: () => void;
let busy = () => 0;
if (engine === "native-wal") {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout=30000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
  const begin = db.prepare("BEGIN IMMEDIATE"), commit = db.prepare("COMMIT");
  const upd = db.prepare(CLAIM), ev = db.prepare(EVENT);
  claim = () => {
    begin.run();
    const r = upd.get(me) as { id: number };
    ev.run(r.id, me, Date.now());
    commit.run();
  };
  close = () => db.close();
} else {
  const db = await Database.open(path, {
    journalMode: engine.startsWith("baton-wal") ? "wal" : "truncate",
    busyTimeoutMs: 30000,
    checkpoint: checkpointMode as CheckpointMode,
  });
  claim = () =>
    db.transaction(() => {
      const r = db.get<{ id: number }>(CLAIM, [me])!;
      db.run(EVENT, [r.id, me, Date.now()]);
    });
  close = () => db.close();
  busy = () => db.busyRetries;
}

while (true) {
  try {
    Deno.statSync(goFile);
    break;
  } catch {
    sleepSync(1);
  }
}
const lat = new Float64Array(count);
const start = performance.timeOrigin + performance.now();
for (let i = 0; i < count; i++) {
  const t = performance.now();
  claim();
  lat[i] = performance.now() - t;
}
const end = performance.timeOrigin + performance.now();
close();
console.log(JSON.stringify({ start, end, busy: busy(), lat: Array.from(lat) }));
