/**
 * What the engine can tell: tickets, agents, queues, gates, file declarations, the audit trail, context, metrics.
 *
 * @module
 */
import * as queries from "../queries.ts";
import * as declarations from "../declarations.ts";
import { gate } from "../gates.ts";
import { type AgentContext, assembleContext, type ContextTarget } from "../context.ts";
import { computeMetrics, findStalled, type Metrics, type Stalled } from "../metrics.ts";
import { nextTicketId } from "../tickets.ts";
import { agentById, holdsToken } from "../sql/agents.ts";
import { ticketFiles } from "../sql/tickets.ts";
import { watch } from "../watch.ts";
import { availableWorkInScope } from "../scope.ts";
import { coreOf, snapshot } from "./base.ts";
import { EngineBase } from "./base.ts";
import type {
  AgentInfo,
  AgentTypeInfo,
  AuditEntry,
  AuditFilter,
  AvailableWork,
  BlockedItem,
  BoardTicket,
  Declaration,
  Dependency,
  EventsQuery,
  Gate,
  Overlap,
  Phase,
  ReadyPhase,
  Summary,
  TicketDetail,
  TicketFile,
  TicketFilter,
  TicketSummary,
  WatchOptions,
  WorkScope,
} from "../types.ts";

/** What the engine can tell: tickets, agents, queues, gates, file declarations, the audit trail, context, metrics. Part of `Engine`. */
export class EngineQueries extends EngineBase {
  /**
   * A ticket with its phases, gates and dependencies.
   * @param id ticket id
   * @returns the ticket
   * @throws {BatonError} `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * assert.equal(engine.ticket("0001").phases.length, 3);
   * engine.close();
   * ```
   */
  ticket(id: string): TicketDetail {
    return snapshot(this, (c) => queries.ticket(c, id));
  }

  /**
   * Tickets matching a filter, in priority order.
   * @param filter status, priority, component (metadata `components`/`component`), agent holding a phase, blocked
   * @returns one summary row per ticket
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ title: "A", priority: "Low" }, { title: "B", priority: "High" }]);
   * assert.deepEqual(engine.listTickets().map((t) => t.title), ["B", "A"]);
   * engine.close();
   * ```
   */
  listTickets(filter: TicketFilter = {}): TicketSummary[] {
    return snapshot(this, (c) => queries.listTickets(c, filter));
  }

  /**
   * Every ticket's markdown path, content hash and write-back ledger, for
   * the import and the write-back.
   * @param ids only these tickets (default: all)
   * @returns id, path (null: no file), hash and ledger of each ticket, by id
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A", path: "tickets/0001_a.md" });
   * assert.deepEqual(engine.ticketFiles(), [{ id: "0001", path: "tickets/0001_a.md", contentHash: null, ledger: null }]);
   * engine.close();
   * ```
   */
  ticketFiles(ids?: readonly string[]): TicketFile[] {
    return ticketFiles(coreOf(this).db, ids).map((r) => ({
      id: r.id,
      path: r.path,
      contentHash: r.content_hash,
      ledger: r.markdown_ledger === null ? null : JSON.parse(r.markdown_ledger),
    }));
  }

  /**
   * The id a new ticket would get: the next number after the highest
   * numeric id here and in `alsoTaken` (e.g. ids of files not imported yet).
   * @param alsoTaken more ids to stay above
   * @returns a zero-padded id such as `0007`
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.equal(engine.nextTicketId(["0041", "D0001"]), "0042");
   * engine.close();
   * ```
   */
  nextTicketId(alsoTaken: string[] = []): string {
    return snapshot(this, (c) => nextTicketId(c, alsoTaken));
  }

  /**
   * One registered agent.
   * @param agentId the agent
   * @returns its capabilities and status, or null when unknown
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.equal(engine.agent("nobody"), null);
   * engine.close();
   * ```
   */
  agent(agentId: string): { id: string; capabilities: string[]; status: string } | null {
    const a = agentById(coreOf(this).db, agentId);
    return a ? { id: a.id, capabilities: JSON.parse(a.capabilities), status: a.status } : null;
  }

  /**
   * Whether an agent holds a phase with this claim token now: what a caller
   * acting for that agent must show.
   * @param agentId the agent
   * @param token a claim token
   * @returns true when one of its held phases has it
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ title: "A" }]);
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * assert.equal(engine.holdsClaimToken("a", c.token), true);
   * assert.equal(engine.holdsClaimToken("a", "made-up"), false);
   * engine.close();
   * ```
   */
  holdsClaimToken(agentId: string, token: string): boolean {
    return holdsToken(coreOf(this).db, agentId, token);
  }

  /**
   * The agent types of the workflow with their `agents.registry` settings
   * (how a supervisor starts one, how many may work at once) and their work now.
   * @returns one row per agent type, sorted
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.deepEqual(engine.agentTypes().map((t) => t.type), ["designer", "implementer"]);
   * engine.close();
   * ```
   */
  agentTypes(): AgentTypeInfo[] {
    return snapshot(this, (c) => queries.agentTypes(c));
  }

