/**
 * `baton-mcp` as real processes, driven by the real MCP client over stdio and
 * over Streamable HTTP; the engine state is checked through the library.
 */
import assert from "node:assert/strict";
import { skipHeavy } from "../helpers/heavy.ts";
import { type Engine, importTickets, openEngine } from "../../mod.ts";
import { holdWriteLock, migrateAsNewerBaton, tempRepo } from "../helpers/repo.ts";
import { HELP } from "../../src/mcp/main.ts";
import { checkMcpSnippets, mcpSection } from "../helpers/mcp_readme.ts";
import { drain, httpSession, MCP, serverEnv, type Session, startHttp, stdioSession } from "../helpers/mcp_clients.ts";

const AGENT_TOOLS = [
  "register_agent",
  "list_available_work",
  "claim_phase",
  "start_phase",
  "heartbeat",
  "complete_phase",
  "fail_phase",
  "release_phase",
  "request_review",
  "declare_files",
  "check_conflicts",
  "get_context",
];
const QUERY_TOOLS = ["get_ticket", "list_tickets", "list_blocked", "ready_parallel", "get_metrics", "get_audit_log"];
const ALL_TOOLS = [...AGENT_TOOLS, ...QUERY_TOOLS, "create_tickets", "report_issue"];
const READ_ONLY = new Set([
  "list_available_work",
  "check_conflicts",
  "get_context",
  ...QUERY_TOOLS,
]);

const PHASES = `phases:
  - {name: Design, agent_type: designer}
  - {name: Design Review, agent_type: null}
  - {name: Implementation, agent_type: implementer}
`;

/** A repository with the three-phase workflow and the given tickets. */
async function seeded(
  tickets: { id: string; title: string; metadata?: Record<string, unknown> }[],
  config?: string,
): Promise<string> {
  const repo = await tempRepo({ phases: PHASES, config });
  const e = await openEngine(repo);
  for (const t of tickets) e.upsertTicket(t);
  e.close();
  return repo;
}

async function withEngine<T>(repo: string, fn: (e: Engine) => T | Promise<T>): Promise<T> {
  const e = await openEngine(repo);
  try {
    return await fn(e);
  } finally {
    e.close();
  }
}

const bytes = (x: unknown) => new TextEncoder().encode(JSON.stringify(x)).length;

async function expectError(s: Session, tool: string, args: Record<string, unknown>, code: string): Promise<string> {
  const r = await s.call(tool, args);
  assert.equal(r.ok, false, `${tool} ${JSON.stringify(args)} should fail with ${code}, got ${r.text}`);
  assert.equal(r.data.code, code, `${tool}: ${r.text}`);
  assert.equal(typeof r.data.message, "string");
  assert.ok(r.text.startsWith(`${code}: ${r.data.message}`), `the text reads "code: message": ${r.text}`);
  assert.throws(() => JSON.parse(r.text), "an error's text is never bare JSON (a client could take it for output)");
  return r.data.message as string;
}

async function run(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MCP, ...args],
    cwd: opts.cwd,
    env: serverEnv(opts.env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: o.code, stdout: new TextDecoder().decode(o.stdout), stderr: new TextDecoder().decode(o.stderr) };
}

// ---------------------------------------------------------------------------

Deno.test("mcp: --help, bad flags, and no non-loopback bind without a token", async () => {
  const repo = await seeded([]);
  const [help, bad, stray, open, openV6, env] = await Promise.all([
    run(["--help"]),
    run(["--bogus"]),
    run(["--port", "9"]),
    run(["--http", "--host", "0.0.0.0", "--port", "0", "--repo", repo]),
    run(["--http", "--host", "::", "--port", "0", "--repo", repo]),
    run(["--http", "--port", "x"]),
  ]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^baton-mcp .* MCP server/);
  assert.match(help.stdout, /--http/);
  assert.equal(help.stderr, "");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: .*bogus/);
  assert.equal(bad.stdout, "");
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /^error: --port needs --http/);
  for (const o of [open, openV6]) {
    assert.equal(o.code, 2, o.stderr);
    assert.match(o.stderr, /^error: refusing to serve on .* without a token/);
  }
  assert.equal(env.code, 2);
  assert.match(env.stderr, /^error: --port must be/);
  // Outside a repository: a clear error, exit 1, nothing on stdout.
  const nowhere = await run([], { cwd: await Deno.makeTempDir() });
  assert.equal(nowhere.code, 1);
  assert.match(nowhere.stderr, /^error: /);
  assert.equal(nowhere.stdout, "");
});

