/**
 * Markdown import at scale: 1,000 generated tickets (bulleted metadata, a
 * status checklist, dependencies, a workflow log), imported into a fresh
 * repository, then re-imported unchanged, then written back.
 * Targets: import under 2 s, unchanged re-import under 0.5 s.
 * `deno task bench:import`
 */
import { openEngine } from "../mod.ts";
import { importTickets, syncAll } from "../mod.ts";
import { EXAMPLE_PHASES, tempRepo } from "../tests/helpers/repo.ts";

const N = Number(Deno.args[0] ?? 1000);
const repo = await tempRepo({ phases: EXAMPLE_PHASES });
await Deno.mkdir(`${repo}/tickets`);
const seed = Deno.readTextFileSync(
  new URL("../tests/fixtures/tickets/0083_database_agent_orchestration.md", import.meta.url),
);
for (let i = 0; i < N; i++) {
  const id = String(i + 1).padStart(4, "0");
  const deps = i > 10 && i % 7 === 0 ? `\n- **Depends On**: [${String(i - 5).padStart(4, "0")}](x.md)` : "";
  const text = seed
    .replace("# Feature Ticket: Database-Backed Multi-Agent Orchestration", `# Ticket ${id}: Generated ticket ${i + 1}`)
    .replace("- **Priority**: High", `- **Priority**: ${["Critical", "High", "Medium", "Low"][i % 4]}${deps}`);
  Deno.writeTextFileSync(`${repo}/tickets/${id}_generated_${i + 1}.md`, text);
}
const engine = await openEngine(repo);
let t = performance.now();
const first = importTickets(engine);
const importMs = performance.now() - t;
t = performance.now();
const again = importTickets(engine);
const reimportMs = performance.now() - t;
// Work a tenth of them one phase, then write everything back.
for (let i = 0; i < N / 10; i++) {
  const c = engine.claimNext({ agentId: "bench", capabilities: ["designer"] });
  if (!c) break;
  engine.complete(c.phase.id, { agentId: "bench", token: c.token, summary: "designed" });
}
t = performance.now();
const sync = syncAll(engine);
const syncMs = performance.now() - t;
engine.close();
console.log(
  `import ${N} tickets: ${
    (importMs / 1000).toFixed(2)
  } s (target < 2 s; ${first.imported.length} imported, ${first.errors.length} errors)`,
);
console.log(
  `re-import unchanged: ${(reimportMs / 1000).toFixed(2)} s (target < 0.5 s; ${again.unchanged.length} unchanged)`,
);
console.log(
  `write-back of all: ${
    (syncMs / 1000).toFixed(2)
  } s (${sync.written.length} written, ${sync.unchanged.length} unchanged)`,
);

// Parse cost by shape (issue 14): ms per 100 KB, median of 5, against the realistic seed ticket in the same run.
const { parseTicket } = await import("../mod.ts");
const shapes: Record<string, string> = {
  "seed ticket (baseline)": seed.repeat(Math.ceil(100_000 / seed.length)),
  "prose": Array.from({ length: 1500 }, (_, i) => `Line ${i} of prose, *emphasis*, a [link](x.md), \`code\`.`).join(
    "\n",
  ),
  "blockquotes, 8 deep (at the cap)": Array.from({ length: 249 }, () => "> ".repeat(8) + "x").join("\n"),
  "100,000 nested `>` (refused)": ">".repeat(100_000) + " x",
  "10,000 `- ` on one line (refused)": "- ".repeat(10_000) + "x",
  "1,999 list items (at the cap)": Array.from({ length: 1999 }, (_, i) => `- item ${i} with some words`).join("\n"),
};
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let baseline = 0;
for (const [name, body] of Object.entries(shapes)) {
  const text = `# Ticket 0001: Shapes\n\n## Metadata\n${body}\n- **Priority**: High\n`;
  const runs: number[] = [];
  let outcome = "parsed";
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    try {
      parseTicket(text, { path: "0001_shapes.md", fields: [] });
    } catch (e) {
      outcome = `refused (${(e as { code?: string }).code})`;
    }
    runs.push(performance.now() - t0);
  }
  const per100k = median(runs) * 100_000 / text.length;
  baseline ||= per100k;
  console.log(
    `parse ${name}: ${(text.length / 1000).toFixed(0)} KB, ${per100k.toFixed(1)} ms per 100 KB (${
      (per100k / baseline).toFixed(2)
    }× baseline), ${outcome}`,
  );
}
