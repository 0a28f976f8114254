/**
 * One HTTP server, many agents, kept apart (issue 15, parts 2–3): a session
 * acts only as its own agent and on its own claims; an agent cannot decide
 * a gate under another id; named tokens are recorded in the audit;
 * `/healthz` checks Host and Origin; batches and bad stdio input get an
 * answer; `get_context` never reads outside the repository.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { httpSession, MCP, serverEnv, startHttp, stdioSession } from "../helpers/mcp_clients.ts";

const PHASES = `phases:
  - {name: Design, agent_type: designer}
  - {name: Design Review, agent_type: null}
  - {name: Implementation, agent_type: implementer}
`;

async function repoWith(n: number, config?: string): Promise<string> {
  const repo = await tempRepo({ phases: PHASES, config });
  const e = await openEngine(repo);
  for (let i = 1; i <= n; i++) e.upsertTicket({ id: String(i).padStart(4, "0"), title: `Ticket ${i}` });
  e.close();
  return repo;
}

/** The status of a GET sent with a Host header of our choosing (fetch does not let one set it). */
async function rawStatus(base: string, path: string, host: string): Promise<number> {
  const u = new URL(base);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  try {
    await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n ?? 0)))?.[1]);
  } finally {
    conn.close();
  }
}

Deno.test("http: a second session cannot complete, fail, release or heartbeat the first session's phase", async () => {
  const repo = await repoWith(2);
  const server = await startHttp(repo);
  const victim = await httpSession(server.url);
  const other = await httpSession(server.url);
  try {
    assert.ok((await victim.call("register_agent", { agent_id: "victim", capabilities: ["designer"] })).ok);
    const claim = await victim.call("claim_phase");
    const phaseId = claim.data.phaseId as number;
    assert.ok((await other.call("register_agent", { agent_id: "mallory", capabilities: ["designer"] })).ok);
    for (
      const [tool, args] of [
        ["complete_phase", { agent_id: "victim" }],
        ["complete_phase", { agent_id: "victim", phase_id: phaseId }],
        ["complete_phase", { phase_id: phaseId }],
        ["fail_phase", { agent_id: "victim", phase_id: phaseId, error: "x" }],
        ["release_phase", { agent_id: "victim", phase_id: phaseId }],
        ["start_phase", { phase_id: phaseId }],
        ["declare_files", { phase_id: phaseId, paths: ["src/x.ts"] }],
        ["heartbeat", { agent_id: "victim" }],
      ] as const
    ) {
      const r = await other.call(tool, args);
      assert.equal(r.ok, false, `${tool} ${JSON.stringify(args)}: ${r.text}`);
      assert.equal(r.data.code, "forbidden", `${tool} ${JSON.stringify(args)}: ${r.text}`);
    }
    // A fresh, unregistered session cannot either.
    const fresh = await httpSession(server.url);
    const r = await fresh.call("complete_phase", { agent_id: "victim", phase_id: phaseId });
    assert.equal(r.data.code, "forbidden", r.text);
    await fresh.close();
    const e = await openEngine(repo);
    const p = e.ticket("0001").phases[0];
    assert.equal(p.status, "claimed");
    assert.equal(p.claimedBy, "victim");
    e.close();
    // The victim's own session still works; so does the victim resuming elsewhere with its token.
    assert.ok((await victim.call("start_phase")).ok);
    const resumed = await httpSession(server.url);
    const done = await resumed.call("complete_phase", {
      agent_id: "victim",
      phase_id: phaseId,
      token: claim.data.token,
      summary: "resumed",
    });
    assert.ok(done.ok, done.text);
    await resumed.close();
  } finally {
    await victim.close();
    await other.close();
    await server.stop();
  }
});

Deno.test("http: with gates.allow_agents, an agent cannot decide a gate of its own work under another id", async () => {
  const repo = await repoWith(1, "gates:\n  allow_agents: true\n");
  const server = await startHttp(repo);
  const s = await httpSession(server.url);
  try {
    assert.ok((await s.call("register_agent", { agent_id: "agent-A", capabilities: ["designer"] })).ok);
    assert.ok((await s.call("claim_phase")).ok);
    assert.ok((await s.call("complete_phase", { summary: "mine" })).ok);
    const e = await openEngine(repo);
    const gate = e.gates()[0];
    e.close();
    const own = await s.call("approve_gate", { gate_id: gate.id });
    assert.equal(own.data.code, "forbidden", own.text);
    assert.match(String(own.data.message), /agent-A (.*)?worked on this ticket/);
    const forged = await s.call("approve_gate", { gate_id: gate.id, agent_id: "agent-Z" });
    assert.equal(forged.data.code, "forbidden", forged.text);
    assert.match(String(forged.data.message), /acts as agent-A; it cannot decide a gate as agent-Z/);
    const stateless = await httpSession(server.url, { mode: "auto" });
    const anon = await stateless.call("approve_gate", { gate_id: gate.id, agent_id: "agent-Z" });
    assert.equal(anon.data.code, "forbidden", anon.text);
    await stateless.close();
    const e2 = await openEngine(repo);
    assert.equal(e2.gate(gate.id).status, "open");
    e2.close();
  } finally {
    await s.close();
    await server.stop();
  }
});

