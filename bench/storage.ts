/**
 * Storage benchmark: the claim transaction (BEGIN IMMEDIATE; UPDATE … WHERE
 * id = (SELECT … LIMIT 1) AND claimed_by IS NULL RETURNING id; INSERT an
 * event; COMMIT) on Baton WAL (without and with page checksums), Baton rollback (TRUNCATE, synchronous=FULL)
 * and Deno's native `node:sqlite` in WAL (synchronous=NORMAL), measured in
 * this run: one process, then 6 processes on one file; plus cold start.
 *
 * Baton opens the file with the checkpoint mode an engine uses by default
 * (`database.checkpoint`, `auto` since decision 050), or `--checkpoint`.
 *
 * `deno task bench:storage [--count 3000] [--procs 6] [--rounds 3] [--warm 5000] [--checkpoint auto|background|inline] [--cold-only]`
 */
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { parseConfig } from "../src/config/config_file.ts";
import { readWorkerOutput } from "./worker_output.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "3000" },
    procs: { type: "string", default: "6" },
    rounds: { type: "string", default: "3" },
    "cold-only": { type: "boolean", default: false },
    checkpoint: { type: "string" },
    warm: { type: "string", default: "5000" },
  },
});
const CHECKPOINT = values.checkpoint ?? parseConfig("", "config.yaml").database.checkpoint;
if (!["auto", "background", "inline"].includes(CHECKPOINT)) throw new Error(`--checkpoint: ${CHECKPOINT}?`);
const COUNT = Number(values.count), PROCS = Number(values.procs), ROUNDS = Number(values.rounds);
const WARM = Number(values.warm);
const worker = new URL("./storage_worker.ts", import.meta.url).pathname;
const engines = ["native-wal", "baton-wal", "baton-wal-cksum", "baton-truncate"] as const;

