/**
 * An agent process for the multi-process claim tests: claims and completes
 * phases until nothing is left, printing one line per completed claim.
 * Usage: claim_worker.ts REPO AGENT_ID CAPABILITY[,CAPABILITY...] [GO_FILE [WARM_REPO]]
 * With GO_FILE it prints `ready` once its engine is open, then waits for
 * that file to exist before claiming. With WARM_REPO it first works that
 * repository's backlog to exhaustion (its own engine, closed after), so that
 * the claims counted run in a process whose code V8 has already optimised,
 * as in a long-lived `baton-mcp`. With BATON_WRITE_STATS=1 it ends with one
 * JSON line on stderr: its connection's write statistics since GO
 * (`Database.writeStats`) and `at`, when each claim was completed (ms since
 * the epoch), for the benchmarks.
 */
import { type Engine, openEngine } from "../../mod.ts";

const [repo, agentId, caps, goFile, warmRepo] = Deno.args;

/** Claims and completes until nothing is left; returns the phase ids (and, in `at`, when each was completed). */
function work(engine: Engine, at: number[] = []): string[] {
  const done: string[] = [];
  for (;;) {
    const c = engine.claimNext({ agentId, capabilities: caps.split(",") });
    if (!c) return done;
    engine.complete(c.phase.id, { agentId, token: c.token, summary: `by ${agentId}` });
    done.push(String(c.phase.id));
    at.push(performance.timeOrigin + performance.now());
  }
}

if (warmRepo) {
  const warm = await openEngine(warmRepo);
  work(warm);
  warm.close();
}
const engine = await openEngine(repo);
if (goFile) {
  // Benchmarks start every process at once, after start-up.
  console.log("ready");
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
const at: number[] = [];
const out = work(engine, at);
if (Deno.env.get("BATON_WRITE_STATS") === "1") {
  const w = engine.storageInfo().writes;
  const since = Object.fromEntries(
    Object.entries(w).map(([k, v]) => [k, v - statsAtGo[k as keyof typeof w]]),
  );
  console.error(JSON.stringify({ ...since, at }));
}
engine.close();
console.log(out.join("\n"));
