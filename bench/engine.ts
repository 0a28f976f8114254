/**
 * Engine benchmark, beside the earlier Python engine's figures measured on
 * this kind of machine (claim p50 0.26 ms / p99 1.04 ms at 200 tickets;
 * 8 processes 670–726 claims/s; resolving 2,000 tickets 4.66 s):
 *
 * - seeding 2,000 tickets (one transaction each, as an import does) and
 *   re-resolving all of them;
 * - `claimNext` p50/p99 with 200 and with 10,000 tickets;
 * - 8 processes claiming + completing to exhaustion (claims/s).
 *
 * `deno task bench:engine`
 */
import { openEngine } from "../mod.ts";
import { tempRepo } from "../tests/helpers/repo.ts";

const PHASES = Deno.readTextFileSync(new URL("../.workflow.example/phases.yaml", import.meta.url));
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const ms = (x: number) => `${x.toFixed(3)} ms`;

async function seeded(n: number) {
  const repo = await tempRepo({ phases: PHASES });
  const engine = await openEngine(repo);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    engine.upsertTicket({
      id: String(i).padStart(5, "0"),
      title: `ticket ${i}`,
      metadata: { priority: ["Critical", "High", "Medium", "Low"][i % 4], needs_docs: i % 2 === 0 },
    });
  }
  return { repo, engine, seedMs: performance.now() - t0 };
}

// 1. Seeding and resolving 2,000 tickets.
{
  const { engine, seedMs } = await seeded(2000);
  const t0 = performance.now();
  engine.resolve();
  const resolveMs = performance.now() - t0;
  console.log(
    `seed 2,000 tickets: ${(seedMs / 1000).toFixed(2)} s; resolve all: ${(resolveMs / 1000).toFixed(2)} s ` +
      `(Python engine: resolve 4.66 s)`,
  );
  engine.close();
}

// 2. claimNext latency at 200 and 10,000 tickets.
for (const n of [200, 10_000]) {
  const { engine } = await seeded(n + 10);
  const lat: number[] = [];
  const claims = Math.min(n, 1000);
  const warmUp = 10; // the first claims prepare the engine's SQL statements: not timed
  for (let i = 0; i < claims + warmUp; i++) {
    const t = performance.now();
    const agentId = `a${i % 8}`;
    const c = engine.claimNext({ agentId, capabilities: ["designer"] });
    if (i >= warmUp) lat.push(performance.now() - t);
    if (!c) throw new Error("ran out of work");
    // Agents work one phase at a time: finish it (not timed) before the next claim.
    engine.complete(c.phase.id, { agentId, token: c.token });
  }
  lat.sort((a, b) => a - b);
  console.log(
    `claimNext with ${n.toLocaleString("en")} tickets (${claims} claims after ${warmUp} untimed): p50 ${
      ms(pct(lat, 0.5))
    }, p99 ${ms(pct(lat, 0.99))} (Python at 200: p50 0.26 ms, p99 1.04 ms)`,
  );
  engine.close();
}

// 3. 8 processes claiming + completing to exhaustion.
{
  const repo = await tempRepo({
    phases: "phases:\n  - {name: Build, agent_type: worker}\n  - {name: Check, agent_type: worker}\n",
  });
  const engine = await openEngine(repo);
  engine.transaction(() => {
    for (let i = 0; i < 2000; i++) engine.upsertTicket({ id: `T${i}`, title: `t${i}` });
  });
  engine.close();
  const worker = new URL("../tests/helpers/claim_worker.ts", import.meta.url).pathname;
  const go = `${repo}/GO`;
  const running = Array.from({ length: 8 }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", worker, repo, `agent-${i}`, "worker", go],
      stdout: "piped",
    }).output());
  await new Promise((r) => setTimeout(r, 2000)); // every process started and opened the engine
  const t0 = performance.now();
  await Deno.writeTextFile(go, "");
  const outs = await Promise.all(running);
  const wall = (performance.now() - t0) / 1000;
  const total = outs.map((o) => new TextDecoder().decode(o.stdout).split("\n").filter((l) => l).length)
    .reduce((a, b) => a + b, 0);
  console.log(
    `8 processes claim+complete to exhaustion: ${total} claims in ${wall.toFixed(2)} s = ${
      (total / wall).toFixed(0)
    } claims/s (Python: 670–726 claims/s)`,
  );
}
