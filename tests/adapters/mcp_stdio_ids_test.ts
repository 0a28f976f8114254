/**
 * JSON-RPC ids over stdio (issue 26, item 14): a client that reuses the id of
 * a request still in progress gets that second request refused at once
 * (-32600), so every request it sent is answered, and a SIGTERM then ends the
 * server within its drain bound. Driven with raw JSON-RPC lines (an SDK
 * client never reuses an id), while another connection holds the write lock
 * so that the first request stays in progress.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { holdWriteLock, tempRepo } from "../helpers/repo.ts";
import { MCP, serverEnv } from "../helpers/mcp_clients.ts";

const PHASES = "phases:\n  - {name: Design, agent_type: designer}\n";

/** Resolves with `p`, or with "timeout" after `ms` (a liveness bound, not a timing assertion). */
function within<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms))]).finally(() =>
    clearTimeout(timer)
  );
}

Deno.test("stdio: a request reusing the id of one in progress is refused at once, and SIGTERM still ends the server", async () => {
  const repo = await tempRepo({ phases: PHASES });
  const e = await openEngine(repo);
  for (let i = 1; i <= 3; i++) e.upsertTicket({ id: `000${i}`, title: `T${i}` });
  e.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MCP],
    cwd: repo,
    env: serverEnv(),
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  const send = (m: unknown) => writer.write(new TextEncoder().encode(JSON.stringify(m) + "\n"));
  const answers: { id: unknown; error?: { code: number; message: string } }[] = [];
  const arrived: (() => void)[] = [];
  void (async () => {
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        answers.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
        for (const f of arrived.splice(0)) f();
      }
    }
  })();
  const until = async (n: number) => {
    while (answers.length < n) await new Promise<void>((r) => arrived.push(r));
  };
  let lock: { release(): void } | undefined;
  try {
    await send({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    });
    await send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const call = (id: number, name: string, args: Record<string, unknown>) =>
      send({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
    await call(1, "register_agent", { agent_id: "a", capabilities: ["designer"] });
    await until(2);
    lock = await holdWriteLock(repo);
    // One write, so the three arrive together: a foreign writer (this raw BEGIN IMMEDIATE, outside Baton's
    // writer queue) makes the first claim wait inside SQLite's busy handler, which holds the event loop;
    // under load, separate writes could reach the server only after that wait.
    const claim = JSON.stringify({
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: { name: "claim_phase", arguments: {} },
    });
    await writer.write(new TextEncoder().encode(`${claim}\n${claim}\n${claim}\n`));
    // The two duplicates are answered while the first still waits for the write lock.
    assert.notEqual(await within(until(4), 20_000), "timeout", `answers: ${JSON.stringify(answers)}`);
    const dup = answers.slice(2);
    assert.deepEqual(dup.map((a) => [a.id, a.error?.code]), [[7, -32600], [7, -32600]]);
    assert.match(dup[0].error!.message, /id 7 is already in use by a request in progress/);
    child.kill("SIGTERM");
    const status = await within(child.status, 20_000);
    assert.notEqual(status, "timeout", "baton-mcp did not stop after SIGTERM");
  } finally {
    lock?.release();
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await writer.close().catch(() => {});
  }
});

Deno.test("stdio: a character split across two reads of stdin reaches the server whole", async () => {
  const { filterStdin } = await import("../../src/mcp/stdio_filter.ts");
  const { PassThrough } = await import("node:stream");
  const input = new PassThrough();
  const line = new TextEncoder().encode(
    JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "x", arguments: { t: "Größe ✓" } },
    }) +
      "\n",
  );
  const cut = line.indexOf(0xc3) + 1; // inside the two bytes of "ö"
  const out = filterStdin(input, () => {}, () => {});
  const got: string[] = [];
  out.on("data", (c: Uint8Array | string) => got.push(typeof c === "string" ? c : new TextDecoder().decode(c)));
  const ended = new Promise((r) => out.on("end", r));
  input.write(line.subarray(0, cut));
  input.write(line.subarray(cut));
  input.end();
  await ended;
  assert.equal(JSON.parse(got.join("")).params.arguments.t, "Größe ✓");
});
