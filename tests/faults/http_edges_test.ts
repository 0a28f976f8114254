/**
 * Small HTTP defects of both servers (issue 26, items 6 and 11), over raw
 * TCP so that every byte is the test's: bodies capped while they are read
 * (a chunked body that never ends is cut off at the cap, the server stays
 * small and answers others), no open redirect, no prototype lookups for
 * assets, and malformed Host headers, %-encodings and decision bodies
 * answered with a coded 4xx, never a 500 with a stack trace.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { startHttp } from "../helpers/mcp_clients.ts";
import { tempRepo } from "../helpers/repo.ts";
import { serve } from "../helpers/serve.ts";
import { chunked, writeAll } from "../helpers/raw_http.ts";

/** Sends `head` (and then `body` chunks, if given) and returns the status line and the whole answer. */
async function raw(
  base: string,
  head: string,
  body?: AsyncIterable<Uint8Array>,
): Promise<{ status: number; text: string }> {
  const u = new URL(base);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const enc = new TextEncoder();
  let text = "";
  const reading = (async () => {
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  })();
  try {
    await writeAll(conn, enc.encode(head));
    if (body) {
      for await (const chunk of body) {
        if (text) break; // answered: stop sending
        if (!(await writeAll(conn, chunk))) break;
      }
    }
  } catch { /* the server closed: its answer is read below */ }
  // Until the server closes, or the whole answer (its Content-Length) is in.
  const complete = () => {
    const end = text.indexOf("\r\n\r\n");
    const length = /\r\ncontent-length: (\d+)/i.exec(text)?.[1];
    return end >= 0 && length !== undefined && new TextEncoder().encode(text.slice(end + 4)).length >= Number(length);
  };
  const deadline = Date.now() + 30_000;
  while (!complete() && Date.now() < deadline) {
    if (await Promise.race([reading.then(() => true), new Promise((r) => setTimeout(() => r(false), 20))])) break;
  }
  try {
    conn.close();
  } catch { /* closed */ }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text };
}

function rssOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function dashboardRepo(): Promise<string> {
  const repo = await tempRepo();
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "Parser" });
  e.close();
  return repo;
}

Deno.test("http: the dashboard answers malformed requests with coded 4xx, no redirect off-site, no prototype assets", async () => {
  const repo = await dashboardRepo();
  const server = await serve(repo, ["--token", "s3cret"]);
  try {
    const host = new URL(server.url).host;
    const get = (path: string, h = host, extra = "") =>
      raw(server.url, `GET ${path} HTTP/1.1\r\nHost: ${h}\r\n${extra}Connection: close\r\n\r\n`);
    // Open redirect: ?token= moves the token into a cookie and redirects to the same page, never elsewhere.
    for (const path of ["//evil.com/x", "/\\evil.com/x", "///evil.com/x", "/%2F%2Fevil.com/x"]) {
      const r = await get(`${path}?token=s3cret`);
      const location = /\r\nlocation: ([^\r]*)/i.exec(r.text)?.[1];
      if (r.status === 303) {
        assert.ok(location && /^\/(?![\/\\])/.test(location), `${path} redirects to ${location}`);
      }
    }
    const cookie = `Cookie: baton_token=s3cret\r\n`;
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const r = await get(`/assets/${name}`, host, cookie);
      assert.equal(r.status, 404, `/assets/${name}: ${r.text.slice(0, 200)}`);
    }
    // A Host that only starts like a loopback name is refused, coded.
    const bad = await get("/api/board", "[::1]evil.com", cookie);
    assert.ok(bad.status >= 400 && bad.status < 500, bad.text.slice(0, 300));
    assert.match(bad.text, /"code":"(forbidden|invalid_argument)"/);
    // A malformed %-encoding in a path is a coded 400.
    const enc = await get("/api/ticket/%E0%A4%A", host, cookie);
    assert.equal(enc.status, 400, enc.text.slice(0, 300));
    assert.match(enc.text, /"code":"invalid_argument"/);
    const page = await get("/ticket/%ZZ", host, cookie);
    assert.equal(page.status, 400, page.text.slice(0, 300));
  } finally {
    await server.stop();
  }
});

