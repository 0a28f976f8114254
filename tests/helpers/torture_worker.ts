/**
 * One process of the storage torture run (see `torture.ts`). Roles:
 *
 * - `writer`: claims free slots one transaction at a time (the claim
 *   transaction Baton itself runs: `UPDATE … WHERE id = (SELECT … LIMIT 1)
 *   AND claimed_by IS NULL RETURNING …`, an event INSERT, a counter UPDATE)
 *   over one or more connections, and appends `C <txid> <slot>` to its log
 *   only after COMMIT returned.
 * - `reader`: checks invariants continuously with short snapshots and long
 *   ones (aggregates identical at start and end), writes `V <what>` lines on
 *   any violation.
 * - `checkpointer`: runs checkpoints of every mode and records WAL sizes.
 *
 * Every process appends `S <json>` lines with the storage counters.
 *
 * Usage: torture_worker.ts ROLE DB MODE LOG STOPFILE CONNS SEED
 */

import { Database, type JournalMode } from "../../src/storage/sqlite.ts";
import { shmChecks, shmStats } from "../../src/storage/shm.ts";
import { sleepSync } from "../../src/storage/sleep.ts";
import { vfsStats } from "../../src/storage/vfs.ts";
import { sharedMappingOptions } from "../../src/storage/mmap.ts";

const [role, dbPath, mode, logPath, stopFile, connsArg, seedArg] = Deno.args;
const conns = Number(connsArg ?? "1");
let seed = Number(seedArg ?? "1") >>> 0 || 1;
const rand = () => {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 4294967296;
};

shmChecks.verify = true;
// Half the processes keep the wal-index coherent through file I/O instead of
// a shared mapping, so both paths run against each other on one database.
if (seed % 2 === 1) sharedMappingOptions.enabled = false;
const log = Deno.openSync(logPath, { append: true, create: true, write: true });
const enc = new TextEncoder();
const write = (line: string) => log.writeSync(enc.encode(line + "\n"));
const stats = () => write(`S ${JSON.stringify({ ...shmStats, hotJournalLocks: vfsStats.hotJournalLocks })}`);
const stopped = () => {
  try {
    Deno.statSync(stopFile);
    return true;
  } catch {
    return false;
  }
};

async function open(): Promise<Database> {
  for (let attempt = 0;; attempt++) {
    try {
      return await Database.open(dbPath, { journalMode: mode as JournalMode, busyTimeoutMs: 30_000 });
    } catch (e) {
      if (attempt > 20) throw e;
      sleepSync(20);
    }
  }
}

async function writer() {
  const dbs: Database[] = [];
  for (let i = 0; i < conns; i++) dbs.push(await open());
  stats();
  const me = `w${Deno.pid}`;
  for (let n = 0;; n++) {
    const db = dbs[n % dbs.length];
    const txid = `${me}-${n}`;
    const padLen = rand() < 0.05 ? 8000 + Math.floor(rand() * 20000) : Math.floor(rand() * 200);
    const slot = db.transaction(() => {
      const row = db.get<{ id: number }>(
        "UPDATE slots SET claimed_by = ?, txid = ? WHERE id = (SELECT id FROM slots WHERE claimed_by IS NULL ORDER BY id LIMIT 1) AND claimed_by IS NULL RETURNING id",
        [me, txid],
      );
      if (!row) return undefined;
      db.run("INSERT INTO events(slot, txid, writer, pad) VALUES (?, ?, ?, zeroblob(?))", [row.id, txid, me, padLen]);
      db.run("UPDATE stats SET claimed = claimed + 1 WHERE id = 1");
      // Sometimes linger inside the transaction so that kills land mid-transaction.
      if (rand() < 0.02) sleepSync(2);
      return row.id;
    });
    if (slot === undefined) break;
    write(`C ${txid} ${slot}`);
    if (n % 200 === 0) stats();
  }
  stats();
  write("DONE");
  for (const db of dbs) db.close();
}

interface Agg {
  a: number;
  b: number;
  c: number;
  s: number;
}

