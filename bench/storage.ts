/**
 * Storage benchmark: the claim transaction (BEGIN IMMEDIATE; UPDATE … WHERE
 * id = (SELECT … LIMIT 1) AND claimed_by IS NULL RETURNING id; INSERT an
 * event; COMMIT) on Baton WAL, Baton rollback (TRUNCATE, synchronous=FULL)
 * and Deno's native `node:sqlite` in WAL (synchronous=NORMAL), measured in
 * this run: one process, then 6 processes on one file; plus cold start.
 *
 * `deno task bench:storage [--count 3000] [--procs 6]`
 */
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "3000" },
    procs: { type: "string", default: "6" },
    "cold-only": { type: "boolean", default: false },
  },
});
const COUNT = Number(values.count), PROCS = Number(values.procs);
const worker = new URL("./storage_worker.ts", import.meta.url).pathname;
const engines = ["native-wal", "baton-wal", "baton-truncate"] as const;

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

async function run(engine: string, procs: number) {
  const dir = await Deno.makeTempDir({ prefix: "baton-bench-" });
  const path = `${dir}/bench.db`;
  setup(path, COUNT * procs + 10);
  const go = `${dir}/GO`;
  const children = Array.from(
    { length: procs },
    () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", worker, engine, path, String(COUNT), go],
        stdout: "piped",
        stderr: "piped",
      })
        .output(),
  );
  await new Promise((r) => setTimeout(r, 1500)); // let every process load and open
  await Deno.writeTextFile(go, "");
  const outs = await Promise.all(children);
  const results = outs.map((o) => {
    if (o.code !== 0) throw new Error(new TextDecoder().decode(o.stderr));
    return JSON.parse(new TextDecoder().decode(o.stdout)) as { start: number; end: number; lat: number[] };
  });
  const lat = results.flatMap((r) => r.lat).sort((a, b) => a - b);
  const wall = Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start));
  await Deno.remove(dir, { recursive: true });
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

const rows: Record<string, Record<string, number>> = {};
for (const e of values["cold-only"] ? [] : engines) {
  const one = await run(e, 1);
  const many = await run(e, PROCS);
  rows[e] = { p50: one.p50, p99: one.p99, tps1: one.tps, [`tps${PROCS}`]: many.tps, p50n: many.p50, p99n: many.p99 };
}
const n = rows["native-wal"];
if (n) console.log(`claim transaction, ${COUNT} per process (medians of per-transaction latency, ms)`);
if (n) {
  console.log(
    "engine           1p p50   1p p99   1p tps   p50/native  " +
      `${PROCS}p tps   ${PROCS}p tps/native  ${PROCS}p p50  ${PROCS}p p99`,
  );
}
for (const e of n ? engines : []) {
  const r = rows[e];
  console.log(
    `${e.padEnd(15)} ${r.p50.toFixed(3).padStart(7)}  ${r.p99.toFixed(3).padStart(7)}  ${
      r.tps1.toFixed(0).padStart(7)
    }  ${(r.p50 / n.p50).toFixed(2).padStart(9)}x  ` +
      `${r[`tps${PROCS}`].toFixed(0).padStart(7)}  ${
        (100 * r[`tps${PROCS}`] / n[`tps${PROCS}`]).toFixed(0).padStart(10)
      }%  ${r.p50n.toFixed(3).padStart(7)}  ${r.p99n.toFixed(3).padStart(7)}`,
  );
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
