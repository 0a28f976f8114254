/**
 * `baton status TICKET` as text: the ticket's phases, gates, dependencies
 * and recent events.
 *
 * @module
 */
import type { AuditEntry, TicketDetail } from "../../engine/types.ts";
import { doneBeforeBaton, isHeld } from "../../engine/state_machine.ts";
import { localTime, paint, table } from "../format.ts";

/**
 * An audit row's action naming the phase it is about, with its reason:
 * `phase.seeded Python Design` (the row's `details.phase`).
 * @param a the row
 * @returns the action, and the phase's name when the row has one
 */
export function actionText(a: AuditEntry): string {
  const phase = typeof a.details?.phase === "string" ? ` ${a.details.phase}` : "";
  return `${a.action}${phase}`;
}

/**
 * One ticket, for a terminal. Phases that do not apply to it are folded into
 * one line; phases an import found done show as done before Baton.
 * @param t the ticket
 * @param events its latest events
 * @returns the text
 */
export function ticketText(t: TicketDetail, events: AuditEntry[]): string {
  const skipped = t.phases.filter((p) => p.status === "skipped");
  return [
    `${paint(t.id, "bold")}  ${t.title}  [${t.status}]${t.priority ? `  priority ${t.priority}` : ""}`,
    "",
    table(
      ["ID", "PHASE", "STATUS", "AGENT TYPE", "HELD BY", "ATTEMPTS", "COMPLETED"],
      t.phases.filter((p) => p.status !== "skipped").map((p) => [
        p.id,
        p.name,
        p.unmergedBranch ? `${p.status}, not merged yet (${p.unmergedBranch})` : p.status,
        p.agentType ?? "(human gate)",
        p.claimedBy && isHeld(p.status) ? p.claimedBy : "",
        p.attempts,
        doneBeforeBaton(p) ? "before Baton (imported)" : localTime(p.completedAt),
      ]),
    ),
    ...(skipped.length
      ? [`${skipped.length} skipped phase${skipped.length === 1 ? "" : "s"}: ${skipped.map((p) => p.name).join(", ")}`]
      : []),
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
      events.map((a) => [localTime(a.at), a.actor, actionText(a), a.oldState, a.newState]),
    ),
  ].join("\n");
}

/**
 * One audit row on one line, for `baton watch`.
 * @param a the row
 * @returns the line
 */
export function eventLine(a: AuditEntry): string {
  return `${localTime(a.at)}  ${a.actor.padEnd(16)} ${actionText(a).padEnd(22)} ${a.entityType} ${a.entityId}${
    a.ticketId ? ` (${a.ticketId})` : ""
  }${a.newState ? ` → ${a.newState}` : ""}`;
}
