/**
 * Read-only queries: tickets, agents, dependencies, what is blocked, the
 * queue of an agent type, the audit trail, gates, and dashboard counts.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { escalations } from "./escalations.ts";
import type { Core } from "./core.ts";
import { findStalled } from "./metrics.ts";
import { allAgents } from "./sql/agents.ts";
import { auditAfter, auditRows } from "./sql/audit.ts";
import { dependentsOf, depRows, depsOf, waitingWithTarget } from "./sql/deps.ts";
import { gateById, gateRows } from "./sql/gates.ts";
import {
  allHeld,
  allPhases,
  availableFor,
  oldestAvailable,
  phaseById,
  phaseCounts,
  phasesOfTicket,
  queue as queueRows,
  retryingOrFailed,
  staleLeases,
  unmergedPhases,
  workByType,
} from "./sql/phases.ts";
import { type R, toAudit, toDependency, toGate, toPhase } from "./sql/rows.ts";
import { parentsWaiting, ticketById, ticketCounts, ticketRows } from "./sql/tickets.ts";
import type {
  AgentInfo,
  AgentTypeInfo,
  AuditEntry,
  AuditFilter,
  AvailableWork,
  BlockedItem,
  BoardTicket,
  Dependency,
  EventsQuery,
  Gate,
  Phase,
  Summary,
  TicketDetail,
  TicketFilter,
  TicketSummary,
} from "./types.ts";

/** `Engine.gates`. */
export function gates(core: Core, filter: { status?: Gate["status"] | "all"; ticketId?: string } = {}): Gate[] {
  return gateRows(core.db, filter.status ?? "open", filter.ticketId).map(toGate);
}

/**
 * `Engine.reviewedBy`: what a gate's reviewer decides on. A review an agent asked for: its own phase. A workflow
 * gate: the phases it `reviews` (not skipped for the ticket), else the last phase completed before it.
 */
export function reviewedBy(core: Core, gateId: number): Phase[] {
  const row = gateById(core.db, gateId);
  const g = row ? toGate(row) : undefined;
  if (!g) throw new BatonError("not_found", `Gate ${gateId} does not exist`);
  const rows = phasesOfTicket(core.db, g.ticketId);
  const at = rows.find((r) => r.id === g.phaseId);
  const names = g.kind === "review" ? [g.phaseName] : core.graph.def(g.phaseName)?.reviews ?? [];
  const done = rows.filter((r) =>
    r.status !== "skipped" &&
    (names.length ? names.includes(r.name) : at !== undefined && r.seq < at.seq && r.status === "completed")
  );
  return (names.length ? done : done.slice(-1)).map(toPhase);
}

/** `Engine.ticket`. */
export function ticket(core: Core, id: string): TicketDetail {
  const t = ticketById(core.db, id);
  if (!t) throw new BatonError("not_found", `Ticket ${id} does not exist`);
  return {
    id: t.id,
    title: t.title,
    path: t.path,
    priority: t.priority,
    metadata: JSON.parse(t.metadata),
    contentHash: t.content_hash,
    status: t.status,
    parentId: t.parent_id,
    createdAt: t.created_at,
    updatedAt: t.updated_at,
    phases: phasesOfTicket(core.db, id).map(toPhase),
    gates: gates(core, { status: "all", ticketId: id }),
    dependencies: depsOf(core.db, id).map(toDependency),
    dependents: dependentsOf(core.db, id).map(toDependency),
  };
}

/** `Engine.listTickets`. */
export function listTickets(core: Core, filter: TicketFilter = {}): TicketSummary[] {
  return ticketRows(core.db, filter).filter((r) => {
    if (filter.agent && !r.held) return false;
    if (filter.blocked !== undefined && Boolean(r.blocked) !== filter.blocked) return false;
    if (filter.component) {
      const m = JSON.parse(r.metadata);
      const comps = [m.components, m.component].flat().filter((x) => x !== undefined && x !== null).map(String);
      if (!comps.some((c) => c.toLowerCase().includes(filter.component!.toLowerCase()))) return false;
    }
    return true;
  }).map((r) => ({
    id: r.id,
    title: r.title,
    status: r.status,
    priority: r.priority,
    phase: r.phase,
    blocked: !!r.blocked,
  }));
}

