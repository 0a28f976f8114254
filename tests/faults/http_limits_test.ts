/**
 * The HTTP items of issue 26 left after http_edges_test.ts (items 6, 11 and
 * 14 over HTTP), against both servers started as processes, over raw TCP or
 * fetch:
 * - a request body that stops arriving after the headers (slow body, the
 *   slow-loris of the body) is answered `request_timeout` (408) and its
 *   connection closed within the deadline, while others are served;
 * - `baton-mcp --http` refusals before MCP (a body over the cap, in a
 *   session too; a malformed Host) carry Baton's code from errors.ts's table;
 * - a session reusing the id of a request in progress gets the second one
 *   refused at once (-32600), and the first is still answered, as on stdio;
 * - a dashboard error's details (a stopped writer's lock file) name no
 *   absolute path;
 * - more stalled connections than the process has descriptors neither keep
 *   others out nor stop the server accepting for good;
 * - a client that stops reading its answer is disconnected after the write
 *   deadline.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { MCP, serverEnv, startHttp } from "../helpers/mcp_clients.ts";
import { CLI } from "../helpers/cli.ts";
import { tempRepo } from "../helpers/repo.ts";
import { serve } from "../helpers/serve.ts";
import { chunked, writeAll } from "../helpers/raw_http.ts";
import { stoppedWriter } from "../helpers/stopped_writer.ts";

/** Resolves with `p`, or with "timeout" after `ms` (a liveness bound, not a timing assertion). */
function within<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms))]).finally(() =>
    clearTimeout(timer)
  );
}

/** Sends `head` (then `body` chunks, if given) and returns the status and the answer, read until the server closes. */
async function raw(
  base: string,
  head: string,
  body?: AsyncIterable<Uint8Array>,
): Promise<{ status: number; text: string }> {
  const u = new URL(base);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  let text = "";
  const reading = (async () => {
    const buf = new Uint8Array(65536);
    const dec = new TextDecoder();
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n), { stream: true });
    }
  })();
  await writeAll(conn, new TextEncoder().encode(head));
  if (body) {
    for await (const chunk of body) {
      if (text || !(await writeAll(conn, chunk))) break; // answered, or closed: stop sending
    }
  }
  // Every answer here ends its connection (one request per connection): bounded, in case it does not.
  const done = await within(reading, 60_000);
  try {
    conn.close();
  } catch { /* closed */ }
  assert.notEqual(done, "timeout", `the server kept the connection open; so far: ${text.slice(0, 300)}`);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text };
}

/** A repository with one ticket whose design is done, so that its gate is open; returns the gate's id. */
async function gatedRepo(config?: string): Promise<{ repo: string; gate: number }> {
  const repo = await tempRepo(config ? { config } : {});
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "Parser" });
  const c = e.claimNext({ agentId: "designer-1", capabilities: ["designer"] })!;
  e.complete(c.phase.id, { agentId: "designer-1", token: c.token, summary: "designed" });
  const gate = e.gates()[0].id;
  e.close();
  return { repo, gate };
}

/**
 * Opens `n` connections that send a request's whole header block, declaring
 * a body of 1,000 bytes, then 10 bytes of it, and then nothing.
 * Resolves with each connection's answer once the server closed it, or
 * "timeout" for those still open after `boundMs`.
 */
async function stalledBodies(base: string, head: string, n: number, boundMs: number): Promise<string[]> {
  const u = new URL(base);
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < n; i++) {
    const c = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    await writeAll(c, new TextEncoder().encode(`${head}Content-Length: 1000\r\n\r\n{"by": "a"`));
    conns.push(c);
  }
  const answers = conns.map(async (c) => {
    let text = "";
    const b = new Uint8Array(4096);
    try {
      for (let r = await c.read(b); r !== null; r = await c.read(b)) text += new TextDecoder().decode(b.subarray(0, r));
    } catch { /* reset: closed */ }
    return text;
  });
  try {
    return await Promise.all(answers.map((a) => within(a, boundMs)));
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }
}

