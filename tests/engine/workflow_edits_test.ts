/**
 * A human edits `.workflow/phases.yaml` while tickets are half done: what
 * the engine decides about a ticket's phases the workflow no longer names
 * the same way (a gate renamed or removed, the phases it reviews renamed).
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { holdWriteLock, tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";

const PHASES = `phases:
  - {name: Design, agent_type: designer}
  - {name: Design Review, agent_type: null}
  - {name: Implementation, agent_type: implementer}
`;
const dana = { kind: "human" as const, name: "dana" };

/** A ticket whose Design is done and whose Design Review gate is open; then phases.yaml becomes `edited`. */
async function gateOpenThenEdited(edited: string, initial = PHASES, metadata: Record<string, unknown> = {}) {
  const repo = await tempRepo({ phases: initial });
  let engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "Cache", metadata });
  const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "d1", token: c.token, summary: "a hash map" });
  const gate = engine.gates()[0];
  assert.equal(gate.phaseName, "Design Review");
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, edited);
  engine = await openEngine(repo);
  return { engine, gate };
}

for (
  const [what, edited] of [
    ["the gate renamed", PHASES.replace("Design Review", "Architecture Review")],
    ["the gate removed", PHASES.replace("  - {name: Design Review, agent_type: null}\n", "")],
    ["the phase it reviews renamed", PHASES.replace("{name: Design,", "{name: Architecture,")],
  ]
) {
  Deno.test(`reject: a gate whose workflow changed (${what}) still sends the work it reviewed back with the notes`, async () => {
    const { engine, gate } = await gateOpenThenEdited(edited);
    try {
      engine.rejectGate(gate.id, { actor: dana, notes: "use a B-tree" });
      const t = engine.ticket("0001");
      const design = t.phases.find((p) => p.name === "Design")!;
      assert.equal(design.status, "available", JSON.stringify(t.phases.map((p) => [p.name, p.status])));
      assert.equal(design.reworkNotes, "use a B-tree");
      assert.equal(t.phases.find((p) => p.name === "Design Review")!.status, "pending");
      assert.deepEqual(engine.gates(), [], "no gate opens again before the rework");
      const c = engine.claimNext({ agentId: "d2", capabilities: ["designer"] })!;
      assert.equal(c.phase.name, "Design");
    } finally {
      engine.close();
    }
  });
}

Deno.test("database.path changed while Baton's database is at the old path: no second, empty database is started (a phase would be held twice); once moved, every claim is there", async () => {
  const repo = await tempRepo({ phases: PHASES });
  const git = new Deno.Command("git", { args: ["init", "-q"], cwd: repo, stdout: "null" });
  assert.ok((await git.output()).success);
  let engine = await openEngine(repo); // creates .workflow/baton.db, which git is told to ignore
  engine.upsertTicket({ id: "0001", title: "Cache" });
  const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "database:\n  path: .workflow/state/baton.db\n");
  await assert.rejects(openEngine(repo), (e: Error & { code?: string }) => {
    assert.equal(e.code, "database_missing");
    assert.match(e.message, /\.workflow\/baton\.db/);
    return true;
  });
  const status = await baton(["status"], { cwd: repo });
  assert.notEqual(status.code, 0);
  assert.match(status.stderr, /database\.path/);
  await assert.rejects(Deno.stat(`${repo}/.workflow/state/baton.db`), Deno.errors.NotFound);
  // Moved where the configuration says: the claim is there.
  await Deno.mkdir(`${repo}/.workflow/state`);
  await Deno.rename(`${repo}/.workflow/baton.db`, `${repo}/.workflow/state/baton.db`);
  engine = await openEngine(repo);
  try {
    assert.equal(engine.ticket("0001").phases[0].claimedBy, "d1");
    assert.equal(engine.claimNext({ agentId: "d2", capabilities: ["designer"] }), null);
    assert.equal(c.phase.name, "Design");
  } finally {
    engine.close();
  }
});

