import assert from "node:assert/strict";
import { findRepoRoot, loadWorkflowConfig, parseConfig, parsePhases } from "./mod.ts";

Deno.test("config: empty file means every default", () => {
  const c = parseConfig("", "config.yaml");
  assert.equal(c.database.path, ".workflow/baton.db");
  assert.equal(c.database.journal_mode, "wal");
  assert.equal(c.agents.stale_timeout_minutes, 10);
  assert.equal(c.agents.heartbeat_implicit, true);
  assert.equal(c.file_conflicts.mode, "advisory");
  assert.deepEqual(c.priority_order, ["Critical", "High", "Medium", "Low"]);
  assert.equal(c.gates.max_revisions, 2);
  assert.equal(c.gates.allow_agents, false);
});

Deno.test("config: errors name the file, line and field", () => {
  const cases: [string, RegExp, number, string][] = [
    ["agents:\n  stale_timeout_minutes: -1\n", /Expected >=0.05/, 2, "agents.stale_timeout_minutes"],
    ["database:\n  journal_mode: memory\n", /Expected \("wal" \| "truncate" \| "delete"\)/, 2, "database.journal_mode"],
    ["file_conflicts:\n  mode: strict\n", /advisory/, 2, "file_conflicts.mode"],
    ["agents:\n  stale_timeout: 5\n", /unknown key "stale_timeout"/, 2, "agents.stale_timeout"],
    ["tickets:\n  id_regex: '(['\n", /not a valid regular expression/, 2, "tickets.id_regex"],
    // Numbers a minimum lets through that break every time computed from them.
    ["agents:\n  stale_timeout_minutes: .inf\n", /must be a finite number/, 2, "agents.stale_timeout_minutes"],
    ["agents:\n  stale_timeout_minutes: 1e309\n", /must be a finite number/, 2, "agents.stale_timeout_minutes"],
    ["retry:\n  backoff_multiplier: .nan\n", /./, 2, "retry.backoff_multiplier"],
    ["run:\n  grace_seconds: 1e20\n", /must be at most 1000000000/, 2, "run.grace_seconds"],
    // A limit a timer waits for: past ~24.8 days JavaScript's timers fire at once (a 1 s check ended "over its limit").
    [
      'merge:\n  check: "true"\n  max_runtime_minutes: 40000\n',
      /at most 35000 minutes/,
      3,
      "merge.max_runtime_minutes",
    ],
    ["run:\n  grace_seconds: 3000000\n", /at most 2100000 seconds/, 2, "run.grace_seconds"],
  ];
  for (const [text, message, line, field] of cases) {
    assert.throws(() => parseConfig(text, ".workflow/config.yaml"), (e: unknown) => {
      const err = e as { code: string; message: string; location: { file: string; line: number; field: string } };
      assert.equal(err.code, "config_invalid", text);
      assert.match(err.message, message, text);
      assert.equal(err.location.file, ".workflow/config.yaml");
      assert.equal(err.location.line, line, `${text} -> ${err.message}`);
      assert.equal(err.location.field, field);
      return true;
    });
  }
});

Deno.test("config: broken YAML is reported with its line", () => {
  assert.throws(() => parseConfig("database:\n  path: [unclosed\n", "c.yaml"), (e: unknown) => {
    const err = e as { code: string; location: { line: number } };
    assert.equal(err.code, "config_invalid");
    assert.ok(err.location.line >= 2);
    return true;
  });
  assert.throws(() => parseConfig("- just\n- a list\n", "c.yaml"), { code: "config_invalid" });
});

Deno.test("phases: flat layout with a parallel group yields each phase once, in order", () => {
  const wf = parsePhases(Deno.readTextFileSync(new URL("../../.workflow.example/phases.yaml", import.meta.url)), "p");
  assert.deepEqual(wf.phases.map((p) => p.name), [
    "Design",
    "Design Review",
    "Implementation",
    "Tests",
    "Security Review",
    "Code Review",
    "Documentation",
  ]);
  const by = Object.fromEntries(wf.phases.map((p) => [p.name, p]));
  assert.deepEqual(by["Tests"].after, ["Implementation"]);
  assert.deepEqual(by["Security Review"].after, ["Implementation"]);
  // Implementation is implied (Security Review follows it), so it is not listed again.
  assert.deepEqual(by["Code Review"].after.sort(), ["Security Review", "Tests"]);
  assert.equal(by["Tests"].group, "verification");
  assert.equal(by["Design Review"].agentType, null);
  assert.deepEqual(by["Design Review"].reviews, ["Design"]);
  assert.deepEqual(by["Code Review"].reviews, ["Implementation", "Tests"]);
  assert.deepEqual(wf.phases.map((p) => p.order), [0, 1, 2, 3, 4, 5, 6]);
});