/** `Engine.phase`. */
export function phase(core: Core, phaseId: number): Phase {
  const r = phaseById(core.db, phaseId);
  if (!r) throw new BatonError("not_found", `Phase ${phaseId} does not exist`);
  return toPhase(r);
}

/** `Engine.board`: every ticket with its phases, in two queries. */
export function board(core: Core): BoardTicket[] {
  const byTicket = new Map<string, Phase[]>();
  for (const r of allPhases(core.db)) {
    const p = toPhase(r);
    const list = byTicket.get(p.ticketId);
    if (list) list.push(p);
    else byTicket.set(p.ticketId, [p]);
  }
  return ticketRows(core.db, {}).map((r) => ({
    id: r.id,
    title: r.title,
    status: r.status,
    priority: r.priority,
    metadata: JSON.parse(r.metadata),
    blocked: !!r.blocked,
    phases: byTicket.get(r.id) ?? [],
  }));
}

/** `Engine.agentTypes`. */
export function agentTypes(core: Core): AgentTypeInfo[] {
  const counts = new Map(workByType(core.db).map((r) => [r.agent_type, r]));
  const registry = core.cfg.config.agents.registry;
  const types = new Set([
    ...core.graph.phases.map((p) => p.agentType).filter((t): t is string => t !== null),
    ...Object.keys(registry),
  ]);
  return [...types].sort().map((type) => ({
    type,
    command: registry[type]?.command ?? null,
    args: registry[type]?.args ?? [],
    maxConcurrent: registry[type]?.max_concurrent ?? null,
    held: counts.get(type)?.held ?? 0,
    available: counts.get(type)?.available ?? 0,
  }));
}

/** `Engine.agents`. */
export function agents(core: Core): AgentInfo[] {
  const holds = allHeld(core.db);
  return allAgents(core.db).map((a) => {
    const metadata = JSON.parse(a.metadata);
    return {
      id: a.id,
      // A supervisor saw its process exit: not active, whatever its last heartbeat says.
      status: metadata.exit ? "gone" : a.status,
      capabilities: JSON.parse(a.capabilities),
      registeredAt: a.registered_at,
      lastHeartbeat: a.last_heartbeat,
      process: a.host !== null && a.pid !== null
        ? {
          host: a.host,
          pid: a.pid,
          pidStart: a.pid_start,
          ...(metadata.supervisor ? { supervisor: metadata.supervisor } : {}),
        }
        : null,
      holds: holds.filter((h) => h.claimed_by === a.id).map((h) => ({
        phaseId: h.id,
        ticketId: h.ticket_id,
        phase: h.name,
        status: h.status,
      })),
    };
  });
}

/** `Engine.dependencies`. */
export function dependencies(core: Core, ticketId?: string): Dependency[] {
  return depRows(core.db, ticketId).map(toDependency);
}