Deno.test("http: a decision body that is null, not an object, or over the cap is a coded 4xx; the gate stays open", async () => {
  const repo = await tempRepo();
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "Parser" });
  const c = e.claimNext({ agentId: "designer-1", capabilities: ["designer"] })!;
  e.complete(c.phase.id, { agentId: "designer-1", token: c.token, summary: "designed" });
  const gate = e.gates()[0].id;
  e.close();
  const server = await serve(repo, ["--token", "s3cret"]);
  try {
    const host = new URL(server.url).host;
    const post = (body: string) =>
      raw(
        server.url,
        `POST /api/gates/${gate}/approve HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer s3cret\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${new TextEncoder().encode(body).length}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    for (const body of ["null", "42", '"approve"', "[]", "[1]"]) {
      const r = await post(body);
      assert.equal(r.status, 400, `${body}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, /"code":"invalid_argument"/);
    }
    // 200 MB, chunked: refused once the cap is passed, while the body is still arriving.
    const big = await raw(
      server.url,
      `POST /api/gates/${gate}/approve HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer s3cret\r\n` +
        `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
      chunked(200),
    );
    assert.equal(big.status, 413, big.text.slice(0, 300));
    assert.match(big.text, /"code":"payload_too_large"/);
    const e2 = await openEngine(repo);
    assert.equal(e2.gates()[0].status, "open", "no decision was made");
    e2.close();
  } finally {
    await server.stop();
  }
});

Deno.test("http: baton-mcp --http caps a chunked body while reading, and answers malformed requests with a coded 4xx", async () => {
  const repo = await dashboardRepo();
  const server = await startHttp(repo);
  try {
    const host = new URL(server.url).host;
    const before = rssOf(server.proc.pid);
    const big = await raw(
      server.url,
      `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAccept: application/json, ` +
        `text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
      chunked(200),
    );
    assert.equal(big.status, 413, big.text.slice(0, 300) + server.stderr());
    assert.ok(rssOf(server.proc.pid) - before < 100, `RSS grew ${rssOf(server.proc.pid) - before} MB`);
    const bad = await raw(server.url, `GET /healthz HTTP/1.1\r\nHost: [::1]evil.com\r\nConnection: close\r\n\r\n`);
    assert.ok(bad.status >= 400 && bad.status < 500, bad.text.slice(0, 300));
    const enc = await raw(server.url, `GET /mcp%E0%A4%A HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    assert.ok(enc.status >= 400 && enc.status < 500, enc.text.slice(0, 300));
    assert.doesNotMatch(server.stderr(), /\n\s+at /, `no stack trace in the log:\n${server.stderr()}`);
  } finally {
    await server.stop();
  }
});

/** Opens `n` connections that send part of a request's headers and then nothing. */
async function stalled(base: string, n: number): Promise<Deno.Conn[]> {
  const u = new URL(base);
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < n; i++) {
    const c = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    await writeAll(c, new TextEncoder().encode(`GET /api/board HTTP/1.1\r\nHost: ${u.host}\r\nX-Slow: `));
    conns.push(c);
  }
  return conns;
}

/** Resolves with how long each connection stayed open (ms), or rejects after `ms`. */
async function closedWithin(conns: Deno.Conn[], ms: number): Promise<number[]> {
  const t0 = performance.now();
  const closed = conns.map(async (c) => {
    const b = new Uint8Array(256);
    try {
      while ((await c.read(b)) !== null) { /* an answer, if any: then the close */ }
    } catch { /* reset: closed */ }
    return performance.now() - t0;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      Promise.all(closed),
      new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms)),
    ]);
  } finally {
    clearTimeout(timer);
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }
}

Deno.test("http: half-open connections that never finish their headers are closed; others are served meanwhile", async () => {
  const env = { BATON_HEADER_TIMEOUT_MS: "1500" };
  const dashRepo = await dashboardRepo();
  const dash = await serve(dashRepo, [], env);
  const mcpRepo = await dashboardRepo();
  const mcp = await startHttp(mcpRepo, { env });
  try {
    for (const [name, base, path] of [["dashboard", dash.url, "/api/board"], ["baton-mcp", mcp.base, "/healthz"]]) {
      const conns = await stalled(base, 200);
      const ok = await fetch(new URL(path, base));
      assert.equal(ok.status, 200, `${name} answers others while 200 connections stall`);
      await ok.body?.cancel();
      // Each stalled connection is closed by the server (bounded wait: far beyond the 1.5 s deadline, under load).
      const open = await closedWithin(conns, 60_000);
      assert.equal(open.length, 200, name);
    }
  } finally {
    await dash.stop();
    await mcp.stop();
  }
});

Deno.test("http: a ticket whose markdown is slow to render (or nests too deep) shows as text; every other request is served meanwhile", async () => {
  const repo = await tempRepo();
  await Deno.mkdir(`${repo}/tickets`, { recursive: true });
  // Emphasis markers the parser's time grows faster than linearly on (filed through report_issue, say).
  await Deno.writeTextFile(`${repo}/tickets/0002_crash.md`, `# Crash\n\n${"*a_".repeat(11_000)}\n`);
  await Deno.writeTextFile(`${repo}/tickets/0003_quoted.md`, `# Quoted\n\n${"> ".repeat(20_000)}deep\n`);
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0002", title: "Crash", path: "tickets/0002_crash.md" });
  e.upsertTicket({ id: "0003", title: "Quoted", path: "tickets/0003_quoted.md" });
  e.close();
  const server = await serve(repo);
  try {
    const order: string[] = [];
    const get = async (path: string) => {
      const r = await fetch(`${server.url}${path.slice(1)}`);
      const body = await r.json();
      order.push(path);
      return { status: r.status, body };
    };
    const slow = get("/api/ticket/0002");
    await new Promise((r) => setTimeout(r, 100)); // the render has begun
    const board = await get("/api/board");
    assert.equal(board.status, 200);
    const ticket = await slow;
    assert.deepEqual(order, ["/api/board", "/api/ticket/0002"], "the board waited for the ticket's markdown");
    assert.match(ticket.body.markdown, /Shown as plain text: its markdown took longer than/);
    assert.match(ticket.body.markdown, /<pre>[^<]*\*a_\*a_/);
    // Asked again (the page refreshes on every event): the same answer, kept, not rendered again.
    assert.equal((await get("/api/ticket/0002")).body.markdown, ticket.body.markdown);
    const deep = await get("/api/ticket/0003");
    assert.notEqual(deep.body.markdown, null, "a file that is there is shown, not reported missing");
    assert.match(deep.body.markdown, /deep/);
  } finally {
    await server.stop();
  }
});

