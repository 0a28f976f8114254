/**
 * `baton demo`: Baton's main job on an embedded default, in a temporary git
 * repository made from `.workflow.example/`: eight tickets (two run a
 * parallel group, one waits for another), `baton run` starting scripted
 * agents several at once, each in its own worktree, and a scripted human who
 * approves the gates and rejects one design once with notes, so that the
 * rework loop shows. Finished tickets land on `main` through the merge
 * queue, which runs the project's check (`check.sh` in the demo repository);
 * one ticket's implementation breaks it once, so that the bisect-and-rework
 * path shows. It checks its own end state: every ticket landed on main, the
 * check green there, the rejected gate and the culprit reworked once, no
 * phase ever held by two agents.
 *
 * @module
 */
import { openEngine } from "../open/library.ts";
import { readShippedExample } from "../config/example.ts";
import type { Engine } from "../engine/mod.ts";
import { importTickets, syncAll } from "../sync/mod.ts";
import { git } from "../repo/git.ts";
import { Supervisor } from "../run/supervisor.ts";
import { type MergeSummary, MergeWorker } from "../merge/worker.ts";

const example = readShippedExample;
const AGENT_TYPES = ["designer", "implementer", "test-writer", "security-reviewer", "docs-writer"];

/** The tickets of the demo: title, whether it needs docs, whether it is security sensitive (a parallel group). */
const TICKETS: [string, string, boolean, boolean][] = [
  ["0001", "Result cache for the query planner", true, false],
  ["0002", "Login rate limiting", false, true],
  ["0003", "Export to CSV", true, false],
  ["0004", "Dark mode for the settings page", false, false],
  ["0005", "Audit log retention", true, true],
  ["0006", "Faster test fixtures", false, false],
  ["0007", "Pagination of the ticket list (its first implementation breaks the check)", false, false],
  ["0008", "Cache warm-up on deploy (needs 0001)", true, false],
];

/** The ticket whose first implementation breaks the project's check: the merge queue sends it back. */
const CULPRIT = "0007";

/** The demo project's tests: red while a module note reports a bug. */
const CHECK_SH = `#!/bin/sh
# The project's tests, run by the merge queue on every candidate before main moves.
if grep -H '^BUG:' ./*.md 2>/dev/null; then
  echo "FAIL: a module has a known bug (above)" >&2
  exit 1
fi
echo "all $(ls ./*.md 2>/dev/null | wc -l) modules pass"
`;

function ticketText(id: string, title: string, docs: boolean, security: boolean): string {
  return `# Ticket ${id}: ${title}

## Status

- [ ] Draft
- [ ] Design Complete — Awaiting Review
- [ ] Design Approved
- [ ] Implementation Complete
- [ ] Tests Complete
- [ ] Code Review Approved
- [ ] Merged / Complete

## Metadata

- **Priority**: ${["High", "Medium", "Low"][Number(id) % 3]}
- **Needs Docs**: ${docs ? "Yes" : "No"}
- **Security Sensitive**: ${security ? "Yes" : "No"}
${id === "0008" ? "- **Depends On**: 0001\n" : ""}${
    id === CULPRIT ? "- **Scripted**: breaks-check-once@Implementation\n" : ""
  }
---

## Summary

${title}.

## Workflow Log

---

## Human Feedback
`;
}

/** What the demo did, for the caller to show. */
export interface DemoResult {
  /** The repository (removed afterwards unless kept). */
  repo: string;
  /** The open engine on it (the caller closes it). */
  engine: Engine;
  /** Seconds from the first spawn to the last exit. */
  seconds: number;
  /** Agents started. */
  spawned: number;
  /** Problems with the end state (empty: all good). */
  problems: string[];
  /** The ticket whose design was rejected once. */
  reworkedTicket: string;
  /** The ticket the merge queue sent back once for breaking the check. */
  culprit: string;
  /** What the merge queue did. */
  merged: MergeSummary;
  /** Deletes the demo's temporary repository. */
  remove(): Promise<void>;
}

/**
 * Runs the demo.
 * @param opts how the scripted agent is started (`command` and `args` before `--mcp-config`), and where
 *   progress lines go
 * @returns what happened; `problems` lists what is wrong with the end state
 */
