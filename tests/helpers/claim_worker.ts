/**
 * An agent process for the multi-process claim tests: claims and completes
 * phases until nothing is left, printing one line per completed claim.
 * Usage: claim_worker.ts REPO AGENT_ID CAPABILITY[,CAPABILITY...] [GO_FILE]
 * With GO_FILE it waits for that file to exist before claiming.
 */
import { openEngine } from "../../mod.ts";

const [repo, agentId, caps, goFile] = Deno.args;
const engine = await openEngine(repo);
if (goFile) {
  // Benchmarks start every process at once, after start-up.
  for (;;) {
    try {
      Deno.statSync(goFile);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}
const out: string[] = [];
for (;;) {
  const c = engine.claimNext({ agentId, capabilities: caps.split(",") });
  if (!c) break;
  engine.complete(c.phase.id, { agentId, token: c.token, summary: `by ${agentId}` });
  out.push(String(c.phase.id));
}
engine.close();
console.log(out.join("\n"));