Deno.test("mcp over stdio: tools, resources and prompts are listed, tools/list stays small", async () => {
  const repo = await seeded([{ id: "0001", title: "First" }]);
  const s = await stdioSession(repo);
  try {
    const list = await s.client.listTools();
    const names = list.tools.map((t) => t.name);
    assert.deepEqual([...names].sort(), [...ALL_TOOLS].sort());
    for (const t of list.tools) {
      assert.ok(t.description && t.description.length < 220, `${t.name}: a short description`);
      assert.equal(t.inputSchema.type, "object");
      assert.equal(t.inputSchema.additionalProperties, false, `${t.name}: unknown arguments are refused`);
      assert.equal(t.outputSchema?.type, "object", `${t.name} declares an output schema`);
      assert.equal(t.annotations?.openWorldHint, false);
      assert.equal(t.annotations?.readOnlyHint, READ_ONLY.has(t.name), `${t.name}: readOnlyHint`);
      assert.equal(typeof t.annotations?.destructiveHint, "boolean");
      assert.equal(typeof t.annotations?.idempotentHint, "boolean");
    }
    const size = bytes(list);
    console.log(`tools/list: ${list.tools.length} tools, ${size} bytes`);
    assert.ok(size < 16_000, `tools/list is ${size} bytes`);

    const resources = await s.client.listResources();
    assert.ok(resources.resources.some((r) => r.uri === "baton://dashboard"));
    assert.ok(resources.resources.some((r) => r.uri === "baton://ticket/0001"));
    const templates = await s.client.listResourceTemplates();
    assert.deepEqual(templates.resourceTemplates.map((t) => t.uriTemplate).sort(), [
      "baton://queue/{agent_type}",
      "baton://ticket/{id}",
    ]);
    const prompts = await s.client.listPrompts();
    assert.deepEqual(prompts.prompts.map((p) => p.name).sort(), ["review_gate", "work_on_next_phase"]);
    assert.deepEqual(prompts.prompts.find((p) => p.name === "review_gate")!.arguments, [
      { name: "gate_id", description: "the gate's id", required: true },
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("mcp over stdio: a single-phase agent session, checked through the library", async () => {
  const repo = await seeded([
    { id: "0001", title: "Add a cache", metadata: { priority: "High", paths: ["src/cache/**"] } },
    { id: "0002", title: "Later" },
  ]);
  const s = await stdioSession(repo);
  try {
    const reg = await s.call("register_agent", { capabilities: ["designer"], metadata: { model: "test" } });
    assert.ok(reg.ok, reg.text);
    const agent = reg.data.agentId as string;
    assert.match(agent, /^agent-/, "an id is generated when none is given");

    const work = await s.call("list_available_work");
    assert.deepEqual((work.data.phases as { ticketId: string }[]).map((p) => p.ticketId), ["0001", "0002"]);

    const claim = await s.call("claim_phase", { idempotency_key: "k-1" });
    assert.ok(claim.ok, claim.text);
    assert.equal((claim.data.ticket as { id: string }).id, "0001");
    assert.match(claim.data.next as string, /declare_files.*start_phase.*complete_phase/);
    const phaseId = claim.data.phaseId as number;
    const again = await s.call("claim_phase", { idempotency_key: "k-1" });
    assert.equal(again.data.phaseId, phaseId, "same idempotency key, same claim");
    assert.equal(again.data.token, claim.data.token);

    const declared = await s.call("declare_files", { paths: ["src/cache/lru.ts", "docs/cache.md"] });
    assert.deepEqual(declared.data.declared, ["src/cache/lru.ts", "docs/cache.md"]);
    const conflicts = await s.call("check_conflicts", { paths: ["src/cache/*.ts"] });
    assert.equal(conflicts.data.conflict, false, "its own declarations are not a conflict");
    assert.ok((await s.call("start_phase")).ok);
    assert.ok((await s.call("heartbeat", { progress: "half way" })).ok);
    const ctx = await s.call("get_context");
    assert.equal((ctx.data.phase as { id: number }).id, phaseId);
    assert.equal((ctx.data.ticket as { id: string }).id, "0001");

    const prompt = await s.client.getPrompt({ name: "work_on_next_phase", arguments: {} });
    const text = (prompt.messages[0].content as { text: string }).text;
    assert.match(text, new RegExp(`You already hold phase ${phaseId}`));
    assert.match(text, /"title": "Add a cache"/, "the assembled context is filled in");
    const res = await s.client.readResource({ uri: "baton://ticket/0001" });
    assert.equal(JSON.parse((res.contents[0] as { text: string }).text).phases[0].status, "running");
    const dash = JSON.parse(
      ((await s.client.readResource({ uri: "baton://dashboard" })).contents[0] as { text: string }).text,
    );
    assert.equal(dash.agents[0].holds[0].phaseId, phaseId);

    const done = await s.call("complete_phase", { summary: "design written", artifacts: ["docs/cache.md"] });
    assert.ok(done.ok, done.text);
    assert.match(done.data.next as string, /^Stop/);
    assert.deepEqual((done.data.ticket as { open: { name: string }[] }).open.map((p) => p.name), ["Design Review"]);
    // A retry of the same completion (its answer was lost) is the same success; another one is refused.
    const retry = await s.call("complete_phase", { summary: "design written", artifacts: ["docs/cache.md"] });
    assert.ok(retry.ok, retry.text);
    assert.deepEqual(retry.data.phase, done.data.phase);
    await expectError(s, "complete_phase", { summary: "something else" }, "invalid_transition");
    const audit = await s.call("get_audit_log", { ticket_id: "0001", limit: 3 });
    assert.equal((audit.data.entries as unknown[]).length, 3);

    // A planner's batch: one transaction, a dependency by ref, markdown from the template.
    const plan = await s.call("create_tickets", {
      tickets: [{ ref: "api", title: "Cache API", priority: "High" }, {
        title: "Use the cache",
        dependencies: [{ on: "api" }],
      }],
      write_files: true,
    });
    assert.ok(plan.ok, plan.text);
    const created = plan.data.created as { id: string; path: string }[];
    assert.deepEqual(created.map((t) => t.id), ["0003", "0004"]);
    for (const t of created) assert.ok(Deno.statSync(`${repo}/${t.path}`).isFile, t.path);
  } finally {
    await s.close();
  }
  await withEngine(repo, (e) => {
    const t = e.ticket("0001");
    const design = t.phases.find((p) => p.name === "Design")!;
    assert.equal(design.status, "completed");
    assert.equal(design.resultSummary, "design written");
    assert.deepEqual(design.artifacts, ["docs/cache.md"]);
    assert.match(design.claimedBy!, /^agent-/);
    assert.equal(design.attempts, 1, "the idempotent retry did not claim twice");
    assert.equal(e.gates()[0].phaseName, "Design Review");
    assert.deepEqual(e.declarations(), [], "declarations end with the phase");
    const agent = e.agents().find((a) => a.id === design.claimedBy)!;
    assert.deepEqual(agent.capabilities, ["designer"]);
    const actions = e.audit({ ticketId: "0001" }).map((a) => a.action);
    for (const a of ["phase.claim", "files.declared", "phase.start", "phase.complete", "gate.opened"]) {
      assert.ok(actions.includes(a), a);
    }
    assert.ok(e.audit({ agentId: design.claimedBy! }).some((a) => a.action === "agent.progress"));
    assert.equal(e.ticket("0002").phases[0].status, "available");
    const use = e.ticket("0004");
    assert.deepEqual(use.dependencies.map((d) => [d.dependsOn, d.satisfiedAt]), [["0003", null]]);
    assert.equal(use.phases[0].status, "blocked");
    assert.equal(e.ticket("0003").priority, "High");
  });
});

Deno.test("mcp over stdio: a gate waits for a human; after the approval the next phase is claimable", async () => {
  const repo = await seeded([{ id: "0001", title: "Gated" }]);
  const s = await stdioSession(repo);
  try {
    assert.ok((await s.call("register_agent", { agent_id: "designer-1", capabilities: ["designer"] })).ok);
    assert.ok((await s.call("claim_phase")).ok);
    assert.ok((await s.call("complete_phase", { summary: "the design", artifacts: ["design.md"] })).ok);

    // The same session now acts as an implementer: nothing until a human decides.
    assert.ok((await s.call("register_agent", { agent_id: "impl-1", capabilities: ["implementer"] })).ok);
    await expectError(s, "claim_phase", {}, "nothing_to_claim");
    const blocked = await s.call("list_blocked");
    assert.equal((blocked.data.items as { reason: string }[])[0].reason, "gate");

    const gate = await withEngine(repo, (e) => e.gates()[0]);
    const review = await s.client.getPrompt({ name: "review_gate", arguments: { gate_id: String(gate.id) } });
    const text = (review.messages[0].content as { text: string }).text;
    assert.match(text, /Gate \d+: Design Review of ticket 0001/);
    assert.match(text, /by designer-1/);
    assert.match(text, /the design/);
    assert.match(text, /Artifacts: design\.md/);
    assert.match(text, /baton approve \d+/);

    await withEngine(repo, (e) => e.approveGate(gate.id, { actor: { kind: "human", name: "x" }, notes: "ok" }));
    const claim = await s.call("claim_phase");
    assert.ok(claim.ok, claim.text);
    assert.equal((claim.data.phase as { name: string }).name, "Implementation");
    const queue = JSON.parse(
      ((await s.client.readResource({ uri: "baton://queue/implementer" })).contents[0] as { text: string }).text,
    );
    assert.deepEqual(queue.phases, [], "claimed: no longer queued");
    assert.ok((await s.call("complete_phase", { summary: "built" })).ok);
  } finally {
    await s.close();
  }
  await withEngine(repo, (e) => assert.equal(e.ticket("0001").status, "completed"));
});

Deno.test("mcp over stdio: failures are isError results with codes, bad arguments are refused", async () => {
  const repo = await seeded([{ id: "0001", title: "One" }, { id: "0002", title: "Two" }]);
  // Another agent (through the library) holds 0001's Design.
  const held = await withEngine(
    repo,
    (e) => e.claim(e.ticket("0001").phases[0].id, { agentId: "other", capabilities: ["designer"] }),
  );
  const s = await stdioSession(repo);
  try {
    await expectError(s, "claim_phase", {}, "invalid_argument"); // no agent yet
    assert.ok((await s.call("register_agent", { agent_id: "me", capabilities: ["designer"] })).ok);
    assert.match(await expectError(s, "claim_phase", { phase_id: held.phase.id }, "claim_conflict"), /held by other/);
    // Another agent's claim: this session cannot act on it (and with a forged token the engine refuses it).
    await expectError(s, "start_phase", { phase_id: held.phase.id }, "forbidden");
    await expectError(s, "start_phase", { phase_id: held.phase.id, token: "forged" }, "claim_conflict");
    // Naming the other agent takes a claim token it holds: a made-up one records nothing in its name.
    await expectError(s, "heartbeat", { agent_id: "other", progress: "spoof" }, "forbidden");
    await expectError(s, "heartbeat", { agent_id: "other", token: "made-up", progress: "spoof" }, "forbidden");
    // Nor by registering again under its id (which would also rewrite its capabilities).
    assert.match(
      await expectError(s, "register_agent", { agent_id: "other", capabilities: ["nothing"] }, "forbidden"),
      /This session acts as me; other is another agent's id/,
    );
    await withEngine(repo, (e) => {
      assert.deepEqual(e.audit({ action: "agent.progress" }), []);
      assert.deepEqual(e.agent("other")?.capabilities, ["designer"]);
    });
    assert.ok((await s.call("heartbeat", { agent_id: "other", token: held.token, progress: "for other" })).ok);
    await expectError(s, "start_phase", {}, "invalid_argument"); // holds nothing
    await expectError(s, "claim_phase", { phase_id: 99_999 }, "not_found");
    await expectError(s, "get_ticket", { ticket_id: "0404" }, "not_found");
    const gatePhase = await withEngine(repo, (e) => e.ticket("0002").phases[1].id);
    await expectError(s, "claim_phase", { phase_id: gatePhase }, "forbidden"); // a human gate

    const mine = await s.call("claim_phase");
    assert.ok(mine.ok);
    await expectError(s, "start_phase", { token: "not-the-token" }, "stale_token");
    assert.ok((await s.call("release_phase", { reason: "testing" })).ok);
    assert.ok((await s.call("register_agent", { agent_id: "idle", capabilities: ["nobody"] })).ok);
    assert.match(await expectError(s, "claim_phase", {}, "nothing_to_claim"), /Nothing to claim for nobody/);
    await expectError(s, "create_tickets", {
      tickets: [{ title: "A", dependencies: [{ on: "9999" }] }, { id: "0001", title: "dup" }],
    }, "invalid_argument");
    await expectError(s, "get_metrics", { since: "yesterday-ish" }, "invalid_argument");

    // Deciding gates is not a tool here (config.yaml does not allow agents to).
    const names = (await s.client.listTools()).tools.map((t) => t.name);
    assert.ok(!names.includes("approve_gate") && !names.includes("reject_gate"));
    await assert.rejects(s.client.callTool({ name: "approve_gate", arguments: { gate_id: 1 } }), /approve_gate/);

    // Bad arguments never reach the engine.
    for (
      const [tool, args] of [
        ["claim_phase", { phase_id: "7" }],
        ["claim_phase", { phaseId: 7 }],
        ["claim_phase", { phase_id: 1.5 }],
        ["declare_files", { paths: [] }],
        ["register_agent", {}],
        ["fail_phase", {}],
        ["create_tickets", { tickets: [] }],
        ["list_tickets", { status: "open" }],
      ] as const
    ) {
      // Refused with Baton's code and the field, as every other failure (the SDK's own text had no code).
      assert.match(
        await expectError(s, tool, args, "invalid_argument"),
        new RegExp(`^Invalid arguments for ${tool}: `),
      );
    }
    assert.ok((await s.call("list_tickets")).ok, "the server is still serving");
  } finally {
    await s.close();
  }
  // A session that never registered, naming the agent with a made-up token: no progress in its name.
  const fresh = await stdioSession(repo);
  try {
    await expectError(fresh, "heartbeat", { agent_id: "other", token: "made-up", progress: "spoof" }, "stale_token");
  } finally {
    await fresh.close();
  }
  await withEngine(repo, (e) => {
    assert.equal(e.ticket("0001").phases[0].claimedBy, "other", "the conflicting claims changed nothing");
    assert.equal(e.listTickets().length, 2, "the refused batch created nothing");
  });
});

Deno.test("mcp: with gates.allow_agents, agents decide gates through MCP, never on their own work, under any id", async () => {
  const repo = await seeded([{ id: "0001", title: "Reviewed by an agent" }], "gates:\n  allow_agents: true\n");
  const s = await stdioSession(repo);
  const reviewer = await stdioSession(repo);
  try {
    const list = await s.client.listTools();
    assert.ok(list.tools.some((t) => t.name === "approve_gate"));
    const reject = list.tools.find((t) => t.name === "reject_gate")!;
    assert.equal(reject.annotations?.destructiveHint, true);
    console.log(`tools/list with gate tools: ${list.tools.length} tools, ${bytes(list)} bytes`);
    assert.ok(bytes(list) < 18_000);

    assert.ok((await s.call("register_agent", { agent_id: "designer-1", capabilities: ["designer"] })).ok);
    assert.ok((await s.call("claim_phase")).ok);
    assert.ok((await s.call("complete_phase", { summary: "v1" })).ok);
    const gateId = await withEngine(repo, (e) => e.gates()[0].id);
    assert.match(await expectError(s, "approve_gate", { gate_id: gateId }, "forbidden"), /worked on this ticket/);
    // The author registering again under a new id is still the author.
    assert.ok((await s.call("register_agent", { agent_id: "reviewer-9", capabilities: ["reviewer"] })).ok);
    assert.match(await expectError(s, "approve_gate", { gate_id: gateId }, "forbidden"), /worked on this ticket/);
    await expectError(s, "reject_gate", { gate_id: gateId, notes: "self-review" }, "forbidden");

    assert.ok((await reviewer.call("register_agent", { agent_id: "reviewer-1", capabilities: ["reviewer"] })).ok);
    const rejected = await reviewer.call("reject_gate", { gate_id: gateId, notes: "add a diagram" });
    assert.equal((rejected.data.gate as { status: string }).status, "rejected");
    await expectError(reviewer, "approve_gate", { gate_id: gateId }, "invalid_transition");

    assert.ok((await s.call("register_agent", { agent_id: "designer-1", capabilities: ["designer"] })).ok);
    const rework = await s.call("claim_phase");
    assert.equal(rework.data.reworkNotes, "add a diagram");
    assert.ok((await s.call("complete_phase", { summary: "v2" })).ok);
    const gate2 = await withEngine(repo, (e) => e.gates()[0].id);
    const approved = await reviewer.call("approve_gate", { gate_id: gate2, notes: "fine" });
    assert.ok(approved.ok, approved.text);
  } finally {
    await reviewer.close();
    await s.close();
  }
  await withEngine(repo, (e) => {
    const g = e.gates({ status: "all" });
    assert.deepEqual(g.map((x) => [x.status, x.decidedBy]), [["rejected", "reviewer-1"], ["approved", "reviewer-1"]]);
    assert.equal(e.ticket("0001").phases[2].status, "available");
  });
});

Deno.test("mcp over stdio: a 2026-07-28 client, and the repository found from the working directory", async () => {
  const repo = await seeded([{ id: "0001", title: "One" }]);
  await Deno.mkdir(`${repo}/src/deep`, { recursive: true });
  const s = await stdioSession(null, { mode: "auto", cwd: `${repo}/src/deep` });
  try {
    assert.ok((await s.call("register_agent", { agent_id: "modern-1", capabilities: ["designer"] })).ok);
    const claim = await s.call("claim_phase");
    assert.ok(claim.ok, claim.text);
    assert.ok((await s.call("start_phase")).ok, "the stdio connection is one session in this era too");
    assert.ok((await s.call("complete_phase", { summary: "modern" })).ok);
  } finally {
    await s.close();
  }
  await withEngine(repo, (e) => assert.equal(e.ticket("0001").phases[0].resultSummary, "modern"));
});

Deno.test("mcp over stdio: SIGTERM lets the call in progress finish, then exits cleanly", async () => {
  const repo = await seeded([{ id: "0001", title: "One" }]);
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MCP, "--repo", repo],
    env: serverEnv(),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = proc.stdin.getWriter();
  const send = (m: unknown) => writer.write(new TextEncoder().encode(JSON.stringify(m) + "\n"));
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const response = async (id: number) => {
    for (;;) {
      const r = out.split("\n").filter((l) => l.endsWith("}")).map((l) => JSON.parse(l)).find((m) => m.id === id);
      if (r) return r;
      const { value, done } = await lines.read();
      if (done) throw new Error(`stdout ended before response ${id}: ${out}`);
      out += value;
    }
  };
  const call = (id: number, name: string, args: Record<string, unknown>) =>
    send({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
  await send({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
  });
  await response(1);
  await send({ jsonrpc: "2.0", method: "notifications/initialized" });
  await call(2, "register_agent", { agent_id: "raw-1", capabilities: ["designer"] });
  await response(2);

  // Another process holds the database's write lock: the claim waits inside the engine when the signal comes.
  const blocker = await holdWriteLock(repo);
  try {
    await call(3, "claim_phase", {});
    await new Promise((r) => setTimeout(r, 300));
    proc.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    blocker.release();
  }
  const claim = await response(3);
  assert.equal(claim.result?.structuredContent?.ticket?.id, "0001", JSON.stringify(claim));
  const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000); // a hang fails the test below, not CI
  const status = await proc.status; // the signal stops it: stdin is still open
  clearTimeout(killer);
  await writer.close().catch(() => {});
  const stderr = new TextDecoder().decode(await new Response(proc.stderr).arrayBuffer());
  assert.equal(status.code, 0, stderr);
  assert.match(stderr, /stopped \(SIGTERM\)/);
  assert.ok(out.trim().split("\n").every((l) => JSON.parse(l).jsonrpc === "2.0"), "stdout carries only the protocol");
  await withEngine(repo, (e) => {
    assert.equal(e.ticket("0001").phases[0].claimedBy, "raw-1", "the claim was committed");
    assert.equal(e.healthChecks().find((c) => c.name === "integrity")?.detail, "ok");
  });
});

Deno.test("mcp over HTTP: healthz, the token, a full session in both protocol eras, graceful stop", async () => {
  const repo = await seeded([{ id: "0001", title: "One" }, { id: "0002", title: "Two" }, { id: "0003", title: "3" }]);
  const token = "t0ken-for-tests";
  const server = await startHttp(repo, { token });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const health = await fetch(`${server.base}/healthz`);
    assert.equal(health.status, 200);
    const h = await health.json();
    assert.equal(h.ok, true);
    assert.equal(h.database.ok, true);
    assert.equal(h.database.journalMode, "wal");
    assert.equal(h.config.ok, true);
    assert.equal(h.config.phases, 3);

    const init = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "curl", version: "1" } },
    };
    const post = (headers: Record<string, string>) =>
      fetch(server.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
        body: JSON.stringify(init),
      });
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong-token" }, { authorization: token }];
    for (const headers of attempts) {
      const r = await post(headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer/);
      await r.body?.cancel();
    }
    await assert.rejects(httpSession(server.url, { token: "wrong-token" }));
    const foreign = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://evil.example", authorization: `Bearer ${token}` },
      body: JSON.stringify(init),
    });
    assert.equal(foreign.status, 403, "a web page elsewhere cannot drive a local server");
    await foreign.body?.cancel();
    const get = await fetch(server.url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(get.status, 405, "no server-initiated stream");
    await get.body?.cancel();
    const notFound = await fetch(`${server.base}/elsewhere`);
    assert.equal(notFound.status, 404);
    await notFound.body?.cancel();

    // A 2025-era client: a session remembers the agent and the claim.
    const s = await httpSession(server.url, { token });
    assert.deepEqual((await s.client.listTools()).tools.map((t) => t.name).sort(), [...ALL_TOOLS].sort());
    assert.ok((await s.call("register_agent", { agent_id: "http-1", capabilities: ["designer"] })).ok);
    const claim = await s.call("claim_phase");
    assert.equal((claim.data.ticket as { id: string }).id, "0001");
    assert.ok((await s.call("declare_files", { paths: ["src/a.ts"] })).ok);
    assert.ok((await s.call("start_phase")).ok);
    assert.ok((await s.call("complete_phase", { summary: "over http" })).ok);
    await expectError(s, "get_ticket", { ticket_id: "nope" }, "not_found");
    await s.close();

    // A 2026-07-28 client: stateless, so every request names its agent, phase and claim token.
    const m = await httpSession(server.url, { token, mode: "auto" });
    assert.ok((await m.call("register_agent", { agent_id: "http-2", capabilities: ["designer"] })).ok);
    const c2 = await m.call("claim_phase", { agent_id: "http-2", capabilities: ["designer"] });
    assert.equal((c2.data.ticket as { id: string }).id, "0002", c2.text);
    await expectError(m, "complete_phase", { agent_id: "http-2", phase_id: c2.data.phaseId }, "forbidden");
    assert.ok(
      (await m.call("complete_phase", {
        agent_id: "http-2",
        phase_id: c2.data.phaseId,
        token: c2.data.token,
        summary: "modern",
      })).ok,
    );
    await expectError(m, "claim_phase", { agent_id: "http-2", capabilities: ["nobody"] }, "nothing_to_claim");
    await m.close();

    // SIGTERM while a call waits inside the engine (another process holds the write lock): the call completes.
    const last = await httpSession(server.url, { token });
    assert.ok((await last.call("register_agent", { agent_id: "http-3", capabilities: ["designer"] })).ok);
    const blocker = await holdWriteLock(repo);
    let inFlight;
    try {
      inFlight = last.call("claim_phase");
      await new Promise((r) => setTimeout(r, 300));
      server.signal("SIGTERM");
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      blocker.release();
    }
    const done = await inFlight;
    assert.equal((done.data.ticket as { id: string }).id, "0003", done.text);
    await last.close().catch(() => {});
  } finally {
    const status = await server.stop();
    assert.equal(status.code, 0, server.stderr());
    assert.match(server.stderr(), /stopping \(SIGTERM\)[\s\S]*stopped/);
  }
  await withEngine(repo, (e) => {
    assert.deepEqual(e.ticket("0001").phases[0].resultSummary, "over http");
    assert.deepEqual(e.ticket("0002").phases[0].claimedBy, "http-2");
    assert.deepEqual(e.ticket("0003").phases[0].claimedBy, "http-3");
    assert.equal(e.healthChecks().find((c) => c.name === "integrity")?.detail, "ok");
  });
});

