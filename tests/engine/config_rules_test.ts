/**
 * `.workflow/` as real repositories write it (issue 13, parts 1–2): shared
 * with other tools, every problem reported in one run with a code and a
 * place, paths kept inside the repository, parallel groups that follow other
 * groups, and groups that override the sequential phases.
 */
import assert from "node:assert/strict";
import { BatonError, importTickets, loadWorkflowConfig, openEngine, parseConfig, parsePhases } from "../../mod.ts";
import { EXAMPLE_PHASES, tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";

function problems(f: () => unknown): { file: string; line?: number; field?: string; message: string }[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof BatonError, String(e));
    assert.equal(e.code, "config_invalid", e.message);
    return (e.details?.problems ?? []) as { file: string; line?: number; field?: string; message: string }[];
  }
  assert.fail("no error");
}

Deno.test("config: top-level sections that are not Baton's are ignored and listed; inside Baton's, unknown keys are errors", () => {
  const text = `github:
  repo: acme/widgets
traceability:
  roots: [src/]
markdown_sync:
tickets:
  directory: tickets
`;
  const cfg = parseConfig(text, "config.yaml");
  assert.equal(cfg.markdown_sync.mode, "batch", "an empty section means its defaults");
  assert.equal(cfg.tickets.directory, "tickets");
  const p = problems(() => parseConfig("tickets:\n  directroy: t\n", "config.yaml"));
  assert.equal(p.length, 1);
  assert.equal(p[0].line, 2);
  assert.equal(p[0].field, "tickets.directroy");
  assert.match(p[0].message, /unknown key "directroy" \(did you mean "directory"\?\)/);
});

Deno.test("config: the earlier engine's markdown_sync keys, each with its own timing", () => {
  const cfg = parseConfig("markdown_sync:\n  status_update: realtime\n  workflow_log_update: batch\n", "config.yaml");
  assert.deepEqual(cfg.markdown_sync, { mode: "batch", status_update: "realtime", workflow_log_update: "batch" });
  const p = problems(() => parseConfig("markdown_sync:\n  status_update: sometimes\n", "config.yaml"));
  assert.equal(p[0].line, 2);
  assert.equal(p[0].field, "markdown_sync.status_update");
});

