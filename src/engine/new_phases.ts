/**
 * Phases the workflow gained after tickets were seeded (a `merge:` section
 * added later: the landing phase; a phase added to `phases.yaml`): each open
 * ticket gets them, so that it is complete only once they are done too.
 *
 * @module
 */
import type { Core } from "./core.ts";
import { resolveTicket } from "./resolve.ts";
import { insertPhase, insertPhaseDep, phasesOfTicket } from "./sql/phases.ts";
import { activeTicketsLacking, ticketById } from "./sql/tickets.ts";
import type { Actor } from "./types.ts";
import type { PhaseStatus } from "./state_machine.ts";

/** Statuses of a phase nobody has worked on yet. */
const UNTOUCHED = new Set(["pending", "available", "blocked", "skipped"]);

/** `Engine.seedNewPhases`. */
export function seedNewPhases(core: Core, actor: Actor): { ticketId: string; phase: string; status: PhaseStatus }[] {
  const added: { ticketId: string; phase: string; status: PhaseStatus }[] = [];
  // One read finds the few tickets short of a phase (none, nearly always): no write transaction for the others.
  const names = core.graph.phases.map((d) => d.name);
  if (!activeTicketsLacking(core.db, names).length) return added;
  core.tx((now) => {
    for (const ticketId of activeTicketsLacking(core.db, names)) {
      const rows = phasesOfTicket(core.db, ticketId);
      const ids = new Map<string, number>(rows.map((r) => [r.name as string, r.id as number]));
      const missing = core.graph.phases.filter((d) => !ids.has(d.name));
      if (!missing.length) continue;
      const t = ticketById(core.db, ticketId)!;
      const meta = JSON.parse(t.metadata);
      for (const def of missing) {
        // Before work already under way or done: the ticket is past it (its place in the work is not reopened). Judged
        // by the workflow's order of names: the ticket's positions were numbered by the workflow it was seeded with.
        const passed = rows.some((r) => !UNTOUCHED.has(r.status) && core.graph.isAfter(r.name, def.name));
        const skip = core.graph.skipReason(def.name, meta) ??
          (passed ? "added to the workflow after the ticket was past it" : null);
        const status: PhaseStatus = skip ? "skipped" : "pending";
        const id = insertPhase(core.db, {
          ticketId,
          name: def.name,
          seq: def.order,
          group: def.group ?? null,
          agentType: def.agentType,
          rank: t.priority_rank,
          status,
          completedAt: null,
        });
        ids.set(def.name, id);
        core.audit(now, actor, "phase.seeded", { type: "phase", id, ticket: ticketId }, null, status, {
          phase: def.name,
          reason: skip ?? "added to the workflow",
        });
        added.push({ ticketId, phase: def.name, status });
      }
      const fresh = new Set(missing.map((d) => d.name));
      for (const def of core.graph.phases) {
        for (const a of def.after) {
          if ((fresh.has(def.name) || fresh.has(a)) && ids.has(a)) {
            insertPhaseDep(core.db, ids.get(def.name)!, ids.get(a)!);
          }
        }
      }
      resolveTicket(core, now, ticketId, actor);
    }
  });
  return added;
}