// ---------------------------------------------------------------------------
// Concurrency

const WORK = "phases:\n  - {name: Work, agent_type: worker}\n";
const N_TICKETS = 40;

async function workRepo(): Promise<string> {
  const repo = await tempRepo({ phases: WORK });
  await withEngine(repo, (e) => {
    e.createTickets(Array.from({ length: N_TICKETS }, (_, i) => ({ title: `T${i}` })));
  });
  return repo;
}

async function checkExhausted(repo: string, results: { completed: number[]; errors: string[] }[]): Promise<void> {
  const all = results.flatMap((r) => r.completed);
  assert.equal(new Set(all).size, all.length, "no phase was completed twice");
  assert.equal(all.length, N_TICKETS);
  for (const r of results) assert.deepEqual(r.errors, ["nothing_to_claim"], "only the end of the work, once");
  await withEngine(repo, (e) => {
    const claims = e.audit({}).filter((a) => a.action === "phase.claim");
    assert.equal(claims.length, N_TICKETS, "every phase claimed exactly once");
    assert.equal(new Set(claims.map((a) => a.entityId)).size, N_TICKETS);
    assert.ok(e.listTickets().every((t) => t.status === "completed"));
    assert.equal(e.healthChecks().find((c) => c.name === "integrity")?.detail, "ok");
  });
}

