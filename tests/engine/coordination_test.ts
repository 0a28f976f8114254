import assert from "node:assert/strict";
import { engineFor } from "../helpers/repo.ts";

const human = { kind: "human" as const, name: "dana" };
const PHASES = `phases:
  - {name: Design, agent_type: designer, description: Write docs/design.md for the ticket.}
  - {name: Design Review, agent_type: null}
  - {name: Implementation, agent_type: implementer}
ticket_metadata:
  - {field: paths, type: list, markdown_key: Files}
`;

Deno.test("file declarations: advisory mode reports overlaps in declare and claim results", async () => {
  const { engine } = await engineFor({ phases: PHASES });
  engine.upsertTicket({ id: "A", title: "a" });
  engine.upsertTicket({ id: "B", title: "b", metadata: { paths: ["src/lib/a.ts"] } });
  const a = engine.claimNext({ agentId: "ag-a", capabilities: ["designer"] })!;
  assert.equal(a.ticket.id, "A");
  const r = engine.declareFiles(a.phase.id, { agentId: "ag-a", token: a.token, paths: ["./src/**/*.ts", "docs/a.md"] });
  assert.deepEqual(r.declared, ["src/**/*.ts", "docs/a.md"]);
  assert.deepEqual(r.overlaps, []);
  const b = engine.claimNext({ agentId: "ag-b", capabilities: ["designer"] })!;
  assert.equal(b.ticket.id, "B");
  assert.equal(b.overlaps.length, 1, "B's expected path overlaps A's declaration");
  assert.deepEqual([b.overlaps[0].pattern, b.overlaps[0].otherPattern, b.overlaps[0].agentId], [
    "src/lib/a.ts",
    "src/**/*.ts",
    "ag-a",
  ]);
  const r2 = engine.declareFiles(b.phase.id, { agentId: "ag-b", token: b.token, paths: ["docs/*.md", "src/x.js"] });
  assert.deepEqual(r2.overlaps.map((o) => [o.pattern, o.otherPattern]), [["docs/*.md", "docs/a.md"]]);
  assert.deepEqual(engine.checkConflicts(["README.md", "src/main.js"]), []);
  assert.equal(engine.checkConflicts(["src/index.ts"]).length, 1);
  assert.throws(() => engine.declareFiles(b.phase.id, { agentId: "ag-b", token: b.token, paths: ["../outside.txt"] }), {
    code: "invalid_argument",
  });
  assert.throws(() => engine.declareFiles(b.phase.id, { agentId: "ag-b", token: b.token, paths: ["/etc/passwd"] }), {
    code: "invalid_argument",
  });
  engine.close();
});

Deno.test("file declarations: blocking mode refuses the declaration and the claim, naming the holder", async () => {
  const { engine } = await engineFor({ phases: PHASES, config: "file_conflicts:\n  mode: blocking\n" });
  engine.upsertTicket({ id: "A", title: "a" });
  engine.upsertTicket({ id: "B", title: "b", metadata: { paths: ["src/a.ts"] } });
  engine.upsertTicket({ id: "C", title: "c", metadata: { paths: ["docs/c.md"] } });
  const a = engine.claimNext({ agentId: "ag-a", capabilities: ["designer"] })!;
  engine.declareFiles(a.phase.id, { agentId: "ag-a", token: a.token, paths: ["src/*.ts"] });
  const bPhase = engine.ticket("B").phases[0].id;
  assert.throws(() => engine.claim(bPhase, { agentId: "ag-b", capabilities: ["designer"] }), {
    code: "file_conflict",
    message: /src\/a\.ts overlaps src\/\*\.ts declared by ag-a for phase "Design" of ticket A/,
  });
  assert.equal(engine.ticket("B").phases[0].status, "available", "the refused claim changed nothing");
  // claimNext skips the conflicting ticket and takes the next one.
  const c = engine.claimNext({ agentId: "ag-b", capabilities: ["designer"] })!;
  assert.equal(c.ticket.id, "C");
  const before = engine.declarations().length;
  assert.throws(() => engine.declareFiles(c.phase.id, { agentId: "ag-b", token: c.token, paths: ["src/b.ts"] }), {
    code: "file_conflict",
    message: /declared by ag-a/,
  });
  assert.equal(engine.declarations().length, before, "nothing recorded");
  engine.close();
});

Deno.test("file declarations are released on every exit path", async () => {
  const { engine, clock } = await engineFor({
    phases: PHASES,
    config: "agents:\n  stale_timeout_minutes: 10\nretry:\n  backoff_seconds: 0\n",
  });
  for (const id of ["1", "2", "3", "4", "5"]) engine.upsertTicket({ id, title: id });
  const held = (agent: string) => {
    const c = engine.claimNext({ agentId: agent, capabilities: ["designer"] })!;
    engine.declareFiles(c.phase.id, { agentId: agent, token: c.token, paths: [`src/${agent}/**`] });
    return c;
  };
  const active = () => engine.declarations().map((d) => d.agentId).sort();
  const c1 = held("complete"), c2 = held("fail"), c3 = held("release"), c4 = held("review"), c5 = held("stale");
  assert.deepEqual(active(), ["complete", "fail", "release", "review", "stale"]);
  engine.complete(c1.phase.id, { agentId: "complete", token: c1.token });
  engine.fail(c2.phase.id, { agentId: "fail", token: c2.token, error: "x" });
  engine.release(c3.phase.id, { agentId: "release", token: c3.token });
  engine.requestReview(c4.phase.id, { agentId: "review", token: c4.token });
  assert.deepEqual(active(), ["stale"]);
  clock.advance(11 * 60_000);
  engine.sweepStale();
  assert.deepEqual(active(), []);
  assert.ok(c5);
  engine.close();
});

