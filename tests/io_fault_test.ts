/**
 * Injected I/O faults on real files: a workload runs through a VFS whose
 * backend (`helpers/fault_backend.ts`) fails the N-th read, write, sync,
 * truncate, open, lock or unlock with an I/O error, a disk-full error or a
 * short write. For every N over the workload the failing call must surface
 * as a coded BatonError (never another exception, never a crash), and the
 * database reopened through the normal `baton` VFS must be intact and hold
 * exactly the transactions whose COMMIT returned.
 */

import assert from "node:assert/strict";
import { BatonError } from "../src/errors.ts";
import { shmStats } from "../src/storage/shm.ts";
import { Database, registerVfs } from "../src/storage/sqlite.ts";
import { FAULT_OPS, FaultBackend, type FaultKind, type FaultOp, type FaultPlan } from "./helpers/fault_backend.ts";

type Model = Map<number, string>;

interface Step {
  sql: string;
  params?: (string | number)[];
  apply(m: Model): void;
}

interface Txn {
  name: string;
  steps: Step[];
}

const insert = (k: number, v: string): Step => ({
  sql: "INSERT INTO kv(k, v) VALUES (?, ?)",
  params: [k, v],
  apply: (m) => {
    if (m.has(k)) throw new Error(`model: duplicate key ${k}`);
    m.set(k, v);
  },
});
const update = (k: number, v: string): Step => ({
  sql: "UPDATE kv SET v = ? WHERE k = ?",
  params: [v, k],
  apply: (m) => {
    if (m.has(k)) m.set(k, v);
  },
});
const remove = (k: number): Step => ({
  sql: "DELETE FROM kv WHERE k = ?",
  params: [k],
  apply: (m) => {
    m.delete(k);
  },
});

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** Baseline content, written through the normal VFS before each run. */
const BASE: [number, string][] = range(1, 20).map((k) => [k, `base-${k}-${"b".repeat(200)}`]);

/** The workload: small transactions, one that spills the cache, deletes. */
const TXNS: Txn[] = [
  { name: "insert", steps: range(100, 102).map((k) => insert(k, `a-${k}`)) },
  { name: "update", steps: range(1, 5).map((k) => update(k, `u-${k}`)) },
  // ~240 KiB against an 8-page cache: spills to the journal/WAL mid-transaction.
  { name: "spill", steps: range(1000, 1079).map((k) => insert(k, `${"x".repeat(3000)}-${k}`)) },
  { name: "delete", steps: [...range(6, 10).map(remove), update(1000, "short"), remove(1001)] },
  { name: "after-checkpoint", steps: [insert(200, "late"), update(1, "final"), ...range(1002, 1040).map(remove)] },
];

interface Mode {
  journalMode: "wal" | "truncate";
}

const MODES: Mode[] = [{ journalMode: "wal" }, { journalMode: "truncate" }];

/** Paths a fault may hit: the database, its WAL and its journal. */
const dataFile = (p: string) => !p.endsWith("-shm") && !p.includes("-lock");

interface RunResult {
  /** Errors thrown by Baton calls, in order: [where, code, message]. */
  errors: [string, string, string][];
  /** Non-Baton exceptions (always a failure). */
  foreign: string[];
  /** Candidate final states (several when a COMMIT failed after its commit point may or may not have stuck). */
  expected: Model[];
  /** Transactions whose COMMIT failed after the body ran. */
  commitFailures: string[];
  ms: number;
}

function cloneModel(m: Model): Model {
  return new Map(m);
}

