/**
 * `baton retry` in bulk (issue 22): after a mass failure, one command
 * reopens the failed phases of an agent type, those whose error says
 * something, or all of them; the CLI as a process on a real database.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";

const PHASES = "phases:\n  - { name: Design, agent_type: designer }\n  - { name: Build, agent_type: implementer }\n";

async function failedBacklog(): Promise<string> {
  const repo = await tempRepo({ phases: PHASES, config: "retry:\n  max_attempts: 1\n" });
  const e = await openEngine(repo);
  for (const id of ["0001", "0002", "0003", "0004"]) e.upsertTicket({ id, title: `T${id}` });
  const failDesign = (ticket: string, error: string) => {
    const p = e.ticket(ticket).phases[0];
    const c = e.claim(p.id, { agentId: `d-${ticket}`, capabilities: ["designer"] });
    e.fail(p.id, { agentId: `d-${ticket}`, token: c.token, error });
  };
  failDesign("0001", "agent exited with code 1: Error: invalid x-api-key");
  failDesign("0002", "agent exited with code 1: Error: Invalid X-API-KEY (run /login)");
  failDesign("0004", "the tests do not compile");
  const d = e.ticket("0003").phases[0];
  const c = e.claim(d.id, { agentId: "d-3", capabilities: ["designer"] });
  e.complete(d.id, { agentId: "d-3", token: c.token });
  const b = e.ticket("0003").phases[1];
  const cb = e.claim(b.id, { agentId: "i-3", capabilities: ["implementer"] });
  e.fail(b.id, { agentId: "i-3", token: cb.token, error: "exit 2: unexpected argument '--full-auto'" });
  assert.equal(e.escalations().length, 4, "each phase failed for good opened an escalation");
  e.close();
  return repo;
}

Deno.test("retry: --error, --type and --all-failed reopen the failed phases that match, and only those", async () => {
  const repo = await failedBacklog();
  const none = await baton(["retry", "--by", "dana"], { cwd: repo });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /Name one phase .* or which failed phases to retry/);

  const byError = await baton(["retry", "--error", "X-API-KEY", "--by", "dana", "--notes", "key renewed"], {
    cwd: repo,
  });
  assert.equal(byError.code, 0, byError.stderr);
  assert.match(byError.stdout, /2 phase\(s\) retried by dana/);
  const e = await openEngine(repo);
  const status = () => ["0001", "0002", "0003", "0004"].map((t) => e.ticket(t).phases.map((p) => p.status).join(","));
  assert.deepEqual(status(), ["available,pending", "available,pending", "completed,failed", "failed,pending"]);
  assert.equal(e.ticket("0001").phases[0].attempts, 0);
  assert.equal(e.ticket("0001").phases[0].reworkNotes, "key renewed");

  const byType = await baton(["retry", "--type", "implementer", "--by", "dana", "--json"], { cwd: repo });
  assert.equal(byType.code, 0, byType.stderr);
  assert.deepEqual(JSON.parse(byType.stdout).retried.map((p: { ticketId: string }) => p.ticketId), ["0003"]);
  assert.deepEqual(status(), ["available,pending", "available,pending", "completed,available", "failed,pending"]);

  const all = await baton(["retry", "--all-failed", "--by", "dana"], { cwd: repo });
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /phase \d+ "Design" of ticket 0004 is available again/);
  assert.deepEqual(status(), ["available,pending", "available,pending", "completed,available", "available,pending"]);
  assert.deepEqual(e.escalations(), [], "retrying resolves their escalations");

  const again = await baton(["retry", "--all-failed", "--by", "dana"], { cwd: repo });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /no failed phase matches/);
  const single = await baton(["retry", "1", "--all-failed", "--by", "dana"], { cwd: repo });
  assert.equal(single.code, 2, "a phase and a filter at once is ambiguous");
  e.close();
});