Deno.test("readyParallel returns a conflict-free set", async () => {
  const { engine } = await engineFor({ phases: PHASES });
  engine.upsertTicket({ id: "1", title: "1", metadata: { paths: ["src/api/**"] } });
  engine.upsertTicket({ id: "2", title: "2", metadata: { paths: ["src/api/users.ts"] } }); // overlaps 1
  engine.upsertTicket({ id: "3", title: "3", metadata: { paths: ["docs/*.md"] } });
  engine.upsertTicket({ id: "4", title: "4" }); // no paths known
  engine.upsertTicket({ id: "5", title: "5", metadata: { paths: ["web/app.tsx"] } });
  const set = engine.readyParallel(10);
  assert.deepEqual(set.map((p) => p.ticketId), ["1", "3", "4", "5"]);
  assert.equal(set.find((p) => p.ticketId === "4")!.pathsKnown, false);
  // An active declaration takes its paths out of the picture.
  const c = engine.claim(engine.ticket("5").phases[0].id, { agentId: "x", capabilities: ["designer"] });
  engine.declareFiles(c.phase.id, { agentId: "x", token: c.token, paths: ["src/**"] });
  assert.deepEqual(engine.readyParallel(10).map((p) => p.ticketId), ["3", "4"]);
  assert.deepEqual(engine.readyParallel(1).map((p) => p.ticketId), ["3"]);
  assert.deepEqual(engine.readyParallel(10, ["implementer"]), []);
  engine.close();
});

Deno.test("context: rework carries the gate's notes, earlier results, overlaps and files, within the budget", async () => {
  const { engine, repo } = await engineFor({
    phases: PHASES,
    config: "context:\n  always_include: [CONTRIBUTING.md, STYLE.md]\n  budget_bytes: 6000\n",
  });
  await Deno.mkdir(`${repo}/tickets`);
  const markdown = "# Ticket 0007: Cache\n\n" + "Some long narrative line.\n".repeat(400);
  await Deno.writeTextFile(`${repo}/tickets/0007_cache.md`, markdown);
  await Deno.writeTextFile(`${repo}/CONTRIBUTING.md`, "Run the tests.\n".repeat(50));
  await Deno.writeTextFile(`${repo}/STYLE.md`, "Use tabs.\n".repeat(2000));
  engine.upsertTicket({
    id: "0007",
    title: "Cache",
    path: "tickets/0007_cache.md",
    metadata: { paths: ["src/cache.ts"], priority: "High" },
  });
  engine.upsertTicket({ id: "0008", title: "Other" });
  const d = engine.claimNext({ agentId: "designer-1", capabilities: ["designer"] })!;
  engine.complete(d.phase.id, {
    agentId: "designer-1",
    token: d.token,
    summary: "first design",
    artifacts: ["docs/design.md"],
  });
  engine.rejectGate(engine.gates()[0].id, { actor: human, notes: "Explain eviction." });
  // Another agent holds a phase that declared overlapping files.
  const other = engine.claimNext({ agentId: "designer-2", capabilities: ["designer"] })!;
  assert.equal(other.ticket.id, "0007", "rework comes first (same priority order)");
  const o2 = engine.claimNext({ agentId: "designer-3", capabilities: ["designer"] })!;
  engine.declareFiles(o2.phase.id, { agentId: "designer-3", token: o2.token, paths: ["src/*.ts"] });

  const ctx = engine.context({ agentId: "designer-2" });
  assert.equal(ctx.phase.name, "Design");
  assert.equal(ctx.phase.description, "Write docs/design.md for the ticket.");
  assert.equal(ctx.reworkNotes, "Explain eviction.");
  assert.equal(ctx.ticket.metadata.priority, "High");
  assert.deepEqual(ctx.overlaps.map((o) => [o.pattern, o.otherPattern, o.agentId]), [[
    "src/cache.ts",
    "src/*.ts",
    "designer-3",
  ]]);
  assert.ok(ctx.bytes <= 6000, `context is ${ctx.bytes} bytes`);
  assert.equal(new TextEncoder().encode(JSON.stringify(ctx)).length, ctx.bytes, "the size reported is the JSON's");
  assert.ok(ctx.trimmed.length > 0);
  assert.match(ctx.trimmed[0], /STYLE\.md/, "the last always-include file is trimmed first");
  assert.ok(ctx.markdown && ctx.markdown.content.startsWith("# Ticket 0007: Cache"));
  // By phase id, with a larger budget nothing is trimmed; the implementation phase sees the design's result.
  const big = engine.context({ phaseId: ctx.phase.id }, { budgetBytes: 1_000_000 });
  assert.deepEqual(big.trimmed, []);
  assert.equal(big.files.length, 2);
  assert.throws(() => engine.context({ agentId: "nobody" }), { code: "not_found" });
  engine.close();
});

