/**
 * One process of `bench/storage.ts`: runs the claim transaction N times on
 * one engine and prints a JSON line with its latencies.
 *
 * With a warm-up file, it first runs WARM_COUNT claim transactions there on
 * its own connection (the file is shared by the run's processes, as the
 * measured one is) and closes it, so that the measured transactions run in
 * code V8 has optimised, as in a long-lived `baton-mcp`. It prints `ready`
 * once the measured file is open, then waits for GOFILE.
 *
 * Usage: storage_worker.ts ENGINE DB COUNT GOFILE CHECKPOINT_MODE [WARM_DB WARM_COUNT]
 */
import { DatabaseSync } from "node:sqlite";
import { type CheckpointMode, Database } from "../src/storage/sqlite.ts";
import { sleepSync } from "../src/storage/sleep.ts";

const [engine, path, countArg, goFile, checkpointMode, warmPath, warmCount] = Deno.args;
const count = Number(countArg);
const me = `p${Deno.pid}`;
const CLAIM =
  "UPDATE slots SET claimed_by = ? WHERE id = (SELECT id FROM slots WHERE claimed_by IS NULL ORDER BY id LIMIT 1) AND claimed_by IS NULL RETURNING id";
const EVENT = "INSERT INTO events(slot, who, at) VALUES (?, ?, ?)";

interface Connection {
  claim(): void;
  close(): void;
  busy(): number;
}

async function open(file: string): Promise<Connection> {
  if (engine === "native-wal") {
    const db = new DatabaseSync(file);
    db.exec("PRAGMA busy_timeout=30000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
    const begin = db.prepare("BEGIN IMMEDIATE"), commit = db.prepare("COMMIT");
    const upd = db.prepare(CLAIM), ev = db.prepare(EVENT);
    return {
      claim() {
        begin.run();
        const r = upd.get(me) as { id: number };
        ev.run(r.id, me, Date.now());
        commit.run();
      },
      close: () => db.close(),
      busy: () => 0,
    };
  }
  const db = await Database.open(file, {
    journalMode: engine.startsWith("baton-wal") ? "wal" : "truncate",
    busyTimeoutMs: 30000,
    checkpoint: checkpointMode as CheckpointMode,
  });
  return {
    claim: () =>
      db.transaction(() => {
        const r = db.get<{ id: number }>(CLAIM, [me])!;
        db.run(EVENT, [r.id, me, Date.now()]);
      }),
    close: () => db.close(),
    busy: () => db.busyRetries,
  };
}

if (warmPath) {
  const warm = await open(warmPath);
  for (let i = 0; i < Number(warmCount); i++) warm.claim();
  warm.close();
}
const db = await open(path);
console.log("ready");
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
  db.claim();
  lat[i] = performance.now() - t;
}
const end = performance.timeOrigin + performance.now();
db.close();
console.log(JSON.stringify({ start, end, busy: db.busy(), lat: Array.from(lat) }));
