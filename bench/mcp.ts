/**
 * `baton-mcp` benchmark:
 *
 * - cold start over stdio: spawn `deno run -A mcp.ts` → the `initialize`
 *   response on stdout (median of 7 after a warm-up run);
 * - tool-call round trip p50/p99 through the real MCP client, over stdio
 *   and over Streamable HTTP (one 2025-era session): a read (`get_ticket`)
 *   and a write (`heartbeat`, one transaction).
 *
 * `deno run -A bench/mcp.ts [--calls N]`
 */
import { parseArgs } from "node:util";
import { openEngine } from "../mod.ts";
import { EXAMPLE_PHASES, tempRepo } from "../tests/helpers/repo.ts";
import { httpSession, MCP, serverEnv, type Session, startHttp, stdioSession } from "../tests/helpers/mcp_clients.ts";

const { values } = parseArgs({ args: Deno.args, options: { calls: { type: "string", default: "500" } } });
const CALLS = Number(values.calls);

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const ms = (x: number) => `${x.toFixed(2)} ms`;

const repo = await tempRepo({ phases: EXAMPLE_PHASES });
{
  const e = await openEngine(repo);
  e.createTickets(Array.from({ length: 200 }, (_, i) => ({ title: `ticket ${i}` })));
  e.close();
}

/** Spawn → initialize response, raw JSON-RPC on the pipes. */
async function coldStart(): Promise<number> {
  const t0 = performance.now();
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MCP, "--repo", repo],
    env: serverEnv(),
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const w = proc.stdin.getWriter();
  await w.write(new TextEncoder().encode(
    JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } },
    }) + "\n",
  ));
  const r = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await r.read();
    if (done) throw new Error("no initialize response");
    out += value;
  }
  const t = performance.now() - t0;
  if (!JSON.parse(out.split("\n")[0]).result?.serverInfo) throw new Error(`bad response: ${out}`);
  await w.close(); // stdin EOF: the server exits
  await r.cancel();
  await proc.status;
  return t;
}

async function roundTrips(s: Session, label: string): Promise<string[]> {
  const reg = await s.call("register_agent", { agent_id: `bench-${label}`, capabilities: ["designer"] });
  if (!reg.ok) throw new Error(reg.text);
  const rows: string[] = [];
  for (const [tool, args] of [["get_ticket", { ticket_id: "0100" }], ["heartbeat", {}]] as const) {
    for (let i = 0; i < 50; i++) await s.call(tool, args); // warm-up
    const t: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t0 = performance.now();
      const r = await s.call(tool, args);
      t.push(performance.now() - t0);
      if (!r.ok) throw new Error(r.text);
    }
    rows.push(
      `| ${label.padEnd(5)} | ${tool.padEnd(10)} | ${ms(pct(t, 0.5)).padStart(8)} | ${ms(pct(t, 0.99)).padStart(8)} |`,
    );
  }
  return rows;
}

await coldStart();
const starts: number[] = [];
for (let i = 0; i < 7; i++) starts.push(await coldStart());
console.log(
  `cold start (spawn → initialize response), 7 runs: median ${ms(pct(starts, 0.5))}, min ${
    ms(Math.min(...starts))
  }, max ${ms(Math.max(...starts))}`,
);

const rows = ["| via   | tool       |      p50 |      p99 |", "| ----- | ---------- | -------- | -------- |"];
const stdio = await stdioSession(repo);
rows.push(...await roundTrips(stdio, "stdio"));
await stdio.close();

const server = await startHttp(repo);
const http = await httpSession(server.url);
rows.push(...await roundTrips(http, "http"));
await http.close();
await server.stop();

console.log(`\ntool-call round trip through the MCP client, ${CALLS} calls each:`);
console.log(rows.join("\n"));
