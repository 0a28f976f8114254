/**
 * `baton metrics` and `baton agents` as text.
 *
 * @module
 */
import { formatDuration as duration } from "../../duration.ts";
import type { AgentInfo, AgentTypeInfo, Metrics } from "../../engine/types.ts";
import { localTime, table } from "../format.ts";

/**
 * The metrics, for a terminal.
 * @param m what `Engine.metrics` returned
 * @returns the text
 */
export function metricsText(m: Metrics): string {
  return [
    table(
      ["PHASE", "DONE", "CLAIM→DONE p50", "p90", "max", "WAIT p50", "FAIL", "RETRY", "REWORK"],
      m.phases.map((p) => [
        p.phase,
        p.completed,
        duration(p.claimToComplete.p50),
        duration(p.claimToComplete.p90),
        duration(p.claimToComplete.max),
        duration(p.wait.p50),
        `${(p.failureRate * 100).toFixed(0)}%`,
        `${(p.retryRate * 100).toFixed(0)}%`,
        p.rework,
      ]),
    ),
    "",
    `work in progress: ${m.workInProgress.claimed} claimed, ${m.workInProgress.running} running`,
    `oldest waiting: ${
      m.oldestWaiting
        ? `${m.oldestWaiting.ticketId} ${m.oldestWaiting.phase} for ${duration(m.oldestWaiting.waitingMs)}`
        : "none"
    }`,
    `bottleneck: ${m.bottleneck ? `${m.bottleneck.phase} (${m.bottleneck.waiting} waiting)` : "none"}`,
    `gate decisions: p50 ${duration(m.gateDecision.p50)}, max ${
      duration(m.gateDecision.max)
    } (${m.gateDecision.count})`,
    `claim contention: ${m.contention.lost} lost to another agent${
      m.contention.byType.length ? ` (${m.contention.byType.map((t) => `${t.agentType} ${t.lost}`).join(", ")})` : ""
    }`,
    `stalled: ${
      m.stalled.length ? m.stalled.map((s) => `${s.ticketId}/${s.phase} (${duration(s.silentMs)})`).join(", ") : "none"
    }`,
    "",
    table(["DAY", "PHASES DONE", "TICKETS DONE"], m.throughput.map((d) => [d.day, d.phases, d.tickets])),
    "",
    table(["AGENT", "COMPLETED", "BUSY"], m.agents.map((a) => [a.agentId, a.completed, duration(a.busyMs)])),
  ].join("\n");
}

/**
 * Registered agents and the agent types, for a terminal.
 * @param rows the agents
 * @param types the agent types
 * @returns the text
 */
export function agentsText(rows: AgentInfo[], types: AgentTypeInfo[]): string {
  return [
    table(
      ["AGENT", "STATUS", "CAPABILITIES", "LAST HEARTBEAT", "HOLDS"],
      rows.map((a) => [
        a.id,
        a.status,
        a.capabilities.join(","),
        localTime(a.lastHeartbeat),
        a.holds.map((h) => `${h.ticketId}/${h.phase}`).join(", "),
      ]),
    ),
    "",
    table(
      ["AGENT TYPE", "HELD", "MAX", "AVAILABLE", "COMMAND"],
      types.map((t) => [
        t.type,
        t.held,
        t.maxConcurrent ?? "-",
        t.available,
        t.command ? [t.command, ...t.args].join(" ") : "-",
      ]),
    ),
  ].join("\n");
}