async function makeBaseline(path: string, journalMode: Mode["journalMode"]): Promise<void> {
  const db = await Database.open(path, { journalMode });
  try {
    db.transaction(() => {
      db.run("CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
      for (const [k, v] of BASE) db.run("INSERT INTO kv(k, v) VALUES (?, ?)", [k, v]);
    });
  } finally {
    db.close();
  }
}

/** Runs the workload through the fault VFS; never throws. */
async function runWorkload(path: string, mode: Mode, vfs: string): Promise<RunResult> {
  const started = performance.now();
  const res: RunResult = { errors: [], foreign: [], expected: [new Map(BASE)], commitFailures: [], ms: 0 };
  const record = (where: string, e: unknown) => {
    if (e instanceof BatonError) res.errors.push([where, e.code, e.message]);
    else res.foreign.push(`${where}: ${e instanceof Error ? e.stack : String(e)}`);
  };
  let db: Database | undefined;
  try {
    db = await Database.open(path, { journalMode: mode.journalMode, vfs, busyTimeoutMs: 250 });
    db.exec("PRAGMA cache_size=8");
  } catch (e) {
    record("open", e);
  }
  if (db) {
    const d = db;
    for (const [i, txn] of TXNS.entries()) {
      let bodyDone = false;
      try {
        d.transaction(() => {
          for (const s of txn.steps) d.run(s.sql, s.params);
          bodyDone = true;
        });
        for (const m of res.expected) for (const s of txn.steps) s.apply(m);
      } catch (e) {
        record(`txn ${txn.name}`, e);
        if (bodyDone) {
          // The COMMIT itself failed: an error after the commit point (a
          // failed fsync of the truncated journal, say) may leave it
          // committed. Both outcomes stay acceptable, nothing else does.
          res.commitFailures.push(txn.name);
          const withIt = res.expected.map((m) => {
            const c = cloneModel(m);
            for (const s of txn.steps) s.apply(c);
            return c;
          });
          res.expected.push(...withIt);
        }
      }
      if (i === 3 && mode.journalMode === "wal") {
        try {
          d.checkpoint("truncate");
        } catch (e) {
          record("checkpoint", e);
        }
      }
    }
    try {
      d.close();
    } catch (e) {
      record("close", e);
    }
  }
  res.ms = performance.now() - started;
  return res;
}

/** Reads the database back through the normal VFS. */
async function readBack(path: string, mode: Mode): Promise<{ integrity: string; rows: Model }> {
  const db = await Database.open(path, { journalMode: mode.journalMode });
  try {
    const integrity = db.integrityCheck();
    const rows: Model = new Map();
    for (const r of db.all<{ k: number; v: string }>("SELECT k, v FROM kv ORDER BY k")) rows.set(r.k, r.v);
    return { integrity, rows };
  } finally {
    db.close();
  }
}

function sameModel(a: Model, b: Model): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function describeDiff(got: Model, want: Model): string {
  const missing = [...want.keys()].filter((k) => !got.has(k));
  const extra = [...got.keys()].filter((k) => !want.has(k));
  const changed = [...want.keys()].filter((k) => got.has(k) && got.get(k) !== want.get(k));
  return `missing ${missing.slice(0, 10)}${missing.length > 10 ? "…" : ""} (${missing.length}), ` +
    `extra ${extra.slice(0, 10)} (${extra.length}), changed ${changed.slice(0, 10)} (${changed.length})`;
}

/** Codes a fault of this kind may legitimately surface as. */
function allowedCodes(op: FaultOp, kind: FaultKind): string[] {
  const codes = kind === "io" ? ["database_io"] : ["database_full"];
  // SQLite reports a file it could not open as SQLITE_CANTOPEN.
  if (op === "open") codes.push("database_open_failed");
  return codes;
}

const PLANS: { op: FaultOp; kind: FaultKind }[] = [
  ...FAULT_OPS.map((op) => ({ op, kind: "io" as const })),
  ...FAULT_OPS.map((op) => ({ op, kind: "full" as const })),
  { op: "write", kind: "short" },
];

/** At most this many N per (mode, op, kind) sweep, spread evenly. */
const MAX_POINTS = 40;

function sweepPoints(count: number): number[] {
  if (count <= MAX_POINTS) return range(1, count);
  const pts = new Set<number>();
  for (let i = 0; i < MAX_POINTS; i++) pts.add(1 + Math.floor((i * count) / MAX_POINTS));
  pts.add(count);
  return [...pts].sort((a, b) => a - b);
}

for (const mode of MODES) {
  Deno.test(`I/O faults: ${mode.journalMode}`, async () => {
    const started = performance.now();
    const root = await Deno.makeTempDir({ prefix: "baton-iofault-" });
    const be = new FaultBackend();
    be.filter = Deno.env.get("FAULT_ALL") === "1" ? () => true : dataFile;
    const vfs = await registerVfs(`iofault-${mode.journalMode}`, be);
    const violations0 = shmStats.assumptionViolations;
    let serial = 0;
    const fresh = async () => {
      const dir = `${root}/r${++serial}`;
      await Deno.mkdir(dir);
      const path = `${dir}/baton.db`;
      await makeBaseline(path, mode.journalMode);
      return path;
    };
    try {
      // A clean run counts the operations of each class.
      be.reset();
      const cleanPath = await fresh();
      const clean = await runWorkload(cleanPath, mode, vfs);
      assert.deepEqual(clean.errors, []);
      const counts = { ...be.counts };
      const cleanBack = await readBack(cleanPath, mode);
      assert.equal(cleanBack.integrity, "ok");
      assert.ok(sameModel(cleanBack.rows, clean.expected[0]), "clean run content");

      let runs = 0, fired = 0, surfaced = 0, swallowed = 0, ambiguous = 0;
      const stuck: string[] = [];
      const codes = new Map<string, number>();
      const problems: string[] = [];
      let slowest = 0;
      for (const { op, kind } of PLANS) {
        for (const n of sweepPoints(counts[op])) {
          const plan: FaultPlan = { op, n, kind };
          const ctx = `${mode.journalMode} ${kind} fault on ${op} #${n}`;
          const path = await fresh();
          be.arm(plan);
          const res = await runWorkload(path, mode, vfs);
          const hit = be.fired;
          be.disarm();
          runs++;
          slowest = Math.max(slowest, res.ms);
          const where = hit ? ` (${hit.path.slice(root.length)})` : "";
          for (const f of res.foreign) problems.push(`${ctx}${where}: non-Baton exception: ${f}`);
          if (!hit) {
            if (res.errors.length) problems.push(`${ctx}: errors without a fault: ${JSON.stringify(res.errors)}`);
            continue;
          }
          fired++;
          if (res.errors.length === 0) swallowed++;
          else surfaced++;
          const allowed = allowedCodes(op, kind);
          for (const [at, code, msg] of res.errors) {
            codes.set(code, (codes.get(code) ?? 0) + 1);
            if (!allowed.includes(code)) problems.push(`${ctx}${where}: ${at} threw ${code}: ${msg}`);
          }
          if (res.errors.length > 1) {
            problems.push(`${ctx}${where}: one transient fault, ${res.errors.length} failures: ${JSON.stringify(res.errors)}`);
          }
          let back;
          try {
            back = await readBack(path, mode);
          } catch (e) {
            problems.push(`${ctx}${where}: reopening failed: ${e}`);
            continue;
          }
          if (back.integrity !== "ok") problems.push(`${ctx}${where}: integrity_check: ${back.integrity}`);
          const match = res.expected.findIndex((m) => sameModel(back.rows, m));
          if (match < 0) {
            problems.push(
              `${ctx}${where}: content is not the committed transactions: ${describeDiff(back.rows, res.expected[0])}; ` +
                `errors ${JSON.stringify(res.errors)}`,
            );
          }
          if (res.commitFailures.length) {
            ambiguous++;
            if (match > 0) stuck.push(`${kind} ${op} #${n}${where} (${res.commitFailures})`);
          }
        }
      }
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `I/O faults ${mode.journalMode}: op counts of a clean run ${JSON.stringify(counts)}; ${runs} runs, ` +
          `${fired} faults fired, ${surfaced} surfaced as errors, ${swallowed} absorbed by SQLite, ` +
          `${ambiguous} failed COMMITs (${stuck.length} of them had stuck: ${stuck.join("; ")}); codes ${
            JSON.stringify(Object.fromEntries(codes))
          }; slowest run ${slowest.toFixed(0)} ms; ${secs}s`,
      );
      if (problems.length) console.log(problems.join("\n"));
      assert.deepEqual(problems, []);
      assert.ok(surfaced > 0);
      assert.equal(shmStats.assumptionViolations, violations0, "shm assumption violations");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}
