/**
 * The storage torture run, shared by `tests/torture_test.ts` (small, in CI)
 * and `bench/torture.ts` (long runs). It starts writer, reader and
 * checkpointer processes on one database, SIGKILLs random writers (and now
 * and then every process at once) and restarts them, then verifies:
 * no slot claimed twice, every logged commit present, integrity through
 * Baton and through the native `sqlite3` CLI, the WAL bounded, and counters
 * proving the risky paths ran.
 */

import { Database, type JournalMode } from "../../src/storage/sqlite.ts";

/** Parameters of one run. */
export interface TortureOptions {
  /** Journal mode under test. */
  mode: JournalMode;
  /** Writer processes. */
  writers: number;
  /** Connections per writer process, cycled (some writers get several). */
  connsPerWriter: number[];
  /** Reader processes. */
  readers: number;
  /** Slots to claim (the run ends when all are claimed). */
  slots: number;
  /** SIGKILLs of single writers to deliver. */
  kills: number;
  /** Times every process is killed at once. */
  killAlls: number;
  /** Milliseconds between kills (randomised ±50%). */
  killEveryMs: number;
  /** Processes that linger inside spilled, never-committed transactions (default 1). */
  spillers?: number;
  /** Directory to work in (a temp dir by default). */
  dir?: string;
  /** Seed for the harness randomness. */
  seed?: number;
  /** Print progress lines. */
  verbose?: boolean;
  /** Page checksums on (8 reserved bytes per page, as new Baton databases have; default true). */
  checksums?: boolean;
}

/** What a run found. */
export interface TortureReport {
  mode: JournalMode;
  /** Reserved bytes per page at the end (8: page checksums were on). */
  reserveBytes?: number;
  commitsLogged: number;
  commitsLost: number;
  rowsClaimed: number;
  duplicateClaims: number;
  violations: string[];
  integrityBaton: string;
  integrityNative: string | null;
  nativeEventCount: number | null;
  maxWalBytes: number;
  finalWalBytes: number;
  kills: number;
  spillerKills: number;
  killAlls: number;
  killAllsWithWal: number;
  hotJournalLocks: number;
  walRecoveries: number;
  dmsResets: number;
  assumptionViolations: number;
  /** Wal-index regions mapped shared (processes with an even seed map, the others use file I/O). */
  mappedRegions: number;
  fileRegions: number;
  seconds: number;
  commitsPerSecond: number;
  processStarts: number;
}

const worker = new URL("./torture_worker.ts", import.meta.url).pathname;

interface Proc {
  role: "writer" | "reader" | "checkpointer" | "spiller";
  index: number;
  child: Deno.ChildProcess;
  log: string;
  status: Promise<Deno.CommandStatus>;
  done: boolean;
}

/**
 * Runs one torture configuration.
 * @param o options
 * @returns the report
 */
