/**
 * Engine benchmark, with every baseline measured in the same run:
 *
 * - seeding 2,000 tickets (one transaction each, as an import does) and
 *   re-resolving all of them;
 * - `claimNext` p50/p99 with 200, 10,000 and 100,000 tickets (each claim
 *   followed by an untimed complete, as an agent works one phase at a time);
 * - 8 processes claiming + completing to exhaustion (claims/s), checked:
 *   every phase claimed once, none twice; and where their write time went
 *   (how busy the write lock was, the wait for a turn at the writer queue,
 *   a turn's first transaction against the others: `Database.writeStats`).
 *   Twice: with fresh processes, and with processes that first worked a
 *   separate backlog of `--warm` tickets (V8 optimises a process's code
 *   over its first ~1,000 pairs; a `baton-mcp` lives for a whole session).
 *
 * The Python engine Baton replaces ("the peer") is measured in the same run
 * when `--peer` names its harness (a rebuild of danielnewman09/workflow-engine
 * driven like this bench; it is not part of this repository: see
 * docs/benchmarks.md for how to rebuild it). Rounds alternate Baton and the
 * peer; medians over rounds are printed with their min–max, and ratios are
 * taken within a round.
 *
 * `deno task bench:engine [--rounds 3] [--peer /path/to/harness.py] [--big 100000] [--peer-big] [--warm 4000]`
 */
import { parseArgs } from "node:util";
import { openEngine } from "../mod.ts";
import { EXAMPLE_PHASES, tempRepo } from "../tests/helpers/repo.ts";
import { readWorkerOutput } from "./worker_output.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    peer: { type: "string" },
    big: { type: "string", default: "100000" },
    "peer-big": { type: "boolean", default: false },
    warm: { type: "string", default: "4000" },
  },
});
const ROUNDS = Number(values.rounds);
const BIG = Number(values.big);
const PEER = values.peer;
/** Tickets of the separate backlog each 8-process run's workers work first in the warmed run (~1,000 pairs each). */
const WARM = Number(values.warm);

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const median = (xs: number[]) => pct(xs, 0.5);

async function seeded(n: number, bulk = false) {
  const repo = await tempRepo({ phases: EXAMPLE_PHASES });
  const engine = await openEngine(repo);
  const t0 = performance.now();
  const one = (i: number) =>
    engine.upsertTicket({
      id: String(i).padStart(6, "0"),
      title: `ticket ${i}`,
      metadata: { priority: ["Critical", "High", "Medium", "Low"][i % 4], needs_docs: i % 2 === 0 },
    });
  if (bulk) {
    engine.transaction(() => {
      for (let i = 0; i < n; i++) one(i);
    });
  } else for (let i = 0; i < n; i++) one(i);
  return { repo, engine, seedMs: performance.now() - t0 };
}

/** Seed 2,000 tickets, then resolve them all. */
async function batonSeed(): Promise<{ seed: number; resolve: number }> {
  const { engine, seedMs, repo } = await seeded(2000);
  const t0 = performance.now();
  engine.resolve();
  const resolve = performance.now() - t0;
  engine.close();
  await Deno.remove(repo, { recursive: true });
  return { seed: seedMs / 1000, resolve: resolve / 1000 };
}