Deno.test("a phase added to the workflow after phases before it were removed is placed by name: not skipped as 'past it' while the ticket has not reached it", async () => {
  const repo = await tempRepo({ phases: PHASES });
  let engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "Cache" });
  const d = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.complete(d.phase.id, { agentId: "d1", token: d.token });
  engine.approveGate(engine.gates()[0].id, { actor: dana });
  const i = engine.claimNext({ agentId: "i1", capabilities: ["implementer"] })!;
  engine.close();
  // Design and its review leave the workflow; Lint comes after Implementation.
  await Deno.writeTextFile(
    `${repo}/.workflow/phases.yaml`,
    "phases:\n  - {name: Implementation, agent_type: implementer}\n  - {name: Lint, agent_type: linter}\n",
  );
  engine = await openEngine(repo);
  try {
    assert.deepEqual(engine.seedNewPhases(), [{ ticketId: "0001", phase: "Lint", status: "pending" }]);
    engine.complete(i.phase.id, { agentId: "i1", token: i.token });
    const lint = engine.claimNext({ agentId: "l1", capabilities: ["linter"] });
    assert.equal(lint?.phase.name, "Lint");
  } finally {
    engine.close();
  }
});

Deno.test("a phase inserted before one an agent is working on is not offered alongside it: the ticket is past it", async () => {
  const repo = await tempRepo({ phases: PHASES });
  let engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "Cache" });
  engine.upsertTicket({ id: "0002", title: "Untouched" });
  const d = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  assert.equal(d.ticket.id, "0001");
  engine.close();
  await Deno.writeTextFile(
    `${repo}/.workflow/phases.yaml`,
    "phases:\n  - {name: Spec, agent_type: specifier}\n" +
      PHASES.replace("phases:\n", ""),
  );
  engine = await openEngine(repo);
  try {
    const added = engine.seedNewPhases();
    assert.deepEqual(added.map((a) => [a.ticketId, a.status]), [["0001", "skipped"], ["0002", "pending"]]);
    const s = engine.claimNext({ agentId: "s1", capabilities: ["specifier"] });
    assert.equal(s?.ticket.id, "0002", "0002 has not started: its Spec comes first");
  } finally {
    engine.close();
  }
});

const THREE = `phases:
  - {name: Design, agent_type: designer}
  - {name: Implementation, agent_type: implementer}
  - {name: Tests, agent_type: test-writer}
`;

/** 0001 implemented, 0002 implementing (held by i2), 0003 designed only; then phases.yaml becomes `edited`. */
async function threeTicketsThen(edited: string) {
  const repo = await tempRepo({ phases: THREE });
  let engine = await openEngine(repo);
  for (const id of ["0001", "0002", "0003"]) engine.upsertTicket({ id, title: `T${id}` });
  const done = (agentId: string, cap: string) => {
    const c = engine.claimNext({ agentId, capabilities: [cap] })!;
    engine.complete(c.phase.id, { agentId, token: c.token });
    return c;
  };
  for (let i = 0; i < 3; i++) done("d", "designer");
  done("i1", "implementer"); // 0001
  const held = engine.claimNext({ agentId: "i2", capabilities: ["implementer"] })!; // 0002
  assert.equal(held.ticket.id, "0002");
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, edited);
  engine = await openEngine(repo);
  return { engine, held };
}

/** A repository with a merge: section whose ticket 0001 is designed and waits to land. */
async function waitingToLand(): Promise<string> {
  const repo = await tempRepo({
    phases: "phases:\n  - {name: Design, agent_type: designer}\n",
    config: "merge:\n  check: 'true'\n",
  });
  const engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "Cache" });
  const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "d1", token: c.token });
  engine.close();
  return repo;
}

const statuses = (e: Awaited<ReturnType<typeof openEngine>>, id: string) =>
  Object.fromEntries(e.ticket(id).phases.map((p) => [p.name, p.status]));