  /**
   * Registered agents, with what each holds now.
   * @returns every agent, by id
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * engine.claimNext({ agentId: "a", capabilities: ["designer"] });
   * assert.equal(engine.agents()[0].holds[0].phase, "Design");
   * engine.close();
   * ```
   */
  agents(): AgentInfo[] {
    return snapshot(this, (c) => queries.agents(c));
  }

  /**
   * Ticket dependencies, all or of one ticket (both directions).
   * @param ticketId only those where this ticket waits or is waited for
   * @returns the dependencies
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ id: "0001", title: "A" }, { id: "0002", title: "B", dependencies: [{ on: "0001" }] }]);
   * assert.equal(engine.dependencies("0001")[0].ticketId, "0002");
   * engine.close();
   * ```
   */
  dependencies(ticketId?: string): Dependency[] {
    return snapshot(this, (c) => queries.dependencies(c, ticketId));
  }

  /**
   * Everything that cannot proceed, with the reason.
   * @returns open gates, waiting dependencies, retry backoffs and failures
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ id: "0002", title: "B", dependencies: [{ on: "0001" }] }]);
   * assert.equal(engine.blocked()[0].reason, "dependency");
   * engine.close();
   * ```
   */
  blocked(): BlockedItem[] {
    return snapshot(this, (c) => queries.blocked(c));
  }

  /**
   * Available phases for an agent type, in the order claims take them.
   * A phase a claim would make available first (its lease ran out, its
   * retry backoff passed) is listed as available: the list is what the next
   * claims take. Reads only.
   * @param agentType the agent type
   * @returns the phases
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ title: "A" }, { title: "B" }]);
   * assert.equal(engine.queue("designer").length, 2);
   * engine.close();
   * ```
   */
  queue(agentType: string): Phase[] {
    return snapshot(this, (c) => queries.queue(c, agentType));
  }

  /**
   * Phases an agent of these types could claim now, best first (leases run
   * out and retries due included, as in {@link queue}). Reads only.
   * @param capabilities agent types
   * @param limit at most this many
   * @param scope only phases of tickets in this scope (ids, labels, priorities)
   * @returns the phases, and whether there are more
   * @throws {BatonError} `invalid_argument` for an empty list of capabilities or a part of the scope
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ title: "A" }, { title: "B" }]);
   * assert.deepEqual(engine.availableWork(["designer"], 1).more, true);
   * engine.close();
   * ```
   */
  availableWork(capabilities: string[], limit: number, scope?: WorkScope): { phases: AvailableWork[]; more: boolean } {
    if (scope) return snapshot(this, (c) => availableWorkInScope(c, capabilities, limit, scope));
    return snapshot(this, (c) => queries.availableWork(c, capabilities, limit));
  }

  /**
   * One gate.
   * @param gateId the gate
   * @returns the gate
   * @throws {BatonError} `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.throws(() => engine.gate(1), /Gate 1 does not exist/);
   * engine.close();
   * ```
   */
  gate(gateId: number): Gate {
    return snapshot(this, (c) => gate(c, gateId));
  }

  /**
   * One phase, by id.
   * @param phaseId the phase
   * @returns its state
   * @throws {BatonError} `not_found` for an unknown phase
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * const first = engine.upsertTicket({ id: "0001", title: "A" }).phases[0];
   * assert.equal(engine.phase(first.id).ticketId, "0001");
   * engine.close();
   * ```
   */
  phase(phaseId: number): Phase {
    return snapshot(this, (c) => queries.phase(c, phaseId));
  }

  /**
   * Gates, open ones by default, oldest first.
   * @param filter status (or "all") and ticket
   * @returns the gates
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.deepEqual(engine.gates({ status: "all" }), []);
   * engine.close();
   * ```
   */
  gates(filter: { status?: Gate["status"] | "all"; ticketId?: string } = {}): Gate[] {
    return snapshot(this, (c) => queries.gates(c, filter));
  }

  /**
   * What a gate's reviewer decides on: the phases it reviews on its ticket
   * (their summaries and artifacts), or, for a review an agent asked for,
   * that agent's phase.
   * @param gateId the gate
   * @returns the reviewed phases, in workflow order
   * @throws {BatonError} `not_found` for an unknown gate
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
   * engine.complete(c.phase.id, { agentId: "d", token: c.token, summary: "a plan" });
   * assert.equal(engine.reviewedBy(engine.gates()[0].id)[0].resultSummary, "a plan");
   * engine.close();
   * ```
   */
  reviewedBy(gateId: number): Phase[] {
    return snapshot(this, (c) => queries.reviewedBy(c, gateId));
  }

  /**
   * Active declarations, for dashboards and `baton doctor`.
   * @returns every active declaration with its phase and agent
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.deepEqual(engine.declarations(), []);
   * engine.close();
   * ```
   */
  declarations(): Declaration[] {
    return snapshot(this, (c) => declarations.declarations(c));
  }