Deno.test("phases: a group must not misplace or duplicate phases", () => {
  const base = "phases:\n  - {name: A, agent_type: a}\n  - {name: B, agent_type: b}\n  - {name: C, agent_type: c}\n";
  assert.throws(
    () =>
      parsePhases(base + "parallel_groups:\n  g:\n    after: Z\n    phases: [{name: X, agent_type: x}]\n", "p.yaml"),
    { code: "config_invalid", message: /unknown phase "Z"/ },
  );
  assert.throws(
    () =>
      parsePhases(
        base + "parallel_groups:\n  g:\n    after: B\n    before: C\n    phases: [{name: A, agent_type: a}]\n",
        "p.yaml",
      ),
    { code: "config_invalid", message: /listed outside its group's place/ },
  );
  assert.throws(
    () =>
      parsePhases(
        base +
          "parallel_groups:\n  g:\n    after: A\n    phases: [{name: X, agent_type: x}]\n  h:\n    after: A\n    phases: [{name: X, agent_type: x}]\n",
        "p.yaml",
      ),
    { code: "config_invalid", message: /in two parallel groups/ },
  );
  assert.throws(() => parsePhases(base + "  - {name: A, agent_type: a}\n", "p.yaml"), {
    code: "config_invalid",
    message: /defined twice/,
  });
  assert.throws(
    () => parsePhases("phases:\n  - {name: A, agent_type: a, condition: {field: x, bogus: 1}}\n", "p.yaml"),
    (e: unknown) => (e as { location: { line: number } }).location.line === 2,
  );
});

Deno.test("phases: language pipelines expand per language, in parallel, conditioned on the language", () => {
  const wf = parsePhases(
    `preamble:
  - {name: Draft, agent_type: planner}
language_pipelines:
  condition_field: languages
  steps:
    - {step: Design, role: designer}
    - {step: Design Review, role: null}
    - {step: Implementation, role: implementer}
  languages:
    - {name: Python, slug: py}
    - {name: Frontend, slug: fe}
integration:
  - {name: Integration, agent_type: integrator}
postamble:
  - {name: Merge, agent_type: null}
`,
    "phases.yaml",
  );
  const by = Object.fromEntries(wf.phases.map((p) => [p.name, p]));
  assert.equal(by["Python Design"].agentType, "py-designer");
  assert.equal(by["Frontend Implementation"].agentType, "fe-implementer");
  assert.equal(by["Python Design Review"].agentType, null);
  assert.deepEqual(by["Python Design Review"].reviews, ["Python Design"]);
  assert.deepEqual(by["Python Design"].condition, { field: "languages", contains: "Python" });
  assert.deepEqual(by["Python Design"].after, ["Draft"]);
  assert.deepEqual(by["Frontend Design"].after, ["Draft"]);
  assert.deepEqual(by["Integration"].after, ["Python Implementation", "Frontend Implementation"]);
  assert.deepEqual(by["Merge"].after, ["Integration"]);
  assert.equal(wf.phases.length, 1 + 6 + 2);
});

Deno.test("loadWorkflowConfig: the shipped example loads, from a subdirectory too", async () => {
  const repo = await Deno.makeTempDir();
  await Deno.mkdir(`${repo}/.workflow`);
  for (const f of ["config.yaml", "phases.yaml"]) {
    await Deno.copyFile(new URL(`../../.workflow.example/${f}`, import.meta.url), `${repo}/.workflow/${f}`);
  }
  await Deno.mkdir(`${repo}/src/deep`, { recursive: true });
  const cfg = loadWorkflowConfig(`${repo}/src/deep`);
  assert.equal(cfg.repoRoot, await Deno.realPath(repo));
  assert.equal(cfg.config.agents.registry.implementer.max_concurrent, 3);
  assert.equal(cfg.workflow.phases.length, 7);
  assert.equal(findRepoRoot(repo), await Deno.realPath(repo));
  const elsewhere = await Deno.makeTempDir();
  assert.throws(() => findRepoRoot(elsewhere), { code: "config_not_found", message: /baton init/ });
  await Deno.remove(`${repo}/.workflow/phases.yaml`);
  assert.throws(() => loadWorkflowConfig(repo), { code: "config_invalid", message: /phases\.yaml/ });
});

Deno.test("config cache: unchanged files are served from the cache, changed ones are parsed again", async () => {
  const { loadWorkflowConfigCached } = await import("./load_cached.ts");
  const cacheHome = await Deno.makeTempDir();
  const before = Deno.env.get("XDG_CACHE_HOME");
  Deno.env.set("XDG_CACHE_HOME", cacheHome);
  try {
    const repo = await Deno.makeTempDir();
    await Deno.mkdir(`${repo}/.workflow`);
    await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, "phases:\n  - {name: A, agent_type: a}\n");
    const first = await loadWorkflowConfigCached(repo);
    assert.deepEqual(first.workflow.phases.map((p) => p.name), ["A"]);
    assert.equal([...Deno.readDirSync(`${cacheHome}/baton`)].length, 1, "the result was cached");
    const again = await loadWorkflowConfigCached(repo);
    assert.deepEqual(again, first);
    await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, "phases:\n  - {name: B, agent_type: b}\n");
    assert.deepEqual((await loadWorkflowConfigCached(repo)).workflow.phases.map((p) => p.name), ["B"]);
    await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "agents:\n  stale_timeout_minutes: nope\n");
    await assert.rejects(loadWorkflowConfigCached(repo), { code: "config_invalid" });
    await Deno.remove(`${repo}/.workflow/config.yaml`);
    assert.deepEqual((await loadWorkflowConfigCached(repo)).workflow.phases.map((p) => p.name), ["B"]);
  } finally {
    if (before === undefined) Deno.env.delete("XDG_CACHE_HOME");
    else Deno.env.set("XDG_CACHE_HOME", before);
  }
});