Deno.test("config: every problem of both files in one run, each located once", async () => {
  const repo = await tempRepo({
    phases: `phases:
  - {name: Design, agent_type: designer}
  - {name: Design, agent_type: designer}
  - {name: Review, agent_type: null, reviews: [Desgin]}
  - {name: Self, agent_type: null, reviews: [Self]}
  - {name: Build, agent_type: builder, condition: {field: lang, contains: C++}}
ticket_metadata:
  - {field: priority, type: enum, values: [High, Low], default: Medium}
`,
    config: "tickets:\n  directroy: t\nagents:\n  stale_timeout_minutes: soon\ndatabase:\n  path: /etc/baton.db\n",
  });
  const p = problems(() => loadWorkflowConfig(repo));
  const got = p.map((x) => [x.file.replace(/^.*\.workflow\//, ""), x.line, x.field, x.message.replace(/ \(.*$/, "")]);
  assert.deepEqual(got, [
    ["config.yaml", 2, "tickets.directroy", 'unknown key "directroy"'],
    ["config.yaml", 4, "agents.stale_timeout_minutes", 'Invalid type: Expected number but received "soon"'],
    [
      "config.yaml",
      6,
      "database.path",
      '"/etc/baton.db" leaves the repository: paths here are relative to it and stay inside it',
    ],
    ["phases.yaml", 3, "phases[1].name", 'phase "Design" is defined twice'],
    ["phases.yaml", 4, "phases[2].reviews", 'phase "Review" reviews unknown phase "Desgin"'],
    ["phases.yaml", 5, "phases[3].reviews", 'gate "Self" reviews itself'],
    [
      "phases.yaml",
      6,
      "phases[4].condition",
      'phase "Build": its condition reads metadata field "lang", which ticket_metadata does not declare',
    ],
    ["phases.yaml", 8, "ticket_metadata[0].default", 'enum field "priority": default "Medium" is not one of High, Low'],
  ]);
  // The CLI prints them all, each place once.
  const out = await baton(["status"], { cwd: repo });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /^error: 8 problems in /);
  for (const x of p) {
    const where = `${x.line}`;
    assert.ok(out.stderr.includes(where));
  }
  assert.ok(!/\(\S*config\.yaml:\d+:\d+ \(/.test(out.stderr), "no location printed twice");
});

Deno.test("config: a YAML alias bomb is a located config_invalid", () => {
  const bomb = [
    "a: &a [x, x, x, x, x, x, x, x, x, x]",
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
    "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
  ].join("\n");
  const p = problems(() => parseConfig(bomb, "config.yaml"));
  assert.equal(p.length, 1);
  assert.equal(p[0].file, "config.yaml");
  assert.ok(p[0].line! >= 1);
  assert.match(p[0].message, /aliases expand too far/);
});

const ESCAPE = `/tmp/baton-escape-${crypto.randomUUID()}.db`;

Deno.test("config: every path a config names stays inside the repository; nothing is created outside", async () => {
  for (
    const [section, bad] of [
      [`database:\n  path: ${ESCAPE}\n`, "database.path"],
      ["database:\n  path: ../../outside.db\n", "database.path"],
      ["tickets:\n  directory: ../elsewhere\n", "tickets.directory"],
      ["context:\n  always_include: [docs/ok.md, /etc/passwd]\n", "context.always_include[1]"],
    ] as const
  ) {
    const repo = await tempRepo({ phases: EXAMPLE_PHASES, config: section });
    await assert.rejects(openEngine(repo), (e: BatonError) => {
      assert.equal(e.code, "config_invalid");
      const p = (e.details?.problems as { field: string; message: string }[])[0];
      assert.equal(p.field, bad);
      assert.match(p.message, /leaves the repository/);
      return true;
    });
  }
  await assert.rejects(Deno.stat(ESCAPE), Deno.errors.NotFound);
});

Deno.test("groups: `after` may name a phase of another group: the whole group must be done", () => {
  const wf = parsePhases(
    `phases:
  - {name: Skeleton, agent_type: architect}
  - {name: Quality Gate, agent_type: null}
parallel_groups:
  tests:
    after: Skeleton
    phases:
      - {name: C++ Tests, agent_type: test-writer, condition: {field: languages, contains: C++}}
      - {name: Python Tests, agent_type: test-writer, condition: {field: languages, contains: Python}}
  impl:
    # implementation starts after tests are written
    after: C++ Tests
    before: Quality Gate
    phases:
      - {name: C++ Impl, agent_type: implementer}
      - {name: Python Impl, agent_type: implementer}
`,
    "phases.yaml",
  );
  const by = Object.fromEntries(wf.phases.map((p) => [p.name, p]));
  assert.deepEqual(by["C++ Impl"].after.sort(), ["C++ Tests", "Python Tests"]);
  assert.deepEqual(by["Python Impl"].after.sort(), ["C++ Tests", "Python Tests"]);
  assert.deepEqual(by["Quality Gate"].after.sort(), ["C++ Impl", "Python Impl"]);
  assert.deepEqual(wf.phases.map((p) => p.name), [
    "Skeleton",
    "C++ Tests",
    "Python Tests",
    "C++ Impl",
    "Python Impl",
    "Quality Gate",
  ]);
});

Deno.test("groups: g2 after a phase of g1 with an agent phase as `before` imports (was NOT NULL phase_deps.after_id)", async () => {
  const repo = await tempRepo({
    phases: `phases:
  - {name: Design, agent_type: designer}
  - {name: Docs, agent_type: writer}
parallel_groups:
  g1:
    after: Design
    phases: [{name: Tests, agent_type: tester}, {name: Lint, agent_type: linter}]
  g2:
    after: Tests
    before: Docs
    phases: [{name: Build, agent_type: builder}]
`,
  });
  await Deno.mkdir(`${repo}/tickets`);
  await Deno.writeTextFile(`${repo}/tickets/0001_x.md`, "# Ticket 0001: X\n\n## Status\n- [ ] Draft\n- [ ] Done\n");
  const engine = await openEngine(repo);
  const r = importTickets(engine);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.imported, ["0001"]);
  const order = (name: string) => engine.ticket("0001").phases.find((p) => p.name === name)!.status;
  assert.equal(order("Design"), "available");
  assert.equal(order("Build"), "pending");
  engine.close();
});

Deno.test("groups override the sequential phases of their agent type between `after` and `before`", async () => {
  const repo = await tempRepo({
    phases: `phases:
  - {name: Design, agent_type: designer}
  - {name: Test Writing, agent_type: test-writer}
  - {name: Implementation, agent_type: implementer}
  - {name: Quality Gate, agent_type: null}
parallel_groups:
  # these override the sequential phases above
  tests:
    after: Design
    phases:
      - {name: C++ Test Writing, agent_type: test-writer, condition: {field: languages, contains: C++}}
  impl:
    after: C++ Test Writing
    before: Quality Gate
    phases:
      - {name: C++ Implementation, agent_type: implementer, condition: {field: languages, contains: C++}}
ticket_metadata:
  - {field: languages, type: list}
`,
  });
  const engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "C++", metadata: { languages: ["C++"] } });
  engine.upsertTicket({ id: "0002", title: "Docs only", metadata: { languages: [] } });
  const status = (id: string) => Object.fromEntries(engine.ticket(id).phases.map((p) => [p.name, p.status]));
  assert.deepEqual(status("0001"), {
    "Design": "available",
    "C++ Test Writing": "pending",
    "Test Writing": "skipped",
    "C++ Implementation": "pending",
    "Implementation": "skipped",
    "Quality Gate": "pending",
  });
  const reason = engine.audit({ ticketId: "0001" }).find((a) =>
    a.action === "phase.seeded" && a.details?.phase === "Implementation"
  )?.details?.reason;
  assert.equal(reason, "overridden by C++ Implementation");
  // Without C++ the sequential phases apply, in order.
  assert.equal(status("0002")["Test Writing"], "pending");
  assert.equal(status("0002")["C++ Test Writing"], "skipped");
  // Work 0001 through: no ticket does the same kind of work twice.
  const kinds: string[] = [];
  for (let c = engine.claimNext({ agentId: "a", capabilities: ["designer", "test-writer", "implementer"] }); c;) {
    if (c.ticket.id === "0001") kinds.push(c.phase.name);
    engine.complete(c.phase.id, { agentId: "a", token: c.token });
    c = engine.claimNext({ agentId: "a", capabilities: ["designer", "test-writer", "implementer"] });
  }
  assert.deepEqual(kinds, ["Design", "C++ Test Writing", "C++ Implementation"]);
  engine.close();
});

Deno.test("a skipped phase is transparent: Implementation waits for Design across a skipped Math Review", async () => {
  const repo = await tempRepo({
    phases: `phases:
  - {name: Design, agent_type: designer}
  - {name: Math Review, agent_type: null, condition: {field: math, value: true}}
  - {name: Implementation, agent_type: implementer}
ticket_metadata:
  - {field: math, type: boolean, default: false}
`,
  });
  const engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "No math" });
  const s = Object.fromEntries(engine.ticket("0001").phases.map((p) => [p.name, p.status]));
  assert.deepEqual(s, { Design: "available", "Math Review": "skipped", Implementation: "pending" });
  assert.equal(engine.claimNext({ agentId: "i", capabilities: ["implementer"] }), null);
  assert.deepEqual(engine.readyParallel(4).map((r) => r.name), ["Design"]);
  engine.close();
});