Deno.test("http: an agent cannot take a human's name (human:NAME), Baton's (system), or one not well-formed, to register, claim or decide", async () => {
  const repo = await repoWith(1, "gates:\n  allow_agents: true\n");
  const server = await startHttp(repo);
  const s = await httpSession(server.url);
  try {
    const names = ["human:dana", "Human: Dana", "system", "ｈuman:dana", "human\u200b:dana", "baton-run"];
    // A lone surrogate would be stored as U+FFFD: its holder could no longer act on its own claim.
    for (const id of [...names, "bot\uD800", "\uDC00bot"]) {
      const reg = await s.call("register_agent", { agent_id: id, capabilities: ["designer"] });
      assert.equal(reg.data.code, "invalid_argument", reg.text);
      assert.match(String(reg.data.message), names.includes(id) ? /cannot be an agent id/ : /not well-formed Unicode/);
      const claim = await s.call("claim_phase", { agent_id: id, capabilities: ["designer"] });
      assert.equal(claim.ok, false, claim.text);
    }
    const e = await openEngine(repo);
    assert.deepEqual(e.agents().map((a) => a.id), [], "no such agent was recorded");
    assert.equal(e.ticket("0001").phases[0].status, "available");
    e.close();
  } finally {
    await s.close();
    await server.stop();
  }
});

Deno.test("http: named tokens: the audit records who, a session keeps its token, a foreign Host gets no health", async () => {
  const repo = await repoWith(1);
  const file = `${await Deno.makeTempDir()}/tokens`;
  await Deno.writeTextFile(file, "# team\ndana: dana-token-123\npriya: priya-token-456\n");
  const server = await startHttp(repo, { args: ["--token-file", file] });
  const s = await httpSession(server.url, { token: "priya-token-456" });
  try {
    assert.match(server.stderr(), /2 named token\(s\)/);
    assert.ok((await s.call("register_agent", { agent_id: "p-agent", capabilities: ["designer"] })).ok);
    assert.ok((await s.call("claim_phase")).ok);
    const e = await openEngine(repo);
    const claimed = e.audit({ action: "phase.claim" })[0];
    assert.equal(claimed.actor, "p-agent");
    assert.equal(claimed.details?.via, "priya");
    e.close();
    // The session's id with another person's token: refused.
    const sid = (s.client.transport as { sessionId?: string } | undefined)?.sessionId;
    assert.ok(typeof sid === "string", "a 2025-era session has an id");
    {
      const r = await fetch(server.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-session-id": sid,
          "mcp-protocol-version": "2025-11-25",
          authorization: "Bearer dana-token-123",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
      });
      assert.equal(r.status, 403);
      await r.body?.cancel();
    }
    // /healthz: the same Host and Origin checks as /mcp (DNS rebinding), no token needed.
    const ok = await fetch(`${server.base}/healthz`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.equal(await rawStatus(server.base, "/healthz", "evil.example:8765"), 403, "a DNS-rebinding Host");
    assert.equal(await rawStatus(server.base, "/healthz", new URL(server.base).host), 200);
    const foreignOrigin = await fetch(`${server.base}/healthz`, { headers: { origin: "http://evil.example" } });
    assert.equal(foreignOrigin.status, 403);
    await foreignOrigin.body?.cancel();
    // JSON-RPC batches are refused in every protocol era.
    const batch = await fetch(server.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: "Bearer dana-token-123",
        ...(sid ? { "mcp-session-id": sid } : {}),
      },
      body: JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "tools/list" }, {
        jsonrpc: "2.0",
        id: 2,
        method: "ping",
      }]),
    });
    assert.equal(batch.status, 400);
    assert.equal((await batch.json()).error.code, -32600);
  } finally {
    await s.close();
    await server.stop();
  }
});

