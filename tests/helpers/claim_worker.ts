/**
 * An agent process for the multi-process claim tests: claims and completes
 * phases until nothing is left, printing one line per completed claim.
 * Usage: claim_worker.ts REPO AGENT_ID CAPABILITY[,CAPABILITY...] [GO_FILE]
 * With GO_FILE it waits for that file to exist before claiming. With
 * BATON_WRITE_STATS=1 it ends with one JSON line on stderr: its connection's
 * write statistics since GO (`Database.writeStats`), for the benchmarks.
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
const statsAtGo = engine.storageInfo().writes;
const out: string[] = [];
for (;;) {
  const c = engine.claimNext({ agentId, capabilities: caps.split(",") });
  if (!c) break;
  engine.complete(c.phase.id, { agentId, token: c.token, summary: `by ${agentId}` });
  out.push(String(c.phase.id));
}
if (Deno.env.get("BATON_WRITE_STATS") === "1") {
  const w = engine.storageInfo().writes;
  const since = Object.fromEntries(
    Object.entries(w).map(([k, v]) => [k, v - statsAtGo[k as keyof typeof w]]),
  );
  console.error(JSON.stringify(since));
}
engine.close();
console.log(out.join("\n"));