export async function runMainDemo(
  opts: {
    agent: { command: string; args: string[] };
    print: (line: string) => void;
    /** Called once the repository is ready, before any agent starts (e.g. to serve the dashboard on it). */
    onReady?: (engine: Engine, repo: string) => void | Promise<void>;
  },
): Promise<DemoResult> {
  const repo = await Deno.makeTempDir({ prefix: "baton-demo-" });
  git(repo, "init", "-q", "-b", "main");
  await Deno.mkdir(`${repo}/.workflow/templates`, { recursive: true });
  // The example's workflow, and one more field: how the scripted agent misbehaves on a ticket.
  const phases = (await example("phases.yaml")).trimEnd() +
    "\n  - { field: scripted, type: string, markdown_key: Scripted }\n";
  if (!/ticket_metadata:(?:\n {2}- \{[^\n]*)+\n {2}- \{ field: scripted[^\n]*\n$/.test(phases)) {
    throw new Error("the example's phases.yaml no longer ends with its ticket_metadata list");
  }
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, phases);
  await Deno.writeTextFile(`${repo}/.workflow/templates/ticket.md`, await example("templates/ticket.md"));
  const entry = (max: number) =>
    `{ command: ${JSON.stringify(opts.agent.command)}, args: ${
      JSON.stringify([...opts.agent.args, "--mcp-config", "{mcp_config}"])
    }, max_concurrent: ${max} }`;
  await Deno.writeTextFile(
    `${repo}/.workflow/config.yaml`,
    `# The demo's workflow: the example's phases, every agent type run by the scripted agent.
agents:
  registry:
${AGENT_TYPES.map((t) => `    ${t}: ${entry(t === "implementer" ? 3 : 2)}`).join("\n")}
retry:
  backoff_seconds: 0
# Finished tickets land on main through the merge queue, tested by check.sh.
merge:
  target: main
  check: sh check.sh
  batch_size: 4
  batch_wait_seconds: 1
  rework_phase: Implementation
`,
  );
  await Deno.writeTextFile(`${repo}/check.sh`, CHECK_SH);
  await Deno.writeTextFile(`${repo}/.gitignore`, ".workflow/baton.db*\n.workflow/logs/\n");
  await Deno.mkdir(`${repo}/tickets`);
  for (const [id, title, docs, sec] of TICKETS) {
    const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");
    await Deno.writeTextFile(`${repo}/tickets/${id}_${slug}.md`, ticketText(id, title, docs, sec));
  }
  git(repo, "add", "-A");
  git(
    repo,
    "-c",
    "user.name=Demo",
    "-c",
    "user.email=demo@baton.invalid",
    "commit",
    "-q",
    "-m",
    "A project with a backlog",
  );

  const engine = await openEngine(repo);
  const imported = importTickets(engine);
  opts.print(`demo repository ${repo}: ${imported.imported.length} tickets imported from markdown`);
  await opts.onReady?.(engine, repo);

  const rejectOnce = "0003";
  let rejected = false;
  let running = true;
  const human = (async () => {
    const who = { kind: "human" as const, name: "demo-reviewer" };
    while (running) {
      for (const g of engine.gates()) {
        try {
          if (!rejected && g.ticketId === rejectOnce && g.phaseName === "Design Review") {
            engine.rejectGate(g.id, { actor: who, notes: "Say what happens to a file of 2 GB: stream it." });
            rejected = true;
            opts.print(`human: rejects the design of ${g.ticketId} with notes (the rework loop)`);
          } else {
            engine.approveGate(g.id, { actor: who, notes: "Looks right." });
            opts.print(`human: approves ${g.ticketId}/${g.phaseName}`);
          }
        } catch { /* decided meanwhile */ }
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  const t0 = performance.now();
  let agentsDone = false;
  const merger = new MergeWorker(engine, { idleWhen: () => agentsDone, log: (l) => opts.print(`baton run: ${l}`) });
  const sup = new Supervisor(engine, {
    untilIdle: true,
    log: (l) => opts.print(`baton run: ${l}`),
    busyElsewhere: () => merger.busy,
  });
  // A merge worker stopped by an error stops the agents' run too (they finish their phases), and the demo fails.
  let mergeError: unknown;
  const merging = merger.run().catch((e) => {
    mergeError = e;
    sup.stop();
    return null;
  });
  const summary = await sup.run().finally(() => agentsDone = true);
  const merged = await merging;
  running = false;
  await human;
  if (mergeError || !merged) throw mergeError;
  const seconds = (performance.now() - t0) / 1000;
  syncAll(engine);

  const problems: string[] = [];
  const notDone = engine.listTickets().filter((t) => t.status !== "completed").map((t) => t.id);
  if (notDone.length) problems.push(`not completed: ${notDone.join(", ")}`);
  const reworks = engine.audit({ ticketId: rejectOnce, action: "phase.rework" }).filter((a) => a.details?.gate);
  if (!rejected || !reworks.some((a) => a.details?.phase === "Design")) {
    problems.push(`the design of ${rejectOnce} was not reworked`);
  }
  // Landed: main has every ticket's work, its check is green there, and the culprit went back once.
  if (merged.culprits < 1) {
    problems.push(`the merge queue sent no culprit back (${CULPRIT} should break the check once)`);
  }
  const sentBack = engine.mergeStatus({ recent: 100 }).recent.flatMap((b) => b.items)
    .filter((i) => i.ticketId === CULPRIT && i.outcome === "culprit");
  if (!sentBack.some((i) => /BUG: the last page/.test(i.notes ?? ""))) {
    problems.push(`${CULPRIT} went back without the check's output in its notes`);
  }
  const onMain = git(repo, "ls-tree", "--name-only", "main").split("\n");
  const missing = TICKETS.map(([id]) => id).filter((id) => !onMain.some((f) => f.startsWith(`${id}-`)));
  if (missing.length) problems.push(`not on main: ${missing.join(", ")}`);
  const check = new Deno.Command("sh", { args: ["check.sh"], cwd: repo, stdout: "null", stderr: "null" }).outputSync();
  if (!check.success) problems.push("the check fails on main");
  // No phase ever held by two agents: claims and their ends alternate, phase by phase.
  const held = new Map<string, number>();
  for (const a of engine.audit({ limit: 1_000_000 })) {
    if (a.entityType !== "phase") continue;
    if (a.action === "phase.claim") {
      held.set(a.entityId, (held.get(a.entityId) ?? 0) + 1);
      if (held.get(a.entityId)! > 1) problems.push(`phase ${a.entityId} was claimed twice at once`);
    } else if (
      ["phase.complete", "phase.fail", "phase.release", "phase.stale", "phase.request_review"].includes(a.action)
    ) {
      held.set(a.entityId, Math.max(0, (held.get(a.entityId) ?? 0) - 1));
    }
  }
  return {
    repo,
    engine,
    seconds,
    spawned: summary.spawned,
    problems,
    reworkedTicket: rejectOnce,
    culprit: CULPRIT,
    merged,
    remove: () => Deno.remove(repo, { recursive: true }).catch(() => {}),
  };
}