Deno.test("http: a body that stops arriving is answered request_timeout and closed, on both servers; others are served", async () => {
  const env = { BATON_BODY_TIMEOUT_MS: "1500" };
  const { repo, gate } = await gatedRepo();
  const dash = await serve(repo, ["--token", "s3cret"], env);
  const mcpRepo = await tempRepo();
  const mcp = await startHttp(mcpRepo, { env });
  try {
    const dashHost = new URL(dash.url).host;
    const mcpHost = new URL(mcp.base).host;
    const cases = [
      {
        name: "dashboard",
        base: dash.url,
        head: `POST /api/gates/${gate}/approve HTTP/1.1\r\nHost: ${dashHost}\r\nAuthorization: Bearer s3cret\r\n` +
          `Content-Type: application/json\r\n`,
        other: () => fetch(new URL("/api/board", dash.url), { headers: { Authorization: "Bearer s3cret" } }),
      },
      {
        name: "baton-mcp",
        base: mcp.base,
        head: `POST /mcp HTTP/1.1\r\nHost: ${mcpHost}\r\nContent-Type: application/json\r\n` +
          `Accept: application/json, text/event-stream\r\n`,
        other: () => fetch(new URL("/healthz", mcp.base)),
      },
    ];
    for (const c of cases) {
      const stalled = stalledBodies(c.base, c.head, 50, 30_000);
      const ok = await c.other();
      assert.equal(ok.status, 200, `${c.name} answers others while 50 bodies stall`);
      await ok.body?.cancel();
      const answers = await stalled;
      const open = answers.filter((a) => a === "timeout").length;
      assert.equal(open, 0, `${c.name}: ${open} of 50 connections still open after 30 s (deadline 1.5 s)`);
      for (const a of answers) {
        assert.match(a as string, /^HTTP\/1\.1 408 /, `${c.name}: ${String(a).slice(0, 300)}`);
        assert.match(a as string, /"code":"request_timeout"/);
      }
    }
    const e = await openEngine(repo);
    assert.equal(e.gates()[0].status, "open", "no decision was made from a part of a body");
    e.close();
  } finally {
    await dash.stop();
    await mcp.stop();
  }
});

/** A 2025-era session opened with raw requests: its id, and how to post a message in it. */
async function rawSession(url: string) {
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  const init = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    }),
  });
  assert.equal(init.status, 200, await init.clone().text());
  await init.body?.cancel();
  const sid = init.headers.get("mcp-session-id");
  assert.ok(sid, "a session id");
  const sessionHeaders = { ...headers, "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" };
  const post = (m: unknown) => fetch(url, { method: "POST", headers: sessionHeaders, body: JSON.stringify(m) });
  const note = await post({ jsonrpc: "2.0", method: "notifications/initialized" });
  await note.body?.cancel();
  return { sid, headers: sessionHeaders, post };
}