Deno.test("a phase renamed in phases.yaml: work done or under way under the old name is not offered again under the new one, and a ticket that has not reached it runs it once", async () => {
  const { engine, held } = await threeTicketsThen(THREE.replace("Implementation", "Build"));
  try {
    engine.seedNewPhases();
    assert.deepEqual(statuses(engine, "0001"), {
      Design: "completed",
      Implementation: "completed",
      Build: "skipped",
      Tests: "available",
    });
    assert.equal(statuses(engine, "0002").Build, "skipped");
    assert.equal(engine.ticket("0002").phases.find((p) => p.name === "Implementation")!.claimedBy, "i2");
    assert.deepEqual(statuses(engine, "0003"), {
      Design: "completed",
      Implementation: "skipped",
      Build: "available",
      Tests: "pending",
    });
    // Nothing of 0001 or 0002 for an implementer; 0003's Build once.
    const c = engine.claimNext({ agentId: "i3", capabilities: ["implementer"] })!;
    assert.deepEqual([c.ticket.id, c.phase.name], ["0003", "Build"]);
    assert.equal(engine.claimNext({ agentId: "i4", capabilities: ["implementer"] }), null);
    engine.complete(held.phase.id, { agentId: "i2", token: held.token });
    assert.equal(statuses(engine, "0002").Tests, "available");
  } finally {
    engine.close();
  }
});

Deno.test("a phase removed from phases.yaml is not run on open tickets that have not reached it; work under way finishes", async () => {
  const { engine, held } = await threeTicketsThen(
    THREE.replace("  - {name: Implementation, agent_type: implementer}\n", ""),
  );
  try {
    engine.seedNewPhases();
    assert.equal(statuses(engine, "0003").Implementation, "skipped");
    assert.equal(statuses(engine, "0003").Tests, "available");
    assert.equal(engine.claimNext({ agentId: "i3", capabilities: ["implementer"] }), null);
    engine.complete(held.phase.id, { agentId: "i2", token: held.token });
    assert.equal(statuses(engine, "0002").Tests, "available");
  } finally {
    engine.close();
  }
});

Deno.test("a phase turned into a parallel group that replaces it: a ticket that worked on it keeps that work, one that has not runs the group instead", async () => {
  const grouped =
    THREE.replace("  - {name: Tests, agent_type: test-writer}\n", "  - {name: Tests, agent_type: test-writer}\n") +
    "parallel_groups:\n  verification:\n    after: Implementation\n    phases:\n" +
    "      - {name: Unit Tests, agent_type: test-writer, overrides: [Tests]}\n" +
    "      - {name: Fuzzing, agent_type: fuzzer, overrides: [Tests]}\n";
  const { engine } = await threeTicketsThen(THREE);
  // 0001's Tests is under way when the group arrives.
  const t = engine.claimNext({ agentId: "t1", capabilities: ["test-writer"] })!;
  assert.equal(t.ticket.id, "0001");
  engine.close();
  const repo = engine.cfg.repoRoot;
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, grouped);
  const e = await openEngine(repo);
  try {
    e.seedNewPhases();
    assert.deepEqual(
      [statuses(e, "0001").Tests, statuses(e, "0001")["Unit Tests"], statuses(e, "0001").Fuzzing],
      ["claimed", "skipped", "skipped"],
    );
    assert.deepEqual(
      [statuses(e, "0003").Tests, statuses(e, "0003")["Unit Tests"], statuses(e, "0003").Fuzzing],
      ["skipped", "pending", "pending"],
    );
    assert.equal(e.claimNext({ agentId: "t2", capabilities: ["test-writer"] }), null, "no second test-writer on 0001");
  } finally {
    e.close();
  }
});

Deno.test("the merge: section missing (removed, or another branch's config.yaml for a moment) while a ticket waits to land: the ticket keeps its landing phase and does not complete without landing (review of the fix)", async () => {
  const repo = await waitingToLand();
  let engine = await openEngine(repo);
  assert.deepEqual(statuses(engine, "0001"), { Design: "completed", Merge: "available" });
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "");
  engine = await openEngine(repo);
  try {
    assert.deepEqual(engine.seedNewPhases(), []);
    assert.equal(statuses(engine, "0001").Merge, "available");
    assert.notEqual(engine.ticket("0001").status, "completed");
  } finally {
    engine.close();
  }
});

