/**
 * Tickets: creating one seeds its phases (conditions decide which apply,
 * a position from the markdown marks what is already done); updating one
 * re-evaluates the conditions of phases not reached yet; a planner's batch
 * is created all or nothing.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { checkLine, checkTitle } from "../lines.ts";
import type { PhaseStatus } from "./state_machine.ts";
import type { Metadata } from "../config/conditions.ts";
import type { Core } from "./core.ts";
import { setDependencies } from "./dependencies.ts";
import { resolveTicket } from "./resolve.ts";
import { move } from "./transitions.ts";
import { advanceTicket, checkPhaseNames } from "./placement.ts";
import { insertPhase, insertPhaseDep, phasesOfTicket, setPhasesRank, unreachedPhases } from "./sql/phases.ts";
import { skipOnTicket } from "./new_phases.ts";
import {
  insertTicket,
  maxNumericId,
  setTicketFile as setFile,
  ticketById,
  ticketExists,
  updateTicket,
} from "./sql/tickets.ts";
import type { Actor, NewTicketInput, TicketFileUpdate, TicketInput } from "./types.ts";
import { capJson, capText, LIMITS } from "./limits.ts";

/**
 * Refuses an id that cannot name the ticket's branch (`baton/<id>`), its
 * worktree directory and its files: letters, digits, `.`, `_` and `-`,
 * starting with a letter or digit, without `..`, not ending in `.` or
 * `.lock` (git's rules for a branch name's part), and without `--` (which
 * separates a ticket from a group phase in `baton/<ticket>--<phase>`).
 */
function checkTicketId(id: string): void {
  if (
    typeof id !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id) || id.includes("..") || id.includes("--") ||
    /\.(lock)?$/i.test(id)
  ) {
    throw new BatonError(
      "invalid_argument",
      `${JSON.stringify(id)} cannot be a ticket id: use letters, digits, ".", "_" and "-", starting with a letter ` +
        `or digit, without ".." or "--" and not ending in "." or ".lock" (it names the branch baton/<id> and a directory)`,
    );
  }
}

/** Creates or updates a ticket inside the request in progress. */
export function upsert(core: Core, now: number, input: TicketInput, actor: Actor): void {
  checkTitle(input.title, `The title of ticket ${input.id}`);
  checkLine(input.priority, `The priority of ticket ${input.id}`);
  capText(input.id, LIMITS.name, "A ticket id");
  capText(input.title, LIMITS.title, `The title of ticket ${input.id}`);
  capText(input.priority, LIMITS.name, `The priority of ticket ${input.id}`);
  capJson(input.metadata, LIMITS.metadata, `The metadata of ticket ${input.id}`);
  const meta = input.metadata ?? {};
  const priority = input.priority ?? (typeof meta.priority === "string" ? meta.priority : null);
  const existing = ticketById(core.db, input.id);
  if (!existing) checkTicketId(input.id); // a ticket made before this rule stays usable
  const rank = core.graph.rank(priority);
  const row = {
    id: input.id,
    title: input.title,
    path: input.path ?? existing?.path ?? null,
    priority,
    rank,
    metadata: JSON.stringify(meta),
    contentHash: input.contentHash ?? existing?.content_hash ?? null,
    parentId: input.parentId ?? existing?.parent_id ?? null,
  };
  if (!existing) {
    insertTicket(core.db, row, now);
    core.audit(now, actor, "ticket.created", { type: "ticket", id: input.id, ticket: input.id }, null, "active", {
      title: input.title,
    });
    seed(core, now, input, meta, rank, actor);
  } else {
    updateTicket(core.db, row, now);
    setPhasesRank(core.db, input.id, rank);
    core.audit(now, actor, "ticket.updated", { type: "ticket", id: input.id, ticket: input.id }, null, null, {
      title: input.title,
    });
    reevaluateConditions(core, now, input.id, meta, actor);
    if (input.completedPhases?.length) advanceTicket(core, now, input.id, input.completedPhases, actor);
  }
  if (input.dependencies) setDependencies(core, now, input.id, input.dependencies, actor);
  resolveTicket(core, now, input.id, actor);
  // A parent waits for its children: a new or reopened child makes its parent wait again.
  if (row.parentId && row.parentId !== input.id && ticketExists(core.db, row.parentId)) {
    resolveTicket(core, now, row.parentId, actor);
  }
}

/**
 * Seeds a new ticket's phases: skipped where the condition fails or a group
 * phase replaces it, completed when its known position says so.
 */
