/**
 * Creating and changing tickets and their dependencies.
 *
 * @module
 */
import { BatonError } from "../../errors.ts";
import { addDependency, removeDependency } from "../dependencies.ts";
import { resolveAll } from "../resolve.ts";
import { createTickets, setTicketFile, upsert } from "../tickets.ts";
import { coreOf } from "./base.ts";
import { seedNewPhases } from "../new_phases.ts";
import { followPriorityOrder } from "../priority_order.ts";
import { EngineQueries } from "./queries.ts";
import type {
  Actor,
  DependencyType,
  NewTicketInput,
  SeededPhase,
  TicketDetail,
  TicketFileUpdate,
  TicketInput,
} from "../types.ts";

/** Creating and changing tickets and their dependencies. Part of `Engine`. */
export class EngineTickets extends EngineQueries {
  /**
   * Makes open tickets follow the edits of `phases.yaml` made since they
   * were seeded. Each gets the phases the workflow gained (a `merge:`
   * section added later: its landing phase; a phase added or renamed), so
   * that it completes only once they are done; one the ticket is past (work
   * under way or done after it, or its work done under an old name, or by
   * the phase a new parallel group replaces) is skipped, never reopened.
   * Phases nobody worked on yet that the workflow no longer has, or that a
   * new group replaces, are skipped (`retired`), and those whose agent type
   * it changed go to the new type (`retypedTo`); work under way finishes.
   * Tickets whose priority label has another place in an edited
   * `priority_order` are re-ranked (`tickets.reranked` in the audit trail).
   * Import, `baton run` and `baton merge` call it.
   * @param actor who does it (default `system`)
   * @returns the phases added, and those retired, by ticket
   * @throws {BatonError} `database_*` when the database fails
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ title: "A" }]);
   * assert.deepEqual(engine.seedNewPhases(), [], "every ticket has every phase");
   * engine.close();
   * ```
   */
  seedNewPhases(
    actor: Actor = "system",
  ): SeededPhase[] {
    followPriorityOrder(coreOf(this), actor);
    return seedNewPhases(coreOf(this), actor);
  }

  /**
   * Creates a ticket (seeding its phases) or updates it.
   * @param input the ticket
   * @param actor who does it (default `system`)
   * @returns the ticket with its phases
   * @throws {BatonError} `invalid_argument`, `dependency_cycle`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * const t = engine.upsertTicket({ id: "0001", title: "Add a cache", priority: "High" });
   * assert.deepEqual(t.phases.map((p) => p.status), ["available", "pending", "pending"]);
   * engine.close();
   * ```
   */
  upsertTicket(input: TicketInput, actor: Actor = "system"): TicketDetail {
    if (!input.id?.trim()) throw new BatonError("invalid_argument", "A ticket needs an id");
    if (!input.title?.trim()) throw new BatonError("invalid_argument", `Ticket ${input.id} needs a title`);
    coreOf(this).tx((now) => upsert(coreOf(this), now, input, actor));
    return this.ticket(input.id);
  }

  /**
   * Creates many tickets in one transaction (a planner's decomposition):
   * all or none. Ids are given or generated (the next number after the
   * highest numeric id, zero-padded to 4 digits); dependencies may name
   * tickets of the batch by id or by `ref`. Cycles are refused with their path.
   * @param items the tickets; `ref` names one for the others' dependencies
   * @param actor who plans
   * @param filesById ticket files by the id they use, imported or not (`ticketFilesById` of the markdown sync): no
   *   id is generated among them, and one given is refused
   * @returns the created tickets, in order
   * @throws {BatonError} `invalid_argument` (duplicate or existing id, an id a file uses, bad input),
   *   `dependency_cycle`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * const [a, b] = engine.createTickets([
   *   { ref: "api", title: "API" },
   *   { title: "Client", dependencies: [{ on: "api" }] },
   * ]);
   * assert.equal(b.dependencies[0].dependsOn, a.id);
   * engine.close();
   * ```
   */
  createTickets(
    items: NewTicketInput[],
    actor: Actor = "system",
    filesById?: ReadonlyMap<string, string>,
  ): TicketDetail[] {
    return createTickets(coreOf(this), items, actor, filesById).map((id) => this.ticket(id));
  }

  /**
   * Records where a ticket's markdown is, the hash of its content, and what
   * the write-back wrote into it (the import and the write-back keep it
   * current); audited.
   * @param ticketId the ticket
   * @param file repository-relative path, content hash, optionally the write-back ledger
   * @param actor who does it
   * @throws {BatonError} `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * engine.setTicketFile("0001", { path: "tickets/0001_a.md", contentHash: "abc" });
   * assert.equal(engine.ticket("0001").path, "tickets/0001_a.md");
   * engine.close();
   * ```
   */
  setTicketFile(ticketId: string, file: TicketFileUpdate, actor: Actor = "system"): void {
    setTicketFile(coreOf(this), ticketId, file, actor);
  }

  /**
   * Re-resolves every active ticket (after an import, or a config change).
   * @param actor who asks
   * @returns how many tickets were looked at
   * @throws {BatonError} `database_*`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * assert.equal(engine.resolve(), 1);
   * engine.close();
   * ```
   */
  resolve(actor: Actor = "system"): number {
    return coreOf(this).tx((now) => resolveAll(coreOf(this), now, actor));
  }

  /**
   * Makes `ticketId` wait for `dependsOn` to reach a milestone.
   * @param ticketId the blocked ticket
   * @param dependsOn the blocking ticket
   * @param type milestone: completion (default), design, implementation
   * @param actor who does it
   * @throws {BatonError} `not_found`, `dependency_cycle` (with the cycle's path)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ id: "0001", title: "A" }, { id: "0002", title: "B" }]);
   * engine.addDependency("0002", "0001");
   * assert.equal(engine.ticket("0002").phases[0].status, "blocked");
   * engine.close();
   * ```
   */
  addDependency(
    ticketId: string,
    dependsOn: string,
    type: DependencyType = "completion",
    actor: Actor = "system",
  ): void {
    addDependency(coreOf(this), ticketId, dependsOn, type, actor);
  }

  /**
   * Removes a dependency; what waited only for it becomes available.
   * @param ticketId the blocked ticket
   * @param dependsOn the blocking ticket
   * @param actor who does it
   * @throws {BatonError} `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ id: "0001", title: "A" }, { id: "0002", title: "B", dependencies: [{ on: "0001" }] }]);
   * engine.removeDependency("0002", "0001");
   * assert.equal(engine.ticket("0002").phases[0].status, "available");
   * engine.close();
   * ```
   */
  removeDependency(ticketId: string, dependsOn: string, actor: Actor = "system"): void {
    removeDependency(coreOf(this), ticketId, dependsOn, actor);
  }
}