Deno.test("a misspelt rename corrected: the phase comes back where nobody started it (review of the fix)", async () => {
  const { engine } = await threeTicketsThen(THREE.replace("Implementation", "Implemention"));
  const repo = engine.cfg.repoRoot;
  engine.seedNewPhases();
  assert.equal(statuses(engine, "0003").Implementation, "skipped");
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, THREE);
  const e = await openEngine(repo);
  try {
    const changed = e.seedNewPhases();
    assert.ok(
      changed.some((c) => c.ticketId === "0003" && c.phase === "Implementation" && c.reopened),
      JSON.stringify(changed),
    );
    assert.deepEqual(
      [statuses(e, "0003").Implementation, statuses(e, "0003").Implemention],
      ["available", "skipped"],
    );
    assert.equal(statuses(e, "0001").Implementation, "completed");
    assert.equal(e.claimNext({ agentId: "i9", capabilities: ["implementer"] })?.ticket.id, "0003");
  } finally {
    e.close();
  }
});

Deno.test("a phase's agent_type changed in phases.yaml: open tickets that have not started it go to the new type; work under way stays with its agent", async () => {
  const { engine, held } = await threeTicketsThen(THREE.replace("agent_type: implementer", "agent_type: coder"));
  try {
    const changed = engine.seedNewPhases();
    assert.deepEqual(changed.map((c) => [c.ticketId, c.phase]), [["0003", "Implementation"]]);
    assert.equal(engine.claimNext({ agentId: "i3", capabilities: ["implementer"] }), null);
    const c = engine.claimNext({ agentId: "c1", capabilities: ["coder"] })!;
    assert.deepEqual([c.ticket.id, c.phase.name], ["0003", "Implementation"]);
    engine.complete(held.phase.id, { agentId: "i2", token: held.token }); // 0002's goes on with i2
    assert.equal(statuses(engine, "0002").Implementation, "completed");
  } finally {
    engine.close();
  }
});

Deno.test("followConfigEdits: an edit that loads applies at the next call; one that does not, or that moves the database or the merge queue, is refused once and the engine keeps what it had", async () => {
  const repo = await tempRepo({ phases: PHASES, config: "leases:\n  default_minutes: 5\n" });
  const engine = await openEngine(repo);
  const cfgFile = `${repo}/.workflow/config.yaml`;
  try {
    assert.equal(await engine.followConfigEdits(), false);
    await Deno.writeTextFile(cfgFile, "leases:\n  default_minutes: 50\n");
    assert.equal(await engine.followConfigEdits(), true);
    assert.equal(engine.cfg.config.leases.default_minutes, 50);
    await Deno.writeTextFile(cfgFile, "leases:\n  default_minutes: [\n");
    await assert.rejects(engine.followConfigEdits(), { code: "config_invalid" });
    assert.equal(await engine.followConfigEdits(), false, "said once");
    for (const edit of ["database:\n  path: elsewhere.db\n", "merge:\n  check: 'true'\n"]) {
      await Deno.writeTextFile(cfgFile, `leases:\n  default_minutes: 7\n${edit}`);
      await assert.rejects(engine.followConfigEdits(), { code: "config_invalid", message: /restart it/ });
      assert.equal(engine.cfg.config.leases.default_minutes, 50, "nothing of that edit applies");
    }
    engine.upsertTicket({ id: "0001", title: "Still works" });
  } finally {
    engine.close();
  }
});

Deno.test("after a rename is followed, an update of the ticket (a human's edit imported) does not bring back the phases it skipped (review of the fix)", async () => {
  const { engine, held } = await threeTicketsThen(THREE.replace("Implementation", "Build"));
  try {
    engine.seedNewPhases();
    for (const id of ["0001", "0002", "0003"]) {
      engine.upsertTicket({ id, title: `T${id}, edited by a human`, metadata: { priority: "High" } });
    }
    assert.equal(statuses(engine, "0001").Build, "skipped");
    assert.equal(statuses(engine, "0001").Tests, "available");
    assert.equal(statuses(engine, "0002").Build, "skipped");
    assert.equal(statuses(engine, "0003").Implementation, "skipped");
    assert.equal(engine.claimNext({ agentId: "i9", capabilities: ["implementer"] })?.ticket.id, "0003");
    assert.equal(engine.claimNext({ agentId: "i8", capabilities: ["implementer"] }), null, "nothing twice");
    assert.equal(held.ticket.id, "0002");
  } finally {
    engine.close();
  }
});

