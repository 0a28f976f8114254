/**
 * What real MCP clients do to Baton's server (issue 22), with the real
 * client and `baton-mcp` processes: Gemini CLI adds `wait_for_previous` to
 * every call (accepted and ignored; other unknown arguments are still
 * refused); an error's text reads `code: message` and is never bare JSON
 * (Gemini CLI read it as structured output); the claim arrives as
 * `BATON_CLAIM` (or the old `BATON_CLAIM_TOKEN`), and a partial one is a
 * loud warning; `BATON_REPO` names the repository.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { type Session, stdioSession } from "../helpers/mcp_clients.ts";

const PHASES = "phases:\n  - name: Design\n    agent_type: designer\n  - name: Build\n    agent_type: implementer\n";

async function repoWithClaim(): Promise<{ repo: string; agentId: string; phaseId: number; token: string }> {
  const repo = await tempRepo({ phases: PHASES });
  const e = await openEngine(repo);
  try {
    e.upsertTicket({ id: "0001", title: "One" });
    const c = e.claimNext({ agentId: "designer-1", capabilities: ["designer"] })!;
    return { repo, agentId: "designer-1", phaseId: c.phase.id, token: c.token };
  } finally {
    e.close();
  }
}

async function closing<T>(s: Session, fn: (s: Session) => Promise<T>): Promise<T> {
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

Deno.test("mcp: wait_for_previous (Gemini CLI adds it to every call) is accepted and ignored; other extras are refused", async () => {
  const c = await repoWithClaim();
  const env = { BATON_AGENT_ID: c.agentId, BATON_PHASE_ID: String(c.phaseId), BATON_CLAIM: c.token };
  await closing(await stdioSession(c.repo, { env }), async (s) => {
    const ctx = await s.call("get_context", { wait_for_previous: true });
    assert.ok(ctx.ok, ctx.text);
    assert.equal((ctx.data.phase as { id: number }).id, c.phaseId);
    assert.ok((await s.call("start_phase", { wait_for_previous: false })).ok);
    assert.ok((await s.call("list_tickets", { wait_for_previous: true })).ok);
    const misspelt = await s.call("heartbeat", { wait_for_previous: true, phaseId: c.phaseId });
    assert.equal(misspelt.ok, false, "an unknown argument is still refused");
    assert.match(misspelt.text, /^invalid_argument: Invalid arguments for heartbeat: .*phaseId/);
    const done = await s.call("complete_phase", { summary: "done", wait_for_previous: true });
    assert.ok(done.ok, done.text);
    // Its JSON Schema still says unknown arguments are refused (what a strict client checks).
    const tools = (await s.client.listTools()).tools;
    assert.ok(tools.every((t) => t.inputSchema.additionalProperties === false));
  });
});

Deno.test("mcp: an error's text is 'code: message' then details, never bare JSON", async () => {
  const repo = await tempRepo({ phases: PHASES });
  await closing(await stdioSession(repo), async (s) => {
    const r = await s.call("get_ticket", { ticket_id: "9999" });
    assert.equal(r.ok, false);
    assert.equal(r.text.split("\n")[0], "not_found: Ticket 9999 does not exist");
    assert.throws(() => JSON.parse(r.text));
    assert.equal(r.data.code, "not_found", "the code is still machine-readable");
    // With details: on a line of their own after the message.
    assert.ok((await s.call("register_agent", { agent_id: "a", capabilities: ["designer"] })).ok);
    const held = await s.call("start_phase", {});
    assert.match(held.text, /^invalid_argument: /);
  });
});

Deno.test("mcp: the claim arrives as BATON_CLAIM or BATON_CLAIM_TOKEN; a partial claim is a loud warning; BATON_REPO", async () => {
  const c = await repoWithClaim();
  for (const tokenVar of ["BATON_CLAIM", "BATON_CLAIM_TOKEN"]) {
    const env = { BATON_AGENT_ID: c.agentId, BATON_PHASE_ID: String(c.phaseId), [tokenVar]: c.token };
    await closing(await stdioSession(c.repo, { env }), async (s) => {
      const r = await s.call("get_context");
      assert.ok(r.ok, `${tokenVar}: ${r.text}`);
    });
  }
  // What Gemini CLI did to BATON_CLAIM_TOKEN: dropped it, leaving a partial claim.
  const partial = { BATON_AGENT_ID: c.agentId, BATON_PHASE_ID: String(c.phaseId) };
  await closing(await stdioSession(c.repo, { env: partial }), async (s) => {
    const r = await s.call("get_context");
    assert.equal(r.ok, false, "no phase held");
    for (let i = 0; i < 100 && !/partial claim/.test(s.stderr()); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(s.stderr(), /WARNING: partial claim in the environment: BATON_CLAIM missing/);
  });
  // BATON_REPO: the server finds the repository without --repo, from anywhere.
  const env = {
    BATON_REPO: c.repo,
    BATON_AGENT_ID: c.agentId,
    BATON_PHASE_ID: String(c.phaseId),
    BATON_CLAIM: c.token,
  };
  await closing(await stdioSession(null, { env, cwd: "/" }), async (s) => {
    const r = await s.call("get_context");
    assert.ok(r.ok, r.text);
  });
});
