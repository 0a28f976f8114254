/**
 * Finished means finished, and nothing is claimed that did not happen
 * (issue 25, part 3), on `tests/fixtures/progressrepo`: completed tickets
 * are never blocked, a parent waits for its children, "Merged / Complete"
 * is checked only once the merge queue landed the work, write-back fills the
 * template's own log sections, and what Baton creates is ignored by git
 * wherever the configuration puts it (`baton doctor` creates nothing).
 */
import assert from "node:assert/strict";
import { type Engine, importTickets, openEngine, syncAll } from "../../mod.ts";
import { baton } from "../helpers/cli.ts";
import { changedFiles, fixtureRepo } from "../helpers/realrepo.ts";

const dana = { kind: "human" as const, name: "dana" };

function work(engine: Engine, id: string, phase: string, summary = `${phase} done`): void {
  const p = engine.ticket(id).phases.find((x) => x.name === phase)!;
  assert.equal(p.status, "available", `${id}/${phase} is ${p.status}`);
  const agent = `${p.agentType}-1`;
  const c = engine.claim(p.id, { agentId: agent, capabilities: [p.agentType!] });
  engine.start(c.phase.id, { agentId: agent, token: c.token });
  engine.complete(c.phase.id, { agentId: agent, token: c.token, summary });
}

function approve(engine: Engine, id: string, phase: string): void {
  const g = engine.gates({ ticketId: id }).find((x) => x.phaseName === phase)!;
  engine.approveGate(g.id, { actor: dana });
}

Deno.test("finished: a completed ticket is never blocked (list, blocked, board), whatever it depended on", async () => {
  const repo = await fixtureRepo("progressrepo");
  const engine = await openEngine(repo);
  importTickets(engine);
  // 0112 is complete by its file and depends on 0106, which is not.
  assert.equal(engine.ticket("0112").status, "completed");
  assert.equal(engine.ticket("0106").status, "active");
  assert.ok(!engine.listTickets({ blocked: true }).some((t) => t.id === "0112"));
  assert.ok(!engine.blocked().some((b) => b.ticketId === "0112"));
  assert.equal(engine.board().find((t) => t.id === "0112")!.blocked, false);
  engine.close();
  const out = await baton(["list", "--blocked"], { cwd: repo });
  assert.doesNotMatch(out.stdout, /0112/);
});

Deno.test("finished: a parent waits for its children, and says so", async () => {
  const repo = await fixtureRepo("progressrepo");
  const engine = await openEngine(repo);
  importTickets(engine);
  // Every phase of 0109 is done by its file; its children 0109a and 0109b are not.
  const parent = engine.ticket("0109");
  assert.ok(parent.phases.every((p) => p.status === "completed" || p.status === "skipped"));
  assert.equal(parent.status, "active");
  const why = engine.blocked().find((b) => b.ticketId === "0109");
  assert.match(why!.detail, /waits for its child tickets \(0109a, 0109b\)/);
  // The children finish (their files say so): the parent completes with the last of them.
  for (const f of ["0109a_tgs_substeps.md", "0109b_tgs_warm_start.md"]) {
    const path = `${repo}/tickets/${f}`;
    await Deno.writeTextFile(path, (await Deno.readTextFile(path)).replaceAll("- [ ]", "- [x]"));
    importTickets(engine);
  }
  assert.equal(engine.ticket("0109a").status, "completed");
  assert.equal(engine.ticket("0109").status, "completed");
  engine.close();
});

const MERGE = `
merge:
  target: main
  check: "true"
`;

Deno.test("finished: with a merge queue, 'Merged / Complete' is checked only once the work landed", async () => {
  const repo = await fixtureRepo("progressrepo", async (dir) => {
    await Deno.writeTextFile(
      `${dir}/.workflow/config.yaml`,
      (await Deno.readTextFile(`${dir}/.workflow/config.yaml`)) + MERGE,
    );
  });
  const engine = await openEngine(repo);
  importTickets(engine);
  // `Awaiting Merge`: every phase done but landing, which the merge queue does.
  const t111 = engine.ticket("0111");
  assert.equal(t111.status, "active");
  assert.deepEqual(t111.phases.filter((p) => p.status !== "completed" && p.status !== "skipped").map((p) => p.name), [
    "Merge",
  ]);
  // 0101: Baton does the documentation; the ticket waits for landing; the file says nothing of a merge.
  work(engine, "0101", "Documentation", "Documented the refit.");
  assert.equal(engine.ticket("0101").status, "active");
  syncAll(engine);
  const path = `${repo}/tickets/0101_bvh_refit.md`;
  let text = await Deno.readTextFile(path);
  assert.match(text, /- \[x\] Documentation Updated\n- \[ \] Merged \/ Complete/);
  // The merge queue lands it: now it is merged.
  const lease = engine.acquireMergeWorker("worker-1")!;
  const batch = engine.startMergeBatch(lease, { baseSha: "a1", now: true })!;
  assert.ok(batch.items.some((it) => it.ticketId === "0101"));
  engine.landMergeBatch(lease, batch.id, {
    shas: Object.fromEntries(batch.items.map((it) => [it.position, `c${it.position}`])),
  });
  assert.equal(engine.ticket("0101").status, "completed");
  syncAll(engine);
  text = await Deno.readTextFile(path);
  assert.match(text, /- \[x\] Merged \/ Complete/);
  engine.close();
});

