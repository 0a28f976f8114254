/**
 * Phases renamed in `phases.yaml` after a ticket was seeded: a ticket's row
 * keeps the name it was seeded with, and these tell which phase of the
 * workflow it is now (one to one only), for the phases an edit gives the
 * ticket and for what a rejected gate sends back.
 *
 * @module
 */
import type { Core } from "./core.ts";
import type { PhaseDef } from "../config/schema.ts";
import type { R } from "./sql/rows.ts";

/**
 * Whether a phase of the ticket did the work a phase new to it stands for:
 * the phase a new parallel group member replaces, or the same agent type's
 * phase under a name the workflow no longer has (renamed: one such phase of
 * the ticket, and one phase of that type the ticket lacks; with more, which
 * was renamed to which cannot be told, and none counts). Gates count as one
 * type, and a gate only where it stood (right after the same phase).
 */
export function standsFor(core: Core, rows: R[], def: PhaseDef, r: R): boolean {
  const old = core.graph.def(r.name);
  if (old) return (old.overriddenBy ?? []).includes(def.name);
  if (r.agent_type !== def.agentType) return false;
  // Gates (no agent type) are renamed one to one among gates in the same place: the new gate waits for the phase the
  // old one came right after (an approved gate renamed is not asked again; one moved elsewhere is another review).
  if (def.agentType === null && !gateInPlace(core, rows, def, r)) return false;
  const gone = rows.filter((x) => !core.graph.def(x.name) && x.agent_type === def.agentType);
  // The phases of that type the ticket has no row for (a row skipped by its condition, or as past, is not lacking).
  const lacking = core.graph.phases.filter((d) =>
    d.agentType === def.agentType && (d.name === def.name || !rows.some((x) => x.name === d.name))
  );
  return gone.length === 1 && lacking.length === 1;
}

/** Whether a new gate stands where a gate of the ticket stood: right after the same phase. */
function gateInPlace(core: Core, rows: R[], def: PhaseDef, r: R): boolean {
  const before = rows.filter((x) => x.seq < r.seq).sort((a, b) => a.seq - b.seq).at(-1);
  if (!before) return def.after.length === 0;
  const name = core.graph.def(before.name) ? before.name : null;
  return name !== null && def.after.includes(name);
}

/**
 * The name in the workflow a phase of a ticket goes by now: its own, or, for a phase the workflow renamed (one to one,
 * as {@link standsFor} tells), the new name; its own when the workflow has neither.
 * @param core the engine
 * @param rows the ticket's phases
 * @param r one of them
 * @returns a phase name
 */
export function workflowName(core: Core, rows: R[], r: R): string {
  if (core.graph.def(r.name)) return r.name;
  return core.graph.phases.find((d) => standsFor(core, rows, d, r))?.name ?? r.name;
}
