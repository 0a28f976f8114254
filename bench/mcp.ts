/**
 * `baton-mcp` benchmark:
 *
 * - cold start over stdio: spawn `deno run -A mcp.ts` → the `initialize`
 *   and `tools/list` answers, then the answer to a first tool call sent right
 *   after them (what an agent does: it needs the SDK and the engine loaded),
 *   against `deno run` of an empty script and a minimal MCP server on the
 *   same SDK (its one tool), in the same rounds; and `baton list`
 *   on a 1,000-ticket repository (median of 7 after a warm-up round);
 * - the size of `tools/list` in tokens (characters ÷ 4);
 * - tool-call round trip p50/p99 through the real MCP client, over stdio
 *   and over Streamable HTTP (one 2025-era session): a read (`get_ticket`)
 *   and a write (`heartbeat`, one transaction); back to back, and over
 *   stdio also 100 ms apart (as an agent's calls come, between model turns);
 * - the same over raw stdio (JSON-RPC lines, no client), with a baseline
 *   measured in the same session, call for call: a JSON-RPC `ping`, which
 *   takes the same pipes, process wake-ups, stdio wrapper and SDK but no
 *   tool and no engine; back to back and 100 ms apart. Each tool's p50 is
 *   also given less its pings' p50: what the tool itself adds.
 *
 * `deno run -A bench/mcp.ts [--calls N]`
 */
import { parseArgs } from "node:util";
import { openEngine } from "../mod.ts";
import { EXAMPLE_PHASES, tempRepo } from "../tests/helpers/repo.ts";
import { httpSession, MCP, serverEnv, type Session, startHttp, stdioSession } from "../tests/helpers/mcp_clients.ts";

const { values } = parseArgs({ args: Deno.args, options: { calls: { type: "string", default: "500" } } });
const CALLS = Number(values.calls);
/** Calls per tool in the paused rows (each after a pause). */
const PAUSED_CALLS = 100;

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const ms = (x: number) => `${x.toFixed(2)} ms`;

const repo = await tempRepo({ phases: EXAMPLE_PHASES });
{
  const e = await openEngine(repo);
  e.createTickets(Array.from({ length: 200 }, (_, i) => ({ title: `ticket ${i}` })));
  e.close();
}

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } },
}) + "\n";
const LIST = JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n" +
  JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) + "\n";

/** A minimal MCP server on the same SDK (one tool), the baseline for baton-mcp's start. */
const MINIMAL = `${await Deno.makeTempDir()}/minimal_server.ts`;
await Deno.writeTextFile(
  MINIMAL,
  `import { McpServer } from "@modelcontextprotocol/server";
import { StdioServerTransport } from "@modelcontextprotocol/server/stdio";
const s = new McpServer({ name: "minimal", version: "1" });
s.registerTool("ping", { description: "ping" }, () => ({ content: [{ type: "text", text: "pong" }] }));
await s.connect(new StdioServerTransport());
`,
);

/**
 * Spawn → the initialize answer, then the tools/list answer, then the answer to a first tool call sent right after it
 * (`call`: the tool's name and arguments), in ms since spawn; raw JSON-RPC on the pipes.
 */
async function coldStart(
  args: string[],
  call: [string, Record<string, unknown>],
): Promise<{ init: number; tools: number; call: number }> {
  const t0 = performance.now();
  const proc = new Deno.Command(Deno.execPath(), {
    args,
    env: serverEnv(),
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const w = proc.stdin.getWriter();
  const r = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const next = async () => {
    while (!out.includes("\n")) {
      const { value, done } = await r.read();
      if (done) throw new Error(`no answer: ${out}`);
      out += value;
    }
    const line = out.slice(0, out.indexOf("\n"));
    out = out.slice(out.indexOf("\n") + 1);
    const m = JSON.parse(line);
    if (!m.result) throw new Error(`bad answer: ${line}`);
  };
  await w.write(new TextEncoder().encode(INIT));
  await next();
  const init = performance.now() - t0;
  await w.write(new TextEncoder().encode(LIST));
  await next();
  const tools = performance.now() - t0;
  const [name, callArgs] = call;
  await w.write(
    new TextEncoder().encode(
      JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name, arguments: callArgs } }) + "\n",
    ),
  );
  await next();
  const called = performance.now() - t0;
  await w.close(); // stdin EOF: the server exits
  await r.cancel();
  await proc.status;
  return { init, tools, call: called };
}