Deno.test("reject after the phase the gate reviews was renamed and the rename followed (seedNewPhases): the work still goes back (review of the fix)", async () => {
  const { engine, gate } = await gateOpenThenEdited(PHASES.replace("{name: Design,", "{name: Architecture,"));
  try {
    engine.seedNewPhases();
    engine.rejectGate(gate.id, { actor: dana, notes: "use a B-tree" });
    const design = engine.ticket("0001").phases.find((p) => p.name === "Design")!;
    assert.equal(design.status, "available");
    assert.equal(design.reworkNotes, "use a B-tree");
    assert.deepEqual(engine.gates(), []);
  } finally {
    engine.close();
  }
});

Deno.test("a rename and a new phase of the same agent type in one edit: which is which cannot be told, so neither is taken for done: the work is offered again rather than skipped unseen (review of the fix)", async () => {
  const edited = THREE.replace("Implementation", "Build").replace(
    "  - {name: Tests,",
    "  - {name: Cleanup, agent_type: implementer}\n  - {name: Tests,",
  );
  const { engine } = await threeTicketsThen(edited);
  try {
    engine.seedNewPhases();
    const s = statuses(engine, "0001");
    // Done again rather than skipped unseen: Build is offered, Cleanup follows it.
    assert.deepEqual([s.Implementation, s.Build, s.Cleanup], ["completed", "available", "pending"]);
  } finally {
    engine.close();
  }
});

// Second review of this stop's fixes.

Deno.test("a rename among phases of its agent type that the ticket skipped (a condition, or past them) is still one to one: the finished work is not offered again", async () => {
  const withPolish = THREE.replace(
    "  - {name: Tests,",
    "  - {name: Polish, agent_type: implementer, condition: {field: polish, value: true}}\n  - {name: Tests,",
  ) + "ticket_metadata:\n  - {field: polish, type: boolean, default: false}\n";
  const { engine } = await threeTicketsThen(withPolish);
  const repo = engine.cfg.repoRoot;
  engine.seedNewPhases(); // Polish, skipped by its condition
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, withPolish.replace("Implementation", "Build"));
  let e = await openEngine(repo);
  e.seedNewPhases();
  assert.equal(statuses(e, "0001").Build, "skipped");
  assert.equal(statuses(e, "0001").Tests, "available");
  e.close();
  // A later, unrelated edit: an implementer phase before Design, which every ticket is past.
  await Deno.writeTextFile(
    `${repo}/.workflow/phases.yaml`,
    withPolish.replace("Implementation", "Build").replace(
      "phases:\n",
      "phases:\n  - {name: Spike, agent_type: implementer}\n",
    ),
  );
  e = await openEngine(repo);
  try {
    e.seedNewPhases();
    assert.equal(statuses(e, "0001").Build, "skipped", "not reopened by the unrelated edit");
    assert.equal(e.claimNext({ agentId: "i9", capabilities: ["implementer"] })?.ticket.id, "0003");
  } finally {
    e.close();
  }
});

Deno.test("reject after a reviewed phase with a condition that holds was renamed and the rename followed: the work goes back", async () => {
  const phases = PHASES.replace(
    "{name: Design, agent_type: designer}",
    "{name: Design, agent_type: designer, condition: {field: design, value: true}}",
  ) +
    "ticket_metadata:\n  - {field: design, type: boolean, default: true}\n";
  const { engine, gate } = await gateOpenThenEdited(
    phases.replace("{name: Design,", "{name: Architecture,"),
    phases,
    { design: true },
  );
  try {
    engine.seedNewPhases();
    engine.rejectGate(gate.id, { actor: dana, notes: "use a B-tree" });
    const design = engine.ticket("0001").phases.find((p) => p.name === "Design")!;
    assert.equal(design.status, "available");
    assert.equal(design.reworkNotes, "use a B-tree");
  } finally {
    engine.close();
  }
});

Deno.test("merge.phase renamed while a ticket waits to land: the old landing phase is retired, and the ticket completes once the new one lands", async () => {
  const repo = await waitingToLand();
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "merge:\n  check: 'true'\n  phase: Land\n");
  const e = await openEngine(repo);
  try {
    e.seedNewPhases();
    assert.deepEqual(statuses(e, "0001"), { Design: "completed", Merge: "skipped", Land: "available" });
    const lease = e.acquireMergeWorker("w")!;
    const b = e.startMergeBatch(lease, { baseSha: "base", now: true })!;
    e.recordMergeCandidate(lease, b.id, { candidateSha: "cand", shas: { 0: "cand" }, builds: 1, checkMs: 10 });
    e.landMergeBatch(lease, b.id);
    assert.equal(e.ticket("0001").status, "completed");
  } finally {
    e.close();
  }
});

