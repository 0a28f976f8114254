/**
 * The early handshake of `baton-mcp` over stdio (src/mcp/early.ts): the
 * generated answers are what the real server says now, a real process
 * answers `initialize` and `tools/list` the same with and without them, and
 * the session then works as usual (the real server saw the handshake too).
 */
import assert from "node:assert/strict";
import { generate } from "../../scripts/gen_handshake.ts";
import { initializeResult } from "../../src/mcp/early.ts";
import { HANDSHAKE } from "../../src/mcp/handshake.gen.ts";
import { EXAMPLE_PHASES, tempRepo } from "../helpers/repo.ts";
import { MCP, serverEnv } from "../helpers/mcp_clients.ts";

Deno.test("early handshake: src/mcp/handshake.gen.ts is current (run 'deno task handshake' after changing a tool)", async () => {
  const now = Deno.readTextFileSync(new URL("../../src/mcp/handshake.gen.ts", import.meta.url));
  assert.ok(now === await generate(), "handshake.gen.ts is out of date: run 'deno task handshake'");
});

/** Sends lines to a fresh `baton-mcp` and collects the answers by id, until `want` ids have answered. */
async function session(
  repo: string,
  early: boolean,
  messages: unknown[],
  want: number,
): Promise<Map<unknown, unknown>> {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MCP, "--repo", repo],
    env: { ...serverEnv(), BATON_MCP_EARLY: early ? "1" : "0" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = proc.stdin.getWriter();
  await w.write(new TextEncoder().encode(messages.map((m) => JSON.stringify(m) + "\n").join("")));
  const r = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const byId = new Map<unknown, unknown>();
  let buf = "";
  while (byId.size < want) {
    const { value, done } = await r.read();
    if (done) break;
    buf += value;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const m = JSON.parse(buf.slice(0, i));
      assert(!byId.has(m.id), `id ${m.id} answered twice`);
      byId.set(m.id, m.result ?? m.error);
      buf = buf.slice(i + 1);
    }
  }
  await w.close();
  await r.cancel();
  await proc.stderr.cancel();
  await proc.status;
  return byId;
}

const init = (id: number, version: string) => ({
  jsonrpc: "2.0",
  id,
  method: "initialize",
  params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "test", version: "1" } },
});

Deno.test("early handshake: the same answers as the real server, then the session works on", async () => {
  const repo = await tempRepo({ phases: EXAMPLE_PHASES });
  const messages = [
    init(1, "2025-06-18"),
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "tools/list" },
    { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "list_tickets", arguments: {} } },
    { jsonrpc: "2.0", id: 4, method: "tools/list" },
  ];
  const fast = await session(repo, true, messages, 4);
  const real = await session(repo, false, messages, 4);
  assert.deepEqual(fast.get(1), real.get(1));
  assert.deepEqual(fast.get(2), real.get(2));
  assert.deepEqual(fast.get(4), real.get(2), "a later tools/list (from the real server) is the same list");
  assert.deepEqual((fast.get(3) as { structuredContent: unknown }).structuredContent, { tickets: [], total: 0 });
});

Deno.test("early handshake: protocol versions are negotiated as the SDK does; no handshake, no early answers", async () => {
  const repo = await tempRepo({ phases: EXAMPLE_PHASES, config: "gates:\n  allow_agents: true\n" });
  for (const v of ["2024-11-05", "1999-01-01"]) {
    const messages = [init(7, v), { jsonrpc: "2.0", method: "notifications/initialized" }, {
      jsonrpc: "2.0",
      id: 8,
      method: "tools/list",
    }];
    const fast = await session(repo, true, messages, 2);
    const real = await session(repo, false, messages, 2);
    assert.deepEqual(fast.get(7), real.get(7), `initialize at ${v}`);
    assert.deepEqual(fast.get(7), initializeResult(v));
    assert.deepEqual(fast.get(8), HANDSHAKE.toolsWithGates, "the gate tools are listed with gates.allow_agents");
    assert.deepEqual(fast.get(8), real.get(8));
  }
  // A first message that is not initialize: the real server answers it (here, an error for a session not initialized).
  const odd = await session(repo, true, [{ jsonrpc: "2.0", id: 9, method: "tools/list" }], 1);
  const oddReal = await session(repo, false, [{ jsonrpc: "2.0", id: 9, method: "tools/list" }], 1);
  assert.deepEqual(odd.get(9), oddReal.get(9));
});