/** Spawn → exit of a command (ms). */
async function timed(args: string[], cwd?: string): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), { args, cwd, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return performance.now() - t0;
}

/**
 * The same server over stdio without an MCP client: JSON-RPC lines written and read here, so that the round trip is
 * the server's (and the pipes') alone, without the client SDK's parsing and validation.
 */
/** The raw session's name for a JSON-RPC `ping` (not a tool): the round trip without a tool or the engine. */
const PING = "(ping)";

async function rawStdioSession(repo: string): Promise<Pick<Session, "call" | "close">> {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MCP, "--repo", repo],
    env: serverEnv(),
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = proc.stdin.getWriter();
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const enc = new TextEncoder();
  let buf = "";
  let id = 0;
  type Reply = {
    id?: number;
    result?: { isError?: boolean; content?: { text?: string }[]; structuredContent?: Record<string, unknown> };
  };
  const next = async (): Promise<Reply> => {
    for (;;) {
      const i = buf.indexOf("\n");
      if (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        return JSON.parse(line);
      }
      const r = await lines.read();
      if (r.done) throw new Error("baton-mcp closed its stdout");
      buf += r.value;
    }
  };
  const request = async (method: string, params: unknown) => {
    const my = ++id;
    await writer.write(enc.encode(JSON.stringify({ jsonrpc: "2.0", id: my, method, params }) + "\n"));
    for (;;) {
      const m = await next();
      if (m.id === my) return m;
    }
  };
  await request("initialize", {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "bench-raw", version: "1" },
  });
  await writer.write(enc.encode(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n"));
  return {
    async call(name, args = {}) {
      if (name === PING) {
        const m = await request("ping", {});
        return { ok: m.result !== undefined, data: {}, text: JSON.stringify(m) };
      }
      const m = await request("tools/call", { name, arguments: args });
      return {
        ok: m.result !== undefined && !m.result.isError,
        data: m.result?.structuredContent ?? {},
        text: m.result?.content?.[0]?.text ?? JSON.stringify(m),
      };
    },
    async close() {
      await writer.close();
      await proc.status;
    },
  };
}

/**
 * p50/p99 of `CALLS` calls of each tool, back to back; with `pauseMs`, `PAUSED_CALLS` calls each after that long
 * without a call (an agent's calls come between model turns: what has not run for a while runs cold). With
 * `baseline`, each call of a tool alternates with a JSON-RPC `ping` timed the same way, so that the two see the same
 * process state; the tool's row then also gives its p50 less the ping's, and a row of all the pings follows.
 */
async function roundTrips(s: Pick<Session, "call">, label: string, pauseMs = 0, baseline = false): Promise<string[]> {
  const reg = await s.call("register_agent", {
    agent_id: `bench-${label.replace(/\W+/g, "-")}`,
    capabilities: ["designer"],
  });
  if (!reg.ok) throw new Error(reg.text);
  const timed = async (tool: string, args: Record<string, unknown>, into: number[]) => {
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    const t0 = performance.now();
    const r = await s.call(tool, args);
    into.push(performance.now() - t0);
    if (!r.ok) throw new Error(r.text);
  };
  const row = (tool: string, t: number[], over = "") =>
    `| ${label.padEnd(19)} | ${tool.padEnd(10)} | ${ms(pct(t, 0.5)).padStart(8)} | ${ms(pct(t, 0.99)).padStart(8)} | ${
      over.padStart(12)
    } |`;
  const rows: string[] = [];
  const pings: number[] = [];
  for (const [tool, args] of [["get_ticket", { ticket_id: "0100" }], ["heartbeat", {}]] as const) {
    for (let i = 0; i < 50; i++) { // warm-up
      await s.call(tool, args);
      if (baseline) await s.call(PING);
    }
    const t: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < (pauseMs ? PAUSED_CALLS : CALLS); i++) {
      if (baseline) await timed(PING, {}, p);
      await timed(tool, args, t);
    }
    pings.push(...p);
    rows.push(row(tool, t, baseline ? ms(pct(t, 0.5) - pct(p, 0.5)) : ""));
  }
  if (baseline) rows.push(row(PING, pings));
  return rows;
}

