/**
 * `baton run` at start: the agents a killed supervisor left behind. A phase
 * held by an agent whose process is gone comes back at once, instead of when
 * its lease ends; an agent still running whose supervisor is certainly gone
 * is ended first.
 *
 * @module
 */

import type { Engine } from "../engine/mod.ts";
import type { AgentProcessInfo } from "../engine/types.ts";
import { killProcessGroup, processGone, type ProcessInfo } from "../processes.ts";

/**
 * Ends the orphaned agents of this host and gives back the phases of every
 * agent whose process is gone.
 * @param engine the repository's engine
 * @param self the calling supervisor's own process (its agents are not orphans)
 * @param log where to say what was done
 * @param actor the audit trail's actor for the releases
 */
export function releaseDeadAgents(engine: Engine, self: ProcessInfo, log: (line: string) => void, actor: string): void {
  for (const a of engine.agents()) {
    if (a.status === "gone" || !a.process) continue;
    let reason: string;
    if (processGone(a.process)) reason = `its process (pid ${a.process.pid} on ${a.process.host}) is gone`;
    else if (orphaned(a.process, self)) {
      // Its supervisor was killed (kill -9, the OOM killer) and it went on alone, unwatched: nobody heartbeats
      // it or would ever merge or clean up after it, and its phase would be given to a second agent in the same
      // worktree once its lease ends. It is ended; its committed work stays on its branch for the next agent.
      const killed = killProcessGroup(a.process);
      reason = `its supervisor (pid ${a.process.supervisor!.pid}) was killed; the agent it left running ` +
        `(pid ${a.process.pid}) was ended${killed ? "" : " (it had just exited)"}`;
      log(`${a.id}: ${reason}`);
    } else continue;
    engine.recordAgentExit(a.id, { code: null }); // shown as gone from now on
    if (!a.holds.length) continue;
    const n = engine.releaseAgentClaims(a.id, { reason, actor });
    if (n) log(`released ${a.holds.map((h) => `${h.ticketId}/${h.phase}`).join(", ")} of ${a.id}: ${reason}`);
  }
}

/**
 * Whether an agent process that still runs was left by a supervisor that is
 * gone (certainly: on this host, its pid free or another process's).
 */
function orphaned(p: AgentProcessInfo, self: ProcessInfo): boolean {
  const sup = p.supervisor;
  if (!sup || (sup.pid === self.pid && sup.pidStart === self.pidStart)) return false;
  return processGone(sup);
}
