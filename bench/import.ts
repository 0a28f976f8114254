/**
 * Markdown import at scale: 1,000 generated tickets (bulleted metadata, a
 * status checklist, dependencies, a workflow log), imported into a fresh
 * repository, then re-imported unchanged, then written back.
 * Targets: import under 2 s, unchanged re-import under 0.5 s.
 * `deno task bench:import`
 */
import { openEngine } from "../mod.ts";
import { importTickets, syncAll } from "../mod.ts";
import { EXAMPLE_PHASES, makeRepo } from "../tests/helpers/repo.ts";

const N = Number(Deno.args[0] ?? 1000);
const repo = await makeRepo({ phases: EXAMPLE_PHASES });
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
