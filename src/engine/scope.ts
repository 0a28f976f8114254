/**
 * Restricting work to some tickets: by id, by label (metadata `labels`) or
 * by priority. A supervisor started with `--tickets`, `--label` or
 * `--priority` claims and waits for nothing else.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { capList, LIMITS } from "./limits.ts";
import type { Core } from "./core.ts";
import { anyTicketLabelled, availableInScope } from "./sql/scope.ts";
import { toAvailableWork } from "./queries.ts";
import type { AvailableWork, WorkScope } from "./types.ts";

/**
 * Refuses a scope with too many or too long parts, with an empty part (which would match nothing), or with labels
 * while no ticket has any and the workflow reads none (no `labels` field in `ticket_metadata`: every ticket would be
 * left out, silently).
 */
export function checkScope(scope: WorkScope | undefined, core: Core): void {
  if (!scope) return;
  for (const [name, list] of Object.entries(scope) as [string, string[] | undefined][]) {
    if (list === undefined) continue;
    capList(list, LIMITS.items, LIMITS.name, `The scope's ${name}`);
    if (!list.length) throw new BatonError("invalid_argument", `The scope's ${name} is empty: name at least one`);
  }
  const fields = core.cfg.workflow.ticketMetadata.map((f) => f.field);
  if (scope.labels && !fields.includes("labels") && !fields.includes("label") && !anyTicketLabelled(core.db)) {
    throw new BatonError(
      "invalid_argument",
      "Tickets have no labels to match: .workflow/phases.yaml reads none. Add a labels field to ticket_metadata, " +
        'e.g. "- {field: labels, type: list, markdown_key: Labels}", and import the tickets again',
      { location: { file: ".workflow/phases.yaml", field: "ticket_metadata" } },
    );
  }
}

/** A ticket's labels: its metadata `labels` (or `label`), a list or a comma-separated string. */
export function labelsOf(metadata: Record<string, unknown>): string[] {
  const v = metadata.labels ?? metadata.label;
  const list = Array.isArray(v) ? v.map(String) : typeof v === "string" ? v.split(",") : [];
  return list.map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/**
 * The priority a ticket without one has: the workflow's default for its
 * `priority` metadata field, if it names one.
 * @param workflow the workflow's ticket metadata fields
 * @returns the default, or null
 */
export function defaultPriority(workflow: { ticketMetadata: { field: string; default?: unknown }[] }): string | null {
  const d = workflow.ticketMetadata.find((f) => f.field === "priority")?.default;
  return typeof d === "string" ? d : null;
}

/**
 * Whether a ticket is in a scope.
 * @param scope the scope
 * @param t the ticket's id, priority and metadata
 * @param fallbackPriority the priority of a ticket without one (see {@link defaultPriority})
 * @returns true when every part given holds
 */
export function inScope(
  scope: WorkScope,
  t: { id: string; priority: string | null; metadata: Record<string, unknown> },
  fallbackPriority: string | null = null,
): boolean {
  if (scope.tickets && !scope.tickets.includes(t.id)) return false;
  if (scope.priorities) {
    const p = (t.priority ?? fallbackPriority ?? "").toLowerCase();
    if (!scope.priorities.some((x) => x.toLowerCase() === p)) return false;
  }
  if (scope.labels) {
    const has = labelsOf(t.metadata);
    if (!scope.labels.some((l) => has.includes(l.toLowerCase()))) return false;
  }
  return true;
}

/** `Engine.availableWork` within a scope: the available phases of these types, in claim order. */
export function availableWorkInScope(
  core: Core,
  capabilities: string[],
  limit: number,
  scope: WorkScope,
): { phases: AvailableWork[]; more: boolean } {
  checkScope(scope, core);
  const fallback = defaultPriority(core.cfg.workflow);
  const rows = availableInScope(core.db, capabilities).filter((r) =>
    inScope(scope, { id: r.ticket_id, priority: r.priority, metadata: JSON.parse(r.metadata) }, fallback)
  );
  return { phases: rows.slice(0, limit).map(toAvailableWork), more: rows.length > limit };
}
