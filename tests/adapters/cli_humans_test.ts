/**
 * The CLI for humans getting work moving (issue 13, part 6), as a real
 * process: `retry`, `request-review` (a shell script as an agent), approving
 * by ticket, decisions refused without a name, and validated input.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";

const PHASES = `phases:
  - {name: Design, agent_type: designer}
  - {name: Design Review, agent_type: null}
  - {name: Implementation, agent_type: implementer}
`;

/** An environment where git knows no user (no global or system config). */
async function noGitUser(): Promise<Record<string, string>> {
  const dir = await Deno.makeTempDir();
  return { GIT_CONFIG_GLOBAL: `${dir}/none`, GIT_CONFIG_NOSYSTEM: "1" };
}

async function repoWith(n: number, config = ""): Promise<string> {
  const repo = await tempRepo({ phases: PHASES, config });
  const e = await openEngine(repo);
  for (let i = 1; i <= n; i++) e.upsertTicket({ id: String(i).padStart(4, "0"), title: `Ticket ${i}` });
  e.close();
  return repo;
}

async function claim(repo: string, agent: string, caps: string): Promise<{ phaseId: number; token: string }> {
  const out = await baton(["claim", "--agent", agent, "--capabilities", caps, "--json"], { cwd: repo });
  assert.equal(out.code, 0, out.stderr);
  const c = JSON.parse(out.stdout);
  return { phaseId: c.phase.id, token: c.token };
}

Deno.test("cli: request-review from a shell-script agent, then approve by ticket; a decision needs a name", async () => {
  const repo = await repoWith(6);
  const env = await noGitUser();
  // Designs of all six tickets done, so that gate ids and ticket numbers overlap.
  for (let i = 0; i < 6; i++) {
    const c = await claim(repo, `d${i}`, "designer");
    const args = ["--agent", `d${i}`, "--token", c.token];
    if (i === 0) {
      const r = await baton(["request-review", String(c.phaseId), ...args, "--summary", "see the design"], {
        cwd: repo,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^gate \d+ opened: a human reviews "Design" of ticket 0001/);
    } else {
      assert.equal((await baton(["complete", String(c.phaseId), ...args], { cwd: repo })).code, 0);
    }
  }
  // Without --by and without a git user: refused with a hint, nothing decided.
  const anon = await baton(["approve", "0006"], { cwd: repo, env });
  assert.equal(anon.code, 2, anon.stderr);
  assert.match(anon.stderr, /^error: Approving a gate needs the name of the human deciding: pass --by NAME/);
  // A name that would print as two rows of `baton audit` (ops helper d4): refused, exit 2, nothing decided.
  const forged = await baton(["approve", "0006", "--by", "mallory\n999  human:dana"], { cwd: repo, env });
  assert.equal(forged.code, 2, forged.stderr);
  assert.match(forged.stderr, /^error: A human's name must be one line/);
  const e = await openEngine(repo);
  assert.equal(e.gates().length, 6, "all six still open");
  e.close();
  // `approve 0006` is the gate of ticket 0006, never gate 6.
  const ok = await baton(["approve", "0006", "--by", "dana", "--json"], { cwd: repo, env });
  assert.equal(ok.code, 0, ok.stderr);
  const g = JSON.parse(ok.stdout);
  assert.equal(g.ticketId, "0006");
  assert.equal(g.decidedBy, "human:dana");
  const byPhase = await baton(["reject", "0001/Design", "--notes", "cover the CRLF case", "--by", "dana"], {
    cwd: repo,
  });
  assert.equal(byPhase.code, 0, byPhase.stderr);
  const unknown = await baton(["approve", "0042", "--by", "dana"], { cwd: repo });
  assert.equal(unknown.code, 4);
  assert.match(unknown.stderr, /^error: No gate or ticket "0042"/);
  // With a git user set, that name is used.
  const gitEnv = { ...env, GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "user.name", GIT_CONFIG_VALUE_0: "Priya" };
  const byGit = await baton(["approve", "0005", "--json"], { cwd: repo, env: gitEnv });
  assert.equal(byGit.code, 0, byGit.stderr);
  assert.equal(JSON.parse(byGit.stdout).decidedBy, "human:Priya");
});

Deno.test("cli: retry reopens a failed phase with notes for the next claimant", async () => {
  const repo = await repoWith(1, "retry:\n  max_attempts: 1\n");
  const c = await claim(repo, "d1", "designer");
  const fail = await baton(["fail", String(c.phaseId), "--agent", "d1", "--token", c.token, "--error", "disk full"], {
    cwd: repo,
  });
  assert.equal(fail.code, 0, fail.stderr);
  const stuck = await baton(["claim", "--agent", "d2", "--capabilities", "designer", "--phase", String(c.phaseId)], {
    cwd: repo,
  });
  assert.notEqual(stuck.code, 0);
  const r = await baton(["retry", String(c.phaseId), "--notes", "disk cleaned", "--by", "dana"], { cwd: repo });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /phase \d+ "Design" of ticket 0001 is available again \(retried by dana\)/);
  const again = await baton(["claim", "--agent", "d2", "--capabilities", "designer"], { cwd: repo });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /reviewer notes: disk cleaned/);
  const anon = await baton(["retry", String(c.phaseId)], { cwd: repo, env: await noGitUser() });
  assert.equal(anon.code, 2);
  assert.match(anon.stderr, /Retrying a phase needs the name of the human deciding/);
});