Deno.test("followConfigEdits: a markdown_sync change needs a restart (the realtime write-back is installed at open)", async () => {
  const repo = await tempRepo({ phases: PHASES, config: "markdown_sync:\n  mode: realtime\n" });
  const engine = await openEngine(repo);
  try {
    await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, 'markdown_sync:\n  mode: "off"\n');
    await assert.rejects(engine.followConfigEdits(), { code: "config_invalid", message: /markdown_sync changed/ });
    assert.equal(engine.cfg.config.markdown_sync.status_update, "realtime");
  } finally {
    engine.close();
  }
});

Deno.test("database.path changed while the old database is ignored by a .gitignore line without a leading slash: still refused", async () => {
  const repo = await tempRepo({ phases: PHASES });
  assert.ok((await new Deno.Command("git", { args: ["init", "-q"], cwd: repo }).output()).success);
  await Deno.writeTextFile(`${repo}/.gitignore`, ".workflow/baton.db*\n");
  const engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "Cache" });
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "database:\n  path: .workflow/other.db\n");
  await assert.rejects(openEngine(repo), { code: "database_missing" });
});

Deno.test("priority_order edited: the claim order, the queue and the list follow it at the next import", async () => {
  const repo = await tempRepo({ phases: PHASES });
  let engine = await openEngine(repo);
  for (const [id, priority] of [["0001", "Low"], ["0002", "Critical"], ["0003", "high"], ["0004", "Urgent"]]) {
    engine.upsertTicket({ id, title: `t${id}`, metadata: { priority } });
  }
  const order = () => engine.queue("designer").map((p) => p.ticketId);
  assert.deepEqual(order(), ["0002", "0003", "0001", "0004"], "Urgent is not in priority_order: after all");
  engine.close();
  // The team now works the other way round, and names a new label.
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "priority_order: [Urgent, Low, Medium, High, Critical]\n");
  const imported = await baton(["import", "--json"], { cwd: repo });
  assert.equal(imported.code, 0, imported.stderr);
  engine = await openEngine(repo);
  try {
    assert.deepEqual(order(), ["0004", "0001", "0003", "0002"]);
    assert.deepEqual(engine.listTickets().map((t) => t.id), ["0004", "0001", "0003", "0002"]);
    assert.equal(engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!.phase.ticketId, "0004");
    // One record per label that moved (each says how many tickets, from which place to which).
    const moved = engine.audit({ action: "tickets.reranked" }).map((
      a,
    ) => [a.details?.priority, a.oldState, a.newState]);
    assert.deepEqual(moved.sort(), [["Critical", "0", "4"], ["Low", "3", "1"], ["Urgent", "4", "0"], [
      "high",
      "1",
      "3",
    ]]);
  } finally {
    engine.close();
  }
});

Deno.test("priority_order edited while a process runs (baton-mcp, baton run): it follows at once (followConfigEdits), and nothing is re-ranked twice", async () => {
  const repo = await tempRepo({ phases: PHASES });
  const engine = await openEngine(repo);
  const other = await openEngine(repo); // a second server on the same file
  try {
    engine.upsertTicket({ id: "0001", title: "a", metadata: { priority: "Low" } });
    engine.upsertTicket({ id: "0002", title: "b", metadata: { priority: "Critical" } });
    assert.equal(engine.queue("designer")[0].ticketId, "0002");
    await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "priority_order: [Low, Critical]\n");
    assert.equal(await engine.followConfigEdits(), true);
    assert.equal(engine.queue("designer")[0].ticketId, "0001");
    assert.equal(await other.followConfigEdits(), true);
    assert.equal(other.claimNext({ agentId: "d1", capabilities: ["designer"] })!.phase.ticketId, "0001");
    assert.equal(engine.audit({ action: "tickets.reranked" }).length, 2, "the second process found nothing to re-rank");
  } finally {
    other.close();
    engine.close();
  }
});

