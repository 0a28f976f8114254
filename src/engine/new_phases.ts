/**
 * Open tickets follow the edits of `phases.yaml` made after they were
 * seeded. Phases the workflow gained (a `merge:` section added later: the
 * landing phase; a phase added, or renamed) are given to each open ticket,
 * so that it is complete only once they are done too, except where the
 * ticket is past them: work under way or done after them, or the work they
 * stand for done under the old name (a rename: a phase the workflow no
 * longer names, of the same agent type) or by the phase a new parallel group
 * replaces. Phases nobody has worked on yet that the workflow no longer has,
 * or that a new group replaces, are skipped, and those whose agent type it
 * changed go to the new type; work under way finishes as it began.
 *
 * @module
 */
import type { Core } from "./core.ts";
import { standsFor, workflowName } from "./renames.ts";
import { resolveTicket } from "./resolve.ts";
import { insertPhase, insertPhaseDep, phaseById, phasesOfTicket, setAgentType, setSeq } from "./sql/phases.ts";
import type { R } from "./sql/rows.ts";
import { activeTicketsLacking, activeTicketsOffWorkflow, ticketById } from "./sql/tickets.ts";
import { move } from "./transitions.ts";
import type { PhaseDef } from "../config/schema.ts";
import type { Metadata } from "../config/conditions.ts";
import { LANDING_TYPE } from "../config/landing.ts";
import type { Actor, SeededPhase } from "./types.ts";
import type { PhaseStatus } from "./state_machine.ts";

/**
 * Why a phase of the workflow is skipped on a ticket, or null when it is to
 * be done: its condition fails or a group phase replaces it; the work it
 * stands for was done under another name; or the ticket is past it (work
 * under way or done after it: judged by the workflow's order of names, the
 * ticket's positions having been numbered by the workflow it was seeded with).
 * @param core the engine
 * @param rows the ticket's phases
 * @param def the phase
 * @param meta the ticket's metadata
 * @returns the reason, or null
 */
export function skipOnTicket(core: Core, rows: R[], def: PhaseDef, meta: Metadata): string | null {
  const others = rows.filter((r) => r.name !== def.name && !UNTOUCHED.has(r.status));
  const doneAs = others.find((r) => standsFor(core, rows, def, r));
  // A phase the workflow renamed stands where its new name is (a phase inserted before a rename is judged by it).
  const placed = (r: R) => workflowName(core, rows, r);
  return core.graph.skipReason(def.name, meta) ??
    (doneAs ? `${doneAs.name} did its work on this ticket` : null) ??
    (others.some((r) => core.graph.isAfter(placed(r), def.name))
      ? "added to the workflow after the ticket was past it"
      : null);
}

/**
 * Numbers a ticket's phases in the edited workflow's order (`seq`: listings, the phases before one that its agent's
 * context shows, a gate's rework set). A phase the workflow no longer names keeps its place after the phase that came
 * before it.
 * @param before the ticket's phases before the edit was followed, in their old order
 */
function renumber(core: Core, before: R[], ticketId: string): void {
  const place = new Map<number, number>();
  let last = -1;
  for (const [i, r] of before.entries()) {
    const def = core.graph.def(r.name);
    if (def) last = def.order;
    place.set(r.id, def ? def.order : last + 0.5 + i / (2 * before.length + 2));
  }
  const rows = phasesOfTicket(core.db, ticketId);
  for (const r of rows) if (!place.has(r.id)) place.set(r.id, core.graph.def(r.name)?.order ?? r.seq);
  rows.sort((a, b) => place.get(a.id)! - place.get(b.id)!).forEach((r, seq) => {
    if (r.seq !== seq) setSeq(core.db, r.id, seq);
  });
}

/** Statuses of a phase nobody has worked on yet. */
const UNTOUCHED = new Set(["pending", "available", "blocked", "skipped"]);

/** `Engine.seedNewPhases`. */
export function seedNewPhases(
  core: Core,
  actor: Actor,
): SeededPhase[] {
  const added: SeededPhase[] = [];
  // One read finds the few tickets short of a phase (none, nearly always): no write transaction for the others.
  const names = core.graph.phases.map((d) => d.name);
  const due = () =>
    [
      ...new Set([...activeTicketsLacking(core.db, names), ...activeTicketsOffWorkflow(core.db, core.graph.phases)]),
    ].sort();
  if (!due().length) return added;
  core.tx((now) => {
    for (const ticketId of due()) {
      const rows = phasesOfTicket(core.db, ticketId);
      const ids = new Map<string, number>(rows.map((r) => [r.name as string, r.id as number]));
      const missing = core.graph.phases.filter((d) => !ids.has(d.name));
      const t = ticketById(core.db, ticketId)!;
      const meta = JSON.parse(t.metadata);
      for (const def of missing) {
        // Before work already under way or done: the ticket is past it (its place in the work is not reopened). Judged
        // by the workflow's order of names: the ticket's positions were numbered by the workflow it was seeded with.
        const skip = skipOnTicket(core, rows, def, meta);
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
      // Not started, and no longer to be: the workflow dropped it, or a new group replaces it.
      for (const r of rows) {
        if (!UNTOUCHED.has(r.status) || r.status === "skipped") continue;
        const def = core.graph.def(r.name);
        if (def && def.agentType !== r.agent_type && def.agentType !== null && r.agent_type !== null) {
          // Another agent type does it now (a gate made an agent's phase, or the reverse, is left as seeded).
          setAgentType(core.db, r.id, def.agentType);
          core.audit(
            now,
            actor,
            "phase.retyped",
            { type: "phase", id: r.id, ticket: ticketId },
            r.agent_type,
            def.agentType,
            {
              phase: r.name,
            },
          );
          added.push({ ticketId, phase: r.name, status: r.status, retypedTo: def.agentType });
        }
        // A landing phase stays while the workflow has none: a merge: section missing for a moment (another branch's
        // config.yaml) must not finish tickets without landing their work. One renamed (merge.phase) is retired.
        if (!def && r.agent_type === LANDING_TYPE && !core.graph.phases.some((d) => d.agentType === LANDING_TYPE)) {
          continue;
        }
        const why = def ? core.graph.skipReason(r.name, meta) : "no longer in the workflow (.workflow/phases.yaml)";
        if (!why) continue;
        if (r.status !== "pending") move(core, now, actor, r, "pending", "rework");
        move(core, now, actor, phaseById(core.db, r.id)!, "skipped", "resolve", {}, { reason: why });
        added.push({ ticketId, phase: r.name, status: "skipped", retired: true });
      }
      // Back in the workflow (an edit undone, a misspelt name corrected): a phase an earlier edit skipped is to be done
      // again where nothing skips it now.
      const current = phasesOfTicket(core.db, ticketId);
      for (const r of current) {
        const def = core.graph.def(r.name);
        if (r.status !== "skipped" || !def || missing.includes(def)) continue;
        if (skipOnTicket(core, current, def, meta) !== null) continue;
        move(core, now, actor, r, "pending", "resolve", {}, { reason: "back in the workflow" });
        added.push({ ticketId, phase: r.name, status: "pending", reopened: true });
      }
      renumber(core, rows, ticketId);
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