function aggregates(db: Database): Agg {
  const a = db.get<{ n: number }>("SELECT count(*) AS n FROM slots WHERE claimed_by IS NOT NULL")!.n;
  const e = db.get<{ n: number; s: number }>("SELECT count(*) AS n, coalesce(sum(slot), 0) AS s FROM events")!;
  const c = db.get<{ claimed: number }>("SELECT claimed FROM stats WHERE id = 1")!.claimed;
  return { a, b: e.n, c, s: e.s };
}

function reader() {
  return open().then((db) => {
    stats();
    let iter = 0;
    while (!stopped()) {
      iter++;
      const long = rand() < 0.1;
      try {
        db.exec("BEGIN");
        const first = aggregates(db);
        if (first.a !== first.b || first.b !== first.c) {
          write(`V torn snapshot ${JSON.stringify(first)}`);
        }
        if (long) {
          sleepSync(50 + rand() * 150);
          const second = aggregates(db);
          if (JSON.stringify(first) !== JSON.stringify(second)) {
            write(`V long snapshot changed ${JSON.stringify(first)} -> ${JSON.stringify(second)}`);
          }
        }
        if (iter % 10 === 0) {
          const dup = db.get<{ slot: number }>("SELECT slot FROM events GROUP BY slot HAVING count(*) > 1 LIMIT 1");
          if (dup) write(`V slot ${dup.slot} claimed twice`);
          const mism = db.get<{ n: number }>(
            "SELECT count(*) AS n FROM slots s LEFT JOIN events e ON e.slot = s.id AND e.txid = s.txid WHERE s.claimed_by IS NOT NULL AND e.id IS NULL",
          )!.n;
          if (mism) write(`V ${mism} claimed slots without their event`);
        }
        db.exec("COMMIT");
      } catch (e) {
        try {
          db.exec("ROLLBACK");
        } catch { /* not in a transaction */ }
        const code = (e as { code?: string }).code;
        if (code !== "database_locked") write(`V reader error ${code}: ${(e as Error).message}`);
      }
      if (iter % 50 === 0) stats();
      sleepSync(rand() * 5);
    }
    stats();
    write("DONE");
    db.close();
  });
}

async function checkpointer() {
  const db = await open();
  stats();
  const modes = ["passive", "full", "restart", "truncate"] as const;
  let maxWal = 0;
  while (!stopped()) {
    const m = modes[Math.floor(rand() * modes.length)];
    try {
      db.checkpoint(m);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== "database_locked") write(`V checkpoint error ${code}: ${(e as Error).message}`);
    }
    try {
      maxWal = Math.max(maxWal, Deno.statSync(`${dbPath}-wal`).size);
    } catch { /* no WAL right now */ }
    write(`W ${maxWal}`);
    sleepSync(20 + rand() * 80);
  }
  stats();
  write("DONE");
  db.close();
}

/**
 * Opens a transaction big enough to spill the page cache into the database
 * (rollback modes) or the WAL, then lingers in it so that a SIGKILL leaves a
 * hot journal (or uncommitted WAL frames) behind. It never commits.
 */
async function spiller() {
  const db = await open();
  db.exec("PRAGMA cache_size=2");
  stats();
  while (!stopped()) {
    try {
      db.exec("BEGIN IMMEDIATE");
      db.run("INSERT INTO junk(pad) VALUES (zeroblob(?))", [100_000 + Math.floor(rand() * 100_000)]);
      db.run("UPDATE slots SET txid = 'spilled' WHERE id IN (SELECT id FROM slots ORDER BY random() LIMIT 20)");
      write("SPILLED");
      sleepSync(150);
      db.exec("ROLLBACK");
    } catch (e) {
      try {
        db.exec("ROLLBACK");
      } catch { /* not in a transaction */ }
      const code = (e as { code?: string }).code;
      if (code !== "database_locked") write(`V spiller error ${code}: ${(e as Error).message}`);
    }
    stats();
    sleepSync(100 + rand() * 200);
  }
  stats();
  write("DONE");
  db.close();
}

if (role === "writer") await writer();
else if (role === "spiller") await spiller();
else if (role === "reader") await reader();
else if (role === "checkpointer") await checkpointer();
else throw new Error(`unknown role ${role}`);
log.close();