/** `Engine.blocked`. */
export function blocked(core: Core): BlockedItem[] {
  const out: BlockedItem[] = [];
  for (const g of gates(core)) {
    out.push({
      ticketId: g.ticketId,
      phaseId: g.phaseId,
      phaseName: g.phaseName,
      reason: g.kind === "gate" ? "gate" : "review",
      detail: `gate ${g.id} waits for a human decision`,
      since: g.openedAt,
    });
  }
  for (const d of waitingWithTarget(core.db)) {
    out.push({
      ticketId: d.ticket_id,
      phaseId: null,
      phaseName: null,
      reason: "dependency",
      detail: `waits for ${d.depends_on} (${d.type})${d.other ? "" : "; that ticket does not exist yet"}`,
      since: d.created_at,
    });
  }
  for (const p of parentsWaiting(core.db)) {
    out.push({
      ticketId: p.id,
      phaseId: null,
      phaseName: null,
      reason: "dependency",
      detail: `its phases are done; it waits for its child tickets (${p.children}) to complete`,
      since: null,
    });
  }
  for (const p of retryingOrFailed(core.db)) {
    out.push({
      ticketId: p.ticket_id,
      phaseId: p.id,
      phaseName: p.name,
      reason: p.status === "failed" ? "failed" : "retry_backoff",
      detail: p.status === "failed"
        ? `failed after ${p.attempts} attempt(s): ${p.error ?? ""}`.trim()
        : `retry after ${new Date(p.retry_at).toISOString()} (attempt ${p.attempts}): ${p.error ?? ""}`.trim(),
      since: p.status === "failed" ? p.completed_at ?? p.claimed_at : p.retry_at,
    });
  }
  for (const p of unmergedPhases(core.db)) {
    out.push({
      ticketId: p.ticket_id,
      phaseId: p.id,
      phaseName: p.name,
      reason: "unmerged",
      detail: `its work on ${p.unmerged_branch} is not merged into the ticket's branch yet (baton run merges it)`,
      since: p.completed_at,
    });
  }
  return out;
}

/** `Engine.queue`. */
export function queue(core: Core, agentType: string): Phase[] {
  return queueRows(core.db, agentType, claimDue(core)).map((r) => toPhase(asClaimable(r)));
}

/** The time a claim made now would take back leases and make retries available by (witnessed: see clock.ts). */
function claimDue(core: Core): number {
  return Math.min(core.clock(), core.expiryNow);
}

/** A phase a claim would make available first (its lease ran out, its retry is due), as the claim will see it. */
function asClaimable(r: R): R {
  if (r.status === "available") return r;
  return { ...r, status: "available", claimed_by: null, lease_expires_at: null, retry_at: null };
}

/** `Engine.availableWork`: up to `limit` phases for these agent types, best first, and whether there are more. */
export function availableWork(
  core: Core,
  capabilities: string[],
  limit: number,
): { phases: AvailableWork[]; more: boolean } {
  if (!capabilities.length) {
    throw new BatonError("invalid_argument", "No capabilities given: name the agent types whose work to list");
  }
  const rows = availableFor(core.db, capabilities, limit + 1, claimDue(core));
  return { phases: rows.slice(0, limit).map(toAvailableWork), more: rows.length > limit };
}

/** One row of the available-work queries as the API gives it. */
export function toAvailableWork(r: R): AvailableWork {
  return {
    phaseId: r.id,
    ticketId: r.ticket_id,
    title: r.title,
    phase: r.name,
    agentType: r.agent_type,
    priority: r.priority,
    attempts: r.attempts,
    rework: Boolean(r.rework),
  };
}

/** `Engine.audit`. */
export function audit(core: Core, filter: AuditFilter = {}): AuditEntry[] {
  return auditRows(core.db, filter).map(toAudit);
}

/** `Engine.events`. */
export function events(core: Core, q: EventsQuery): AuditEntry[] {
  return auditAfter(core.db, { ...q, limit: q.limit ?? 1000 }).map(toAudit);
}

/** `Engine.summary`. */
export function summary(core: Core, now: number): Summary {
  const o = oldestAvailable(core.db);
  return {
    tickets: Object.fromEntries(ticketCounts(core.db).map((r) => [r.status, r.n])),
    phases: Object.fromEntries(phaseCounts(core.db).map((r) => [r.status, r.n])),
    agents: agents(core),
    gates: gates(core),
    stalled: findStalled(core, now),
    stale: staleLeases(core.db, now).map((s) => ({
      phaseId: s.id,
      ticketId: s.ticket_id,
      phase: s.name,
      agentId: s.claimed_by,
      leaseExpiresAt: s.lease_expires_at,
    })),
    oldestWaiting: o
      ? { phaseId: o.id, ticketId: o.ticket_id, phase: o.name, since: o.available_at, waitingMs: now - o.available_at }
      : null,
    escalations: escalations(core, false),
  };
}
