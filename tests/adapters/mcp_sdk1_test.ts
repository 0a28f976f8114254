/**
 * `baton-mcp` driven by the client most agents really use: the 1.x
 * TypeScript SDK (`@modelcontextprotocol/sdk`), over stdio and HTTP, through
 * a whole agent session with its errors (issue 15). Every result's
 * `structuredContent` is validated against its tool's `outputSchema` with a
 * JSON Schema validator (ajv, draft 2020-12), as strict clients do.
 */
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import Ajv2020 from "ajv/dist/2020.js";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { MCP, serverEnv, startHttp } from "../helpers/mcp_clients.ts";
import { parseErrorText } from "../../src/mcp/tool.ts";

const PHASES = `phases:
  - {name: Design, agent_type: designer}
  - {name: Design Review, agent_type: null}
  - {name: Implementation, agent_type: implementer}
`;

async function repoWith(n: number): Promise<string> {
  const repo = await tempRepo({ phases: PHASES });
  const e = await openEngine(repo);
  for (let i = 1; i <= n; i++) e.upsertTicket({ id: String(i).padStart(4, "0"), title: `Ticket ${i}` });
  e.close();
  return repo;
}

type Result = {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content: { type: string; text?: string }[];
};

/** A 1.x client with every result checked against the tool's output schema. */
async function checked(client: Client) {
  type Validate = ((x: unknown) => boolean) & { errors?: null | object[] };
  type ToolInfo = { name: string; outputSchema?: Record<string, unknown> };
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  const tools = (await client.listTools()).tools as ToolInfo[];
  const validators = new Map<string, Validate | null>(
    tools.map((t) => [t.name, t.outputSchema ? ajv.compile(t.outputSchema) as Validate : null]),
  );
  return {
    tools,
    async call(name: string, args: Record<string, unknown> = {}) {
      // callTool itself validates structuredContent in 1.x: a mismatch would throw here.
      const r = await client.callTool({ name, arguments: args }) as Result;
      const text = r.content.filter((c) => c.type === "text").map((c) => c.text).join("");
      if (r.isError) {
        assert.equal(r.structuredContent, undefined, `${name}: an error carries no structuredContent`);
        const body = parseErrorText(text)!;
        assert.equal(typeof body.code, "string");
        return { ok: false, code: body.code as string, data: body as Record<string, unknown> };
      }
      const validate = validators.get(name);
      assert.ok(validate, `${name} declares an output schema`);
      assert.ok(validate(r.structuredContent), `${name}: ${ajv.errorsText(validate.errors as never)}`);
      assert.deepEqual(JSON.parse(text), r.structuredContent, "the text is the same JSON");
      return { ok: true, code: null, data: r.structuredContent! };
    },
  };
}

async function agentSession(client: Client, label: string) {
  const s = await checked(client);
  assert.ok(s.tools.length >= 15, label);
  for (const t of s.tools) {
    const text = JSON.stringify(t.outputSchema ?? {});
    assert.ok(!/"type":\[/.test(text), `${t.name}: no type arrays in its output schema`);
  }
  assert.equal((await s.call("claim_phase")).code, "invalid_argument", "no agent registered yet");
  const typo = await s.call("claim_phase", { phase_id: "1" });
  assert.equal(typo.code, "invalid_argument", `${label}: a refused argument carries Baton's code`);
  assert.match(String(typo.data.message), /^Invalid arguments for claim_phase: phase_id: /);
  assert.ok((await s.call("register_agent", { agent_id: `${label}-agent`, capabilities: ["designer"] })).ok);
  const work = await s.call("list_available_work");
  assert.ok((work.data.phases as unknown[]).length > 0);
  const claim = await s.call("claim_phase");
  assert.ok(claim.ok);
  const second = await s.call("claim_phase");
  assert.equal(second.code, "already_holding", "one phase per session");
  assert.match(String(second.data.message), /already holds phase "Design" of ticket 0001/);
  assert.ok((await s.call("get_context")).ok);
  assert.ok((await s.call("declare_files", { paths: ["src/cache.ts"] })).ok);
  assert.equal((await s.call("start_phase", { token: "not-the-token" })).code, "stale_token");
  assert.ok((await s.call("start_phase")).ok);
  assert.ok((await s.call("start_phase")).ok, "a retried start is the same success");
  assert.ok((await s.call("heartbeat", { progress: "half way" })).ok);
  assert.equal((await s.call("get_ticket", { ticket_id: "0404" })).code, "not_found");
  const done = await s.call("complete_phase", { summary: "designed", artifacts: ["docs/cache.md"] });
  assert.ok(done.ok);
  assert.ok((await s.call("complete_phase", { summary: "designed", artifacts: ["docs/cache.md"] })).ok, "retried");
  assert.equal((await s.call("register_agent", { agent_id: `${label}-idle`, capabilities: ["nobody"] })).ok, true);
  const none = await s.call("claim_phase");
  assert.equal(none.code, "nothing_to_claim");
  assert.match(String(none.data.message), /Nothing to claim for nobody/);
  for (const tool of ["list_tickets", "list_blocked", "get_metrics", "ready_parallel", "get_audit_log"]) {
    assert.ok((await s.call(tool)).ok, tool);
  }
}

Deno.test("1.x SDK client over stdio: a whole session, every error code readable, every result valid", async () => {
  const repo = await repoWith(3);
  const client = new Client({ name: "sdk1-stdio", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", MCP, "--repo", repo],
    env: serverEnv(),
    stderr: "pipe",
  });
  await client.connect(transport);
  try {
    const caps = client.getServerCapabilities()!;
    assert.equal(caps.tools?.listChanged, false, "nothing is announced that is never sent");
    assert.equal(caps.resources?.listChanged, false);
    assert.equal(caps.prompts?.listChanged, false);
    await agentSession(client, "stdio");
    // Prompts: readable text, and completions.
    const p = await client.getPrompt({ name: "work_on_next_phase", arguments: { capabilities: "designer" } });
    const text = (p.messages[0].content as { text: string }).text;
    assert.match(text, /1\. Call register_agent with agent_id "stdio-idle" and capabilities \["designer"\]\./);
    const completion = await client.complete({
      ref: { type: "ref/prompt", name: "work_on_next_phase" },
      argument: { name: "capabilities", value: "desi" },
    });
    assert.deepEqual(completion.completion.values, ["designer"]);
  } finally {
    await client.close();
  }
});

Deno.test("1.x SDK client over Streamable HTTP: the same session and errors", async () => {
  const repo = await repoWith(3);
  const server = await startHttp(repo);
  const client = new Client({ name: "sdk1-http", version: "1.0.0" });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    await agentSession(client, "http");
  } finally {
    await client.close();
    await server.stop();
  }
});
