/**
 * A write transaction after a pause: agents write between model turns, and
 * many processes wait their turn at the writer queue, so most transactions
 * come after tens of milliseconds in which the process ran nothing. This
 * bench times, in one process and on a file of its own, bursts of 10 write
 * transactions (20 inserts each, WAL, synchronous=NORMAL) after a pause of
 * 0, 1, 10 and 60 ms: the first transaction of each burst against the
 * others, for Baton's storage and for Deno's native `node:sqlite` in the
 * same run (engines alternate within each pause). Checked: every row is
 * there. See docs/decisions/043-where-multi-process-write-time-goes.md.
 *
 * `deno task bench:pause [--turns 60]`
 */
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { Database } from "../src/storage/sqlite.ts";

const { values } = parseArgs({ options: { turns: { type: "string", default: "60" } } });
const TURNS = Number(values.turns), WARM_UP = 5, TX = 10, ROWS = 20;
const PAUSES = [0, 1, 10, 60];
const SCHEMA = "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INTEGER); CREATE INDEX t_b ON t(b)";

/** One engine's write transaction and row count. */
interface Writer {
  tx(turn: number, i: number): void;
  rows(): number;
  close(): void;
}

async function native(): Promise<Writer> {
  const db = new DatabaseSync(`${await Deno.makeTempDir()}/n.db`);
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; " + SCHEMA);
  const ins = db.prepare("INSERT INTO t(a, b) VALUES (?, ?)");
  return {
    tx(turn, i) {
      db.exec("BEGIN IMMEDIATE");
      for (let k = 0; k < ROWS; k++) ins.run(`row ${turn} ${i} ${k}`, (turn * 7919 + k) % 1000);
      db.exec("COMMIT");
    },
    rows: () => Number((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n),
    close: () => db.close(),
  };
}

async function baton(): Promise<Writer> {
  const db = await Database.open(`${await Deno.makeTempDir()}/b.db`);
  db.exec(SCHEMA);
  const ins = db.prepare("INSERT INTO t(a, b) VALUES (?, ?)");
  return {
    tx(turn, i) {
      db.transaction(() => {
        for (let k = 0; k < ROWS; k++) ins.run([`row ${turn} ${i} ${k}`, (turn * 7919 + k) % 1000]);
      });
    },
    rows: () => db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n,
    close: () => db.close(),
  };
}

const cell = new Int32Array(new SharedArrayBuffer(4));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Medians (ms) of a burst's first transaction and of the others, after `pause` ms without a write. */
function bursts(w: Writer, pause: number): { first: number; rest: number } {
  const first: number[] = [], rest: number[] = [];
  for (let turn = 0; turn < TURNS + WARM_UP; turn++) {
    if (pause) Atomics.wait(cell, 0, 0, pause); // the thread sleeps: nothing of this process runs
    for (let i = 0; i < TX; i++) {
      const t0 = performance.now();
      w.tx(turn, i);
      const dt = performance.now() - t0;
      if (turn >= WARM_UP) (i === 0 ? first : rest).push(dt);
    }
  }
  if (w.rows() !== (TURNS + WARM_UP) * TX * ROWS) throw new Error("invariant: a committed row is missing");
  return { first: median(first), rest: median(rest) };
}

const f = (x: number) => x.toFixed(3).padStart(7);
console.log(`write transactions (${ROWS} inserts) in bursts of ${TX} after a pause; medians of ${TURNS} bursts, ms`);
console.log("pause    native first   rest    baton first   rest    first/rest: native  baton   baton ÷ native (first)");
for (const pause of PAUSES) {
  const r: Record<string, { first: number; rest: number }> = {};
  for (
    const [name, open] of pause % 2 ? [["baton", baton], ["native", native]] as const : [["native", native], [
      "baton",
      baton,
    ]] as const
  ) {
    const w = await open();
    try {
      r[name] = bursts(w, pause);
    } finally {
      w.close();
    }
  }
  const { native: n, baton: b } = r;
  console.log(
    `${String(pause).padStart(3)} ms  ${f(n.first)}      ${f(n.rest)}   ${f(b.first)}     ${f(b.rest)}         ${
      (n.first / n.rest).toFixed(2)
    }×   ${(b.first / b.rest).toFixed(2)}×   ${(b.first / n.first).toFixed(2)}×`,
  );
}