Deno.test("stdio: bad input gets an answer when it has an id, and one log line otherwise; the server keeps serving", async () => {
  const repo = await repoWith(1);
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MCP, "--repo", repo],
    env: serverEnv(),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  const send = (s: string) => w.write(new TextEncoder().encode(s + "\n"));
  await send("this is not json");
  await send(JSON.stringify({ id: 7, method: "tools/list" })); // no jsonrpc
  await send(JSON.stringify([{ jsonrpc: "2.0", id: 8, method: "ping" }, { jsonrpc: "2.0", id: 9, method: "ping" }]));
  await send('{"jsonrpc": "2.0", "id": 10, "method": "ping"'); // cut short, but the id is readable
  await send(JSON.stringify({
    jsonrpc: "2.0",
    id: 11,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
  }));
  const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while ((out.match(/\n/g) ?? []).length < 5) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  await w.close();
  reader.releaseLock();
  const status = await p.status;
  await p.stdout.cancel().catch(() => {});
  const stderr = new TextDecoder().decode(await new Response(p.stderr).arrayBuffer());
  const replies = out.trim().split("\n").map((l) => JSON.parse(l));
  const byId = new Map(replies.map((r) => [r.id, r]));
  assert.equal(byId.get(7).error.code, -32600);
  assert.equal(byId.get(8).error.code, -32600);
  assert.equal(byId.get(9).error.code, -32600);
  assert.equal(byId.get(10).error.code, -32700);
  assert.ok(byId.get(11).result.serverInfo, "the server still answers well-formed requests");
  assert.match(stderr, /stdio: ignored a line that is not JSON/);
  assert.equal(stderr.split("\n").filter((l) => /ignored/.test(l)).length, 1, "one line for the one without an id");
  assert.equal(status.code, 0);
});

Deno.test("get_context never reads outside the repository, through symlinks included", async () => {
  const repo = await repoWith(1, "context:\n  always_include: [link_out, inside/secret.txt, docs/ok.md]\n");
  const outside = await Deno.makeTempDir();
  await Deno.writeTextFile(`${outside}/secret.txt`, "host secret");
  await Deno.symlink("/etc/passwd", `${repo}/link_out`);
  await Deno.symlink(outside, `${repo}/inside`);
  await Deno.mkdir(`${repo}/docs`);
  await Deno.writeTextFile(`${repo}/docs/ok.md`, "fine");
  const s = await stdioSession(repo);
  try {
    assert.ok((await s.call("register_agent", { agent_id: "a", capabilities: ["designer"] })).ok);
    assert.ok((await s.call("claim_phase")).ok);
    const ctx = await s.call("get_context");
    assert.ok(ctx.ok, ctx.text);
    const files = ctx.data.files as { path: string; content: string }[];
    assert.deepEqual(files.map((f) => f.path), ["docs/ok.md"]);
    assert.ok(!ctx.text.includes("root:") && !ctx.text.includes("host secret"));
  } finally {
    await s.close();
  }
});

/** A token file with two people on it. */
async function twoTokens(): Promise<string> {
  const file = `${await Deno.makeTempDir()}/tokens`;
  await Deno.writeTextFile(file, "dana: dana-token-123\npriya: priya-token-456\n");
  return file;
}

Deno.test("http: an agent id belongs to whoever registered it: another token cannot re-register, heartbeat or claim as it", async () => {
  const repo = await repoWith(2);
  const server = await startHttp(repo, { args: ["--token-file", await twoTokens()] });
  const dana = await httpSession(server.url, { token: "dana-token-123" });
  const priya = await httpSession(server.url, { token: "priya-token-456" });
  const priyaStateless = await httpSession(server.url, { token: "priya-token-456", mode: "auto" });
  try {
    assert.ok((await dana.call("register_agent", { agent_id: "agent-D", capabilities: ["designer"] })).ok);
    const claimed = await dana.call("claim_phase");
    assert.ok(claimed.ok, claimed.text);
    const e = await openEngine(repo);
    const beat = e.agents().find((a) => a.id === "agent-D")!.lastHeartbeat;
    for (const s of [priya, priyaStateless]) {
      const re = await s.call("register_agent", { agent_id: "agent-D", capabilities: ["implementer"] });
      assert.equal(re.data.code, "forbidden", re.text);
      assert.match(String(re.data.message), /agent agent-D: it belongs to another client/);
      const hb = await s.call("heartbeat", { agent_id: "agent-D", progress: "pretending" });
      assert.equal(hb.data.code, "forbidden", hb.text);
      const cl = await s.call("claim_phase", { agent_id: "agent-D", capabilities: ["designer"] });
      assert.equal(cl.data.code, "forbidden", cl.text);
    }
    const a = e.agents().find((a) => a.id === "agent-D")!;
    assert.deepEqual(a.capabilities, ["designer"], "capabilities unchanged");
    assert.equal(a.lastHeartbeat, beat, "stall clock not reset");
    assert.equal(e.audit({ agentId: "agent-D" }).filter((r) => r.action === "agent.progress").length, 0);
    // The real agent goes on: no already_holding, its claim is its own.
    assert.ok((await dana.call("start_phase")).ok);
    // With the agent's claim token, another client may finish its work (an agent that reconnected elsewhere).
    const token = String(claimed.data.token);
    const done = await priyaStateless.call("complete_phase", {
      agent_id: "agent-D",
      phase_id: claimed.data.phaseId,
      token,
      summary: "resumed",
    });
    assert.ok(done.ok, done.text);
    e.close();
  } finally {
    for (const s of [dana, priya, priyaStateless]) await s.close();
    await server.stop();
  }
});