function setup(path: string, slots: number) {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA page_size=4096;
    CREATE TABLE slots(id INTEGER PRIMARY KEY, claimed_by TEXT);
    CREATE INDEX slots_free ON slots(claimed_by, id);
    CREATE TABLE events(id INTEGER PRIMARY KEY, slot INTEGER, who TEXT, at INTEGER);`);
  db.exec("BEGIN");
  const ins = db.prepare("INSERT INTO slots(id) VALUES (?)");
  for (let i = 1; i <= slots; i++) ins.run(i);
  db.exec("COMMIT");
  db.close();
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))];

/** The same database with page checksums (8 reserved bytes per page, set by a VACUUM). */
async function withChecksums(path: string): Promise<void> {
  const { Database } = await import("../src/storage/sqlite.ts");
  const db = await Database.open(path, { journalMode: "delete" });
  db.setReserveBytes(8);
  db.exec("VACUUM");
  if (db.reserveBytes !== 8) throw new Error("checksums not enabled");
  db.close();
}

/** Invariants of a run: `n` slots claimed, each once, each with one event naming its claimer. */
function checkClaims(path: string, n: number) {
  const db = new DatabaseSync(path);
  const r = db.prepare(
    `SELECT (SELECT count(*) FROM slots WHERE claimed_by IS NOT NULL) AS claimed,
            (SELECT count(*) FROM events) AS events, (SELECT count(DISTINCT slot) FROM events) AS slots,
            (SELECT count(*) FROM events e JOIN slots s ON s.id = e.slot AND s.claimed_by = e.who) AS matched`,
  ).get() as { claimed: number; events: number; slots: number; matched: number };
  db.close();
  if (r.claimed !== n || r.events !== n || r.slots !== n || r.matched !== n) {
    throw new Error(`invariant: ${n} claims expected, found ${JSON.stringify(r)} in ${path}`);
  }
}

/** How long the workers may take to report ready (warm-up included), and then to finish. */
const READY_TIMEOUT_MS = 180_000, RUN_TIMEOUT_MS = 600_000;

/** `work`, or an error saying `what` once `ms` have passed without it settling. */
async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error(what)), ms));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `procs` processes run COUNT claim transactions each on one file; the clock
 * starts once every process has opened it. With `warm` > 0, each process
 * first runs `warm` transactions on another file shared by them (warm-up).
 */
async function run(engine: string, procs: number, warm = 0) {
  const dir = await Deno.makeTempDir({ prefix: "baton-bench-" });
  try {
    return await runIn(dir, engine, procs, warm);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function runIn(dir: string, engine: string, procs: number, warm: number) {
  const path = `${dir}/bench.db`;
  const warmPath = `${dir}/warm.db`;
  setup(path, COUNT * procs + 10);
  if (warm) setup(warmPath, warm * procs + 10);
  if (engine === "baton-wal-cksum") {
    await withChecksums(path);
    if (warm) await withChecksums(warmPath);
  }
  const go = `${dir}/GO`;
  const args = [worker, engine, path, String(COUNT), go, CHECKPOINT, ...(warm ? [warmPath, String(warm)] : [])];
  const children = Array.from(
    { length: procs },
    () => new Deno.Command(Deno.execPath(), { args: ["run", "-A", ...args], stdout: "piped", stderr: "piped" }).spawn(),
  );
  const outs = children.map((c) => ({
    out: readWorkerOutput(c.stdout),
    err: new Response(c.stderr).text(),
    status: c.status,
  }));
  /** Stops every worker still running (the others would wait for GO, or go on, for ever) and says why. */
  const abort = async (e: unknown): Promise<never> => {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch { /* this one has ended */ }
    }
    const errs = await Promise.all(outs.map((o) => o.err));
    throw new Error(`${engine}, ${procs} process(es): ${(e as Error).message}\n${errs.join("\n").trim()}`);
  };
  try {
    // Every process opened the file (after its warm-up).
    await within(Promise.all(outs.map((o) => o.out.ready)), READY_TIMEOUT_MS, "workers not ready in time");
  } catch (e) {
    await abort(e);
  }
  await Deno.writeTextFile(go, "");
  let results: { start: number; end: number; lat: number[] }[] = [];
  try {
    results = await within(
      Promise.all(outs.map(async (o) => {
        const [status, text, err] = await Promise.all([o.status, o.out.text, o.err]);
        if (!status.success) throw new Error(`a worker failed: ${err}`);
        return JSON.parse(text) as { start: number; end: number; lat: number[] };
      })),
      RUN_TIMEOUT_MS,
      "workers did not finish in time",
    );
  } catch (e) {
    await abort(e);
  }
  checkClaims(path, COUNT * procs);
  if (warm) checkClaims(warmPath, warm * procs);
  const lat = results.flatMap((r) => r.lat).sort((a, b) => a - b);
  const wall = Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start));
  return { p50: pct(lat, 0.5), p99: pct(lat, 0.99), tps: (COUNT * procs) / (wall / 1000) };
}

const config = new URL("../deno.json", import.meta.url).pathname;

/** Median over 7 runs of a probe script's own report of ms since process start. */
async function coldStart(script: string): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "baton-cold-" });
  const probe = `${dir}/probe.ts`;
  await Deno.writeTextFile(probe, script);
  const samples: number[] = [];
  for (let i = 0; i < 8; i++) {
    const o = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", config, probe],
      stdout: "piped",
    })
      .output();
    if (i > 0) samples.push(Number(new TextDecoder().decode(o.stdout).trim())); // the first run fills Deno's caches
  }
  await Deno.remove(dir, { recursive: true });
  return samples.sort((a, b) => a - b)[3];
}

// Engines take turns within each round, so a slow patch of this shared
// machine hits all of them; each figure is the median over rounds, and each
// ratio the median of the ratios measured within a round.
// Each round measures fresh processes, then warmed ones (WAL engines only:
// the rollback journal's fsyncs would add about a minute a round, for a figure no goal asks of it).
const warmedEngines = engines.filter((e) => e !== "baton-truncate");
type Round = Record<string, Record<string, number>>;
const rounds: { fresh: Round; warmed: Round }[] = [];
async function measure(list: readonly string[], warm: number): Promise<Round> {
  const round: Round = {};
  for (const e of list) {
    const one = await run(e, 1, warm);
    const many = await run(e, PROCS, warm);
    round[e] = { p50: one.p50, p99: one.p99, tps1: one.tps, tpsN: many.tps, p50n: many.p50, p99n: many.p99 };
  }
  for (const e of list) {
    round[e].p50ratio = round[e].p50 / round["native-wal"].p50;
    round[e].tpsNratio = round[e].tpsN / round["native-wal"].tpsN;
  }
  return round;
}
for (let r = 0; r < (values["cold-only"] ? 0 : ROUNDS); r++) {
  const fresh = await measure(engines, 0);
  rounds.push({ fresh, warmed: WARM ? await measure(warmedEngines, WARM) : {} });
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

function table(title: string, list: readonly string[], pick: (r: { fresh: Round; warmed: Round }) => Round) {
  console.log(title);
  console.log(
    "engine           1p p50   1p p99   1p tps   p50/native  " +
      `${PROCS}p tps   ${PROCS}p tps/native (range)  ${PROCS}p p50  ${PROCS}p p99`,
  );
  for (const e of list) {
    const m = (k: string) => median(rounds.map((r) => pick(r)[e][k]));
    const ratios = rounds.map((r) => 100 * pick(r)[e].tpsNratio);
    const range = `(${Math.min(...ratios).toFixed(0)}–${Math.max(...ratios).toFixed(0)}%)`;
    console.log(
      `${e.padEnd(15)} ${m("p50").toFixed(3).padStart(7)}  ${m("p99").toFixed(3).padStart(7)}  ${
        m("tps1").toFixed(0).padStart(7)
      }  ${m("p50ratio").toFixed(2).padStart(9)}x  ` +
        `${m("tpsN").toFixed(0).padStart(7)}  ${(median(ratios).toFixed(0) + "%").padStart(10)} ${
          range.padStart(11)
        }  ${m("p50n").toFixed(3).padStart(7)}  ${m("p99n").toFixed(3).padStart(7)}`,
    );
  }
}
if (rounds.length) {
  table(
    `claim transaction, ${COUNT} per process, ${rounds.length} rounds (medians over rounds; ratios to native within a round); Baton's checkpoints: ${CHECKPOINT}\n` +
      "fresh processes:",
    engines,
    (r) => r.fresh,
  );
  if (WARM) {
    table(
      `warmed processes (each first ran ${WARM} claim transactions on another file shared by the processes):`,
      warmedEngines,
      (r) => r.warmed,
    );
  }
}

const dir = await Deno.makeTempDir();
setup(`${dir}/cold.db`, 10);
{
  // Baton opens it in WAL mode once, as a real repository database would be.
  const { Database } = await import("../src/storage/sqlite.ts");
  (await Database.open(`${dir}/cold.db`)).close();
}
const src = new URL("../src/storage/sqlite.ts", import.meta.url).href;
const cold = {
  empty: await coldStart(`console.log(performance.now())`),
  native: await coldStart(
    `import { DatabaseSync } from "node:sqlite"; const db = new DatabaseSync(${
      JSON.stringify(`${dir}/cold.db`)
    }); db.prepare("SELECT count(*) FROM slots").get(); console.log(performance.now());`,
  ),
  baton: await coldStart(
    `import { Database } from ${JSON.stringify(src)}; const db = await Database.open(${
      JSON.stringify(`${dir}/cold.db`)
    }); db.get("SELECT count(*) FROM slots"); console.log(performance.now());`,
  ),
};
console.log(
  `cold start (process start → open + one query, median of 7 after a warm-up run, ms): baton ${
    cold.baton.toFixed(1)
  }, native node:sqlite ${cold.native.toFixed(1)}, empty script ${cold.empty.toFixed(1)}`,
);
