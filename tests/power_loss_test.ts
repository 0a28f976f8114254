/**
 * Simulated power loss under Baton's VFS: a workload of small transactions
 * runs on the in-memory disk of `helpers/power_loss_backend.ts`, the power
 * goes out at a random operation, unsynced writes are dropped, kept or torn
 * at random, and the reopened database must be intact and hold every
 * transaction SQLite promised was durable, with no holes and nothing that
 * was never attempted.
 */

import assert from "node:assert/strict";
import { BatonError } from "../src/errors.ts";
import { Database, registerVfs } from "../src/storage/sqlite.ts";
import { type CrashReport, mulberry32, PowerLossBackend, type Rng } from "./helpers/power_loss_backend.ts";

const CASES_PER_MODE = 150;
/** Transactions per case (the crash usually interrupts them). */
const TXNS = 24;
const DB = "/sim/data/baton.db";

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
      if (mode.journalMode === "wal" && rng() < 0.15) {
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

interface Verdict {
  rows: number;
  lostCommitted: number;
  inFlightSurvived: boolean;
}

/** Reopens the crashed disk and checks it against the outcome. */
async function verify(be: PowerLossBackend, mode: Mode, out: Outcome, ctx: string): Promise<Verdict> {
  const name = await registerVfs(uniqueVfs("after"), be);
  const db = await Database.open(DB, {
    journalMode: mode.journalMode,
    synchronous: mode.synchronous,
    busyTimeoutMs: 50,
    vfs: name,
  });
  try {
    assert.equal(db.integrityCheck(), "ok", `${ctx}: integrity_check`);
    const hasSchema = db.get<{ n: number }>(
      "SELECT count(*) AS n FROM sqlite_schema WHERE name IN ('t', 'counter')",
    )!.n;
    assert.ok(hasSchema === 0 || hasSchema === 2, `${ctx}: half a schema (${hasSchema} tables)`);
    const required = out.committed.slice(0, out.required);
    if (hasSchema === 0) {
      assert.equal(required.length, 0, `${ctx}: the durable schema transaction was lost`);
      return { rows: 0, lostCommitted: out.committed.length, inFlightSurvived: false };
    }
    const rows = db.all<{ seq: number; pad: Uint8Array }>("SELECT seq, pad FROM t ORDER BY seq");
    const counter = db.get<{ n: number }>("SELECT n FROM counter WHERE id = 1");
    assert.ok(counter, `${ctx}: counter row missing`);
    assert.equal(counter.n, rows.length, `${ctx}: counter disagrees with the rows (a partial transaction)`);
    // Present rows are exactly 1..m: no holes, nothing beyond what was attempted.
    rows.forEach((r, i) => assert.equal(r.seq, i + 1, `${ctx}: rows are not a prefix: ${rows.map((x) => x.seq)}`));
    const m = rows.length;
    assert.ok(m <= out.attempted, `${ctx}: row ${m} was never attempted (attempted ${out.attempted})`);
    for (const r of rows) {
      assert.deepEqual(r.pad, payload(r.seq), `${ctx}: payload of row ${r.seq} differs`);
    }
    // Everything the protocol promised durable is there.
    const lastRequired = required.length ? required[required.length - 1] : -1;
    assert.ok(m >= lastRequired, `${ctx}: lost durable transaction ${lastRequired} (rows 1..${m})`);
    const lastCommitted = out.committed.length ? out.committed[out.committed.length - 1] : -1;
    return {
      rows: m,
      lostCommitted: Math.max(0, lastCommitted - m),
      inFlightSurvived: m > lastCommitted,
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

interface Tally {
  cases: number;
  crashedMidway: number;
  lostWrites: number;
  tornWrites: number;
  diverged: number;
  lostCommitted: number;
  inFlightSurvived: number;

  codes: Map<string, number>;
}

function tallyReport(t: Tally, rep: CrashReport): void {
  if (rep.droppedWrites > 0 || rep.droppedTruncates > 0) t.lostWrites++;
  if (rep.tornWrites > 0) t.tornWrites++;
  if (rep.filesDiverged.length > 0) t.diverged++;
}

for (const mode of MODES) {
  Deno.test(`power loss: ${mode.label}, ${CASES_PER_MODE} random crash points`, async () => {
    const started = performance.now();
    const opsPerRun = await calibrate(mode);
    const t: Tally = {
      cases: 0,
      crashedMidway: 0,
      lostWrites: 0,
      tornWrites: 0,
      diverged: 0,
      lostCommitted: 0,
      inFlightSurvived: 0,

      codes: new Map(),
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
      const after = be.crash(rng);
      let v: Verdict;
      try {
        v = await verify(after, mode, out, ctx);
      } catch (e) {
        const rep = after.crashReport!;
        console.error(
          `${ctx}: crash after op ${crashAt}, policy ${rep.policy}, committed ${out.committed.length - 1}, ` +
            `attempted ${out.attempted}, required ${out.required}, report ${JSON.stringify(rep)}`,
        );
        throw e;
      }
      t.cases++;
      if (out.crashedMidway) t.crashedMidway++;
      for (const c of out.codes) t.codes.set(c, (t.codes.get(c) ?? 0) + 1);
      tallyReport(t, after.crashReport!);
      if (v.lostCommitted > 0) t.lostCommitted++;
      if (v.inFlightSurvived) t.inFlightSurvived++;

    }
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `power loss ${mode.label}: ${t.cases} cases (~${opsPerRun} ops per full run), ` +
        `${t.crashedMidway} crashed mid-workload, ${t.lostWrites} lost unsynced writes, ` +
        `${t.tornWrites} tore a write, ${t.diverged} left a file differing from the process's view, ` +
        `${t.lostCommitted} lost commits that were not yet durable, ${t.inFlightSurvived} kept the in-flight ` +
        `transaction; error codes seen ${JSON.stringify(Object.fromEntries(t.codes))}; ${secs}s`,
    );
    assert.ok(t.crashedMidway > 0, "no crash interrupted the workload");
    assert.ok(t.lostWrites > 0, "no crash lost an unsynced write");
    assert.ok(t.tornWrites > 0, "no crash tore a write");
    if (mode.synchronous === "normal") {
      assert.ok(t.lostCommitted > 0, "WAL+normal never lost a not-yet-synced commit: the simulation is too kind");
    } else {
      assert.equal(t.lostCommitted, 0);
    }
  });
}
