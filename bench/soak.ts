/**
 * Soak: one `baton-mcp --http` server and 8 stdio servers (8 agent sessions)
 * under mixed load for a while: claims, starts, heartbeats, completions,
 * `get_ticket`, `get_metrics`, HTTP readers, and a library `watch()`; tickets
 * are topped up as they run out. Retention is on (idempotency keys kept for
 * 36 s, so that pruning runs during the soak).
 *
 * Prints, at the start, after a warm-up and at the end: RSS of the HTTP
 * server and of the largest stdio server, the HTTP server's WASM heap,
 * database and WAL size, and the p50/p99 latency of tool calls in the window
 * (and the slowest claim: seed 004 asks for an assignment within 5 s).
 * Memory must stay flat after warm-up; RSS under 512 MB.
 *
 * `--rate N` paces all sessions together to N tool calls a minute (seed
 * 004's load test: `--minutes 5 --rate 100`); without it they go as fast as
 * they can.
 *
 * `deno task bench:soak [--minutes 10] [--warmup 1] [--rate 100]`
 */
import { parseArgs } from "node:util";
import { openEngine } from "../mod.ts";
import { EXAMPLE_PHASES, tempRepo } from "../tests/helpers/repo.ts";
import { httpSession, type Session, startHttp, stdioSession } from "../tests/helpers/mcp_clients.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    warmup: { type: "string", default: "1" },
    rate: { type: "string", default: "0" },
  },
});
const MINUTES = Number(values.minutes), WARMUP = Number(values.warmup), RATE = Number(values.rate);
const repo = await tempRepo({
  phases: EXAMPLE_PHASES,
  config: "retention:\n  idempotency_hours: 0.01\nagents:\n  stale_timeout_minutes: 2\n",
});
const lib = await openEngine(repo);
let next = 1;
const topUp = (n: number) =>
  lib.transaction(() => {
    for (let i = 0; i < n; i++, next++) {
      lib.upsertTicket({
        id: String(next).padStart(6, "0"),
        title: `Soak ticket ${next}`,
        metadata: { priority: ["High", "Medium", "Low"][next % 3], needs_docs: false },
      });
    }
  });
topUp(300);

const server = await startHttp(repo);
const agents: Session[] = [];
for (let i = 0; i < 8; i++) agents.push(await stdioSession(repo));
const readers = [await httpSession(server.url), await httpSession(server.url)];

const lat: number[] = [];
const byTool = new Map<string, number[]>();
let calls = 0, errors = 0;
const errorCodes = new Map<string, number>();
/** With --rate, the next free slot: calls of all sessions together keep to RATE a minute. */
let slot = 0;
const pace = async () => {
  if (!RATE) return;
  const now = performance.now();
  slot = Math.max(slot, now) + 60_000 / RATE;
  const wait = slot - 60_000 / RATE - now;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
};
let slowestClaim = 0;
const call = async (s: Session, tool: string, args: Record<string, unknown> = {}) => {
  await pace();
  const t = performance.now();
  const r = await s.call(tool, args);
  const ms = performance.now() - t;
  lat.push(ms);
  if (tool === "claim_phase") slowestClaim = Math.max(slowestClaim, ms);
  (byTool.get(tool) ?? byTool.set(tool, []).get(tool)!).push(ms);
  calls++;
  if (!r.ok && r.data.code !== "nothing_to_claim") {
    errors++;
    const k = `${tool}: ${r.data.code}`;
    errorCodes.set(k, (errorCodes.get(k) ?? 0) + 1);
  }
  return r;
};

const until = performance.now() + MINUTES * 60_000;
const types = ["designer", "implementer", "test-writer", "docs-writer", "security-reviewer"];
const agentLoop = async (s: Session, i: number) => {
  await call(s, "register_agent", { agent_id: `soak-${i}`, capabilities: types });
  while (performance.now() < until) {
    const c = await call(s, "claim_phase", { idempotency_key: crypto.randomUUID() });
    if (!c.ok) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    await call(s, "start_phase");
    await call(s, "heartbeat", { progress: "working" });
    await call(s, "get_ticket", { ticket_id: (c.data.ticket as { id: string }).id });
    if (Math.random() < 0.1) await call(s, "get_metrics");
    await call(s, "complete_phase", { summary: "done in the soak" });
  }
};
const readerLoop = async (s: Session) => {
  while (performance.now() < until) {
    if (Math.random() < 0.8) await call(s, "list_available_work", { capabilities: types });
    else await call(s, "get_metrics");
    await new Promise((r) => setTimeout(r, 20));
  }
};
// A human's `baton watch` and a planner topping up work, in this process.
const ac = new AbortController();
const watching = (async () => {
  let events = 0;
  for await (const _ of lib.watch({ signal: ac.signal, pollMs: 200 })) events++;
  return events;
})();
const gates = (async () => {
  while (performance.now() < until) {
    for (const g of lib.gates()) {
      try {
        lib.approveGate(g.id, { actor: { kind: "human", name: "soak" } });
      } catch { /* decided meanwhile */ }
    }
    if (lib.listTickets({ status: "active" }).length < 100) topUp(200);
    await new Promise((r) => setTimeout(r, 500));
  }
})();

const rss = (pid: number | null) => {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
};
const size = (p: string) => {
  try {
    return Deno.statSync(p).size;
  } catch {
    return 0;
  }
};
const MB = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
async function sample(label: string) {
  const h = await (await fetch(`${server.base}/healthz`)).json();
  const window = lat.splice(0).sort((a, b) => a - b);
  const slowest = [...byTool].map(([t, xs]) => {
    xs.sort((a, b) => a - b);
    return `${t} ${xs[Math.floor(xs.length * 0.99)]?.toFixed(0)}`;
  }).join(", ");
  byTool.clear();
  const p99 = window.length ? window[Math.floor(window.length * 0.99)] : 0;
  const p50 = window.length ? window[Math.floor(window.length * 0.5)] : 0;
  const db = lib.storageInfo().path;
  console.log(
    `${label}: http server RSS ${MB(h.memory.rssBytes)}, WASM heap ${MB(h.memory.wasmHeapBytes)}; ` +
      `largest stdio server RSS ${MB(Math.max(...agents.map((a) => rss(a.pid))))}; ` +
      `database ${MB(size(db))}, WAL ${MB(size(`${db}-wal`))}; ` +
      `${window.length} calls, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (p99 by tool: ${slowest}); ` +
      `slowest claim ${slowestClaim.toFixed(0)} ms; tickets ${next - 1}, errors ${errors}`,
  );
}

await sample("start (before load)");
const work = Promise.all([...agents.map(agentLoop), ...readers.map(readerLoop), gates]);
if (WARMUP > 0) {
  await new Promise((r) => setTimeout(r, WARMUP * 60_000));
  await sample(`after ${WARMUP} min warm-up`);
}
const ticker = setInterval(
  () => sample(`at ${((performance.now() - (until - MINUTES * 60_000)) / 60_000).toFixed(1)} min`),
  120_000,
);
await work;
clearInterval(ticker);
await sample(`end (${MINUTES} min)`);
ac.abort();
console.log(`${calls} tool calls, ${errors} unexpected errors, ${await watching} watch events`);
if (errorCodes.size) console.log("errors:", JSON.stringify(Object.fromEntries(errorCodes)));
for (const s of [...agents, ...readers]) await s.close();
await server.stop();
lib.close();
