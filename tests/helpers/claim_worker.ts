/**
 * An agent process for the multi-process claim tests: claims and completes
 * phases until nothing is left, printing one line per completed claim.
 * Usage: claim_worker.ts REPO AGENT_ID CAPABILITY[,CAPABILITY...]
 */
import { openEngine } from "../../src/engine.ts";

const [repo, agentId, caps] = Deno.args;
const engine = await openEngine(repo);
const out: string[] = [];
for (;;) {
  const c = engine.claimNext({ agentId, capabilities: caps.split(",") });
  if (!c) break;
  engine.complete(c.phase.id, { agentId, token: c.token, summary: `by ${agentId}` });
  out.push(String(c.phase.id));
}
engine.close();
console.log(out.join("\n"));
