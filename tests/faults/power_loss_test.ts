/**
 * Simulated power loss under Baton's VFS: a workload of small transactions
 * runs on the in-memory disk of `helpers/power_loss_backend.ts`, the power
 * goes out at a random operation, unsynced writes are dropped, kept or torn
 * at random, and the reopened database must be intact and hold every
 * transaction SQLite promised was durable, with no holes and nothing that
 * was never attempted.
 */

import assert from "node:assert/strict";
import { skipHeavy } from "../helpers/heavy.ts";
import { BatonError } from "../../src/errors.ts";
import { Database, registerVfs } from "../../src/storage/sqlite.ts";
import { vfsStats } from "../../src/storage/vfs.ts";
import { type CrashReport, mulberry32, PowerLossBackend, type Rng } from "../helpers/power_loss_backend.ts";

const CASES_PER_MODE = 300;
/** Crash points of a reboot are drawn from 1..REBOOT_OPS (its recovery, read and close). */
const REBOOT_OPS = 400;
/** Transactions per case (the crash usually interrupts them). */
const TXNS = 24;
/**
 * The database path on the simulated disk. It lies in a real, empty temporary
 * directory because `Database.open` checks the path on the real filesystem
 * (and creates `<path>-lock/pending` there) before SQLite opens it through
 * the VFS; set per test.
 */
let DB = "";

interface Mode {
  label: string;
  journalMode: "wal" | "truncate" | "delete";
  synchronous: "full" | "normal";
}

const MODES: Mode[] = [
  { label: "truncate+full", journalMode: "truncate", synchronous: "full" },
  { label: "delete+full", journalMode: "delete", synchronous: "full" },
  { label: "wal+full", journalMode: "wal", synchronous: "full" },
  { label: "wal+normal", journalMode: "wal", synchronous: "normal" },
];

let vfsSerial = 0;
/** A fresh VFS name per backend: registerVfs caches by name. */
function uniqueVfs(tag: string): string {
  return `powerloss-${tag}-${++vfsSerial}`;
}

/** Deterministic payload of row `seq` (its size varies so pages split and overflow). */
function payload(seq: number): Uint8Array {
  const r = mulberry32(seq * 2654435761);
  const n = 1 + Math.floor(r() * (seq % 5 === 0 ? 6000 : 1500));
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 256) | 0;
  return out;
}

function closeQuietly(db: Database | undefined): void {
  try {
    db?.close();
  } catch { /* a dead process's connection */ }
}

interface Outcome {
  /** Sequence numbers whose COMMIT returned (0 = the schema transaction). */
  committed: number[];
  /** Highest sequence number attempted. */
  attempted: number;
  /** How many entries of `committed` were durable by the protocol's promise. */
  required: number;
  /** Error codes the dying process saw. */
  codes: string[];
  /** Whether the crash fired before the workload finished. */
  crashedMidway: boolean;
}

