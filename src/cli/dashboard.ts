/**
 * `baton status` without a ticket: the dashboard.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import { formatDuration as duration } from "../duration.ts";
import { localTime, paint, table } from "./format.ts";
import { targetRedText } from "./views/merge.ts";

/**
 * Builds the dashboard: counts by state, agents and what they hold, open
 * gates, stalled and stale work, the merge queue (when configured), the
 * oldest waiting phase.
 * @param e the engine
 * @returns data (for --json) and text
 */
export function dashboard(e: Engine): { data: Record<string, unknown>; text: string } {
  const now = e.now();
  const s = e.summary();
  const { agents, gates, stalled } = s;
  const merge = e.cfg.config.merge ? e.mergeStatus({ recent: 1 }) : null;
  const data = { ...s, ...(merge ? { merge } : {}) };
  const mergeLine = merge
    ? [
      paint("Merge", "bold") + `    into ${merge.target}: ${merge.queued.length} queued` +
      (merge.building
        ? `, batch ${merge.building.id} ${merge.building.status} (${merge.building.items.length} tickets)`
        : "") +
      (merge.retrying ? `, ${merge.retrying} waiting for a retry` : "") +
      (merge.failed ? `, ${merge.failed} failed (a human looks: 'baton merge status')` : "") +
      `; ${merge.worker ? `worker ${merge.worker.id}` : "no worker running ('baton merge' or 'baton run')"}`,
      ...(merge.targetRed ? [`         ${targetRedText(merge.target, merge.targetRed)}`] : []),
    ]
    : [];
  const text = [
    paint("Tickets", "bold") + `  ${s.tickets.active ?? 0} active, ${s.tickets.completed ?? 0} completed`,
    paint("Phases", "bold") + "   " +
    (Object.entries(s.phases).map(([k, v]) => `${k.replace("_", " ")} ${v}`).join(", ") || "none"),
    "",
    paint("Agents", "bold"),
    table(
      ["AGENT", "STATUS", "LAST SEEN", "HOLDS"],
      agents.map((a) => [
        a.id,
        a.status,
        `${duration(now - a.lastHeartbeat)} ago`,
        a.holds.map((h) => `${h.ticketId}/${h.phase} (${h.status})`).join(", "),
      ]),
    ),
    "",
    paint("Gates waiting for a human", "bold"),
    table(
      ["GATE", "TICKET", "PHASE", "KIND", "WAITING"],
      gates.map((g) => [g.id, g.ticketId, g.phaseName, g.kind, duration(now - g.openedAt)]),
    ),
    "",
    paint("Stalled", "bold") + "  " +
    (stalled.length
      ? stalled.map((x) => `${x.ticketId}/${x.phase} by ${x.agentId}, silent ${duration(x.silentMs)}`).join("; ")
      : "none"),
    paint("Stale", "bold") + "    " +
    (s.stale.length
      ? s.stale.map((x) =>
        `${x.ticketId}/${x.phase} by ${x.agentId}, lease ended ${localTime(x.leaseExpiresAt)} (run 'baton sweep')`
      ).join("; ")
      : "none"),
    paint("Escalations", "bold") + "  " +
    (s.escalations.length
      ? `${s.escalations.length} (` +
        s.escalations.map((x) => `${x.ticketId}/${x.phaseName}: ${x.reason}`).join("; ") + "; see 'baton escalations')"
      : "none"),
    ...mergeLine,
    paint("Oldest waiting", "bold") + "  " +
    (s.oldestWaiting
      ? `${s.oldestWaiting.ticketId}/${s.oldestWaiting.phase}, ${duration(s.oldestWaiting.waitingMs)}`
      : "none"),
  ].join("\n");
  return { data, text };
}