/** claimNext latency with n tickets: 1,000 claims (or n) after 10 untimed, each completed untimed. */
async function batonClaim(n: number): Promise<{ p50: number; p99: number }> {
  const { engine, repo } = await seeded(n + 10, n > 20_000);
  const lat: number[] = [];
  const claims = Math.min(n, 1000);
  const warmUp = 10; // the first claims prepare the engine's SQL statements: not timed
  for (let i = 0; i < claims + warmUp; i++) {
    const agentId = `a${i % 8}`;
    const t = performance.now();
    const c = engine.claimNext({ agentId, capabilities: ["designer"] });
    if (i >= warmUp) lat.push(performance.now() - t);
    if (!c) throw new Error("invariant: the queue ran out of work");
    engine.complete(c.phase.id, { agentId, token: c.token });
  }
  engine.close();
  await Deno.remove(repo, { recursive: true });
  return { p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

/** Where the 8 processes' write time went (summed over their connections; see `Database.writeStats`). */
interface ProcsBreakdown {
  /** Share of the run's wall time some process was inside a write transaction (1 = the write lock never idle). */
  lockBusy: number;
  /** Mean ms a process waited for its turn at the writer queue. */
  waitPerTurn: number;
  /** Mean ms of the first transaction of a turn, and of the others. */
  firstTx: number;
  otherTx: number;
  /** Transactions per turn. */
  txPerTurn: number;
  /** Claims/s in each quarter of the run (by claims completed, all processes together). */
  quarters: number[];
}

/** A repository with the 8-process backlog: n tickets of two phases (Build, Check), seeded in one transaction. */
async function procsBacklog(n: number): Promise<string> {
  const repo = await tempRepo({
    phases: "phases:\n  - {name: Build, agent_type: worker}\n  - {name: Check, agent_type: worker}\n",
  });
  const engine = await openEngine(repo);
  engine.transaction(() => {
    for (let i = 0; i < n; i++) engine.upsertTicket({ id: `T${i}`, title: `t${i}` });
  });
  engine.close();
  return repo;
}

/**
 * 8 processes claim + complete a 2,000-ticket, 2-phase backlog to exhaustion. With `warm` > 0, each
 * process first works a separate backlog of that many tickets (shared by the 8), so that the claims
 * timed run in code V8 has already optimised, as in a long-lived `baton-mcp`; the peer gets the same.
 */
async function batonProcs(warm = 0): Promise<{ perSec: number; breakdown: ProcsBreakdown }> {
  const repo = await procsBacklog(2000);
  const warmRepo = warm > 0 ? await procsBacklog(warm) : undefined;
  const worker = new URL("../tests/helpers/claim_worker.ts", import.meta.url).pathname;
  const go = `${repo}/GO`;
  const children = Array.from({ length: 8 }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", worker, repo, `agent-${i}`, "worker", go, ...(warmRepo ? [warmRepo] : [])],
      stdout: "piped",
      stderr: "piped",
      env: { BATON_WRITE_STATS: "1" },
    }).spawn());
  const outs = children.map((c) => ({
    out: readWorkerOutput(c.stdout),
    err: new Response(c.stderr).text(),
    status: c.status,
  }));
  try {
    await Promise.all(outs.map((o) => o.out.ready)); // every process opened the engine (and warmed up)
  } catch (e) {
    for (const c of children) {
      try {
        c.kill(); // the others would wait for GO for ever
      } catch { /* this one has ended */ }
    }
    // Say why: what the workers that ended on their own wrote on stderr.
    const ended = await Promise.all(outs.map(async (o) => ({ status: await o.status, err: await o.err })));
    const why = ended.flatMap((w, i) =>
      w.status.signal ? [] : [`worker ${i} (exit ${w.status.code}): ${w.err.trim()}`]
    );
    throw new Error(`${(e as Error).message}\n${why.join("\n")}`);
  }
  const t0 = performance.now();
  await Deno.writeTextFile(go, "");
  const texts = await Promise.all(outs.map((o) => o.out.text));
  const wall = (performance.now() - t0) / 1000;
  const errs = await Promise.all(outs.map((o) => o.err));
  for (const [i, o] of outs.entries()) {
    if (!(await o.status).success) throw new Error(`worker ${i} failed: ${errs[i]}`);
  }
  const ids = texts.flatMap((t) => t.split("\n").filter(Boolean));
  if (new Set(ids).size !== ids.length) throw new Error("invariant: a phase was claimed twice");
  if (ids.length !== 4000) throw new Error(`invariant: ${ids.length} of 4000 phases were claimed and completed`);
  await Deno.remove(repo, { recursive: true });
  if (warmRepo) await Deno.remove(warmRepo, { recursive: true });
  const stats = errs.map((e) => JSON.parse(e.trim().split("\n").at(-1)!));
  const sum = (k: string) => stats.reduce((a, w) => a + w[k], 0);
  // Each process claims and completes: two write transactions per phase.
  if (sum("transactions") < 2 * ids.length) throw new Error("invariant: fewer write transactions than claims");
  const turns = sum("turns");
  const at = stats.flatMap((w) => w.at as number[]).sort((a, b) => a - b);
  const q = Math.floor(at.length / 4);
  const quarters = [0, 1, 2, 3].map((k) => (q - 1) / ((at[(k + 1) * q - 1] - at[k * q]) / 1000));
  return {
    perSec: ids.length / wall,
    breakdown: {
      lockBusy: sum("heldMs") / (wall * 1000),
      waitPerTurn: sum("waitMs") / turns,
      firstTx: sum("firstOfTurnMs") / turns,
      otherTx: (sum("heldMs") - sum("firstOfTurnMs")) / (sum("transactions") - turns),
      txPerTurn: sum("transactions") / turns,
      quarters,
    },
  };
}

