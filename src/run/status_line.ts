/**
 * The line a `baton run` that has said nothing for `run.status_seconds` logs
 * while agents run or the merge queue is busy: what it waits for, so that a
 * run that seems stuck says why.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";

/** An agent as the line shows it. */
export interface RunningAgent {
  agentId: string;
  ticketId: string;
  phase: string;
  pid: number;
  /** When its phase was seen ended while its process still ran. */
  phaseEndedAt?: number;
  /** Why the supervisor ended it, when it did. */
  endedBy?: string;
  /** When it last wrote anything. */
  lastOutputAt: number;
}

/**
 * The line: each agent, its process, whether its phase ended (and it was ended), how long it has been quiet; the
 * merge queue's work when it is busy.
 * @param now the time (ms)
 * @param agents the agents running
 * @param merge what the merge queue holds ({@link mergeWork}), when it is busy
 * @returns the line
 */
export function stillAtWork(now: number, agents: RunningAgent[], merge: string | null): string {
  const shown = agents.map((r) =>
    `${r.agentId} (${r.ticketId}/${r.phase}, pid ${r.pid}, ` +
    (r.phaseEndedAt === undefined
      ? "its phase held"
      : `its phase ended ${Math.round((now - r.phaseEndedAt) / 1000)} s ago` +
        (r.endedBy ? `, ended (${r.endedBy}) and not exited yet` : "")) +
    `, quiet for ${Math.round((now - r.lastOutputAt) / 1000)} s)`
  );
  return `still at work: ${
    shown.length ? `${shown.length} agent(s) running: ${shown.join("; ")}` : "no agent running"
  }` +
    (merge === null ? "" : `; the merge queue is busy: ${merge}`);
}

/**
 * What the merge queue holds: the tickets queued, each open batch's state and its check's process.
 * @param engine the repository's engine
 * @param now the time (ms)
 * @returns a short text
 */
export function mergeWork(engine: Engine, now: number): string {
  try {
    const queued = engine.mergeQueue().map((q) => q.ticketId);
    const batches = engine.openMergeBatches().map((b) =>
      `batch ${b.id} (${b.items.map((i) => i.ticketId).join(", ")}) ${b.status} for ${
        Math.round((now - b.startedAt) / 1000)
      } s` + (b.checkProcess ? `, its check pid ${b.checkProcess.pid}` : "")
    );
    return [queued.length ? `queued ${queued.join(", ")}` : "", ...batches].filter(Boolean).join("; ") ||
      "nothing queued";
  } catch (e) {
    return `(cannot say: ${(e as Error).message})`;
  }
}