  /**
   * Which active declarations would overlap these paths (read-only).
   * @param paths paths or globs, repository-relative
   * @param opts a phase whose own declarations to ignore
   * @returns the overlaps
   * @throws {BatonError} `invalid_argument` for a path escaping the repository
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.deepEqual(engine.checkConflicts(["src/*.ts"]), []);
   * engine.close();
   * ```
   */
  checkConflicts(paths: string[], opts: { phaseId?: number } = {}): Overlap[] {
    return snapshot(this, (c) => declarations.checkConflicts(c, paths, opts.phaseId));
  }

  /**
   * Up to `n` available phases that can safely run side by side: their
   * tickets' expected paths overlap neither each other nor any active
   * declaration. Phases whose tickets declare no paths are included, marked
   * `pathsKnown: false` (nothing is known to conflict).
   * @param n how many at most
   * @param capabilities only phases of these agent types
   * @returns the phases in claim order
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ title: "A", metadata: { paths: ["src/a/**"] } }, { title: "B", metadata: { paths: ["src/**"] } }]);
   * assert.equal(engine.readyParallel(4).length, 1); // B's files overlap A's
   * engine.close();
   * ```
   */
  readyParallel(n: number, capabilities?: string[]): ReadyPhase[] {
    return snapshot(this, (c) => declarations.readyParallel(c, n, capabilities));
  }

  /**
   * Audit rows, oldest first.
   * @param filter ticket (all its entities), agent (as actor), time range (ms), limit (newest with `latest`)
   * @returns the rows
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * assert.equal(engine.audit({ ticketId: "0001", limit: 1 })[0].action, "ticket.created");
   * engine.close();
   * ```
   */
  audit(filter: AuditFilter = {}): AuditEntry[] {
    return snapshot(this, (c) => queries.audit(c, filter));
  }

  /**
   * Audit rows after a cursor: the feed a dashboard or script follows.
   * @param opts `since` (an audit id; 0 for everything), ticket, agent, limit
   * @returns the rows, oldest first; pass the last id as the next `since`
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const first = engine.events({ since: 0, limit: 1 });
   * assert.ok(engine.events({ since: first[0].id }).length > 0);
   * engine.close();
   * ```
   */
  events(opts: EventsQuery): AuditEntry[] {
    return snapshot(this, (c) => queries.events(c, opts));
  }

  /**
   * Yields audit rows as they are written, by this or any other process.
   * Polls cheaply: `PRAGMA data_version` tells when another connection
   * committed, and only then are new rows read.
   * @param opts cursor and filters as in {@link Engine.events}, poll interval, abort signal
   * @returns an async iterator of audit rows
   * @throws {BatonError} `database_*`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * for await (const e of engine.watch({ since: 0 })) {
   *   assert.equal(e.action, "ticket.created");
   *   break;
   * }
   * engine.close();
   * ```
   */
  watch(opts: WatchOptions = {}): AsyncGenerator<AuditEntry> {
    return watch(coreOf(this), opts);
  }

  /**
   * Everything an agent needs to start a phase, in one call, fitted to a
   * byte budget (config `context.budget_bytes`) by trimming the least
   * important parts first.
   * @param target the phase, or the agent (its held phase)
   * @param opts byte budget override
   * @returns the assembled context
   * @throws {BatonError} `not_found` (unknown phase, or the agent holds none)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * engine.claimNext({ agentId: "a", capabilities: ["designer"] });
   * assert.equal(engine.context({ agentId: "a" }).phase.name, "Design");
   * engine.close();
   * ```
   */
  context(target: ContextTarget, opts: { budgetBytes?: number } = {}): AgentContext {
    return snapshot(this, (c) => assembleContext(c, target, opts));
  }

  /**
   * Metrics over the database (see {@link Metrics}).
   * @param opts window start in ms (default: all time)
   * @returns durations, waits, throughput, bottleneck, contention, stalled work
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.equal(engine.metrics().bottleneck, null);
   * engine.close();
   * ```
   */
  metrics(opts: { since?: number } = {}): Metrics {
    return snapshot(this, (c) => computeMetrics(c, { since: opts.since, now: c.clock() }));
  }

  /**
   * Held phases with no progress for longer than `stall_timeout_minutes`.
   * @returns the stalled phases, longest silence first
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.deepEqual(engine.stalled(), []);
   * engine.close();
   * ```
   */
  stalled(): Stalled[] {
    return snapshot(this, (c) => findStalled(c, c.clock()));
  }

  /**
   * Counts for a dashboard: tickets and phases by status, stale leases, the
   * phase waiting longest.
   * @returns the counts
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * assert.deepEqual(engine.summary().phases, { available: 1, pending: 2 });
   * engine.close();
   * ```
   */
  summary(): Summary {
    return snapshot(this, (c) => queries.summary(c, c.clock()));
  }

  /**
   * Every ticket with its phases, for a board: one card per ticket, in
   * priority order (two queries, whatever the number of tickets).
   * @returns the tickets, each with its phases in workflow order
   * @throws {BatonError} `database_*` when the database cannot be read
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * assert.deepEqual(engine.board()[0].phases.map((p) => p.status), ["available", "pending", "pending"]);
   * engine.close();
   * ```
   */
  board(): BoardTicket[] {
    return snapshot(this, (c) => queries.board(c));
  }
}
