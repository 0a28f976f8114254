/**
 * Liveness through MCP (issue 13, part 7), with real server processes: a
 * read-only call writes nothing at all, and an implicit heartbeat extends
 * only the leases of the phases the calling session holds, so a claim
 * another session abandoned expires while the agent works elsewhere.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { stdioSession } from "../helpers/mcp_clients.ts";

const PHASES = `phases:
  - {name: Design, agent_type: designer}
  - {name: Implementation, agent_type: implementer}
`;

async function state(repo: string) {
  const e = await openEngine(repo);
  try {
    return {
      audit: e.audit({ limit: 10_000 }).length,
      agents: e.agents().map((a) => [a.id, a.lastHeartbeat]),
      leases: e.listTickets().flatMap((t) => e.ticket(t.id).phases.map((p) => [p.id, p.leaseExpiresAt, p.status])),
    };
  } finally {
    e.close();
  }
}

const walSize = (repo: string) => Deno.statSync(`${repo}/.workflow/baton.db-wal`).size;

Deno.test("mcp: read-only tools, resources and prompts write nothing (no heartbeat, no lease, no audit)", async () => {
  const repo = await tempRepo({ phases: PHASES });
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "Read me" });
  e.upsertTicket({ id: "0002", title: "And me" });
  e.close();
  const s = await stdioSession(repo);
  try {
    assert.ok((await s.call("register_agent", { agent_id: "reader", capabilities: ["designer"] })).ok);
    assert.ok((await s.call("claim_phase")).ok);
    const before = await state(repo);
    const wal = walSize(repo);
    for (let i = 0; i < 5; i++) {
      for (
        const [tool, args] of [
          ["list_available_work", {}],
          ["get_ticket", { ticket_id: "0002" }],
          ["get_context", {}],
          ["check_conflicts", { paths: ["src/x.ts"] }],
        ] as const
      ) {
        const r = await s.call(tool, args);
        assert.ok(r.ok, `${tool}: ${r.text}`);
      }
      await s.client.readResource({ uri: "baton://ticket/0001" });
      await s.client.getPrompt({ name: "work_on_next_phase", arguments: {} });
    }
    assert.deepEqual(await state(repo), before);
    assert.equal(walSize(repo), wal, "not a single frame was written");
  } finally {
    await s.close();
  }
});

Deno.test("mcp: an implicit heartbeat extends only the calling session's phases; an abandoned claim expires", async () => {
  // Leases of 6 seconds; the agent may hold two phases.
  const repo = await tempRepo({ phases: PHASES, config: "agents:\n  stale_timeout_minutes: 0.1\n  max_held: 2\n" });
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "Abandoned" });
  e.upsertTicket({ id: "0002", title: "Worked" });
  e.close();
  const old = await stdioSession(repo);
  const fresh = await stdioSession(repo);
  try {
    // The agent's first session claims 0001 and goes quiet (a crashed or abandoned agent process).
    assert.ok((await old.call("register_agent", { agent_id: "x", capabilities: ["designer"] })).ok);
    const abandoned = await old.call("claim_phase");
    assert.equal((abandoned.data.ticket as { id: string }).id, "0001");
    // Its next session works on 0002 and keeps calling.
    assert.ok((await fresh.call("register_agent", { agent_id: "x", capabilities: ["designer"] })).ok);
    const worked = await fresh.call("claim_phase");
    assert.equal((worked.data.ticket as { id: string }).id, "0002");
    assert.ok((await fresh.call("start_phase")).ok);
    const until = Date.now() + 9_000;
    while (Date.now() < until) {
      assert.ok((await fresh.call("declare_files", { paths: ["src/a.ts"] })).ok);
      await new Promise((r) => setTimeout(r, 700));
    }
    const eng = await openEngine(repo);
    try {
      eng.sweepStale();
      assert.equal(eng.ticket("0001").phases[0].status, "available", "the abandoned claim came back");
      assert.equal(eng.ticket("0002").phases[0].status, "running", "the worked phase kept its lease");
    } finally {
      eng.close();
    }
  } finally {
    await old.close();
    await fresh.close();
  }
});