Deno.test("http: baton-mcp --http refusals carry Baton's code (payload_too_large in a session, invalid_argument)", async () => {
  const repo = await tempRepo();
  const server = await startHttp(repo);
  try {
    const host = new URL(server.url).host;
    const { sid } = await rawSession(server.url);
    const session = `Mcp-Session-Id: ${sid}\r\nMcp-Protocol-Version: 2025-06-18\r\n`;
    const head = `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
      `Accept: application/json, text/event-stream\r\n${session}`;
    // Chunked, 100 MB, in the session: cut off at the cap while it arrives.
    const big = await raw(server.url, `${head}Transfer-Encoding: chunked\r\n\r\n`, chunked(100));
    assert.equal(big.status, 413, big.text.slice(0, 300));
    assert.match(big.text, /"data":\{"code":"payload_too_large"\}/);
    // Declared over the cap: refused before a byte of it is read.
    const declared = await raw(server.url, `${head}Content-Length: ${64 * 1024 * 1024}\r\n\r\n`);
    assert.equal(declared.status, 413, declared.text.slice(0, 300));
    assert.match(declared.text, /"code":"payload_too_large"/);
    const bad = await raw(server.url, `GET /healthz HTTP/1.1\r\nHost: [::1]evil.com\r\n\r\n`);
    assert.equal(bad.status, 400, bad.text.slice(0, 300));
    assert.match(bad.text, /"data":\{"code":"invalid_argument"\}/);
    const enc = await raw(server.url, `GET /mcp%E0%A4%A HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    assert.equal(enc.status, 400, enc.text.slice(0, 300));
    assert.match(enc.text, /"data":\{"code":"invalid_argument"\}/);
    // The session still works.
    const s = await rawSession(server.url);
    const r = await s.post({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    assert.equal(r.status, 200);
    assert.ok(((await r.json()).result.tools as unknown[]).length > 0);
    assert.doesNotMatch(server.stderr(), /\n\s+at /, `no stack trace in the log:\n${server.stderr()}`);
  } finally {
    await server.stop();
  }
});

Deno.test("http: a session's request reusing the id of one in progress is refused at once; the first is still answered", async () => {
  const repo = await tempRepo({ config: "database:\n  busy_timeout_ms: 8000\n" });
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "Parser" });
  e.close();
  const server = await startHttp(repo);
  let writer: { resume(): Promise<void> } | undefined;
  try {
    const s = await rawSession(server.url);
    const reg = await s.post({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "register_agent", arguments: { agent_id: "a", capabilities: ["designer"] } },
    });
    assert.equal(reg.status, 200);
    assert.equal((await reg.json()).result.isError, undefined);
    // Another process holds the writer queue: the claim waits for it (up to the busy timeout), off the event loop.
    writer = await stoppedWriter(repo);
    const claim = { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "claim_phase", arguments: {} } };
    const first = s.post(claim).then(async (r) => ({ status: r.status, body: await r.json() }))
      .catch((e) => ({ status: 0, body: { error: String(e) } }));
    // The first is in progress (/healthz reports its wait after 1 s) before the second is sent.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const h = await (await fetch(new URL("/healthz", server.base))).json();
      if (h.database.writer) break;
      assert.ok(Date.now() < deadline, `the first claim never started waiting: ${JSON.stringify(h)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const second = await within(s.post(claim).then(async (r) => ({ status: r.status, body: await r.json() })), 2_000);
    if (second === "timeout") {
      throw new assert.AssertionError({ message: "the duplicate is answered at once, not after the first" });
    }
    assert.equal(second.status, 400);
    assert.equal(second.body.id, 7);
    assert.equal(second.body.error.code, -32600);
    // The first is answered (the writer queue's wait ends in database_locked), not left hanging.
    const answered = await within(first, 30_000);
    if (answered === "timeout") throw new assert.AssertionError({ message: "the first request is answered" });
    assert.equal(answered.status, 200, `${JSON.stringify(answered.body)}\n${server.stderr()}`);
    assert.equal(answered.body.id, 7);
    assert.match(JSON.stringify(answered.body.result), /database_locked/);
    // Once answered, the id is free again.
    await writer.resume();
    writer = undefined;
    const again = await s.post(claim);
    assert.equal(again.status, 200);
    assert.equal((await again.json()).result.structuredContent?.phase?.ticketId ?? "0001", "0001");
  } finally {
    await writer?.resume();
    await server.stop();
  }
});

Deno.test("http: a dashboard error names no absolute path, in its message or its details", async () => {
  const { repo, gate } = await gatedRepo("database:\n  busy_timeout_ms: 1500\n");
  const server = await serve(repo, ["--token", "s3cret"]);
  const writer = await stoppedWriter(repo);
  try {
    const r = await fetch(new URL(`/api/gates/${gate}/approve`, server.url), {
      method: "POST",
      headers: { Authorization: "Bearer s3cret", "content-type": "application/json" },
      body: JSON.stringify({ by: "dana" }),
    });
    const text = await r.text();
    assert.equal(r.status, 503, text);
    const body = JSON.parse(text);
    assert.equal(body.code, "database_locked");
    assert.ok(body.details && Object.keys(body.details).length > 0, "the details are kept");
    for (const p of [repo, Deno.realPathSync(repo)]) {
      assert.ok(!text.includes(p), `the answer names ${p}: ${text}`);
    }
    assert.doesNotMatch(text, /(?<![\w.~…])(?:\/[\w.-]+){2,}/, text);
  } finally {
    await writer.resume();
    await server.stop();
  }
});

Deno.test("http: a token cookie with a malformed %-encoding is no token (coded 401), not a 500", async () => {
  const { repo } = await gatedRepo();
  const server = await serve(repo, ["--token", "s3cret"]);
  try {
    for (const cookie of ["baton_token=%E0%A4%A", "baton_token=%ZZ; other=1"]) {
      const r = await fetch(new URL("/api/board", server.url), { headers: { cookie } });
      const text = await r.text();
      assert.equal(r.status, 401, `${cookie}: ${text}`);
      assert.equal(JSON.parse(text).code, "unauthorized");
    }
    // A malformed cookie of another name does not hide the token.
    const ok = await fetch(new URL("/api/board", server.url), { headers: { cookie: "x=%ZZ; baton_token=s3cret" } });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await server.stop();
  }
});

/**
 * A server started under `ulimit -n 256` (a limit many systems start
 * processes with is 1,024): `serve` or `mcp`. Resolves with its base address.
 */
async function limitedServer(kind: "serve" | "mcp", repo: string, env: Record<string, string>) {
  const args = kind === "serve" ? [CLI, "serve", "--port", "0"] : [MCP, "--http", "--port", "0", "--repo", repo];
  const child = new Deno.Command("sh", {
    args: ["-c", 'ulimit -n 256 && exec "$0" run -A "$@"', Deno.execPath(), ...args],
    cwd: repo,
    env: serverEnv(env),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stream = kind === "serve" ? child.stdout : child.stderr;
  const other = kind === "serve" ? child.stderr : child.stdout;
  void other.pipeTo(new WritableStream()).catch(() => {});
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/(http:\/\/[\d.:]+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${kind} exited before listening: ${out}`);
    out += value;
  }
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return {
    base: /(http:\/\/[\d.:]+)/.exec(out)![1],
    pid: child.pid,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

/** A GET answered within `ms`: its status, or 0 when it was not. */
async function statusWithin(url: URL, ms: number): Promise<number> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(ms) });
    await r.body?.cancel();
    return r.status;
  } catch {
    return 0;
  }
}

