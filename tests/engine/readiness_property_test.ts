/**
 * Property (issue 13, part 3): on randomly generated workflows (flat lists
 * with conditions and gates, parallel groups after phases of other groups,
 * `before`, overrides, language pipelines) and tickets with random metadata,
 * no phase is ever open (available, claimed, awaiting review) while a phase
 * it transitively follows is neither completed nor skipped, from import to
 * the end of the work, rejections included. A skipped phase is transparent.
 */
import assert from "node:assert/strict";
import { type Engine, openEngine, parsePhases, type PhaseDef } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { skipHeavy as FAST } from "../helpers/heavy.ts";
import { mulberry32 } from "../helpers/prng.ts";

const rng = mulberry32;

const TYPES = ["designer", "writer", "builder"];
const LANGS = ["C++", "Python", "Rust"];
const METADATA = `ticket_metadata:
  - {field: math, type: boolean, default: false}
  - {field: docs, type: boolean, default: true}
  - {field: languages, type: list}
`;

function condition(r: () => number): string {
  const x = r();
  if (x < 0.55) return "";
  if (x < 0.7) return ", condition: {field: math, value: true}";
  if (x < 0.8) return ", condition: {field: docs, value: true}";
  return `, condition: {field: languages, contains: ${JSON.stringify(LANGS[Math.floor(r() * 3)])}}`;
}

function phase(r: () => number, name: string): string {
  const gate = r() < 0.3;
  const type = gate ? "null" : TYPES[Math.floor(r() * TYPES.length)];
  return `{name: ${JSON.stringify(name)}, agent_type: ${type}${condition(r)}}`;
}

/** A random `phases.yaml`: mostly flat layouts with groups, sometimes the pipeline layout. */
function workflow(r: () => number): string {
  if (r() < 0.15) {
    return `preamble:\n  - ${phase(r, "Draft")}\nlanguage_pipelines:\n  condition_field: languages\n  steps:\n` +
      `    - {step: Design, role: designer}\n    - {step: Review, role: null}\n    - {step: Build, role: builder}\n` +
      `  languages:\n    - {name: C++, slug: cpp}\n    - {name: Python, slug: py}\n` +
      `integration:\n  - ${phase(r, "Integrate")}\npostamble:\n  - ${phase(r, "Merge")}\n${METADATA}`;
  }
  const n = 2 + Math.floor(r() * 6);
  const flat = Array.from({ length: n }, (_, i) => `P${i}`);
  let y = `phases:\n${flat.map((p) => `  - ${phase(r, p)}`).join("\n")}\n`;
  const groups = Math.floor(r() * 3);
  if (groups) y += "parallel_groups:\n";
  const members: string[] = [];
  for (let g = 0; g < groups; g++) {
    // After a flat phase, or (sometimes) a member of an earlier group.
    const after = members.length && r() < 0.4
      ? members[Math.floor(r() * members.length)]
      : flat[Math.floor(r() * (n - 1))];
    const anchor = flat.indexOf(after);
    const beforeIdx = anchor >= 0 && r() < 0.5 ? anchor + 1 + Math.floor(r() * (n - anchor - 1)) : -1;
    const size = 1 + Math.floor(r() * 3);
    const own = Array.from({ length: size }, (_, i) => `G${g}M${i}`);
    members.push(...own);
    y += `  g${g}:\n    after: ${JSON.stringify(after)}\n`;
    if (beforeIdx > anchor && beforeIdx < n) y += `    before: ${flat[beforeIdx]}\n`;
    y += `    phases:\n${own.map((m) => `      - ${phase(r, m)}`).join("\n")}\n`;
  }
  return y + METADATA;
}

function metadata(r: () => number): Record<string, unknown> {
  return {
    math: r() < 0.5,
    docs: r() < 0.5,
    languages: LANGS.filter(() => r() < 0.5),
  };
}

/** Every phase a phase transitively follows. */
function ancestors(defs: PhaseDef[]): Map<string, Set<string>> {
  const by = new Map(defs.map((d) => [d.name, d]));
  const out = new Map<string, Set<string>>();
  const up = (name: string): Set<string> => {
    const have = out.get(name);
    if (have) return have;
    const s = new Set<string>();
    out.set(name, s);
    for (const a of by.get(name)!.after) {
      s.add(a);
      for (const x of up(a)) s.add(x);
    }
    return s;
  };
  for (const d of defs) up(d.name);
  return out;
}

const OPEN = new Set(["available", "claimed", "in_progress", "awaiting_review"]);

function checkInvariant(engine: Engine, above: Map<string, Set<string>>, context: string): void {
  for (const t of engine.listTickets()) {
    const d = engine.ticket(t.id);
    const status = new Map(d.phases.map((p) => [p.name, p.status]));
    for (const p of d.phases) {
      if (!OPEN.has(p.status)) continue;
      for (const a of above.get(p.name) ?? []) {
        const s = status.get(a);
        assert.ok(
          s === "completed" || s === "skipped",
          `${context}: ticket ${t.id}: ${p.name} is ${p.status} but ${a} is ${s}`,
        );
      }
    }
  }
}

Deno.test("property: a phase never opens before everything it follows is completed or skipped", async () => {
  const cases = FAST ? 40 : 120;
  const base = 0x5eed;
  let valid = 0;
  let steps = 0;
  for (let c = 0; c < cases; c++) {
    const seed = base + c;
    const r = rng(seed);
    const yaml = workflow(r);
    let defs: PhaseDef[];
    try {
      defs = parsePhases(yaml, "phases.yaml").phases;
    } catch {
      continue; // a generated layout the validator refuses (e.g. `before` inside another group's span)
    }
    valid++;
    const above = ancestors(defs);
    const repo = await tempRepo({ phases: yaml });
    const engine = await openEngine(repo);
    const ctx = `seed ${seed}\n${yaml}`;
    for (let i = 1; i <= 3; i++) {
      const known = defs.filter(() => r() < 0.3).map((d) => d.name);
      engine.upsertTicket({
        id: String(i).padStart(4, "0"),
        title: `T${i}`,
        metadata: metadata(r),
        completedPhases: known.length ? [known[0]] : undefined,
      });
    }
    checkInvariant(engine, above, `${ctx}after import`);
    for (let step = 0; step < 80; step++) {
      const open = engine.listTickets({ status: "active" }).flatMap((t) => engine.ticket(t.id).phases)
        .filter((p) => p.status === "available" || p.status === "awaiting_review");
      if (!open.length) break;
      const p = open[Math.floor(r() * open.length)];
      if (p.agentType && p.status === "available") {
        const claim = engine.claim(p.id, { agentId: "agent", capabilities: [p.agentType] });
        checkInvariant(engine, above, `${ctx}after claim of ${p.ticketId}/${p.name}`);
        engine.complete(claim.phase.id, { agentId: "agent", token: claim.token });
      } else {
        const g = engine.gates({ ticketId: p.ticketId }).find((x) => x.phaseId === p.id);
        if (!g) continue;
        if (r() < 0.2 && g.revision < 2) {
          engine.rejectGate(g.id, { actor: { kind: "human", name: "h" }, notes: "again" });
        } else engine.approveGate(g.id, { actor: { kind: "human", name: "h" } });
      }
      steps++;
      checkInvariant(engine, above, `${ctx}after ${p.ticketId}/${p.name}`);
    }
    engine.close();
  }
  assert.ok(valid >= cases * 0.6, `${valid} of ${cases} generated workflows were valid`);
  assert.ok(steps > valid * 5, `${steps} steps`);
});
