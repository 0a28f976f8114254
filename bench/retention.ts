/**
 * A process's first write, with the tables the retention policy prunes full
 * (decision 054). Every writer process checks once an hour whether anything
 * is old enough to go; the check used to be a prune transaction that found
 * old rows by reading the idempotency keys (each with the answer it replays)
 * and the file declarations whole, holding every other writer back.
 *
 * Fresh processes open a repository and time their first write
 * (`registerAgent`, which the hourly check follows) and their second (a
 * `heartbeat`), alternating between a repository whose idempotency table
 * holds `--keys` recent keys (and a quarter as many released declarations)
 * and the baseline: the same repository without them, in the same run.
 * Checked: nothing was pruned (every key is recent), and each first write
 * began one write transaction (the check is a read when nothing is due).
 *
 * `deno task bench:retention [--keys 100000] [--rounds 7]`
 */
import { parseArgs } from "node:util";
import { openEngine } from "../mod.ts";
import { Database } from "../storage.ts";
import { EXAMPLE_PHASES, tempRepo } from "../tests/helpers/repo.ts";

const { values } = parseArgs({
  options: { keys: { type: "string", default: "100000" }, rounds: { type: "string", default: "7" } },
});
const KEYS = Number(values.keys), ROUNDS = Number(values.rounds);
const MOD = new URL("../mod.ts", import.meta.url).href;

/** A 200-ticket repository; with `keys` recent idempotency keys and keys/4 declarations released an hour ago. */
async function repoWith(keys: number): Promise<string> {
  const repo = await tempRepo({ phases: EXAMPLE_PHASES });
  const e = await openEngine(repo);
  e.createTickets(Array.from({ length: 200 }, (_, i) => ({ title: `ticket ${i}` })));
  const path = e.storageInfo().path;
  e.close();
  const db = await Database.open(path);
  const now = Date.now();
  // The size of a claim's answer, as claim_phase replays it.
  const answer = JSON.stringify({
    phaseId: 1,
    token: "t".repeat(36),
    ticket: { id: "0001", title: "A ticket title of a usual length", status: "active", priority: "High" },
    phase: { id: 1, name: "Design", status: "claimed", agentType: "designer", attempts: 1 },
    leaseExpiresAt: new Date(now).toISOString(),
    overlaps: [],
    next: "Call get_context, then declare_files and start_phase; finish with complete_phase or fail_phase.",
  });
  const phase = db.get<{ id: number }>("SELECT min(id) AS id FROM phases")!.id;
  db.transaction(() => {
    for (let i = 0; i < keys; i++) {
      db.run("INSERT INTO idempotency(key, agent_id, result, created_at) VALUES (?, ?, ?, ?)", [
        `key-${i}`,
        `agent-${i % 8}`,
        answer,
        now - 3_600_000 + i % 3_000_000,
      ]);
    }
    for (let i = 0; i < keys / 4; i++) {
      db.run(
        "INSERT INTO file_declarations(phase_id, agent_id, pattern, declared_at, released_at) VALUES (?, ?, ?, ?, ?)",
        [phase, `agent-${i % 8}`, `src/module_${i}.ts`, now - 7_200_000, now - 3_600_000],
      );
    }
  });
  db.close();
  return repo;
}

/** In a fresh process: the first and second writes (ms) and the write transactions the first began. */
async function firstWrite(repo: string, agent: string): Promise<Run> {
  const script = `
    import { openEngine } from ${JSON.stringify(MOD)};
    const e = await openEngine(${JSON.stringify(repo)});
    const before = e.storageInfo().writes.transactions;
    const t0 = performance.now();
    e.registerAgent(${JSON.stringify(agent)}, ["designer"]);
    const t1 = performance.now();
    const txs = e.storageInfo().writes.transactions - before;
    e.heartbeat(${JSON.stringify(agent)});
    const t2 = performance.now();
    e.close();
    console.log(JSON.stringify({ first: t1 - t0, second: t2 - t1, txs }));
  `;
  const out = await new Deno.Command(Deno.execPath(), { args: ["eval", script], stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const full = await repoWith(KEYS);
const empty = await repoWith(0);
/** One fresh process's writes. */
type Run = { first: number; second: number; txs: number };
const res: Record<"full" | "empty", Run[]> = { full: [], empty: [] };
for (let r = 0; r <= ROUNDS; r++) {
  // Round 0 warms the module cache; rounds alternate which repository goes first.
  const order: ["full" | "empty", string][] = r % 2
    ? [["empty", empty], ["full", full]]
    : [["full", full], ["empty", empty]];
  for (const [k, repo] of order) {
    const x = await firstWrite(repo, `agent-${k}-${r}`);
    if (r > 0) res[k].push(x);
  }
}
// Invariants: nothing was due, so nothing went and no run was recorded, and no first write began a second transaction.
for (const [k, repo] of [["full", full], ["empty", empty]] as const) {
  const e = await openEngine(repo);
  const path = e.storageInfo().path;
  e.close();
  const db = await Database.open(path);
  const count = (sql: string) => db.get<{ n: number }>(sql)!.n;
  const keys = count("SELECT count(*) AS n FROM idempotency");
  const declarations = count("SELECT count(*) AS n FROM file_declarations");
  const runs = count("SELECT count(*) AS n FROM audit WHERE action = 'maintenance.pruned'");
  db.close();
  const want = k === "full" ? KEYS : 0;
  if (keys !== want || declarations !== Math.ceil(want / 4) || runs !== 0) {
    throw new Error(`${k}: ${keys} keys, ${declarations} declarations, ${runs} prune run(s) left; nothing was due`);
  }
  const extra = res[k].filter((x) => x.txs !== 1).length;
  if (extra) throw new Error(`${k}: ${extra} first write(s) began more than one write transaction`);
}
const ms = (x: number) => `${x.toFixed(1)} ms`;
const f = (k: "full" | "empty", p: "first" | "second") => median(res[k].map((x) => x[p]));
console.log(`a fresh process's writes, medians of ${ROUNDS} alternating rounds:`);
console.log(
  `  ${KEYS.toLocaleString("en")} idempotency keys, ${(KEYS / 4).toLocaleString("en")} declarations: first write ${
    ms(f("full", "first"))
  }, second ${ms(f("full", "second"))}`,
);
console.log(
  `  baseline, the same repository without them:   first write ${ms(f("empty", "first"))}, second ${
    ms(f("empty", "second"))
  }`,
);
console.log(`  first write, full ÷ baseline: ${(f("full", "first") / f("empty", "first")).toFixed(2)}×`);
await Deno.remove(full, { recursive: true });
await Deno.remove(empty, { recursive: true });