/** One scenario of the peer's harness (one line of JSON). */
async function peer(args: string[]): Promise<Record<string, number>> {
  const out = await new Deno.Command("python3", { args: [PEER!, ...args], stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`peer ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  if (r.double_claims) throw new Error(`invariant: the peer claimed ${r.double_claims} phase(s) twice`);
  return r;
}

type Row = Record<string, number>;
const rounds: Row[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const row: Row = {};
  const baton = async () => {
    const s = await batonSeed();
    row["baton seed 2,000 (s)"] = s.seed;
    row["baton resolve all (s)"] = s.resolve;
    for (const n of [200, 10_000, BIG]) {
      const c = await batonClaim(n);
      row[`baton claim p50 @${n} (ms)`] = c.p50;
      row[`baton claim p99 @${n} (ms)`] = c.p99;
    }
    const procs = await batonProcs();
    row["baton 8 procs (claims/s)"] = procs.perSec;
    row["  write lock busy (share of wall)"] = procs.breakdown.lockBusy;
    row["  wait for a turn (ms)"] = procs.breakdown.waitPerTurn;
    row["  transactions per turn"] = procs.breakdown.txPerTurn;
    row["  a turn's first transaction (ms)"] = procs.breakdown.firstTx;
    row["  its other transactions (ms)"] = procs.breakdown.otherTx;
    procs.breakdown.quarters.forEach((x, k) => row[`  claims/s in quarter ${k + 1} of the run`] = x);
    const warmed = await batonProcs(WARM);
    row["baton 8 procs, warmed (claims/s)"] = warmed.perSec;
    row["  warmed: write lock busy"] = warmed.breakdown.lockBusy;
    row["  warmed: transactions per turn"] = warmed.breakdown.txPerTurn;
    row["  warmed: a turn's first transaction"] = warmed.breakdown.firstTx;
    row["  warmed: its other transactions"] = warmed.breakdown.otherTx;
    warmed.breakdown.quarters.forEach((x, k) => row[`  warmed: claims/s in quarter ${k + 1}`] = x);
  };
  const peerRound = async () => {
    if (!PEER) return;
    const s = await peer(["seed", "2000", "--sync", "NORMAL"]);
    row["peer seed 2,000 (s)"] = s.seed_s;
    row["peer resolve all (s)"] = s.reresolve_s;
    for (const n of [200, 10_000, ...(values["peer-big"] ? [BIG] : [])]) {
      const c = await peer(["claim", String(n), "--sync", "NORMAL", ...(n > 20_000 ? ["--bulk-seed"] : [])]);
      row[`peer claim p50 @${n} (ms)`] = c.p50_ms;
      row[`peer claim p99 @${n} (ms)`] = c.p99_ms;
    }
    for (const sync of ["NORMAL", "FULL"]) {
      row[`peer ${sync} 8 procs (claims/s)`] = (await peer(["procs", "8", "--sync", sync])).claims_per_s;
    }
    row["peer NORMAL 8 procs, warmed (claims/s)"] =
      (await peer(["procs", "8", "--sync", "NORMAL", "--warm", String(WARM)])).claims_per_s;
  };
  // Alternate who goes first: this shared machine's speed drifts from one minute to the next.
  if (r % 2 === 0) {
    await baton();
    await peerRound();
  } else {
    await peerRound();
    await baton();
  }
  rounds.push(row);
  console.error(`round ${r + 1}/${ROUNDS} done`);
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
console.log(
  `engine bench, ${ROUNDS} round(s), medians (min–max)${PEER ? "; the peer measured in the same rounds" : ""}`,
);
for (const key of Object.keys(rounds[0])) {
  const xs = rounds.map((r) => r[key]);
  console.log(`  ${key.padEnd(34)} ${fmt(median(xs)).padStart(8)}  (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`);
}
if (PEER) {
  const ratio = (a: string, b: string) => median(rounds.map((r) => r[a] / r[b]));
  console.log("ratios within a round (median): Baton / peer");
  console.log(
    `  8 procs vs peer NORMAL: ${ratio("baton 8 procs (claims/s)", "peer NORMAL 8 procs (claims/s)").toFixed(2)}×`,
  );
  console.log(
    `  8 procs vs peer FULL:   ${ratio("baton 8 procs (claims/s)", "peer FULL 8 procs (claims/s)").toFixed(2)}×`,
  );
  console.log(
    `  8 procs warmed vs peer NORMAL warmed: ${
      ratio("baton 8 procs, warmed (claims/s)", "peer NORMAL 8 procs, warmed (claims/s)").toFixed(2)
    }×`,
  );
  for (const n of [200, 10_000]) {
    console.log(
      `  claim p50 @${n}: ${
        ratio(`baton claim p50 @${n} (ms)`, `peer claim p50 @${n} (ms)`).toFixed(2)
      }× the peer's time`,
    );
  }
}