Deno.test("http: without tokens, a stateless request cannot take over an agent a session registered", async () => {
  const repo = await repoWith(2);
  const server = await startHttp(repo);
  const s = await httpSession(server.url);
  const stateless = await httpSession(server.url, { mode: "auto" });
  try {
    assert.ok((await s.call("register_agent", { agent_id: "agent-S", capabilities: ["designer"] })).ok);
    assert.ok((await s.call("claim_phase")).ok);
    const re = await stateless.call("register_agent", { agent_id: "agent-S", capabilities: ["implementer"] });
    assert.equal(re.data.code, "forbidden", re.text);
    const cl = await stateless.call("claim_phase", { agent_id: "agent-S", capabilities: ["designer"] });
    assert.equal(cl.data.code, "forbidden", cl.text);
    assert.ok((await s.call("complete_phase", { summary: "mine" })).ok);
  } finally {
    await stateless.close();
    await s.close();
    await server.stop();
  }
});

Deno.test("http: an agent cannot approve its own work by registering a new id with the same token in a new session", async () => {
  const repo = await repoWith(1, "gates:\n  allow_agents: true\n");
  const server = await startHttp(repo, { args: ["--token-file", await twoTokens()] });
  const first = await httpSession(server.url, { token: "dana-token-123" });
  try {
    assert.ok((await first.call("register_agent", { agent_id: "agent-A", capabilities: ["designer"] })).ok);
    assert.ok((await first.call("claim_phase")).ok);
    assert.ok((await first.call("complete_phase", { summary: "mine" })).ok);
    await first.close();
    const e = await openEngine(repo);
    const gate = e.gates()[0];
    const again = await httpSession(server.url, { token: "dana-token-123" });
    assert.ok((await again.call("register_agent", { agent_id: "agent-A2", capabilities: ["reviewer"] })).ok);
    const own = await again.call("approve_gate", { gate_id: gate.id });
    assert.equal(own.data.code, "forbidden", own.text);
    assert.match(String(own.data.message), /another agent of the same client/);
    await again.close();
    // Someone else's agent may.
    const other = await httpSession(server.url, { token: "priya-token-456" });
    assert.ok((await other.call("register_agent", { agent_id: "agent-P", capabilities: ["reviewer"] })).ok);
    const ok = await other.call("approve_gate", { gate_id: gate.id });
    assert.ok(ok.ok, ok.text);
    await other.close();
    assert.equal(e.gate(gate.id).status, "approved");
    e.close();
  } finally {
    await server.stop();
  }
});

Deno.test("http: one token's holder opening sessions in a loop pushes out only its own, never another holder's", async () => {
  const repo = await repoWith(1);
  const server = await startHttp(repo, { args: ["--token-file", await twoTokens()] });
  const dana = await httpSession(server.url, { token: "dana-token-123" });
  try {
    assert.ok((await dana.call("register_agent", { agent_id: "agent-D", capabilities: ["designer"] })).ok);
    const init = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "loop", version: "1" } },
    });
    // Priya's client opens more sessions than the whole server keeps (1,000), 25 at a time.
    for (let i = 0; i < 1_025; i += 25) {
      await Promise.all(Array.from({ length: 25 }, async () => {
        const r = await fetch(server.url, {
          method: "POST",
          headers: {
            authorization: "Bearer priya-token-456",
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
          },
          body: init,
        });
        assert.equal(r.status, 200);
        await r.body?.cancel();
      }));
    }
    // Dana's session, older than all of them, still answers (before: evicted, "Session not found").
    const beat = await dana.call("heartbeat", {});
    assert.ok(beat.ok, beat.text);
    const health = await (await fetch(server.url.replace(/\/mcp$/, "/healthz"))).json();
    assert.ok(health.sessions <= 251, `${health.sessions} sessions kept`);
  } finally {
    await dana.close();
    await server.stop();
  }
});