/** Runs the workload on `be` until the armed crash fires (or it ends). */
async function runWorkload(be: PowerLossBackend, mode: Mode, rng: Rng): Promise<Outcome> {
  const out: Outcome = { committed: [], attempted: -1, required: 0, codes: [], crashedMidway: false };
  const full = mode.synchronous === "full";
  be.onSync = (path) => {
    // synchronous=full: every commit is durable when it returns (checked below).
    // WAL + normal: commits become durable when the WAL is next synced.
    if (!full && path === `${DB}-wal`) out.required = out.committed.length;
  };
  const walAutocheckpoint = rng() < 0.5 ? 1000 : 4 + Math.floor(rng() * 12);
  const name = await registerVfs(uniqueVfs("live"), be);
  let db: Database | undefined;
  try {
    db = await Database.open(DB, {
      journalMode: mode.journalMode,
      synchronous: mode.synchronous,
      walAutocheckpoint,
      busyTimeoutMs: 50,
      vfs: name,
    });
    const d = db;
    out.attempted = 0;
    d.transaction(() => {
      d.run("CREATE TABLE t(seq INTEGER PRIMARY KEY, pad BLOB NOT NULL)");
      d.run("CREATE TABLE counter(id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
      d.run("INSERT INTO counter(id, n) VALUES (1, 0)");
    });
    out.committed.push(0);
    for (let seq = 1; seq <= TXNS; seq++) {
      out.attempted = seq;
      d.transaction(() => {
        d.run("INSERT INTO t(seq, pad) VALUES (?, ?)", [seq, payload(seq)]);
        d.run("UPDATE counter SET n = n + 1 WHERE id = 1");
      });
      out.committed.push(seq);
      if (mode.journalMode === "wal" && rng() < 0.25) {
        const modes = ["passive", "full", "restart", "truncate"] as const;
        d.checkpoint(modes[Math.floor(rng() * modes.length)]);
      }
    }
  } catch (e) {
    // Only the simulated power loss may make the workload fail, and it must
    // surface as a coded BatonError.
    if (!be.crashed) throw e;
    assert.ok(e instanceof BatonError, `non-Baton error after the crash: ${e}`);
    out.codes.push(e.code);
    out.crashedMidway = true;
  }
  if (full) out.required = out.committed.length;
  // Power loss now if it has not happened yet (then nothing more reaches the
  // disk: closing cannot checkpoint or delete anything).
  be.crashNow();
  closeQuietly(db);
  return out;
}

interface Seen {
  /** Whether the schema transaction is visible. */
  schema: boolean;
  /** Rows visible. */
  rows: number;
}

interface Verdict extends Seen {
  lostCommitted: number;
  inFlightSurvived: boolean;
}

/** Reads what a recovered database holds (checking it is well-formed). */
function inspect(db: Database, out: Outcome, ctx: string): Seen {
  assert.equal(db.integrityCheck(), "ok", `${ctx}: integrity_check`);
  const tables = db.get<{ n: number }>("SELECT count(*) AS n FROM sqlite_schema WHERE name IN ('t', 'counter')")!.n;
  assert.ok(tables === 0 || tables === 2, `${ctx}: half a schema (${tables} tables)`);
  if (tables === 0) return { schema: false, rows: 0 };
  const rows = db.all<{ seq: number; pad: Uint8Array }>("SELECT seq, pad FROM t ORDER BY seq");
  const counter = db.get<{ n: number }>("SELECT n FROM counter WHERE id = 1");
  assert.ok(counter, `${ctx}: counter row missing`);
  assert.equal(counter.n, rows.length, `${ctx}: counter disagrees with the rows (a partial transaction)`);
  // Present rows are exactly 1..m: no holes, nothing beyond what was attempted.
  rows.forEach((r, i) => assert.equal(r.seq, i + 1, `${ctx}: rows are not a prefix: ${rows.map((x) => x.seq)}`));
  assert.ok(
    rows.length <= out.attempted,
    `${ctx}: row ${rows.length} was never attempted (attempted ${out.attempted})`,
  );
  for (const r of rows) assert.deepEqual(r.pad, payload(r.seq), `${ctx}: payload of row ${r.seq} differs`);
  return { schema: true, rows: rows.length };
}

/**
 * Reboot after the first crash and lose power again at op `crashAt` while
 * the database recovers (hot-journal rollback, WAL recovery), is read and is
 * closed (the last close checkpoints and deletes the WAL).
 *
 * @returns what the reboot saw, when its read completed before the crash
 */
async function recoverAndCrash(be: PowerLossBackend, mode: Mode, out: Outcome, crashAt: number, ctx: string) {
  be.armCrash(crashAt);
  const name = await registerVfs(uniqueVfs("reboot"), be);
  let db: Database | undefined;
  let seen: Seen | undefined;
  try {
    db = await Database.open(DB, { journalMode: mode.journalMode, synchronous: mode.synchronous, vfs: name });
    const s = inspect(db, out, `${ctx} (reboot)`);
    // Reads of data files fail after the crash point, so this view was
    // read from a disk that had not yet lost power.
    if (!be.crashed) seen = s;
    db.close();
    db = undefined;
  } catch (e) {
    if (!be.crashed) throw e;
    assert.ok(e instanceof BatonError, `non-Baton error after the crash: ${e}`);
  }
  const midway = be.crashed;
  be.crashNow();
  closeQuietly(db);
  return { seen, midway };
}

/** Reopens the crashed disk and checks it against the outcome. */
async function verify(be: PowerLossBackend, mode: Mode, out: Outcome, ctx: string, seen?: Seen): Promise<Verdict> {
  const name = await registerVfs(uniqueVfs("after"), be);
  const db = await Database.open(DB, {
    journalMode: mode.journalMode,
    synchronous: mode.synchronous,
    vfs: name,
  });
  try {
    const s = inspect(db, out, ctx);
    const required = out.committed.slice(0, out.required);
    if (!s.schema) assert.equal(required.length, 0, `${ctx}: the durable schema transaction was lost`);
    // Everything the protocol promised durable is there.
    const lastRequired = required.length ? required[required.length - 1] : -1;
    assert.ok(s.rows >= lastRequired, `${ctx}: lost durable transaction ${lastRequired} (rows 1..${s.rows})`);
    // A reboot's view was durable: a crash during recovery cannot change it.
    if (seen) assert.deepEqual(s, seen, `${ctx}: a crash during recovery changed what the reboot had seen`);
    const lastCommitted = out.committed.length ? out.committed[out.committed.length - 1] : -1;
    return {
      ...s,
      lostCommitted: Math.max(0, lastCommitted - s.rows),
      inFlightSurvived: s.rows > lastCommitted,
    };
  } finally {
    db.close();
  }
}

/** Operations a whole workload makes in this mode (to spread crash points over). */
async function calibrate(mode: Mode): Promise<number> {
  let total = 0;
  for (let s = 0; s < 3; s++) {
    const be = new PowerLossBackend();
    await runWorkload(be, mode, mulberry32(1000 + s));
    total += be.stats.ops;
  }
  return Math.ceil(total / 3);
}

/** Counters printed per mode, to show the simulation bites. */
interface Tally {
  cases: number;
  crashedMidway: number;
  lostWrites: number;
  tornWrites: number;
  diverged: number;
  walLeftOver: number;
  checkpointUnsynced: number;
  hotRollbacks: number;
  lostCommitted: number;
  inFlightSurvived: number;
  reboots: number;
  rebootCrashedMidway: number;
  rebootSeen: number;
  durableChecked: number;
  codes: Record<string, number>;
}

function tallyCrash(t: Tally, be: PowerLossBackend): void {
  const rep: CrashReport = be.crashReport!;
  if (rep.droppedWrites > 0 || rep.droppedTruncates > 0) t.lostWrites++;
  if (rep.tornWrites > 0) t.tornWrites++;
  if (rep.filesDiverged.length > 0) t.diverged++;
  if ((rep.pendingWrites[DB] ?? 0) > 0 && be.paths().includes(`${DB}-wal`)) t.checkpointUnsynced++;
  if ((be.contents(`${DB}-wal`)?.length ?? 0) > 32) t.walLeftOver++;
}

/** Runs CASES_PER_MODE crash cases in one mode and checks the simulation was not vacuous. */
async function crashCases(mode: Mode): Promise<void> {
  const started = performance.now();
  const opsPerRun = await calibrate(mode);
  const t: Tally = {
    cases: 0,
    crashedMidway: 0,
    lostWrites: 0,
    tornWrites: 0,
    diverged: 0,
    walLeftOver: 0,
    checkpointUnsynced: 0,
    hotRollbacks: 0,
    lostCommitted: 0,
    inFlightSurvived: 0,
    reboots: 0,
    rebootCrashedMidway: 0,
    rebootSeen: 0,
    durableChecked: 0,
    codes: {},
  };
  for (let seed = 1; seed <= CASES_PER_MODE; seed++) {
    const ctx = `${mode.label} seed ${seed}`;
    const rng = mulberry32(seed * 7919 + mode.label.length * 104729);
    const be = new PowerLossBackend();
    // Spread crash points over the whole run, a few past its end (power
    // lost while idle, after the last commit).
    const crashAt = 1 + Math.floor(rng() * opsPerRun * 1.05);
    be.armCrash(crashAt);
    const out = await runWorkload(be, mode, rng);
    let disk = be.crash(rng);
    let detail = `crash after op ${crashAt}, policy ${disk.crashReport!.policy}, committed through ` +
      `${out.committed.at(-1)}, attempted ${out.attempted}, durable through ${out.committed[out.required - 1]}`;
    try {
      tallyCrash(t, disk);
      const hot0 = vfsStats.hotJournalLocks;
      let seen: Seen | undefined;
      if (seed % 3 === 0) {
        // Crash again while the reboot recovers.
        const again = 1 + Math.floor(rng() * REBOOT_OPS);
        const r = await recoverAndCrash(disk, mode, out, again, ctx);
        t.reboots++;
        if (r.midway) t.rebootCrashedMidway++;
        if (r.seen) t.rebootSeen++;
        seen = r.seen;
        disk = disk.crash(rng);
        detail += `; reboot crashed after op ${again} (policy ${disk.crashReport!.policy}), saw ${
          JSON.stringify(seen)
        }`;
      }
      const v = await verify(disk, mode, out, ctx, seen);
      if (vfsStats.hotJournalLocks > hot0) t.hotRollbacks++;
      t.cases++;
      if (out.crashedMidway) t.crashedMidway++;
      for (const c of out.codes) t.codes[c] = (t.codes[c] ?? 0) + 1;
      t.durableChecked += Math.max(0, out.required - 1); // row transactions promised durable
      if (v.lostCommitted > 0) t.lostCommitted++;
      if (v.inFlightSurvived) t.inFlightSurvived++;
    } catch (e) {
      console.error(`${ctx}: ${detail}`);
      throw e;
    }
  }
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `power loss ${mode.label}: ${t.cases} cases (~${opsPerRun} ops per full run), ` +
      `${t.crashedMidway} crashed mid-workload; crashes that lost unsynced writes ${t.lostWrites}, ` +
      `tore a write ${t.tornWrites}, left a data file differing from the process's view ${t.diverged}` +
      (mode.journalMode === "wal"
        ? `, left WAL frames to recover ${t.walLeftOver}, hit unsynced checkpoint writes ${t.checkpointUnsynced}`
        : `, reopened through a hot-journal rollback ${t.hotRollbacks}`) +
      `; durable commits checked ${t.durableChecked}, cases that lost not-yet-durable commits ${t.lostCommitted}, kept the in-flight transaction ${t.inFlightSurvived}; ` +
      `reboots crashed again ${t.reboots} (mid-recovery ${t.rebootCrashedMidway}, after reading ${t.rebootSeen}); ` +
      `error codes of the dying process ${JSON.stringify(t.codes)}; ${secs}s`,
  );
  assert.ok(t.crashedMidway > 0, "no crash interrupted the workload");
  assert.ok(t.lostWrites > 0, "no crash lost an unsynced write");
  assert.ok(t.tornWrites > 0, "no crash tore a write");
  assert.ok(t.diverged > 0, "no crash left a file differing from what the process saw");
  assert.ok(t.rebootCrashedMidway > 0 && t.rebootSeen > 0, "reboot crashes were vacuous");
  assert.ok(t.durableChecked > 0, "no commit was ever promised durable");
  if (mode.journalMode === "wal") {
    assert.ok(t.walLeftOver > 0 && t.checkpointUnsynced > 0, "no crash needed WAL recovery or hit a checkpoint");
  } else {
    assert.ok(t.hotRollbacks > 0, "no reopen rolled back a hot journal");
  }
  if (mode.synchronous === "normal") {
    assert.ok(t.lostCommitted > 0, "WAL+normal never lost a not-yet-synced commit: the simulation is too kind");
  } else {
    assert.equal(t.lostCommitted, 0);
  }
}

for (const mode of MODES) {
  Deno.test(`power loss: ${mode.label}, ${CASES_PER_MODE} random crash points`, { ignore: skipHeavy }, async () => {
    const root = await Deno.makeTempDir({ prefix: "baton-powerloss-" });
    DB = `${root}/baton.db`;
    try {
      await crashCases(mode);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}