Deno.test("mcp over stdio: 8 server processes (8 agent sessions) claim and complete to exhaustion", {
  ignore: skipHeavy,
}, async () => {
  const repo = await workRepo();
  const sessions = await Promise.all(Array.from({ length: 8 }, () => stdioSession(repo)));
  try {
    const t0 = performance.now();
    const results = await Promise.all(sessions.map((s, i) => drain(s, `stdio-${i}`, ["worker"])));
    console.log(
      `8 stdio sessions: ${N_TICKETS} phases in ${(performance.now() - t0).toFixed(0)} ms; per session ${
        results.map((r) => r.completed.length).join(" ")
      }`,
    );
    await checkExhausted(repo, results);
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
});

Deno.test(
  "mcp over HTTP: 8 clients on one server claim and complete to exhaustion",
  { ignore: skipHeavy },
  async () => {
    const repo = await workRepo();
    const server = await startHttp(repo);
    try {
      const sessions = await Promise.all(Array.from({ length: 8 }, () => httpSession(server.url)));
      const t0 = performance.now();
      const results = await Promise.all(sessions.map((s, i) => drain(s, `http-${i}`, ["worker"])));
      console.log(
        `8 HTTP clients: ${N_TICKETS} phases in ${(performance.now() - t0).toFixed(0)} ms; per client ${
          results.map((r) => r.completed.length).join(" ")
        }`,
      );
      await Promise.all(sessions.map((s) => s.close()));
      await checkExhausted(repo, results);
    } finally {
      assert.equal((await server.stop()).code, 0, server.stderr());
    }
  },
);

// ---------------------------------------------------------------------------
// README

const README = Deno.readTextFileSync(new URL("../../README.md", import.meta.url));
const MCP_SECTION = mcpSection(README);
if (!MCP_SECTION) {
  console.warn("mcp_test: README.md has no '## MCP server' section yet: its .mcp.json check is skipped");
}

Deno.test({
  name: "mcp: the README's .mcp.json snippets have the right shape" +
    (MCP_SECTION ? "" : " (skipped: README.md has no '## MCP server' section)"),
  ignore: !MCP_SECTION,
  fn() {
    assert.match(HELP, /--port N .*default 8765/, "the snippets' port is the default one");
    const n = checkMcpSnippets(MCP_SECTION!);
    console.log(`${n} .mcp.json snippets checked`);
  },
});

Deno.test("mcp: a newer Baton migrating the database under running servers: their writes fail database_newer, /healthz says so", async () => {
  const repo = await seeded([{ id: "0001", title: "One" }]);
  const http = await startHttp(repo);
  const stdio = await stdioSession(repo);
  try {
    assert.ok((await stdio.call("register_agent", { agent_id: "old-1", capabilities: ["designer"] })).ok);
    assert.ok((await stdio.call("claim_phase")).ok);
    assert.equal((await fetch(`${http.base}/healthz`).then((r) => r.json())).ok, true);
    await migrateAsNewerBaton(`${repo}/.workflow/baton.db`); // the newer Baton's first command
    const hb = await stdio.call("heartbeat", { progress: "still here" });
    assert.equal(hb.ok, false);
    assert.equal(hb.data.code, "database_newer");
    assert.match(hb.text, /upgraded to schema version \d+ by a newer Baton while this process ran/);
    const health = await fetch(`${http.base}/healthz`);
    assert.equal(health.status, 503);
    const h = await health.json();
    assert.equal(h.ok, false);
    assert.match(h.database.error, /^database_newer: a newer Baton migrated the database/);
  } finally {
    await stdio.close();
    await http.stop();
  }
});

Deno.test("mcp: create_tickets never takes an id a ticket file in the repository already uses (imported or not), with or without files", async () => {
  const repo = await seeded([{ id: "0001", title: "Imported" }]);
  await Deno.mkdir(`${repo}/tickets`);
  // A human's ticket, written and not imported yet.
  const human = "# Ticket 0002: A human's ticket\n\nWords only a human wrote.\n";
  await Deno.writeTextFile(`${repo}/tickets/0002_human.md`, human);
  const s = await stdioSession(repo);
  try {
    const withFiles = await s.call("create_tickets", { tickets: [{ title: "Planned A" }], write_files: true });
    assert.ok(withFiles.ok, withFiles.text);
    const a = (withFiles.data.created as { id: string; path: string }[])[0];
    assert.equal(a.id, "0003");
    const without = await s.call("create_tickets", { tickets: [{ title: "Planned B" }] });
    assert.ok(without.ok, without.text);
    assert.equal((without.data.created as { id: string }[])[0].id, "0004");
    // An id given explicitly that a file uses is refused, naming the file; nothing is created.
    const msg = await expectError(
      s,
      "create_tickets",
      { tickets: [{ id: "0002", title: "Mine" }] },
      "invalid_argument",
    );
    assert.match(msg, /tickets\/0002_human\.md/);
  } finally {
    await s.close();
  }
  assert.equal(await Deno.readTextFile(`${repo}/tickets/0002_human.md`), human);
  await withEngine(repo, (e) => {
    const r = importTickets(e);
    assert.deepEqual(r.duplicates, []);
    assert.deepEqual(r.imported, ["0002"]);
    assert.equal(e.ticket("0002").title, "A human's ticket");
  });
  // A file written later for the ticket made without one takes it, and import says so.
  await Deno.writeTextFile(`${repo}/tickets/0004_other.md`, "# Ticket 0004: Another human ticket\n");
  await withEngine(repo, (e) => {
    const r = importTickets(e);
    assert.deepEqual(r.updated, ["0004"]);
    assert.deepEqual(r.warnings.filter((w) => w.code === "ticket_file_attached"), [{
      path: "tickets/0004_other.md",
      code: "ticket_file_attached",
      message:
        'ticket 0004 had no file; tickets/0004_other.md is its file now (its title "Planned B" is now the file\'s)',
    }]);
  });
});

Deno.test("mcp: a running session follows edits of .workflow/: a lease raised by a human is not pulled back by the next heartbeat, and a ticket created now gets the workflow's phases as they are", async () => {
  const repo = await seeded([{ id: "0001", title: "Add a cache" }], "leases:\n  default_minutes: 1\n");
  const s = await stdioSession(repo);
  try {
    assert.ok((await s.call("register_agent", { capabilities: ["designer"] })).ok);
    const claim = await s.call("claim_phase");
    assert.ok(claim.ok, claim.text);
    const phaseId = claim.data.phaseId as number;
    const expiresIn = () => withEngine(repo, (e) => e.phase(phaseId).leaseExpiresAt! - Date.now());
    assert.ok(await expiresIn() <= 60_000);
    // The human raises the lease and drops Design Review, while the session runs.
    await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "leases:\n  default_minutes: 60\n");
    await Deno.writeTextFile(
      `${repo}/.workflow/phases.yaml`,
      "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Implementation, agent_type: implementer}\n",
    );
    // The server looks at the files at most once a second: heartbeats until one extends by the new lease (bounded).
    for (let i = 0; i < 100 && await expiresIn() <= 30 * 60_000; i++) {
      assert.ok((await s.call("heartbeat", { progress: "still designing" })).ok);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(await expiresIn() > 30 * 60_000, "the heartbeat extends by the lease the configuration says now");
    const made = await s.call("create_tickets", { tickets: [{ title: "Planned" }] });
    assert.ok(made.ok, made.text);
    const phases = (made.data.created as { phases: { name: string }[] }[])[0].phases.map((p) => p.name);
    assert.deepEqual(phases, ["Design", "Implementation"]);
    // A broken save is not followed: the session goes on with what it had, and says nothing wrong to the agent.
    await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, "phases: [\n");
    assert.ok((await s.call("heartbeat", { progress: "still" })).ok);
  } finally {
    await s.close();
  }
});