// Cold starts, every baseline in the same rounds: an empty script, a minimal server on the same SDK,
// baton-mcp, and `baton list` on a 1,000-ticket repository.
const EMPTY = `${await Deno.makeTempDir()}/empty.ts`;
await Deno.writeTextFile(EMPTY, "");
const big = await tempRepo({ phases: EXAMPLE_PHASES });
{
  const e = await openEngine(big);
  e.createTickets(Array.from({ length: 1000 }, (_, i) => ({ title: `ticket ${i}`, priority: ["High", "Low"][i % 2] })));
  e.close();
}
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const cold: Record<string, number[]> = {
  empty: [],
  minimalInit: [],
  minimalTools: [],
  batonInit: [],
  batonTools: [],
  minimalCall: [],
  batonCall: [],
  list: [],
};
for (let i = 0; i < 8; i++) {
  const e = await timed(["run", "-A", EMPTY]);
  const m = await coldStart(
    ["run", "-A", "--config", new URL("../deno.json", import.meta.url).pathname, MINIMAL],
    ["ping", {}],
  );
  const b = await coldStart(["run", "-A", MCP, "--repo", repo], ["get_ticket", { ticket_id: "0100" }]);
  const l = await timed(["run", "-A", CLI, "list"], big);
  if (i === 0) continue; // warm-up: caches
  cold.empty.push(e);
  cold.minimalInit.push(m.init);
  cold.minimalTools.push(m.tools);
  cold.batonInit.push(b.init);
  cold.batonTools.push(b.tools);
  cold.minimalCall.push(m.call);
  cold.batonCall.push(b.call);
  cold.list.push(l);
}
const med = (k: string) => pct(cold[k], 0.5);
console.log("cold start, 7 rounds (medians, ms since spawn):");
console.log(`  deno run of an empty script (exit):            ${ms(med("empty"))}`);
console.log(
  `  minimal MCP server, same SDK: initialize       ${ms(med("minimalInit"))}, tools/list ${ms(med("minimalTools"))}`,
);
console.log(
  `  baton-mcp: initialize                          ${ms(med("batonInit"))} (${
    (med("batonInit") / med("empty")).toFixed(1)
  }× empty, ${(med("batonInit") / med("minimalInit")).toFixed(2)}× minimal), tools/list ${ms(med("batonTools"))}`,
);
// An agent calls a tool as soon as it has the list: that answer needs the engine (and the SDK) loaded and opened.
console.log(
  `  first tool call, sent after tools/list:        baton-mcp get_ticket ${ms(med("batonCall"))} (${
    (med("batonCall") / med("minimalCall")).toFixed(2)
  }× the minimal server's ping tool, ${ms(med("minimalCall"))})`,
);
console.log(
  `  baton list, 1,000 tickets (exit):              ${ms(med("list"))} (${
    (med("list") / med("empty")).toFixed(1)
  }× empty)`,
);

// What an agent's model pays for Baton's tools on every request (approximation: characters / 4).
const { HANDSHAKE } = await import("../src/mcp/handshake.gen.ts");
for (const [name, list] of [["tools/list", HANDSHAKE.tools], ["with gates.allow_agents", HANDSHAKE.toolsWithGates]]) {
  const chars = JSON.stringify(list).length;
  const tools = (list as { tools: unknown[] }).tools.length;
  console.log(`${name}: ${tools} tools, ${chars} characters ≈ ${Math.round(chars / 4)} tokens (characters ÷ 4)`);
}

const rows = [
  "| via                 | tool       |      p50 |      p99 | p50 − ping's |",
  "| ------------------- | ---------- | -------- | -------- | ------------ |",
];
const stdio = await stdioSession(repo);
rows.push(...await roundTrips(stdio, "stdio"));
rows.push(...await roundTrips(stdio, "stdio, 100 ms apart", 100));
await stdio.close();
const raw = await rawStdioSession(repo);
rows.push(...await roundTrips(raw, "raw", 0, true));
rows.push(...await roundTrips(raw, "raw, 100 ms apart", 100, true));
await raw.close();

const server = await startHttp(repo);
const http = await httpSession(server.url);
rows.push(...await roundTrips(http, "http"));
await http.close();
await server.stop();

console.log(
  `\ntool-call round trip through the MCP client, ${CALLS} calls each (${PAUSED_CALLS} when apart; raw: stdio, JSON-RPC lines without a client, and ${PING} the baseline: a JSON-RPC ping through the same pipes, wrapper and SDK, without a tool or the engine):`,
);
console.log(rows.join("\n"));