export async function runTorture(o: TortureOptions): Promise<TortureReport> {
  const dir = o.dir ?? await Deno.makeTempDir({ prefix: "baton-torture-" });
  const db = `${dir}/torture.db`;
  const stop = `${dir}/STOP`;
  let seed = (o.seed ?? 42) >>> 0 || 1;
  const rand = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  const t0 = performance.now();

  {
    // Checksums need the reserved bytes before the first page is written (opening in WAL mode writes one).
    const init = await Database.open(db, { journalMode: o.checksums !== false ? "delete" : o.mode });
    if (o.checksums !== false) init.setReserveBytes(8);
    init.exec(`
      CREATE TABLE slots(id INTEGER PRIMARY KEY, claimed_by TEXT, txid TEXT);
      CREATE INDEX slots_free ON slots(claimed_by, id);
      CREATE TABLE events(id INTEGER PRIMARY KEY, slot INTEGER NOT NULL, txid TEXT NOT NULL, writer TEXT NOT NULL, pad BLOB);
      CREATE TABLE stats(id INTEGER PRIMARY KEY, claimed INTEGER NOT NULL);
      CREATE TABLE junk(id INTEGER PRIMARY KEY, pad BLOB);
      INSERT INTO stats VALUES (1, 0);
    `);
    init.transaction(() => {
      for (let i = 1; i <= o.slots; i++) init.run("INSERT INTO slots(id) VALUES (?)", [i]);
    });
    init.close();
  }

  let starts = 0;
  const start = (role: Proc["role"], index: number): Proc => {
    const log = `${dir}/${role}-${index}-${starts++}.log`;
    const conns = role === "writer" ? o.connsPerWriter[index % o.connsPerWriter.length] : 1;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", worker, role, db, o.mode, log, stop, String(conns), String(Math.floor(rand() * 2 ** 31))],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const p: Proc = { role, index, child, log, status: child.status, done: false };
    p.status.then(() => (p.done = true));
    return p;
  };

  const writers: Proc[] = [];
  const others: Proc[] = [];
  for (let i = 0; i < o.writers; i++) writers.push(start("writer", i));
  for (let i = 0; i < o.readers; i++) others.push(start("reader", i));
  if (o.mode === "wal") others.push(start("checkpointer", 0));
  const spillers: Proc[] = [];
  for (let i = 0; i < (o.spillers ?? 1); i++) spillers.push(start("spiller", i));
  const allLogs: string[] = [...writers, ...others, ...spillers].map((p) => p.log);
  const stderrOf = new Map<Proc, Promise<string>>();
  const watchStderr = (p: Proc) => stderrOf.set(p, new Response(p.child.stderr).text());
  [...writers, ...others, ...spillers].forEach(watchStderr);

  const finished = (p: Proc) => {
    try {
      return Deno.readTextFileSync(p.log).split("\n").includes("DONE");
    } catch {
      return false;
    }
  };

  let kills = 0, killAlls = 0, killAllsWithWal = 0, spillerKills = 0;
  const spilledNow = (p: Proc) => {
    try {
      const lines = Deno.readTextFileSync(p.log).trimEnd().split("\n");
      return lines.at(-1) === "SPILLED";
    } catch {
      return false;
    }
  };
  const failures: string[] = [];
  const restart = (p: Proc, list: Proc[]): Proc => {
    const q = start(p.role, p.index);
    watchStderr(q);
    list[list.indexOf(p)] = q;
    allLogs.push(q.log);
    return q;
  };

  const totalKillEvents = o.kills + o.killAlls;
  const killAllAt = new Set<number>();
  for (let k = 1; k <= o.killAlls; k++) killAllAt.add(Math.floor((k * totalKillEvents) / (o.killAlls + 1)));
  let event = 0;
  while (true) {
    const live = writers.filter((p) => !p.done);
    if (live.length === 0) break;
    if (kills + killAlls >= totalKillEvents) {
      await Promise.race(live.map((p) => p.status));
      continue;
    }
    await new Promise((r) => setTimeout(r, o.killEveryMs * (0.5 + rand())));
    if (killAllAt.has(event++)) {
      const victims = [...writers, ...others, ...spillers].filter((p) => !p.done);
      for (const p of victims) {
        try {
          p.child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
      await Promise.all(victims.map((p) => p.status));
      try {
        if (Deno.statSync(`${db}-wal`).size > 32) killAllsWithWal++;
      } catch { /* no WAL */ }
      killAlls++;
      const restarted: Proc[] = [];
      for (const p of victims) {
        if (finished(p)) continue;
        restarted.push(restart(p, writers.includes(p) ? writers : spillers.includes(p) ? spillers : others));
      }
      // The first process to open after a kill-all resets the wal-index (the dead-man switch) and says so in its
      // first stats line, written right after it opens: no kill lands until every restarted process has written it
      // (a kill during a slow start-up lost the only record of the reset).
      const startedUp = (q: Proc) => {
        try {
          return q.done || /(^|\n)S /.test(Deno.readTextFileSync(q.log));
        } catch {
          return false;
        }
      };
      const until = performance.now() + 60_000;
      while (!restarted.every(startedUp) && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
      if (o.verbose) console.log(`kill-all #${killAlls} at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      continue;
    }
    const candidates = writers.filter((p) => !p.done);
    if (candidates.length === 0) break;
    // Every other kill goes to a spiller caught inside its spilled transaction.
    let spiller: Proc | undefined;
    if (kills % 2 === 1 && spillers.length > 0) {
      const deadline = performance.now() + 3000;
      while (!spiller && performance.now() < deadline) {
        spiller = spillers.find((p) => !p.done && spilledNow(p));
        if (!spiller) await new Promise((r) => setTimeout(r, 5));
      }
    }
    const victim = spiller ?? candidates[Math.floor(rand() * candidates.length)];
    try {
      victim.child.kill("SIGKILL");
    } catch { /* raced with its exit */ }
    await victim.status;
    kills++;
    if (victim === spiller) spillerKills++;
    if (!finished(victim)) restart(victim, victim === spiller ? spillers : writers);
    if (o.verbose && kills % 10 === 0) {
      console.log(`kills ${kills} at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }

  // Writers finished: stop readers and the checkpointer.
  Deno.writeTextFileSync(stop, "");
  for (const p of [...others, ...spillers]) await p.status;
  for (const p of [...writers, ...others, ...spillers]) {
    const st = await p.status;
    if (!st.success && st.signal !== "SIGKILL") {
      failures.push(`${p.role} ${p.index} exited ${st.code}: ${(await stderrOf.get(p))?.slice(-2000)}`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;

  // Collect logs.
  const committed = new Map<string, number>();
  let maxWal = 0;
  const counters = {
    hotJournalLocks: 0,
    walRecoveries: 0,
    dmsResets: 0,
    assumptionViolations: 0,
    mappedRegions: 0,
    fileRegions: 0,
  };
  for (const path of allLogs) {
    let text = "";
    try {
      text = Deno.readTextFileSync(path);
    } catch {
      continue;
    }
    let last: Record<string, number> | undefined;
    for (const line of text.split("\n")) {
      if (line.startsWith("C ")) {
        const [, txid, slot] = line.split(" ");
        committed.set(txid, Number(slot));
      } else if (line.startsWith("V ")) failures.push(`${path}: ${line}`);
      else if (line.startsWith("W ")) maxWal = Math.max(maxWal, Number(line.slice(2)));
      else if (line.startsWith("S ")) {
        try {
          last = JSON.parse(line.slice(2));
        } catch { /* torn last line of a killed process */ }
      }
    }
    if (last) { for (const k of Object.keys(counters) as (keyof typeof counters)[]) counters[k] += last[k] ?? 0; }
  }

  // Verify through Baton.
  const check = await Database.open(db, { journalMode: o.mode });
  const integrityBaton = check.integrityCheck();
  let lost = 0;
  for (const [txid, slot] of committed) {
    const row = check.get<{ slot: number }>("SELECT slot FROM events WHERE txid = ?", [txid]);
    if (!row || row.slot !== slot) lost++;
  }
  const dup = check.get<{ n: number }>(
    "SELECT count(*) AS n FROM (SELECT slot FROM events GROUP BY slot HAVING count(*) > 1)",
  )!.n;
  const claimed = check.get<{ n: number }>("SELECT count(*) AS n FROM slots WHERE claimed_by IS NOT NULL")!.n;
  const events = check.get<{ n: number }>("SELECT count(*) AS n FROM events")!.n;
  const counter = check.get<{ claimed: number }>("SELECT claimed FROM stats")!.claimed;
  const reserveBytes = check.reserveBytes;
  if (o.checksums !== false && reserveBytes !== 8) failures.push(`page checksums were off (reserve ${reserveBytes})`);
  if (claimed !== events || events !== counter) failures.push(`final counts differ: ${claimed}/${events}/${counter}`);
  if (claimed !== o.slots) failures.push(`only ${claimed} of ${o.slots} slots claimed`);
  check.close();
  let finalWal = 0;
  try {
    finalWal = Deno.statSync(`${db}-wal`).size;
  } catch { /* removed on last close */ }

  // Verify through the native sqlite3 CLI, now that no Baton process has it open.
  let integrityNative: string | null = null;
  let nativeEventCount: number | null = null;
  try {
    const out = await new Deno.Command("sqlite3", {
      args: [db, "PRAGMA integrity_check;", "SELECT count(*) FROM events;"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    integrityNative = lines.slice(0, -1).join("\n");
    nativeEventCount = Number(lines.at(-1));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }

  return {
    mode: o.mode,
    reserveBytes,
    commitsLogged: committed.size,
    commitsLost: lost,
    rowsClaimed: claimed,
    duplicateClaims: dup,
    violations: failures,
    integrityBaton,
    integrityNative,
    nativeEventCount,
    maxWalBytes: maxWal,
    finalWalBytes: finalWal,
    kills,
    spillerKills,
    killAlls,
    killAllsWithWal,
    ...counters,
    seconds,
    commitsPerSecond: claimed / seconds,
    processStarts: starts,
  };
}