Deno.test("a gate renamed while it is open: one gate, decided under the name it opened with (work under way finishes as it began), and approving it lets the work go on", async () => {
  const { engine } = await gateOpenThenEdited(PHASES.replace("Design Review", "Architecture Review"));
  try {
    engine.seedNewPhases();
    const gates = engine.gates();
    assert.deepEqual(gates.map((g) => g.phaseName), ["Design Review"], JSON.stringify(gates));
    engine.approveGate(gates[0].id, { actor: dana });
    assert.deepEqual(engine.gates(), []);
    assert.deepEqual(statuses(engine, "0001"), {
      Design: "completed",
      "Design Review": "completed",
      "Architecture Review": "skipped",
      Implementation: "available",
    });
  } finally {
    engine.close();
  }
});

Deno.test("a gate renamed after a human approved it: the ticket is not sent to review again under the new name", async () => {
  const repo = await tempRepo({ phases: PHASES });
  let engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "Cache" });
  const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "d1", token: c.token, summary: "a hash map" });
  engine.approveGate(engine.gates()[0].id, { actor: dana });
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, PHASES.replace("Design Review", "Architecture Review"));
  engine = await openEngine(repo);
  try {
    engine.seedNewPhases();
    assert.deepEqual(engine.gates(), []);
    const t = engine.ticket("0001");
    assert.equal(t.phases.find((p) => p.name === "Architecture Review")!.status, "skipped");
    assert.equal(t.phases.find((p) => p.name === "Implementation")!.status, "available");
    assert.equal(engine.claimNext({ agentId: "i1", capabilities: ["implementer"] })!.phase.name, "Implementation");
  } finally {
    engine.close();
  }
});

Deno.test("a phase inserted by an edit takes its place among the ticket's phases: listed in workflow order, and its summary reaches the next phase's agent", async () => {
  const edited = THREE.replace(
    "  - {name: Tests,",
    "  - {name: Security Review, agent_type: security}\n  - {name: Tests,",
  );
  const { engine, held } = await threeTicketsThen(edited);
  try {
    engine.seedNewPhases();
    // 0002's implementation is under way: the new phase comes after it.
    assert.deepEqual(engine.ticket("0002").phases.map((p) => p.name), [
      "Design",
      "Implementation",
      "Security Review",
      "Tests",
    ]);
    engine.complete(held.phase.id, { agentId: "i2", token: held.token, summary: "parser done" });
    // Every ticket not past it runs the new phase (0001 and 0003 too); then each ticket's tests.
    const work = (cap: string) => {
      const ids: string[] = [];
      for (let c; (c = engine.claimNext({ agentId: cap, capabilities: [cap] }));) {
        ids.push(c.ticket.id);
        if (cap === "test-writer" && c.ticket.id === "0002") return { ids, c };
        engine.complete(c.phase.id, { agentId: cap, token: c.token, summary: `${cap} on ${c.ticket.id}` });
      }
      return { ids, c: null };
    };
    assert.deepEqual(work("security").ids, ["0001", "0002"]);
    const { c } = work("test-writer");
    const seen = engine.context({ phaseId: c!.phase.id }).previousPhases.map((p) => [p.name, p.summary]);
    assert.deepEqual(seen, [
      ["Design", null],
      ["Implementation", "parser done"],
      ["Security Review", "security on 0002"],
    ]);
  } finally {
    engine.close();
  }
});

Deno.test("a rename together with a phase inserted before it: a ticket whose work is under way under the old name is past the inserted phase", async () => {
  const edited = THREE.replace(
    "  - {name: Implementation, agent_type: implementer}",
    "  - {name: Spec, agent_type: spec-writer}\n  - {name: Build, agent_type: implementer}",
  );
  const { engine, held } = await threeTicketsThen(edited);
  try {
    engine.seedNewPhases();
    assert.deepEqual(statuses(engine, "0002"), {
      Design: "completed",
      Implementation: "claimed",
      Spec: "skipped",
      Build: "skipped",
      Tests: "pending",
    });
    // Only 0003, which had not reached Implementation, writes a spec.
    const s = engine.claimNext({ agentId: "s1", capabilities: ["spec-writer"] })!;
    assert.equal(s.ticket.id, "0003");
    assert.equal(engine.claimNext({ agentId: "s2", capabilities: ["spec-writer"] }), null);
    engine.complete(held.phase.id, { agentId: "i2", token: held.token });
    assert.equal(statuses(engine, "0002").Tests, "available");
  } finally {
    engine.close();
  }
});