Deno.test("http: more stalled connections than descriptors keep no one out, and the server keeps accepting", async () => {
  // Headers may take 60 s: what lets others in is the limit on connections, not the deadline.
  const env = { BATON_HEADER_TIMEOUT_MS: "60000" };
  const repo = await tempRepo();
  // The last: no limit on connections, so the descriptors run out (EMFILE): accepting must resume once they are back.
  const runs = [["serve", env], ["mcp", env], ["serve", { ...env, BATON_MAX_CONNECTIONS: "100000" }]] as const;
  for (const [kind, runEnv] of runs) {
    const limited = !("BATON_MAX_CONNECTIONS" in runEnv);
    const server = await limitedServer(kind, repo, runEnv);
    const u = new URL(server.base);
    const path = kind === "serve" ? "/api/board" : "/healthz";
    const conns: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 400; i++) {
        const c = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
        await writeAll(c, new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nX-Slow: `));
        conns.push(c);
      }
      if (limited) {
        assert.equal(await statusWithin(new URL(path, server.base), 20_000), 200, `${kind}: served while 400 stall`);
      }
      for (const c of conns.splice(0)) {
        try {
          c.close();
        } catch { /* closed by the server */ }
      }
      for (let i = 0; i < 3; i++) {
        assert.equal(await statusWithin(new URL(path, server.base), 20_000), 200, `${kind}: served afterwards`);
      }
    } finally {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await server.stop();
    }
  }
});

/** The sockets a process has open. */
function socketsOf(pid: number): number {
  let n = 0;
  for (const e of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      if (Deno.readLinkSync(`/proc/${pid}/fd/${e.name}`).startsWith("socket:")) n++;
    } catch { /* closed meanwhile */ }
  }
  return n;
}

Deno.test("http: a client that stops reading its answer is disconnected after the write deadline; others are served", async () => {
  // A 6 MB ticket: its page's JSON is far more than the sockets between the server and the client buffer.
  const repo = await tempRepo();
  const para = "A paragraph of the ticket, long enough to matter. ".repeat(20) + "\n\n";
  await Deno.mkdir(`${repo}/tickets`, { recursive: true });
  await Deno.writeTextFile(
    `${repo}/tickets/0001_big.md`,
    "# 0001: Big\n\n" + para.repeat(6 * 1024 * 1024 / para.length),
  );
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "Big", path: "tickets/0001_big.md" });
  e.close();
  const server = await limitedServer("serve", repo, { BATON_WRITE_TIMEOUT_MS: "1500" });
  const u = new URL(server.base);
  const conns: Deno.Conn[] = [];
  try {
    assert.equal(await statusWithin(new URL("/api/board", server.base), 20_000), 200);
    // The ticket page once, read whole: its markdown renderer's thread (which holds a socket of its own) is up.
    assert.equal(await statusWithin(new URL("/api/ticket/0001", server.base), 20_000), 200);
    const idle = socketsOf(server.pid);
    for (let i = 0; i < 5; i++) {
      const c = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
      await writeAll(c, new TextEncoder().encode(`GET /api/ticket/0001 HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`));
      conns.push(c); // never read
    }
    // Each holds three sockets of the server while its answer is stuck (the client's, both ends of the hop).
    const deadline = Date.now() + 30_000;
    while (socketsOf(server.pid) < idle + 5) {
      assert.ok(Date.now() < deadline, `the slow readers never got their connections: ${socketsOf(server.pid)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await statusWithin(new URL("/api/board", server.base), 20_000), 200, "served meanwhile");
    // Then the server lets them go (bounded wait, far beyond the 1.5 s deadline).
    for (;;) {
      const open = socketsOf(server.pid);
      if (open <= idle) break;
      assert.ok(Date.now() < deadline, `${open - idle} sockets still held for clients that stopped reading`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await server.stop();
  }
});

/** Reads a stream's text until `until(text)` holds or it ends; says which, and how many bytes came. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  until: (tail: string) => boolean,
): Promise<{ ended: boolean; bytes: number }> {
  const dec = new TextDecoder();
  let bytes = 0;
  let tail = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { ended: true, bytes };
    bytes += value.byteLength;
    tail = (tail + dec.decode(value, { stream: true })).slice(-4096);
    if (until(tail)) return { ended: false, bytes };
  }
}

Deno.test("http: a page that stops reading its event stream is let go past 1 MB queued; one that reads gets everything", async () => {
  const repo = await tempRepo();
  // The write deadline far away: what ends the stalled stream must be the queue's limit.
  const server = await limitedServer("serve", repo, { BATON_WRITE_TIMEOUT_MS: "300000" });
  const u = new URL(server.base);
  const stalled = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const healthy = await fetch(new URL("/api/events", server.base));
  const reader = healthy.body!.getReader();
  try {
    await writeAll(stalled, new TextEncoder().encode(`GET /api/events HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`));
    const first = new Uint8Array(4096);
    let hello = "";
    while (!hello.includes("event: hello")) {
      const n = await stalled.read(first);
      assert.ok(n !== null, "the stream opened");
      hello += new TextDecoder().decode(first.subarray(0, n));
    }
    assert.equal((await readUntil(reader, (t) => t.includes("event: hello"))).ended, false);
    // Another process writes ~40,000 audit rows of ~300 bytes (tickets with long ids), then one named END.
    const code = `import { openEngine } from ${JSON.stringify(new URL("../../mod.ts", import.meta.url).href)};
      const e = await openEngine(${JSON.stringify(repo)});
      for (let b = 0; b < 40; b++) e.transaction(() => {
        for (let i = 0; i < 200; i++) e.upsertTicket({ id: "T" + (b * 200 + i) + "-" + "x".repeat(100), title: "t" });
      });
      e.upsertTicket({ id: "END", title: "the last" });
      e.close();`;
    const reading = readUntil(reader, (t) => t.includes('"ticketId":"END"')); // reads while the rows are written
    const wrote = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--config", new URL("../../deno.json", import.meta.url).pathname, code],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(wrote.success, new TextDecoder().decode(wrote.stderr));
    // The page that reads keeps up and gets every event, END last (a liveness bound, under load).
    const all = await within(reading, 120_000);
    if (all === "timeout") throw new assert.AssertionError({ message: "the reading page saw END" });
    assert.equal(all.ended, false, "the reading page was not let go");
    assert.ok(all.bytes > 8_000_000, `${all.bytes} bytes of events`);
    // The stalled page: what was queued for it, then the end of its stream (a bound, not a timing assertion).
    const rest = await within(
      readUntil(stalled.readable.getReader(), (t) => t.includes('"ticketId":"END"')),
      60_000,
    );
    if (rest === "timeout") throw new assert.AssertionError({ message: "the stalled stream ended" });
    assert.equal(rest.ended, true, "the stalled stream ended before END: it was let go");
    assert.ok(rest.bytes < all.bytes, `${rest.bytes} of ${all.bytes} bytes`);
  } finally {
    await reader.cancel().catch(() => {});
    try {
      stalled.close();
    } catch { /* closed */ }
    await server.stop();
  }
});