Deno.test("http: every refusal of baton-mcp --http is JSON with Baton's code (error.data.code) and its status", async () => {
  const repo = await dashboardRepo();
  const server = await startHttp(repo, { token: "tok-alice-123456" });
  try {
    const u = new URL(server.url);
    const auth = "Authorization: Bearer tok-alice-123456\r\n";
    const init = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "c", version: "1" } },
    });
    const send = (method: string, path: string, extra: string, body = "") =>
      raw(
        server.url,
        `${method} ${path} HTTP/1.1\r\nHost: ${u.host}\r\n${extra}Content-Type: application/json\r\n` +
          `Accept: application/json, text/event-stream\r\nContent-Length: ${
            new TextEncoder().encode(body).length
          }\r\nConnection: close\r\n\r\n${body}`,
      );
    const cases: [string, Promise<{ status: number; text: string }>, number, string][] = [
      ["no token", send("POST", "/mcp", "", init), 401, "unauthorized"],
      ["a foreign Origin", send("POST", "/mcp", `${auth}Origin: http://evil.example\r\n`, init), 403, "forbidden"],
      ["a parse error", send("POST", "/mcp", auth, "{nope"), 400, "invalid_argument"],
      [
        "no session, not initialize",
        send("POST", "/mcp", auth, '{"jsonrpc":"2.0","id":1,"method":"ping"}'),
        400,
        "invalid_argument",
      ],
      ["a batch", send("POST", "/mcp", auth, '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'), 400, "invalid_argument"],
      [
        "an unknown session",
        send("POST", "/mcp", `${auth}Mcp-Session-Id: abc\r\n`, '{"jsonrpc":"2.0","id":1,"method":"ping"}'),
        404,
        "not_found",
      ],
      ["GET /mcp", send("GET", "/mcp", auth), 405, "method_not_allowed"],
      ["PUT /mcp", send("PUT", "/mcp", auth, "x"), 405, "method_not_allowed"],
      ["another path", send("GET", "/x", auth), 404, "not_found"],
      ["POST /healthz", send("POST", "/healthz", ""), 405, "method_not_allowed"],
    ];
    for (const [what, answer, status, code] of cases) {
      const r = await answer;
      assert.equal(r.status, status, `${what}: ${r.text.slice(0, 300)}`);
      const body = JSON.parse(r.text.slice(r.text.indexOf("\r\n\r\n") + 4));
      assert.equal(body.error?.data?.code, code, `${what}: ${JSON.stringify(body)}`);
      assert.ok(typeof body.error.message === "string" && body.error.message.length > 0, what);
    }
    // A foreign Host (DNS rebinding), over the same wire.
    const rebound = await raw(
      server.url,
      `POST /mcp HTTP/1.1\r\nHost: evil.example\r\n${auth}Content-Type: application/json\r\nContent-Length: ${init.length}\r\nConnection: close\r\n\r\n${init}`,
    );
    assert.equal(rebound.status, 403, rebound.text.slice(0, 300));
    assert.match(rebound.text, /"code":"forbidden"/);
  } finally {
    await server.stop();
  }
});