Deno.test("context: a ticket of megabytes gives the agent as much of its start as the budget holds, and says so", async () => {
  const { engine, repo } = await engineFor({
    phases: PHASES,
    config: "context:\n  always_include: [NOTES.md]\n  budget_bytes: 20000\n",
  });
  await Deno.mkdir(`${repo}/tickets`);
  // Lines of every kind JSON escapes: a pasted CI log has a newline every ~60 bytes, which alone made the JSON form
  // of 4 MB some 65,000 bytes longer than the text, more than the whole budget: the markdown was cut to nothing.
  const kinds = [
    "2026-12-06T03:00:00Z INFO step 12 passed in 0.3 s",
    'error: expected "a" but got "b"',
    "C:\\path\\to\\file.ts:12",
    "\ttabbed\tcolumns\t1\t2",
    "ünïcödé — 日本語 ✓",
    "",
  ];
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const mb of [4, 1, 0.05]) {
    const lines = ["# Ticket 0009: Flaky CI", ""];
    for (let n = 30; n < mb * 1e6;) {
      const l = kinds[Math.floor(rand() * kinds.length)];
      lines.push(l);
      n += l.length + 1;
    }
    const text = lines.join("\n") + "\n";
    await Deno.writeTextFile(`${repo}/tickets/0009_ci.md`, text);
    await Deno.writeTextFile(`${repo}/NOTES.md`, "A note every agent reads.\n".repeat(5));
    engine.upsertTicket({ id: "0009", title: "Flaky CI", path: "tickets/0009_ci.md" });
    const c = engine.claimNext({ agentId: `d-${mb}`, capabilities: ["designer"] })!;
    const ctx = engine.context({ agentId: `d-${mb}` });
    // The JSON an agent receives, measured here, is the size the context reports, within the budget.
    assert.equal(new TextEncoder().encode(JSON.stringify(ctx)).length, ctx.bytes);
    assert.ok(ctx.bytes <= 20000, `${mb} MB: ${ctx.bytes} bytes`);
    const shown = ctx.markdown!.content;
    assert.ok(text.startsWith(shown), `${mb} MB: the start of the file, unchanged`);
    // Most of the budget goes to the markdown: it is neither empty nor a sliver.
    assert.ok(new TextEncoder().encode(shown).length > 12000, `${mb} MB: ${shown.length} characters shown`);
    assert.ok(shown.endsWith("\n"), `${mb} MB: cut after a whole line`);
    const size = new TextEncoder().encode(text).length;
    assert.ok(ctx.markdown!.truncated);
    assert.ok(
      ctx.trimmed.some((t) => new RegExp(`^ticket markdown \\(cut to \\d+ of ${size} bytes\\)$`).test(t)),
      `${mb} MB: ${ctx.trimmed.join("; ")}`,
    );
    // The always-include file goes first (the least important part), as for any context over its budget.
    assert.match(ctx.trimmed[0], /^file NOTES\.md \((removed|cut to \d+ bytes)\)$/, ctx.trimmed.join("; "));
    engine.release(c.phase.id, { agentId: `d-${mb}`, token: c.token, reason: "next size" });
  }
  engine.close();
});

Deno.test("commits: listed in the order they were made, whatever order their background hooks record them in", async () => {
  const { engine } = await engineFor({ phases: PHASES });
  engine.upsertTicket({ id: "0042", title: "cache" });
  const c = engine.claimNext({ agentId: "impl-9", capabilities: ["designer"] })!;
  const rec = (sha: string, parents: string[] | undefined, subject: string) =>
    engine.recordCommit({ agentId: "impl-9", phaseId: c.phase.id, token: c.token, sha, subject, parents });
  // A chain base ← a1 ← a2 ← a3, recorded a3, a1, a2 (each hook's recording ran late in its own way).
  const [base, a1, a2, a3] = ["b0", "a1", "a2", "a3"].map((x) => x.padEnd(40, x === "b0" ? "0" : x[1]));
  rec(a3, [a2], "third");
  rec(a1, [base], "first");
  rec(a2, [a1], "second");
  assert.deepEqual(engine.commits({ ticketId: "0042" }).map((x) => x.subject), ["first", "second", "third"]);
  // A merge: its first parent orders it; a commit recorded without a parent (an older hook) keeps its place.
  const m = "e".repeat(40);
  rec(m, [a3, "f".repeat(40)], "merge");
  rec("d".repeat(40), undefined, "no parent known");
  assert.deepEqual(engine.commits({ ticketId: "0042" }).map((x) => x.subject), [
    "first",
    "second",
    "third",
    "merge",
    "no parent known",
  ]);
  engine.close();
});