Deno.test("cli: input is validated: --priority, dep add on unknown tickets, queue for an unknown agent type", async () => {
  const repo = await repoWith(3);
  await Deno.mkdir(`${repo}/tickets`);
  const urgent = await baton(["new", "Hot fix", "--priority", "Urgent"], { cwd: repo });
  assert.equal(urgent.code, 2, urgent.stderr);
  assert.match(urgent.stderr, /--priority must be one of Critical, High, Medium, Low/);
  // A filter by a priority nothing has and priority_order does not name is a typo, not "(none)" (ops helper d9).
  const typo = await baton(["list", "--priority", "Hihg"], { cwd: repo });
  assert.equal(typo.code, 2, typo.stdout + typo.stderr);
  assert.match(typo.stderr, /--priority "Hihg" is not in priority_order \(Critical, High, Medium, Low\)/);
  assert.equal((await baton(["list", "--priority", "critical"], { cwd: repo })).code, 0, "none, but a real one");
  // A label some ticket has, though priority_order does not name it: a filter like any other (review of stop 48).
  const e0 = await openEngine(repo);
  e0.upsertTicket({ id: "0003", title: "Ticket 3", metadata: { priority: "Urgent" } });
  e0.close();
  const urgentNone = await baton(["list", "--priority", "Urgent", "--status", "completed"], { cwd: repo });
  assert.equal(urgentNone.code, 0, urgentNone.stderr);
  const dep = await baton(["dep", "add", "0003", "0999"], { cwd: repo });
  assert.equal(dep.code, 4, dep.stderr);
  assert.match(dep.stderr, /Ticket 0999/);
  const e = await openEngine(repo);
  assert.deepEqual(e.dependencies("0003"), [], "nothing was added");
  e.close();
  const q = await baton(["queue", "architect"], { cwd: repo });
  assert.equal(q.code, 0);
  assert.match(
    q.stderr,
    /warning: no phase of the workflow is for agent type "architect" \(the types are designer, implementer\)/,
  );
  // Titles cannot inject markdown structure; nothing is written.
  const inject = await baton(["new", "Cache\n## Status\n- [x] Merged / Complete\n# Ticket 9999: x"], { cwd: repo });
  assert.equal(inject.code, 2, inject.stderr);
  assert.match(inject.stderr, /one line/);
  assert.deepEqual([...Deno.readDirSync(`${repo}/tickets`)], []);
});

Deno.test("cli: escalations say what clears each (a failed phase is retried, not released), and retry of a held phase says retry (ops helper d10)", async () => {
  const repo = await repoWith(2, "retry:\n  max_attempts: 1\ngates:\n  max_revisions: 0\n");
  const e = await openEngine(repo);
  const c = e.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  e.fail(c.phase.id, { agentId: "d1", token: c.token, error: "npm test failed" });
  const held = e.claimNext({ agentId: "d2", capabilities: ["designer"] })!;
  e.close();
  const esc = await baton(["escalations"], { cwd: repo });
  assert.equal(esc.code, 0, esc.stderr);
  assert.match(esc.stdout, /clear with 'baton resolve ESC', 'baton retry PHASE --notes …' \(failed\)$/m);
  assert.doesNotMatch(esc.stdout, /baton release/, "a failed phase cannot be released");
  const retry = await baton(["retry", String(held.phase.id), "--by", "dana"], { cwd: repo });
  assert.notEqual(retry.code, 0);
  assert.match(retry.stderr, /^error: Cannot retry phase "Design" of ticket 0002: it is claimed/);
  const ok = await baton(["retry", String(c.phase.id), "--by", "dana"], { cwd: repo });
  assert.equal(ok.code, 0, ok.stderr);
  // A gate past its revisions: its escalation has no agent, and says whose words its last output is.
  const e2 = await openEngine(repo);
  const again = e2.claimNext({ agentId: "d3", capabilities: ["designer"] })!;
  e2.complete(again.phase.id, { agentId: "d3", token: again.token });
  const gate = e2.gates()[0];
  assert.equal(e2.rejectGate(gate.id, { actor: { kind: "human", name: "dana" }, notes: "no" }).status, "escalated");
  e2.close();
  const gateEsc = await baton(["escalations"], { cwd: repo });
  assert.match(gateEsc.stdout, /last output of the gate's last rejection \(escalation \d+\):\nno/);
  assert.doesNotMatch(gateEsc.stdout, /null/);
});

Deno.test("cli: baton gates shows what the reviewer decides on (the reviewed work's summary), and --all who decided and their notes (new-user helper #9)", async () => {
  const repo = await repoWith(2);
  const e = await openEngine(repo);
  for (const agent of ["designer-1", "designer-2"]) {
    const c = e.claimNext({ agentId: agent, capabilities: ["designer"] })!;
    e.complete(c.phase.id, { agentId: agent, token: c.token, summary: `healthz design by ${agent}` });
  }
  e.rejectGate(e.gates({ ticketId: "0002" })[0].id, {
    actor: { kind: "human", name: "dana" },
    notes: "cover timeouts",
  });
  e.close();
  const open = await baton(["gates"], { cwd: repo });
  assert.equal(open.code, 0, open.stderr);
  assert.match(open.stdout, /REVIEWS/);
  assert.match(open.stdout, /0001\s+Design Review .*Design by designer-1: healthz design by designer-1/);
  const all = await baton(["gates", "--all"], { cwd: repo });
  assert.match(all.stdout, /0002\s+Design Review .*rejected.*human:dana\s+cover timeouts/);
});
