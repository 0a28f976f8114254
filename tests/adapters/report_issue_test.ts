/**
 * Agents report what they find (issue 22): `report_issue` over a real MCP
 * session that inherited its claim from `baton run`, and `baton new --from`
 * as a process; the new ticket is written from the repository's template and
 * linked to the current one (discovered-from), which it does not block.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";
import { stdioSession } from "../helpers/mcp_clients.ts";

const TEMPLATE = `# Ticket {{id}}: {{title}}

## Status
- [ ] Draft

## Metadata
- **Created**: {{date}}
- **Priority**: {{priority}}

---

## Summary
{{summary}}
`;

async function repoWithTicket(): Promise<string> {
  const repo = await tempRepo({ files: { ".workflow/templates/ticket.md": TEMPLATE } });
  const first = await baton(["new", "Cache the config"], { cwd: repo });
  assert.equal(first.code, 0, first.stderr);
  return repo;
}

Deno.test("report_issue: an agent files a ticket from the template, linked to its phase's ticket", async () => {
  const repo = await repoWithTicket();
  const e = await openEngine(repo);
  const c = e.claimNext({ agentId: "designer-1", capabilities: ["designer"] })!;
  assert.equal(e.agentReachedBaton("designer-1"), false);
  const s = await stdioSession(repo, {
    env: { BATON_AGENT_ID: "designer-1", BATON_PHASE_ID: String(c.phase.id), BATON_CLAIM_TOKEN: c.token },
  });
  try {
    const r = await s.call("report_issue", {
      title: "The config cache misses on Windows paths",
      summary: "Found while designing 0001: paths are compared with their backslashes",
    });
    assert.ok(r.ok, r.text);
    assert.equal(r.data.id, "0002");
    assert.equal(r.data.discovered_from, "0001");
    const text = await Deno.readTextFile(`${repo}/${r.data.path}`);
    assert.match(text, /^# Ticket 0002: The config cache misses on Windows paths$/m);
    assert.match(text, /- \*\*Priority\*\*: Medium\n- \*\*Discovered From\*\*: 0001\n/);
    assert.match(text, /paths are compared with their backslashes/);
    const t = e.ticket("0002");
    assert.equal(t.metadata.discovered_from, "0001");
    assert.equal(t.phases[0].status, "available", "the link blocks nothing");
    const audit = e.audit({ ticketId: "0002", action: "ticket.discovered" });
    assert.equal(audit[0].actor, "designer-1");
    assert.deepEqual(audit[0].details?.from, "0001");
    // Its first tool call was recorded: the supervisor can tell it reached Baton.
    assert.equal(e.agentReachedBaton("designer-1"), true);
    // Still its phase: nothing about the claim changed.
    assert.equal(e.phase(c.phase.id).claimedBy, "designer-1");
  } finally {
    await s.close();
    e.close();
  }
});

Deno.test("report_issue: without a phase it needs the ticket it was found on; an unknown one writes nothing", async () => {
  const repo = await repoWithTicket();
  const s = await stdioSession(repo);
  try {
    const none = await s.call("report_issue", { title: "Something" });
    assert.equal(none.ok, false);
    assert.equal(none.data.code, "invalid_argument");
    const unknown = await s.call("report_issue", { title: "Something", from: "9999" });
    assert.equal(unknown.data.code, "not_found");
    const ok = await s.call("report_issue", { title: "Something else", from: "0001" });
    assert.ok(ok.ok, ok.text);
  } finally {
    await s.close();
  }
  const files = [...Deno.readDirSync(`${repo}/tickets`)].map((f) => f.name).sort();
  assert.deepEqual(files, ["0001_cache_the_config.md", "0002_something_else.md"]);
});

Deno.test("new --from: a human files a discovered ticket; an unknown ticket is refused before anything is written", async () => {
  const repo = await repoWithTicket();
  const r = await baton(["new", "Document the cache", "--from", "0001", "--priority", "Low"], { cwd: repo });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /created ticket 0002: tickets\/0002_document_the_cache\.md \(discovered from 0001\)/);
  const text = await Deno.readTextFile(`${repo}/tickets/0002_document_the_cache.md`);
  assert.match(text, /- \*\*Priority\*\*: Low\n- \*\*Discovered From\*\*: 0001\n/);
  const bad = await baton(["new", "Orphan", "--from", "9999"], { cwd: repo });
  assert.equal(bad.code, 4, bad.stderr);
  assert.match(bad.stderr, /Ticket 9999 does not exist/);
  const e = await openEngine(repo);
  assert.deepEqual(e.listTickets().map((t) => t.id).sort(), ["0001", "0002"]);
  assert.equal(e.ticket("0002").metadata.discovered_from, "0001");
  e.close();
  assert.deepEqual([...Deno.readDirSync(`${repo}/tickets`)].length, 2);
});