Deno.test("reject after a phase between the reviewed one and the gate was renamed: the renamed phase's work is redone too", async () => {
  const four = `phases:
  - {name: Implementation, agent_type: implementer}
  - {name: Polish, agent_type: polisher}
  - {name: Code Review, agent_type: null, reviews: [Implementation]}
`;
  const repo = await tempRepo({ phases: four });
  let engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "Cache" });
  for (const cap of ["implementer", "polisher"]) {
    const c = engine.claimNext({ agentId: cap, capabilities: [cap] })!;
    engine.complete(c.phase.id, { agentId: cap, token: c.token });
  }
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, four.replace("Polish", "Refine"));
  engine = await openEngine(repo);
  try {
    engine.seedNewPhases();
    assert.equal(statuses(engine, "0001").Refine, "skipped", "Polish did its work");
    engine.rejectGate(engine.gates()[0].id, { actor: dana, notes: "use a B-tree" });
    const s = statuses(engine, "0001");
    assert.equal(s.Implementation, "available");
    assert.equal(s.Polish, "pending", JSON.stringify(s));
    const i = engine.claimNext({ agentId: "i", capabilities: ["implementer"] })!;
    engine.complete(i.phase.id, { agentId: "i", token: i.token });
    assert.equal(engine.claimNext({ agentId: "p", capabilities: ["polisher"] })?.phase.name, "Polish");
  } finally {
    engine.close();
  }
});

Deno.test("one gate removed and another added elsewhere is not a rename: the new review is done, and what is inserted before it too (review of stop 48)", async () => {
  const moved = `phases:
  - {name: Design, agent_type: designer}
  - {name: Implementation, agent_type: implementer}
  - {name: Tests, agent_type: tester}
  - {name: Code Review, agent_type: null, reviews: [Implementation, Tests]}
`;
  const repo = await tempRepo({ phases: PHASES });
  let engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "Cache" });
  const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "d1", token: c.token, summary: "design" });
  engine.approveGate(engine.gates()[0].id, { actor: dana });
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, moved); // the human review moves to the code
  engine = await openEngine(repo);
  try {
    engine.seedNewPhases();
    const s = statuses(engine, "0001");
    assert.equal(s.Tests, "pending", JSON.stringify(s));
    assert.equal(s["Code Review"], "pending", JSON.stringify(s));
    for (const cap of ["implementer", "tester"]) {
      const w = engine.claimNext({ agentId: cap, capabilities: [cap] })!;
      engine.complete(w.phase.id, { agentId: cap, token: w.token });
    }
    assert.deepEqual(engine.gates().map((g) => g.phaseName), ["Code Review"]);
  } finally {
    engine.close();
  }
});

Deno.test("followConfigEdits while another process writes: the edit is followed (true, not refused) and the re-ranking done at the next look (review of stop 48)", async () => {
  const repo = await tempRepo({
    phases: PHASES,
    config: "database:\n  busy_timeout_ms: 200\npriority_order: [High, Low]\n",
  });
  const engine = await openEngine(repo);
  try {
    engine.upsertTicket({ id: "0001", title: "a", metadata: { priority: "Low" } });
    engine.upsertTicket({ id: "0002", title: "b", metadata: { priority: "High" } });
    await Deno.writeTextFile(
      `${repo}/.workflow/config.yaml`,
      "database:\n  busy_timeout_ms: 200\npriority_order: [Low, High]\n",
    );
    const lock = await holdWriteLock(repo);
    try {
      assert.equal(await engine.followConfigEdits(), true, "followed: a caller goes on to follow the workflow");
    } finally {
      lock.release();
    }
    assert.equal(await engine.followConfigEdits(), false, "no new edit");
    assert.equal(engine.queue("designer")[0].ticketId, "0001", "re-ranked at the next look");
  } finally {
    engine.close();
  }
});
