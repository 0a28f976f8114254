/** `baton status` without a ticket: the dashboard. */
import type { Engine } from "../engine.ts";
import { duration, localTime, paint, table } from "./format.ts";

/**
 * Builds the dashboard: counts by state, agents and what they hold, open
 * gates, stalled and stale work, the oldest waiting phase.
 * @param e the engine
 * @returns data (for --json) and text
 */
export function dashboard(e: Engine): { data: Record<string, unknown>; text: string } {
  const counts = Object.fromEntries(
    e.db.all<{ status: string; n: number }>("SELECT status, count(*) AS n FROM phases GROUP BY status ORDER BY status")
      .map((r) => [r.status, r.n]),
  );
  const tickets = Object.fromEntries(
    e.db.all<{ status: string; n: number }>("SELECT status, count(*) AS n FROM tickets GROUP BY status").map((r) => [
      r.status,
      r.n,
    ]),
  );
  const now = e.now();
  const agents = e.agents();
  const gates = e.gates();
  const stalled = e.stalled();
  const stale = e.db.all<{ id: number; ticket_id: string; name: string; claimed_by: string; lease_expires_at: number }>(
    "SELECT id, ticket_id, name, claimed_by, lease_expires_at FROM phases WHERE status IN ('claimed', 'running') AND lease_expires_at < ?",
    [now],
  );
  const o = e.db.get<{ id: number; ticket_id: string; name: string; available_at: number }>(
    "SELECT id, ticket_id, name, available_at FROM phases WHERE status = 'available' ORDER BY available_at, id LIMIT 1",
  );
  const oldest = o
    ? { phaseId: o.id, ticketId: o.ticket_id, phase: o.name, since: o.available_at, waitingMs: now - o.available_at }
    : null;
  const data = { tickets, phases: counts, agents, gates, stalled, stale, oldestWaiting: oldest };
  const text = [
    paint("Tickets", "bold") + `  ${tickets.active ?? 0} active, ${tickets.completed ?? 0} completed`,
    paint("Phases", "bold") + "   " +
    (Object.entries(counts).map(([k, v]) => `${k.replace("_", " ")} ${v}`).join(", ") || "none"),
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
      ? stalled.map((s) => `${s.ticketId}/${s.phase} by ${s.agentId}, silent ${duration(s.silentMs)}`).join("; ")
      : "none"),
    paint("Stale", "bold") + "    " +
    (stale.length
      ? stale.map((s) =>
        `${s.ticket_id}/${s.name} by ${s.claimed_by}, lease ended ${localTime(s.lease_expires_at)} (run 'baton sweep')`
      ).join("; ")
      : "none"),
    paint("Oldest waiting", "bold") + "  " +
    (oldest ? `${oldest.ticketId}/${oldest.phase}, ${duration(oldest.waitingMs)}` : "none"),
  ].join("\n");
  return { data, text };
}
