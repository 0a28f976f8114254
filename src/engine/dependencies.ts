/**
 * Ticket dependencies: a ticket waits until another reaches a milestone
 * (completion, design or implementation). Cycles are refused with their
 * path.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Core } from "./core.ts";
import { milestoneReached, resolveTicket } from "./resolve.ts";
import { deleteDep, dependsOnIds, depsOf, upsertDep, waitingCount } from "./sql/deps.ts";
import { ticketById } from "./sql/tickets.ts";
import type { Actor, DependencyInput, DependencyType } from "./types.ts";

/** The dependency path from `from` to `to` (following depends_on), if any. */
function pathBetween(core: Core, from: string, to: string): string[] | null {
  const prev = new Map<string, string>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length) {
    const cur = queue.shift()!;
    if (cur === to) {
      const path = [cur];
      for (let c = cur; prev.has(c);) path.unshift(c = prev.get(c)!);
      return path;
    }
    for (const next of dependsOnIds(core.db, cur)) {
      if (!seen.has(next)) {
        seen.add(next);
        prev.set(next, cur);
        queue.push(next);
      }
    }
  }
  return null;
}

/** Adds (or retypes) a dependency; audited. */
export function addDep(
  core: Core,
  now: number,
  ticketId: string,
  on: string,
  type: DependencyType,
  actor: Actor,
): void {
  if (on === ticketId) throw new BatonError("dependency_cycle", `Ticket ${ticketId} cannot depend on itself`);
  const path = pathBetween(core, on, ticketId);
  if (path) {
    throw new BatonError(
      "dependency_cycle",
      `Cannot make ${ticketId} depend on ${on}: that would close the cycle ${[ticketId, ...path].join(" -> ")}`,
      { details: { cycle: [ticketId, ...path] } },
    );
  }
  const satisfiedAt = milestoneReached(core, on, type) ? now : null;
  upsertDep(core.db, { ticketId, on, type, now, satisfiedAt });
  core.audit(
    now,
    actor,
    "dependency.added",
    { type: "dependency", id: `${ticketId}->${on}`, ticket: ticketId },
    null,
    satisfiedAt ? "satisfied" : "waiting",
    { dependsOn: on, type },
  );
}

function removeDep(core: Core, now: number, ticketId: string, on: string, actor: Actor): void {
  deleteDep(core.db, ticketId, on);
  core.audit(
    now,
    actor,
    "dependency.removed",
    { type: "dependency", id: `${ticketId}->${on}`, ticket: ticketId },
    null,
    null,
    { dependsOn: on },
  );
}

/** Makes a ticket's dependencies exactly `deps`. */
export function setDependencies(
  core: Core,
  now: number,
  ticketId: string,
  deps: DependencyInput[],
  actor: Actor,
): void {
  const want = new Map(deps.map((d) => [d.on, d.type ?? "completion"]));
  const have = depsOf(core.db, ticketId);
  for (const h of have) if (!want.has(h.depends_on)) removeDep(core, now, ticketId, h.depends_on, actor);
  for (const [on, type] of want) {
    const h = have.find((x) => x.depends_on === on);
    if (!h || h.type !== type) addDep(core, now, ticketId, on, type, actor);
  }
}

/** `Engine.addDependency`. */
export function addDependency(
  core: Core,
  ticketId: string,
  dependsOn: string,
  type: DependencyType,
  actor: Actor,
): void {
  core.tx((now) => {
    if (!ticketById(core.db, ticketId)) throw new BatonError("not_found", `Ticket ${ticketId} does not exist`);
    addDep(core, now, ticketId, dependsOn, type, actor);
    resolveTicket(core, now, ticketId, actor);
  });
}

/** `Engine.removeDependency`. */
export function removeDependency(core: Core, ticketId: string, dependsOn: string, actor: Actor): void {
  core.tx((now) => {
    if (!depsOf(core.db, ticketId).some((d) => d.depends_on === dependsOn)) {
      throw new BatonError("not_found", `Ticket ${ticketId} does not depend on ${dependsOn}`);
    }
    removeDep(core, now, ticketId, dependsOn, actor);
    // Phases that were blocked only by it become available.
    if (waitingCount(core.db, ticketId) === 0) resolveTicket(core, now, ticketId, actor);
  });
}
