/**
 * `baton status TICKET` as text: the ticket's phases, gates, dependencies
 * and recent events.
 *
 * @module
 */
import type { AuditEntry, TicketDetail } from "../../engine/types.ts";
import { isHeld } from "../../engine/state_machine.ts";
import { localTime, paint, table } from "../format.ts";

/**
 * One ticket, for a terminal.
 * @param t the ticket
 * @param events its latest events
 * @returns the text
 */
export function ticketText(t: TicketDetail, events: AuditEntry[]): string {
  return [
    `${paint(t.id, "bold")}  ${t.title}  [${t.status}]${t.priority ? `  priority ${t.priority}` : ""}`,
    "",
    table(
      ["ID", "PHASE", "STATUS", "AGENT TYPE", "HELD BY", "ATTEMPTS", "COMPLETED"],
      t.phases.map((p) => [
        p.id,
        p.name,
        p.status,
        p.agentType ?? "(human gate)",
        p.claimedBy && isHeld(p.status) ? p.claimedBy : "",
        p.attempts,
        localTime(p.completedAt),
      ]),
    ),
    "",
    "Gates: " + (t.gates.length ? "" : "none"),
    ...(t.gates.length
      ? [table(
        ["GATE", "PHASE", "KIND", "STATUS", "OPENED", "DECIDED BY", "NOTES"],
        t.gates.map((g) => [g.id, g.phaseName, g.kind, g.status, localTime(g.openedAt), g.decidedBy, g.notes]),
      )]
      : []),
    "Depends on: " +
    (t.dependencies.map((d) => `${d.dependsOn} (${d.type}${d.satisfiedAt ? ", satisfied" : ", waiting"})`)
      .join(", ") || "nothing"),
    "Blocks: " + (t.dependents.map((d) => d.ticketId).join(", ") || "nothing"),
    "",
    "Recent events:",
    table(
      ["WHEN", "ACTOR", "ACTION", "FROM", "TO"],
      events.map((a) => [localTime(a.at), a.actor, a.action, a.oldState, a.newState]),
    ),
  ].join("\n");
}

/**
 * One audit row on one line, for `baton watch`.
 * @param a the row
 * @returns the line
 */
export function eventLine(a: AuditEntry): string {
  return `${localTime(a.at)}  ${a.actor.padEnd(16)} ${a.action.padEnd(22)} ${a.entityType} ${a.entityId}${
    a.ticketId ? ` (${a.ticketId})` : ""
  }${a.newState ? ` → ${a.newState}` : ""}`;
}
