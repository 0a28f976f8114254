/**
 * Property tests of placement (issue 25): over generated tickets (status
 * lists of every label class in any order, random boxes checked, workflow
 * logs with `Completed` dates and review statuses, `Current Phase` lines,
 * one to three languages) on the progressrepo workflow:
 * - import never offers a phase the ticket's own file records as done (nor
 *   anything before it);
 * - import, sync, import places every ticket identically, and a second sync
 *   writes nothing;
 * - checking one more box never moves a ticket back, in the reading of the
 *   file and in the database after a re-import.
 */
import assert from "node:assert/strict";
import { type Engine, importTickets, openEngine, syncAll } from "../../mod.ts";
import { parseTicket } from "../../src/markdown/read_ticket.ts";
import { parseOptions } from "../../src/sync/files.ts";
import { recordedDone } from "../../src/sync/import.ts";
import { fixtureRepo } from "../helpers/realrepo.ts";
import { mulberry32 } from "../helpers/prng.ts";

const rng = mulberry32;

const PHASES = [
  "Design",
  "Design Review",
  "Math Review",
  "Integration Review",
  "Python Design",
  "Python Design Review",
  "Frontend Design",
  "Frontend Design Review",
  "Test Writing",
  "C++ Test Writing",
  "Python Test Writing",
  "Implementation",
  "C++ Implementation",
  "Python Implementation",
  "Frontend Implementation",
  "Quality Gate",
  "Implementation Review",
  "Documentation",
];

interface Gen {
  labels: string[];
  checked: boolean[];
  text: (checked: boolean[]) => string;
}

function genTicket(r: () => number, id: string): Gen {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const labelOf = (): string => {
    const x = pick(PHASES);
    return pick([
      `${x} Complete`,
      `Ready for ${x}`,
      `${x} Approved`,
      `${x} Complete — Awaiting Review`,
      "Draft",
      "Approved — Ready to Merge",
      "Awaiting Merge",
      "Tests Written",
      "QA Signed Off",
      `${x} Passed`,
    ]);
  };
  const labels = [...new Set(Array.from({ length: 3 + Math.floor(r() * 8) }, labelOf))];
  if (r() < 0.7) labels.push("Merged / Complete");
  const checked = labels.map(() => r() < 0.4);
  const langs = ["C++", "Python", "Frontend"].filter(() => r() < 0.5);
  const math = r() < 0.3 ? "Yes" : "No";
  const current = r() < 0.3 ? `\n- **Current Phase**: ${pick(PHASES)}` : "";
  const log = PHASES.filter(() => r() < 0.25).map((p) =>
    `### ${p} Phase\n- **Started**: 2026-01-0${1 + Math.floor(r() * 9)}\n- **Completed**: ${
      r() < 0.6 ? "2026-02-1" + Math.floor(r() * 9) : ""
    }\n- **Status**: ${pick(["", "Approved", "Changes Requested", "Passed"])}\n- **Notes**:`
  ).join("\n\n");
  const text = (c: boolean[]) =>
    `# Ticket ${id}: Generated ${id}\n\n## Status\n${
      labels.map((l, i) => `- [${c[i] ? "x" : " "}] ${l}`).join("\n")
    }\n\n## Metadata\n- **Priority**: Medium\n- **Languages**: ${
      langs.join(", ")
    }\n- **Requires Math Design**: ${math}${current}\n\n` +
    `## Summary\nGenerated.\n\n## Workflow Log\n\n${log}\n\n## Human Feedback\n`;
  return { labels, checked, text };
}

/** Every phase's status, per ticket. */
function snapshot(engine: Engine): Record<string, Record<string, string>> {
  return Object.fromEntries(
    engine.listTickets({}).map((t) => [
      t.id,
      Object.fromEntries(engine.ticket(t.id).phases.map((p) => [p.name, p.status])),
    ]),
  );
}

/** What the file says is done, and everything before it. */
function recorded(engine: Engine, path: string, text: string): Set<string> {
  return engine.graph.doneThrough(recordedDone(engine, parseTicket(text, parseOptions(engine, path))));
}

async function generatedRepo(seed: number, n: number): Promise<{ repo: string; gens: Map<string, Gen> }> {
  const r = rng(seed);
  const gens = new Map<string, Gen>();
  const repo = await fixtureRepo("progressrepo", async (dir) => {
    for (const e of Deno.readDirSync(`${dir}/tickets`)) await Deno.remove(`${dir}/tickets/${e.name}`);
    for (let i = 0; i < n; i++) {
      const id = String(2000 + i);
      const g = genTicket(r, id);
      gens.set(id, g);
      await Deno.writeTextFile(`${dir}/tickets/${id}_gen.md`, g.text(g.checked));
    }
  });
  return { repo, gens };
}

for (const seed of [1, 2, 3]) {
  Deno.test(`placement property (seed ${seed}): never offers recorded work; import-sync-import is stable`, async () => {
    const { repo, gens } = await generatedRepo(seed, 40);
    const engine = await openEngine(repo);
    const r = importTickets(engine);
    assert.deepEqual(r.errors, []);
    assert.equal(r.imported.length, 40);
    const offeredStatuses = ["available", "awaiting_review", "blocked", "pending"];
    for (const [id, g] of gens) {
      const path = `tickets/${id}_gen.md`;
      const done = recorded(engine, path, g.text(g.checked));
      const t = engine.ticket(id);
      for (const p of t.phases) {
        assert.ok(
          !(done.has(p.name) && offeredStatuses.includes(p.status)),
          `${id}: ${p.name} is ${p.status} although the file records it done\n${g.text(g.checked)}`,
        );
      }
      for (const type of new Set(t.phases.map((p) => p.agentType).filter((x): x is string => x !== null))) {
        for (const q of engine.queue(type).filter((q) => q.ticketId === id)) {
          assert.ok(!done.has(q.name), `${id}: ${q.name} offered to ${type}`);
        }
      }
    }
    const first = snapshot(engine);
    syncAll(engine);
    importTickets(engine);
    assert.deepEqual(snapshot(engine), first, "import, sync, import places identically");
    const second = syncAll(engine);
    assert.deepEqual(second.written, [], "the second sync writes nothing");
    engine.close();
  });
}

Deno.test("placement property: checking one more box never moves a ticket back (reading and re-import)", async () => {
  const { repo, gens } = await generatedRepo(7, 40);
  const engine = await openEngine(repo);
  importTickets(engine);
  const before = snapshot(engine);
  const r = rng(99);
  for (const [id, g] of gens) {
    const path = `tickets/${id}_gen.md`;
    // In the reading: each additional box, one at a time, from the file's state.
    let c = [...g.checked];
    let prev = recorded(engine, path, g.text(c));
    for (let k = 0; k < 4; k++) {
      const unchecked = c.map((x, i) => (x ? -1 : i)).filter((i) => i >= 0);
      if (!unchecked.length) break;
      c = [...c];
      c[unchecked[Math.floor(r() * unchecked.length)]] = true;
      const next = recorded(engine, path, g.text(c));
      for (const p of prev) assert.ok(next.has(p), `${id}: checking a box undid ${p}\n${g.text(c)}`);
      prev = next;
    }
    await Deno.writeTextFile(`${repo}/${path}`, g.text(c));
  }
  importTickets(engine);
  const after = snapshot(engine);
  for (const [id, phases] of Object.entries(before)) {
    for (const [name, s] of Object.entries(phases)) {
      if (s === "completed") assert.equal(after[id][name], "completed", `${id}/${name} went back`);
    }
  }
  engine.close();
});