Deno.test("http: /healthz (no token needed) names no absolute path when the configuration cannot be read", async () => {
  const repo = await tempRepo();
  const server = await startHttp(repo);
  try {
    // The workflow file replaced by a directory: reading it fails with the OS's message, which names the file.
    await Deno.remove(`${repo}/.workflow/phases.yaml`);
    await Deno.mkdir(`${repo}/.workflow/phases.yaml`);
    const r = await fetch(new URL("/healthz", server.base));
    const text = await r.text();
    assert.equal(r.status, 503, text);
    const h = JSON.parse(text);
    assert.equal(h.config.ok, false);
    for (const p of [repo, Deno.realPathSync(repo)]) assert.ok(!text.includes(p), `/healthz names ${p}: ${text}`);
    assert.match(h.config.error, /^internal: .*phases\.yaml/, "the failure is still described, coded");
  } finally {
    await server.stop();
  }
});

Deno.test("http: the dashboard's event stream reports a database failure coded, without the database's path", async () => {
  const repo = await tempRepo();
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "Parser" });
  const dbPath = e.storageInfo().path;
  const server = await serve(repo);
  const res = await fetch(new URL("/api/events", server.url));
  const reader = res.body!.getReader();
  try {
    assert.equal((await readUntil(reader, (t) => t.includes("event: hello"))).ended, false);
    e.upsertTicket({ id: "0002", title: "Lexer" });
    assert.equal((await readUntil(reader, (t) => t.includes('"ticketId":"0002"'))).ended, false);
    // The database file overwritten under the server: its next poll fails (a checksum mismatch: database_corrupt).
    const f = Deno.openSync(dbPath, { write: true });
    f.writeSync(new Uint8Array(Deno.statSync(dbPath).size).fill(0x41));
    f.close();
    try {
      e.upsertTicket({ id: "0003", title: "Parser again" }); // a commit for the server's poll to notice
    } catch { /* it may fail on the damaged file too */ }
    let tail = "";
    const got = await within(
      readUntil(reader, (t) => (tail = t).includes("event: error") && t.endsWith("\n\n")),
      30_000,
    );
    assert.notEqual(got, "timeout", `no error event: ${tail}`);
    const data = JSON.parse(/event: error\ndata: (.*)\n/.exec(tail)![1]);
    assert.equal(data.code, "database_corrupt", tail);
    for (const p of [repo, Deno.realPathSync(repo)]) assert.ok(!tail.includes(p), `the stream names ${p}: ${tail}`);
  } finally {
    await reader.cancel().catch(() => {});
    await server.stop();
    try {
      e.close();
    } catch { /* its database is gone */ }
  }
});

Deno.test("http: a live-update stream the page closed frees its connection at once: open/close churn never locks others out", async () => {
  const repo = await tempRepo();
  const server = await serve(repo, [], { BATON_MAX_CONNECTIONS: "20" });
  try {
    const u = new URL(server.url);
    const req = new TextEncoder().encode(`GET /api/events HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
    // Three times the connection limit, one after another: each stream starts, then its page goes away.
    for (let i = 0; i < 60; i++) {
      const c = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
      await writeAll(c, req);
      const got = await c.read(new Uint8Array(512));
      assert.ok(got && got > 0, "the stream started");
      c.close();
    }
    // The next reader is served (before: refused until the streams' next keep-alive, 15 s later).
    const r = await fetch(`${server.url}api/board`);
    const body = await r.text();
    assert.equal(r.status, 200, body);
  } finally {
    await server.stop();
  }
});