Deno.test("finished: write-back fills the template's log sections instead of adding its own beside them", async () => {
  const repo = await fixtureRepo("progressrepo");
  const engine = await openEngine(repo);
  importTickets(engine);
  work(engine, "0113", "C++ Test Writing", "Tests for the parallel and degenerate cases.");
  work(engine, "0113", "C++ Implementation", "Closest points with clamped parameters.");
  approve(engine, "0113", "Quality Gate");
  approve(engine, "0113", "Implementation Review");
  work(engine, "0113", "Documentation", "Documented in collision.md.");
  const r = syncAll(engine);
  assert.deepEqual(r.errors, []);
  const text = await Deno.readTextFile(`${repo}/tickets/0113_from_template.md`);
  const headings = text.split("\n").filter((l) => l.startsWith("### "));
  // C++ Implementation stands in for Implementation: the template's section; Documentation fills
  // "Documentation Update Phase". The template has no section for test writing nor the gates: added.
  assert.deepEqual(headings, [
    "### Design Phase",
    "### Implementation Phase",
    "### Documentation Update Phase",
    "### C++ Test Writing Phase",
    "### Quality Gate Phase",
    "### Implementation Review Phase",
  ]);
  assert.match(text, /### Implementation Phase\n- \*\*Started\*\*: 20\d\d-[^\n]+\n- \*\*Completed\*\*: 20\d\d-[^\n]+/);
  assert.match(text, /- \*\*Notes\*\*: Closest points with clamped parameters\./);
  assert.match(text, /### Documentation Update Phase\n- \*\*Started\*\*: 20/);
  assert.match(text, /- \*\*Notes\*\*: Documented in collision\.md\./);
  // A second sync writes nothing.
  assert.deepEqual(syncAll(engine).written, []);
  engine.close();
});

Deno.test("finished: what Baton creates is ignored wherever the config puts it; doctor creates nothing", async () => {
  const repo = await fixtureRepo("progressrepo");
  // The configured database is .workflow/state/baton.db: doctor neither creates it nor its directory.
  const doctor = await baton(["doctor"], { cwd: repo });
  assert.match(doctor.stdout, /database: none yet at \.workflow\/state\/baton\.db/);
  assert.match(
    doctor.stdout,
    /FAIL\s+git ignore: git does not ignore \/\.workflow\/state\/baton\.db\*, \/\.workflow\/logs\//,
  );
  assert.deepEqual(await changedFiles(repo), [], "doctor created nothing");
  // The first command that creates the database keeps it, and the logs, out of git (.git/info/exclude).
  const imp = await baton(["import"], { cwd: repo });
  assert.equal(imp.code, 0, imp.stderr);
  await Deno.mkdir(`${repo}/.workflow/logs`, { recursive: true });
  await Deno.writeTextFile(`${repo}/.workflow/logs/0101-design-a.log`, "token\n");
  assert.deepEqual(await changedFiles(repo), []);
  const exclude = await Deno.readTextFile(`${repo}/.git/info/exclude`);
  assert.match(exclude, /^\/\.workflow\/state\/baton\.db\*$/m);
  assert.match(exclude, /^\/\.workflow\/logs\/$/m);
  const again = await baton(["doctor"], { cwd: repo });
  assert.match(again.stdout, /ok\s+git ignore/);
});

Deno.test("finished: init ignores the configured database path, in .gitignore or where the user keeps it", async () => {
  // The user's config puts the database elsewhere; init ignores that path, not .workflow/baton.db.
  const repo = await fixtureRepo("progressrepo");
  const out = await baton(["init"], { cwd: repo });
  assert.equal(out.code, 0, out.stderr);
  const gi = await Deno.readTextFile(`${repo}/.gitignore`);
  assert.match(gi, /^\/\.workflow\/state\/baton\.db\*$/m);
  assert.doesNotMatch(gi, /^\.workflow\/baton\.db\*$/m);
  assert.match(gi, /^\/\.workflow\/logs\/$/m);
  // A user who keeps Baton's patterns in .git/info/exclude gets them there, and .gitignore stays untouched.
  const other = await fixtureRepo("progressrepo");
  await Deno.writeTextFile(`${other}/.git/info/exclude`, "# mine\n.workflow/baton.db*\n");
  assert.equal((await baton(["init"], { cwd: other })).code, 0);
  await assert.rejects(Deno.stat(`${other}/.gitignore`));
  assert.match(await Deno.readTextFile(`${other}/.git/info/exclude`), /^\/\.workflow\/state\/baton\.db\*$/m);
});

Deno.test("finished: a ticket whose header says Status: Done in a plain line, bullet or table row is imported completed and never offered", async () => {
  const repo = await fixtureRepo("progressrepo");
  const forms: Record<string, string> = {
    "0901_plain.md": "Status: Done\n",
    "0902_metadata.md": "## Metadata\nStatus: Closed\n",
    "0903_bullet.md": "- Status: Done\n",
    "0904_table.md": "| Field | Value |\n|---|---|\n| Status | Done |\n",
  };
  for (const [name, form] of Object.entries(forms)) {
    await Deno.writeTextFile(`${repo}/tickets/${name}`, `# Ticket ${name.slice(0, 4)}: Finished\n\n${form}`);
  }
  const imported = await baton(["import", "--json"], { cwd: repo });
  assert.equal(imported.code, 0, imported.stderr);
  const engine = await openEngine(repo);
  try {
    for (const name of Object.keys(forms)) assert.equal(engine.ticket(name.slice(0, 4)).status, "completed", name);
    const types = [...new Set(engine.cfg.workflow.phases.map((p) => p.agentType).filter((t): t is string => !!t))];
    const offered = engine.availableWork(types, 1000).phases.map((p) => p.ticketId);
    assert.ok(offered.length > 0, "the fixture's open tickets are offered");
    assert.deepEqual(offered.filter((id) => id.startsWith("09")), [], "none of them is offered");
  } finally {
    engine.close();
  }
});