function seed(core: Core, now: number, input: TicketInput, meta: Metadata, rank: number, actor: Actor): void {
  checkPhaseNames(core, input.id, input.completedPhases ?? []);
  // The position means everything it waits for is done too (import never reopens work a ticket is past).
  const done = core.graph.doneThrough(input.completedPhases ?? []);
  const ids = new Map<string, number>();
  for (const def of core.graph.phases) {
    const skip = core.graph.skipReason(def.name, meta);
    const status: PhaseStatus = skip ? "skipped" : done.has(def.name) ? "completed" : "pending";
    // Done before Baton: no completion time (that would be the import's time, and import is not work).
    const id = insertPhase(core.db, {
      ticketId: input.id,
      name: def.name,
      seq: def.order,
      group: def.group ?? null,
      agentType: def.agentType,
      rank,
      status,
      completedAt: null,
    });
    ids.set(def.name, id);
    core.audit(now, actor, "phase.seeded", { type: "phase", id, ticket: input.id }, null, status, {
      phase: def.name,
      ...(skip ? { reason: skip } : {}),
    });
  }
  for (const def of core.graph.phases) {
    for (const a of def.after) insertPhaseDep(core.db, ids.get(def.name)!, ids.get(a)!);
  }
}

/**
 * Metadata changed: phases not reached yet follow their conditions (and overrides) again. A skipped phase comes back
 * only when nothing else skips it now: not one the workflow no longer has, nor one whose work was done under another
 * name or that the ticket is past (`skipOnTicket`, after an edit of the workflow).
 */
function reevaluateConditions(core: Core, now: number, ticketId: string, meta: Metadata, actor: Actor): void {
  const rows = phasesOfTicket(core.db, ticketId);
  for (const row of unreachedPhases(core.db, ticketId)) {
    const skip = core.graph.skipReason(row.name, meta);
    if (skip && row.status !== "skipped") {
      if (row.status !== "pending") move(core, now, actor, row, "pending", "rework");
      move(core, now, actor, row, "skipped", "resolve", {}, { reason: skip });
    } else if (!skip && row.status === "skipped") {
      const def = core.graph.def(row.name);
      if (!def || skipOnTicket(core, rows, def, meta) !== null) continue;
      move(core, now, actor, row, "pending", "resolve", {}, { reason: "it applies now" });
    }
  }
}

/** The next free numeric ticket id, zero-padded to 4 digits, above every id in the database and in `alsoTaken`. */
export function nextTicketId(core: Core, alsoTaken: string[] = []): string {
  const numeric = alsoTaken.filter((x) => /^\d+$/.test(x)).map(Number);
  return String(Math.max(maxNumericId(core.db), ...numeric) + 1).padStart(4, "0");
}

/**
 * `Engine.createTickets`: ids given or generated, dependencies by id or `ref`, all or nothing. `filesById` names
 * the ticket files that use an id (imported or not): no generated id is one of them, and a given one is refused.
 */
export function createTickets(
  core: Core,
  items: NewTicketInput[],
  actor: Actor,
  filesById: ReadonlyMap<string, string> = new Map(),
): string[] {
  if (!Array.isArray(items) || items.length === 0) throw new BatonError("invalid_argument", "No tickets to create");
  return core.tx((now) => {
    let next = Number(nextTicketId(core, [...filesById.keys()]));
    const byRef = new Map<string, string>();
    const assigned = items.map((it, i) => {
      const id = it.id ?? String(next++).padStart(4, "0");
      if (it.ref) {
        if (byRef.has(it.ref)) {
          throw new BatonError("invalid_argument", `Ticket #${i + 1}: ref "${it.ref}" is used twice`);
        }
        byRef.set(it.ref, id);
      }
      return id;
    });
    const seen = new Set<string>();
    items.forEach((it, i) => {
      const id = assigned[i];
      const where = `Ticket #${i + 1} (${id})`;
      if (seen.has(id)) throw new BatonError("invalid_argument", `${where}: id appears twice in the batch`);
      seen.add(id);
      if (ticketExists(core.db, id)) throw new BatonError("invalid_argument", `${where}: ticket ${id} already exists`);
      const file = filesById.get(id);
      if (file !== undefined) {
        throw new BatonError(
          "invalid_argument",
          `${where}: ${file} already uses id ${id} (not imported yet: run baton import); give another id, or none`,
          { location: { file } },
        );
      }
      if (!it.title?.trim()) throw new BatonError("invalid_argument", `${where}: a title is required`);
    });
    items.forEach((it, i) => {
      const deps = (it.dependencies ?? []).map((d) => ({ ...d, on: byRef.get(d.on) ?? d.on }));
      upsert(core, now, { ...it, id: assigned[i], dependencies: deps }, actor);
    });
    return assigned;
  });
}

/** `Engine.setTicketFile`: records a ticket's markdown file, content hash and write-back ledger; audited. */
export function setTicketFile(
  core: Core,
  ticketId: string,
  file: TicketFileUpdate,
  actor: Actor,
): void {
  core.tx((now) => {
    const t = ticketById(core.db, ticketId);
    if (!t) throw new BatonError("not_found", `Ticket ${ticketId} does not exist`);
    const ledger = file.ledger === undefined ? undefined : JSON.stringify(file.ledger);
    const { path, contentHash } = file;
    if (t.path === path && t.content_hash === contentHash && (ledger === undefined || ledger === t.markdown_ledger)) {
      return;
    }
    setFile(core.db, ticketId, path, contentHash, ledger);
    core.audit(now, actor, "ticket.file", { type: "ticket", id: ticketId, ticket: ticketId }, t.path, path, {
      contentHash,
    });
  });
}
