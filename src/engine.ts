/**
 * The workflow engine: tickets, their phases, claims with leases and fencing
 * tokens, retries, human gates with a rework loop, ticket dependencies and an
 * audit trail, over one SQLite database shared by many processes.
 *
 * Every state change runs inside one `BEGIN IMMEDIATE` transaction, goes
 * through the state machine ({@link checkTransition}) as a compare-and-set on
 * the current status (and holder), and writes its audit rows in the same
 * transaction. Availability is resolved incrementally in the transaction
 * that completes a phase.
 *
 * @module
 */
import { BatonError } from "./errors.ts";
import type { PhaseDef, WorkflowConfig } from "./config.ts";
import { databasePath } from "./repo_root.ts";
import { loadWorkflowConfigCached } from "./config_cache.ts";
import { checkTransition, conditionHolds, DONE, type Metadata, type PhaseStatus } from "./state_machine.ts";
import { openBatonDatabase } from "./storage/database.ts";
import type { Database, JournalMode } from "./storage/sqlite.ts";
import { type AgentContext, type ContextFile, fitToBudget, readRepoFile } from "./context.ts";
import { globsOverlap, normalizeRepoPath } from "./globs.ts";
import { computeMetrics, findStalled, type Metrics, recordMiss, type Stalled } from "./metrics.ts";

/** Who acts: a human (by name) or an agent (by id). A bare string is an agent id. */
export type Actor = { kind: "human"; name: string } | { kind: "agent"; id: string } | string;

/** Options of {@link openEngine}. */
export interface EngineOptions {
  /** Clock in ms since the epoch (tests inject one). */
  clock?: () => number;
  /** Override `database.journal_mode` from config.yaml. */
  journalMode?: JournalMode;
}

/** Kinds of ticket dependency. */
export type DependencyType = "completion" | "design" | "implementation";

/** Input of {@link Engine.upsertTicket}. */
export interface TicketInput {
  /** Ticket id, e.g. `0083` or `D0001`. */
  id: string;
  /** Title. */
  title: string;
  /** Typed metadata (field → value). */
  metadata?: Metadata;
  /** Priority label (else `metadata.priority`). */
  priority?: string;
  /** Markdown path relative to the repository root. */
  path?: string;
  /** Hash of the markdown content (import idempotency). */
  contentHash?: string;
  /** Parent ticket (recorded, not a blocker). */
  parentId?: string;
  /** Dependencies; when given, they replace the ticket's current set. */
  dependencies?: { on: string; type?: DependencyType }[];
  /**
   * Phases already done (e.g. from the markdown status): marked completed at
   * seeding, and every phase before them too, so an imported ticket never
   * reopens work it is past.
   */
  completedPhases?: string[];
}

/** A phase as returned by the API. */
export interface Phase {
  id: number;
  ticketId: string;
  name: string;
  seq: number;
  group: string | null;
  agentType: string | null;
  status: PhaseStatus;
  claimedBy: string | null;
  attempts: number;
  revisions: number;
  leaseExpiresAt: number | null;
  retryAt: number | null;
  availableAt: number | null;
  claimedAt: number | null;
  startedAt: number | null;
  completedAt: number | null;
  resultSummary: string | null;
  artifacts: string[];
  error: string | null;
  reworkNotes: string | null;
}

/** A successful claim: the phase and the token later calls must present. */
export interface Claim {
  /** Active declarations of other phases overlapping this ticket's expected paths (advisory mode). */
  overlaps: AgentContext["overlaps"];
  phase: Phase;
  ticket: { id: string; title: string; priority: string | null; path: string | null };
  /** Fencing token: calls with any other token are refused. */
  token: string;
  /** When the lease ends unless the agent heartbeats. */
  leaseExpiresAt: number;
  /** Notes from the reviewer when this is rework after a gate. */
  reworkNotes: string | null;
}

/** A human decision point. */
export interface Gate {
  id: number;
  phaseId: number;
  phaseName: string;
  ticketId: string;
  kind: "gate" | "review";
  status: "open" | "approved" | "rejected" | "escalated";
  requestedBy: string | null;
  summary: string | null;
  openedAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  notes: string | null;
  revision: number;
}

/** A ticket dependency. */
export interface Dependency {
  ticketId: string;
  dependsOn: string;
  type: DependencyType;
  satisfiedAt: number | null;
}

/** One audit row. */
export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  ticketId: string | null;
  oldState: string | null;
  newState: string | null;
  details: Record<string, unknown> | null;
  correlationId: string;
}

/** A ticket with everything about it. */
export interface TicketDetail {
  id: string;
  title: string;
  path: string | null;
  priority: string | null;
  metadata: Metadata;
  contentHash: string | null;
  status: "active" | "completed";
  parentId: string | null;
  createdAt: number;
  updatedAt: number;
  phases: Phase[];
  gates: Gate[];
  dependencies: Dependency[];
  dependents: Dependency[];
}

/** Why something cannot proceed. */
export interface BlockedItem {
  ticketId: string;
  phaseId: number | null;
  phaseName: string | null;
  reason: "gate" | "review" | "dependency" | "retry_backoff" | "failed";
  detail: string;
  since: number | null;
}

const PHASE_COLS = `p.id, p.ticket_id, p.name, p.seq, p.parallel_group, p.agent_type, p.status, p.claimed_by,
  p.attempts, p.revisions, p.lease_expires_at, p.retry_at, p.available_at, p.claimed_at, p.started_at,
  p.completed_at, p.result_summary, p.artifacts, p.error, p.rework_notes`;

/** The ticket columns a claim returns. */
const TICKET_COLS = "t.title AS t_title, t.priority AS t_priority, t.path AS t_path";

// deno-lint-ignore no-explicit-any
type R = Record<string, any>;

function toPhase(r: R): Phase {
  return {
    id: r.id,
    ticketId: r.ticket_id,
    name: r.name,
    seq: r.seq,
    group: r.parallel_group,
    agentType: r.agent_type,
    status: r.status,
    claimedBy: r.claimed_by,
    attempts: r.attempts,
    revisions: r.revisions,
    leaseExpiresAt: r.lease_expires_at,
    retryAt: r.retry_at,
    availableAt: r.available_at,
    claimedAt: r.claimed_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    resultSummary: r.result_summary,
    artifacts: r.artifacts ? JSON.parse(r.artifacts) : [],
    error: r.error,
    reworkNotes: r.rework_notes,
  };
}

function toGate(r: R): Gate {
  return {
    id: r.id,
    phaseId: r.phase_id,
    phaseName: r.phase_name,
    ticketId: r.ticket_id,
    kind: r.kind,
    status: r.status,
    requestedBy: r.requested_by,
    summary: r.summary,
    openedAt: r.opened_at,
    decidedAt: r.decided_at,
    decidedBy: r.decided_by,
    notes: r.notes,
    revision: r.revision,
  };
}

function toAudit(r: R): AuditEntry {
  return {
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    entityType: r.entity_type,
    entityId: r.entity_id,
    ticketId: r.ticket_id,
    oldState: r.old_state,
    newState: r.new_state,
    details: r.details ? JSON.parse(r.details) : null,
    correlationId: r.correlation_id,
  };
}

function actorName(a: Actor): string {
  if (typeof a === "string") return a;
  return a.kind === "human" ? `human:${a.name}` : a.id;
}

const what = (name: string, ticket: string) => `phase "${name}" of ticket ${ticket}`;

/**
 * The engine. Create with {@link openEngine}; close when done.
 *
 * @example A failed attempt is retried after its backoff, then completed
 * ```ts
 * import assert from "node:assert/strict";
 * import { openEngine } from "../mod.ts";
 * const repo = await Deno.makeTempDir();
 * await Deno.mkdir(`${repo}/.workflow`);
 * await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, "phases:\n  - {name: Build, agent_type: builder}\n");
 * await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "retry:\n  backoff_seconds: 0\n");
 * const engine = await openEngine(repo);
 * engine.upsertTicket({ id: "0001", title: "Build it" });
 * const first = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
 * engine.fail(first.phase.id, { agentId: "a", token: first.token, error: "flaky test" });
 * const second = engine.claimNext({ agentId: "b", capabilities: ["builder"] })!;
 * engine.complete(second.phase.id, { agentId: "b", token: second.token, summary: "built" });
 * assert(engine.ticket("0001").status === "completed" && second.phase.attempts === 2);
 * engine.close();
 * ```
 */
export class Engine {
  /** The database (for custom reports: read-only queries are safe). */
  readonly db: Database;
  /** The loaded `.workflow/` configuration. */
  readonly cfg: WorkflowConfig;
  #clock: () => number;
  #corr = "";
  #defs: Map<string, PhaseDef>;

  /**
   * @param db an open, migrated database
   * @param cfg the loaded configuration
   * @param clock ms since the epoch
   */
  constructor(db: Database, cfg: WorkflowConfig, clock: () => number = Date.now) {
    this.db = db;
    this.cfg = cfg;
    this.#clock = clock;
    this.#defs = new Map(cfg.workflow.phases.map((p) => [p.name, p]));
  }

  /** The current time of the engine's clock (ms since the epoch). */
  now(): number {
    return this.#clock();
  }

  /**
   * Called after a request's transaction committed, with the tickets whose
   * phases changed (realtime markdown write-back uses it). Errors it throws
   * are reported on stderr, never to the caller.
   */
  onTicketsChanged?: (ticketIds: string[]) => void;
  #changed = new Set<string>();

  /** Runs a request: one transaction, one correlation id for its audit rows. */
  #tx<T>(fn: (now: number) => T): T {
    const outer = this.#corr;
    if (!outer) this.#corr = crypto.randomUUID();
    let result: T;
    try {
      result = this.db.transaction(() => fn(this.#clock()));
    } catch (e) {
      if (!outer) this.#changed.clear();
      throw e;
    } finally {
      if (!outer) this.#corr = "";
    }
    if (!outer && this.#changed.size) {
      const ids = [...this.#changed];
      this.#changed.clear();
      if (this.onTicketsChanged) {
        try {
          this.onTicketsChanged(ids);
        } catch (e) {
          console.error(`warning: after-commit hook failed: ${(e as Error).message}`);
        }
      }
    }
    return result;
  }

  #audit(
    now: number,
    actor: Actor,
    action: string,
    entity: { type: string; id: string | number; ticket?: string | null },
    oldState: string | null,
    newState: string | null,
    details?: Record<string, unknown>,
  ): void {
    this.db.run(
      `INSERT INTO audit(at, actor, action, entity_type, entity_id, ticket_id, old_state, new_state, details, correlation_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        now,
        actorName(actor),
        action,
        entity.type,
        String(entity.id),
        entity.ticket ?? null,
        oldState,
        newState,
        details ? JSON.stringify(details) : null,
        this.#corr,
      ],
    );
  }

  #rank(priority: string | null): number {
    const order = this.cfg.config.priority_order;
    if (!priority) return order.length;
    const i = order.findIndex((p) => p.toLowerCase() === priority.toLowerCase());
    return i === -1 ? order.length : i;
  }

  #phaseRow(id: number): R {
    const r = this.db.get<R>(`SELECT ${PHASE_COLS} FROM phases p WHERE p.id = ?`, [id]);
    if (!r) throw new BatonError("not_found", `Phase ${id} does not exist`);
    return r;
  }

  /** Moves a phase with a compare-and-set on its status; audits it. */
  #move(
    now: number,
    actor: Actor,
    row: R,
    to: PhaseStatus,
    cause: Parameters<typeof checkTransition>[2],
    set: Record<string, unknown> = {},
    details?: Record<string, unknown>,
  ): void {
    checkTransition(row.status, to, cause, what(row.name, row.ticket_id));
    const cols = Object.keys(set);
    const sql = `UPDATE phases SET status = ?${cols.map((c) => `, ${c} = ?`).join("")} WHERE id = ? AND status = ?`;
    const res = this.db.run(sql, [to, ...cols.map((c) => set[c] as never), row.id, row.status]);
    if (res.changes !== 1) {
      throw new BatonError("claim_conflict", `Cannot ${cause} ${what(row.name, row.ticket_id)}: it changed meanwhile`);
    }
    this.#changed.add(row.ticket_id);
    this.#audit(now, actor, `phase.${cause}`, { type: "phase", id: row.id, ticket: row.ticket_id }, row.status, to, {
      phase: row.name,
      ...details,
    });
    row.status = to;
  }

  // -------------------------------------------------------------------------
  // Tickets

  /**
   * Creates a ticket (seeding its phases) or updates it.
   *
   * @param input the ticket
   * @param actor who does it (default `system`)
   * @returns the ticket with its phases
   * @throws {BatonError} `invalid_argument`, `dependency_cycle`
   */
  upsertTicket(input: TicketInput, actor: Actor = "system"): TicketDetail {
    if (!input.id?.trim()) throw new BatonError("invalid_argument", "A ticket needs an id");
    if (!input.title?.trim()) throw new BatonError("invalid_argument", `Ticket ${input.id} needs a title`);
    this.#tx((now) => this.#upsert(now, input, actor));
    return this.ticket(input.id);
  }

  #upsert(now: number, input: TicketInput, actor: Actor): void {
    const meta = input.metadata ?? {};
    const priority = input.priority ?? (typeof meta.priority === "string" ? meta.priority : null);
    const existing = this.db.get<R>("SELECT * FROM tickets WHERE id = ?", [input.id]);
    const params = [
      input.title,
      input.path ?? existing?.path ?? null,
      priority,
      this.#rank(priority),
      JSON.stringify(meta),
      input.contentHash ?? existing?.content_hash ?? null,
      input.parentId ?? existing?.parent_id ?? null,
      now,
    ];
    if (!existing) {
      this.db.run(
        `INSERT INTO tickets(title, path, priority, priority_rank, metadata, content_hash, parent_id, updated_at, id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [...params, input.id, now],
      );
      this.#audit(now, actor, "ticket.created", { type: "ticket", id: input.id, ticket: input.id }, null, "active", {
        title: input.title,
      });
      this.#seed(now, input, meta, this.#rank(priority), actor);
    } else {
      this.db.run(
        `UPDATE tickets SET title = ?, path = ?, priority = ?, priority_rank = ?, metadata = ?, content_hash = ?,
           parent_id = ?, updated_at = ? WHERE id = ?`,
        [...params, input.id],
      );
      this.db.run("UPDATE phases SET priority_rank = ? WHERE ticket_id = ?", [this.#rank(priority), input.id]);
      this.#audit(now, actor, "ticket.updated", { type: "ticket", id: input.id, ticket: input.id }, null, null, {
        title: input.title,
      });
      this.#reevaluateConditions(now, input.id, meta, actor);
    }
    if (input.dependencies) this.#setDependencies(now, input.id, input.dependencies, actor);
    this.#resolveTicket(now, input.id, actor);
  }

  #seed(now: number, input: TicketInput, meta: Metadata, rank: number, actor: Actor): void {
    const phases = this.cfg.workflow.phases;
    // Everything up to the last phase said to be done counts as done.
    let doneThrough = -1;
    for (const name of input.completedPhases ?? []) {
      const def = this.#defs.get(name);
      if (!def) throw new BatonError("invalid_argument", `Ticket ${input.id}: unknown phase "${name}"`);
      doneThrough = Math.max(doneThrough, def.order);
    }
    const ids = new Map<string, number>();
    for (const def of phases) {
      let status: PhaseStatus = "pending";
      if (!conditionHolds(def.condition, meta)) status = "skipped";
      else if (def.order <= doneThrough) status = "completed";
      const r = this.db.run(
        `INSERT INTO phases(ticket_id, name, seq, parallel_group, agent_type, priority_rank, status, completed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          input.id,
          def.name,
          def.order,
          def.group ?? null,
          def.agentType,
          rank,
          status,
          status === "completed" ? now : null,
        ],
      );
      ids.set(def.name, r.lastInsertRowid);
      this.#audit(
        now,
        actor,
        "phase.seeded",
        { type: "phase", id: r.lastInsertRowid, ticket: input.id },
        null,
        status,
        {
          phase: def.name,
        },
      );
    }
    for (const def of phases) {
      for (const a of def.after) {
        this.db.run("INSERT INTO phase_deps(phase_id, after_id) VALUES (?, ?)", [ids.get(def.name)!, ids.get(a)!]);
      }
    }
  }

  /** Metadata changed: phases not reached yet follow their conditions again. */
  #reevaluateConditions(now: number, ticketId: string, meta: Metadata, actor: Actor): void {
    const rows = this.db.all<R>(
      `SELECT ${PHASE_COLS} FROM phases p WHERE p.ticket_id = ? AND p.status IN ('pending', 'skipped', 'blocked', 'available')`,
      [ticketId],
    );
    for (const row of rows) {
      const holds = conditionHolds(this.#defs.get(row.name)?.condition, meta);
      if (!holds && row.status !== "skipped") {
        if (row.status !== "pending") this.#move(now, actor, row, "pending", "rework");
        this.#move(now, actor, row, "skipped", "resolve", {}, { reason: "condition no longer holds" });
      } else if (holds && row.status === "skipped") {
        this.#move(now, actor, row, "pending", "resolve", {}, { reason: "condition holds now" });
      }
    }
  }

  /**
   * Makes every phase whose predecessors are done available (or blocked, a
   * gate, or skipped), repeatedly, then completes the ticket when all its
   * phases are done and satisfies the dependencies waiting on it.
   */
  #resolveTicket(now: number, ticketId: string, actor: Actor): void {
    const blockedBy = this.db.get<{ n: number }>(
      "SELECT count(*) AS n FROM ticket_deps WHERE ticket_id = ? AND satisfied_at IS NULL",
      [ticketId],
    )!.n;
    // One pass suffices: becoming available, blocked or a gate never makes another phase ready.
    const ready = this.db.all<R>(
      `SELECT ${PHASE_COLS} FROM phases p WHERE p.ticket_id = ? AND p.status IN ('pending', 'blocked')
         AND NOT EXISTS (SELECT 1 FROM phase_deps d JOIN phases q ON q.id = d.after_id
                         WHERE d.phase_id = p.id AND q.status NOT IN ('completed', 'skipped'))
       ORDER BY p.seq`,
      [ticketId],
    );
    if (blockedBy > 0) {
      // A dependency added after work became available takes it back (held work goes on).
      const open = this.db.all<R>(
        `SELECT ${PHASE_COLS} FROM phases p WHERE p.ticket_id = ? AND p.status = 'available'`,
        [ticketId],
      );
      for (const row of open) this.#move(now, actor, row, "blocked", "block");
    }
    for (const row of ready) {
      if (blockedBy > 0) {
        if (row.status === "pending") this.#move(now, actor, row, "blocked", "resolve");
        continue;
      }
      const cause = row.status === "blocked" ? "unblock" : "resolve";
      if (row.agent_type === null) {
        this.#move(now, actor, row, "awaiting_review", cause, { available_at: now });
        this.db.run(
          `INSERT INTO gates(phase_id, ticket_id, kind, status, opened_at, revision) VALUES (?, ?, 'gate', 'open', ?, ?)`,
          [row.id, ticketId, now, row.revisions],
        );
        const gid = this.db.get<{ id: number }>("SELECT last_insert_rowid() AS id")!.id;
        this.#audit(now, actor, "gate.opened", { type: "gate", id: gid, ticket: ticketId }, null, "open", {
          phase: row.name,
        });
      } else {
        this.#move(now, actor, row, "available", cause, { available_at: now });
      }
    }
    const open = this.db.get<{ n: number }>(
      "SELECT count(*) AS n FROM phases WHERE ticket_id = ? AND status NOT IN ('completed', 'skipped')",
      [ticketId],
    )!.n;
    const t = this.db.get<{ status: string }>("SELECT status FROM tickets WHERE id = ?", [ticketId])!;
    const status = open === 0 ? "completed" : "active";
    if (t.status !== status) {
      this.db.run("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?", [status, now, ticketId]);
      this.#audit(now, actor, `ticket.${status}`, { type: "ticket", id: ticketId, ticket: ticketId }, t.status, status);
    }
    this.#satisfyDependents(now, ticketId, actor);
  }

  /** Phases that make up a milestone of a ticket. */
  #milestonePhases(type: DependencyType): string[] | null {
    if (type === "completion") return null;
    const configured = this.cfg.config.dependencies.milestones[type];
    if (configured) return configured;
    const re = type === "design" ? /design/i : /implement/i;
    return this.cfg.workflow.phases.filter((p) => re.test(p.name)).map((p) => p.name);
  }

  #milestoneReached(ticketId: string, type: DependencyType): boolean {
    const t = this.db.get<{ status: string }>("SELECT status FROM tickets WHERE id = ?", [ticketId]);
    if (!t) return false;
    if (t.status === "completed") return true;
    const names = this.#milestonePhases(type);
    if (names === null) return false;
    if (names.length === 0) return true;
    const open = this.db.get<{ n: number }>(
      `SELECT count(*) AS n FROM phases WHERE ticket_id = ? AND status NOT IN ('completed', 'skipped')
         AND name IN (SELECT value FROM json_each(?))`,
      [ticketId, JSON.stringify(names)],
    )!.n;
    return open === 0;
  }

  /** Marks a dependency satisfied (audited) when its milestone is reached; returns whether it was. */
  #trySatisfy(now: number, d: R, actor: Actor): boolean {
    if (!this.#milestoneReached(d.depends_on, d.type)) return false;
    this.db.run("UPDATE ticket_deps SET satisfied_at = ? WHERE ticket_id = ? AND depends_on = ?", [
      now,
      d.ticket_id,
      d.depends_on,
    ]);
    this.#audit(
      now,
      actor,
      "dependency.satisfied",
      { type: "dependency", id: `${d.ticket_id}->${d.depends_on}`, ticket: d.ticket_id },
      "waiting",
      "satisfied",
      { dependsOn: d.depends_on, type: d.type },
    );
    return true;
  }

  #satisfyDependents(now: number, ticketId: string, actor: Actor): void {
    const deps = this.db.all<R>("SELECT * FROM ticket_deps WHERE depends_on = ? AND satisfied_at IS NULL", [ticketId]);
    for (const d of deps) {
      if (this.#trySatisfy(now, d, actor)) this.#resolveTicket(now, d.ticket_id, actor);
    }
  }

  /**
   * Re-resolves every active ticket (after an import, or a config change).
   * @param actor who asks
   * @returns how many tickets were looked at
   */
  resolve(actor: Actor = "system"): number {
    return this.#tx((now) => {
      const ids = this.db.all<{ id: string }>("SELECT id FROM tickets WHERE status = 'active' ORDER BY id");
      for (const { id } of ids) {
        const deps = this.db.all<R>("SELECT * FROM ticket_deps WHERE ticket_id = ? AND satisfied_at IS NULL", [id]);
        for (const d of deps) this.#trySatisfy(now, d, actor);
        this.#resolveTicket(now, id, actor);
      }
      return ids.length;
    });
  }

  /**
   * Creates many tickets in one transaction (a planner's decomposition):
   * either all are created or none. Ids are given or generated (the next
   * number after the highest numeric id, zero-padded to 4 digits);
   * dependencies may name tickets of the batch by id or by `ref`. Cycles are
   * refused with their path.
   *
   * @param items the tickets; `ref` names one for the others' dependencies
   * @param actor who plans
   * @returns the created tickets, in order
   * @throws {BatonError} `invalid_argument` (duplicate or existing id, bad input), `dependency_cycle`
   */
  createTickets(
    items: (Omit<TicketInput, "id"> & { id?: string; ref?: string })[],
    actor: Actor = "system",
  ): TicketDetail[] {
    if (!Array.isArray(items) || items.length === 0) throw new BatonError("invalid_argument", "No tickets to create");
    const ids = this.#tx((now) => {
      let next = this.db.get<{ n: number }>(
        "SELECT coalesce(max(CAST(id AS INTEGER)), 0) AS n FROM tickets WHERE id GLOB '[0-9]*' AND id NOT GLOB '*[^0-9]*'",
      )!.n + 1;
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
        if (this.db.get("SELECT 1 AS x FROM tickets WHERE id = ?", [id])) {
          throw new BatonError("invalid_argument", `${where}: ticket ${id} already exists`);
        }
        if (!it.title?.trim()) throw new BatonError("invalid_argument", `${where}: a title is required`);
      });
      items.forEach((it, i) => {
        const deps = (it.dependencies ?? []).map((d) => ({ ...d, on: byRef.get(d.on) ?? d.on }));
        this.#upsert(now, { ...it, id: assigned[i], dependencies: deps }, actor);
      });
      return assigned;
    });
    return ids.map((id) => this.ticket(id));
  }

  // -------------------------------------------------------------------------
  // Dependencies

  #setDependencies(now: number, ticketId: string, deps: { on: string; type?: DependencyType }[], actor: Actor): void {
    const want = new Map(deps.map((d) => [d.on, d.type ?? "completion"]));
    const have = this.db.all<R>("SELECT * FROM ticket_deps WHERE ticket_id = ?", [ticketId]);
    for (const h of have) {
      if (!want.has(h.depends_on)) this.#removeDep(now, ticketId, h.depends_on, actor);
    }
    for (const [on, type] of want) {
      const h = have.find((x) => x.depends_on === on);
      if (!h || h.type !== type) this.#addDep(now, ticketId, on, type, actor);
    }
  }

  #addDep(now: number, ticketId: string, on: string, type: DependencyType, actor: Actor): void {
    if (on === ticketId) throw new BatonError("dependency_cycle", `Ticket ${ticketId} cannot depend on itself`);
    const path = this.#pathBetween(on, ticketId);
    if (path) {
      throw new BatonError(
        "dependency_cycle",
        `Cannot make ${ticketId} depend on ${on}: that would close the cycle ${[ticketId, ...path].join(" -> ")}`,
        { details: { cycle: [ticketId, ...path] } },
      );
    }
    const satisfied = this.#milestoneReached(on, type) ? now : null;
    this.db.run(
      `INSERT INTO ticket_deps(ticket_id, depends_on, type, created_at, satisfied_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(ticket_id, depends_on) DO UPDATE SET type = excluded.type, satisfied_at = excluded.satisfied_at`,
      [ticketId, on, type, now, satisfied],
    );
    this.#audit(
      now,
      actor,
      "dependency.added",
      { type: "dependency", id: `${ticketId}->${on}`, ticket: ticketId },
      null,
      satisfied ? "satisfied" : "waiting",
      {
        dependsOn: on,
        type,
      },
    );
  }

  #removeDep(now: number, ticketId: string, on: string, actor: Actor): void {
    this.db.run("DELETE FROM ticket_deps WHERE ticket_id = ? AND depends_on = ?", [ticketId, on]);
    this.#audit(
      now,
      actor,
      "dependency.removed",
      { type: "dependency", id: `${ticketId}->${on}`, ticket: ticketId },
      null,
      null,
      {
        dependsOn: on,
      },
    );
  }

  /** The dependency path from `from` to `to` (following depends_on), if any. */
  #pathBetween(from: string, to: string): string[] | null {
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
      for (const { depends_on } of this.db.all<R>("SELECT depends_on FROM ticket_deps WHERE ticket_id = ?", [cur])) {
        if (!seen.has(depends_on)) {
          seen.add(depends_on);
          prev.set(depends_on, cur);
          queue.push(depends_on);
        }
      }
    }
    return null;
  }

  /**
   * Makes `ticketId` wait for `dependsOn` to reach a milestone.
   * @param ticketId the blocked ticket
   * @param dependsOn the blocking ticket
   * @param type milestone: completion (default), design, implementation
   * @param actor who does it
   * @throws {BatonError} `not_found`, `dependency_cycle` (with the cycle's path)
   */
  addDependency(
    ticketId: string,
    dependsOn: string,
    type: DependencyType = "completion",
    actor: Actor = "system",
  ): void {
    this.#tx((now) => {
      this.#requireTicket(ticketId);
      this.#addDep(now, ticketId, dependsOn, type, actor);
      this.#resolveTicket(now, ticketId, actor);
    });
  }

  /**
   * Removes a dependency.
   * @param ticketId the blocked ticket
   * @param dependsOn the blocking ticket
   * @param actor who does it
   * @throws {BatonError} `not_found`
   */
  removeDependency(ticketId: string, dependsOn: string, actor: Actor = "system"): void {
    this.#tx((now) => {
      const n = this.db.get<{ n: number }>(
        "SELECT count(*) AS n FROM ticket_deps WHERE ticket_id = ? AND depends_on = ?",
        [ticketId, dependsOn],
      )!.n;
      if (!n) throw new BatonError("not_found", `Ticket ${ticketId} does not depend on ${dependsOn}`);
      this.#removeDep(now, ticketId, dependsOn, actor);
      // Phases that were blocked only by it become available.
      const remaining = this.db.get<{ n: number }>(
        "SELECT count(*) AS n FROM ticket_deps WHERE ticket_id = ? AND satisfied_at IS NULL",
        [ticketId],
      )!.n;
      if (remaining === 0) this.#resolveTicket(now, ticketId, actor);
    });
  }

  #requireTicket(id: string): R {
    const t = this.db.get<R>("SELECT * FROM tickets WHERE id = ?", [id]);
    if (!t) throw new BatonError("not_found", `Ticket ${id} does not exist`);
    return t;
  }

  // -------------------------------------------------------------------------
  // Agents and leases

  /**
   * Registers (or refreshes) an agent.
   * @param agentId unique id
   * @param capabilities agent types it can do
   * @param metadata anything (model, session...)
   */
  registerAgent(agentId: string, capabilities: string[], metadata: Record<string, unknown> = {}): void {
    if (!agentId?.trim()) throw new BatonError("invalid_argument", "An agent needs an id");
    this.#tx((now) => {
      const had = this.db.get<R>("SELECT status FROM agents WHERE id = ?", [agentId]);
      this.db.run(
        `INSERT INTO agents(id, capabilities, metadata, status, registered_at, last_heartbeat) VALUES (?, ?, ?, 'active', ?, ?)
         ON CONFLICT(id) DO UPDATE SET capabilities = excluded.capabilities, metadata = excluded.metadata,
           status = 'active', last_heartbeat = excluded.last_heartbeat`,
        [agentId, JSON.stringify(capabilities), JSON.stringify(metadata), now, now],
      );
      this.#audit(
        now,
        agentId,
        had ? "agent.reregistered" : "agent.registered",
        { type: "agent", id: agentId },
        had?.status ?? null,
        "active",
        {
          capabilities,
        },
      );
    });
  }

  /** Per-phase lease lengths in ms, as JSON for SQL. */
  get #leaseOverrides(): string {
    return (this.#leaseJson ??= JSON.stringify(
      Object.fromEntries(Object.entries(this.cfg.config.leases.per_phase).map(([k, v]) => [k, v * 60_000])),
    ));
  }
  #leaseJson?: string;

  #leaseMs(phaseName: string): number {
    const minutes = this.cfg.config.leases.per_phase[phaseName] ?? this.cfg.config.leases.default_minutes ??
      this.cfg.config.agents.stale_timeout_minutes;
    return minutes * 60_000;
  }

  /** Refreshes an agent's heartbeat and extends the leases it holds. */
  #touch(now: number, agentId: string): void {
    this.db.run("UPDATE agents SET last_heartbeat = ?, status = 'active' WHERE id = ?", [now, agentId]);
    // One statement: each held phase's lease from its own length (per-phase overrides).
    this.db.run(
      `UPDATE phases SET lease_expires_at = ?1 + coalesce((SELECT value FROM json_each(?2) WHERE key = phases.name), ?3)
       WHERE claimed_by = ?4 AND status IN ('claimed', 'running')`,
      [now, this.#leaseOverrides, this.#leaseMs(""), agentId],
    );
  }

  #implicit(now: number, agentId: string): void {
    if (this.cfg.config.agents.heartbeat_implicit) this.#touch(now, agentId);
  }

  /**
   * Records that the agent is alive; extends the leases it holds.
   * @param agentId the agent
   * @param progress optional note that the agent made progress on its phase
   * @throws {BatonError} `not_found` for an unknown agent
   */
  heartbeat(agentId: string, progress?: string): void {
    this.#tx((now) => {
      if (!this.db.get("SELECT 1 AS x FROM agents WHERE id = ?", [agentId])) {
        throw new BatonError("not_found", `Agent ${agentId} is not registered`);
      }
      this.#touch(now, agentId);
      this.db.run(
        "UPDATE phases SET last_progress_at = ? WHERE claimed_by = ? AND status IN ('claimed', 'running')",
        [now, agentId],
      );
      if (progress) {
        this.#audit(now, agentId, "agent.progress", { type: "agent", id: agentId }, null, null, { progress });
      }
    });
  }

  /** Releases every claim whose lease has expired, and readies retries whose backoff passed. */
  #expire(now: number): number {
    let released = 0;
    const stale = this.db.all<R>(
      `SELECT ${PHASE_COLS} FROM phases p WHERE p.status IN ('claimed', 'running') AND p.lease_expires_at < ?`,
      [now],
    );
    for (const row of stale) {
      const holder = row.claimed_by;
      this.#move(now, "system", row, "available", "stale", {
        claimed_by: null,
        claim_token: null,
        lease_expires_at: null,
        available_at: now,
      }, { agent: holder });
      this.#releaseDeclarations(now, row.id);
      const a = this.db.get<R>("SELECT status FROM agents WHERE id = ?", [holder]);
      if (a && a.status !== "stale") {
        this.db.run("UPDATE agents SET status = 'stale' WHERE id = ?", [holder]);
        this.#audit(now, "system", "agent.stale", { type: "agent", id: holder }, a.status, "stale");
      }
      released++;
    }
    const retry = this.db.all<R>(
      `SELECT ${PHASE_COLS} FROM phases p WHERE p.status = 'waiting_retry' AND p.retry_at <= ?`,
      [now],
    );
    for (const row of retry) {
      this.#move(now, "system", row, "available", "retry_ready", { retry_at: null, available_at: now });
    }
    return released;
  }

  #releaseDeclarations(now: number, phaseId: number): void {
    this.db.run("UPDATE file_declarations SET released_at = ? WHERE phase_id = ? AND released_at IS NULL", [
      now,
      phaseId,
    ]);
  }

  /**
   * Releases claims whose lease expired (agents that stopped heartbeating).
   * Claims also expire lazily at the next claim.
   * @returns how many claims came back
   */
  sweepStale(): number {
    return this.#tx((now) => this.#expire(now));
  }

  // -------------------------------------------------------------------------
  // Claims

  /**
   * Claims the best available phase the agent can do: by priority order,
   * then ticket id, then phase order; honouring `max_concurrent` per agent
   * type. Retrying with the same idempotency key returns the same claim.
   *
   * @param req agent id, capabilities, optional idempotency key
   * @returns the claim, or null when nothing is available
   * @throws {BatonError} `invalid_argument`
   */
  claimNext(req: { agentId: string; capabilities: string[]; idempotencyKey?: string }): Claim | null {
    if (!req.agentId) throw new BatonError("invalid_argument", "claimNext needs an agentId");
    if (!req.capabilities?.length) throw new BatonError("invalid_argument", "claimNext needs at least one capability");
    return this.#tx((now) => {
      const replay = this.#replay(req.idempotencyKey, req.agentId);
      if (replay !== undefined) return replay as Claim | null;
      this.#ensureAgent(now, req.agentId, req.capabilities);
      this.#expire(now);
      const full = this.#typesAtCapacity();
      const types = req.capabilities.filter((c) => !full.has(c));
      let claim: Claim | null = null;
      // The best candidate of each capability is one index probe; pick the best of those.
      let best: R | undefined;
      const blocking = this.cfg.config.file_conflicts.mode === "blocking";
      for (const type of types) {
        // In blocking mode, skip candidates whose expected paths collide with active declarations.
        const row = this.db.all<R>(
          `SELECT ${PHASE_COLS}, p.priority_rank, t.metadata AS t_metadata, ${TICKET_COLS} FROM phases p INDEXED BY phases_queue
           JOIN tickets t ON t.id = p.ticket_id
           WHERE p.status = 'available' AND p.agent_type = ?
           ORDER BY p.priority_rank, p.ticket_id, p.seq LIMIT ?`,
          [type, blocking ? 50 : 1],
        ).find((c) => !blocking || this.#overlapsFor(c.id, this.#expectedPaths(JSON.parse(c.t_metadata))).length === 0);
        if (
          row && (!best || row.priority_rank < best.priority_rank ||
            (row.priority_rank === best.priority_rank &&
              (row.ticket_id < best.ticket_id || (row.ticket_id === best.ticket_id && row.seq < best.seq))))
        ) best = row;
      }
      if (best) claim = this.#claimRow(now, req.agentId, best);
      else recordMiss(this.db, now, req.capabilities, "empty");
      this.#remember(now, req.idempotencyKey, req.agentId, claim);
      return claim;
    });
  }

  /**
   * Claims one specific phase.
   * @param phaseId the phase
   * @param req agent id, optional idempotency key
   * @returns the claim
   * @throws {BatonError} `not_found`, `claim_conflict` (held by another agent), `invalid_transition`
   */
  claim(phaseId: number, req: { agentId: string; capabilities?: string[]; idempotencyKey?: string }): Claim {
    try {
      return this.#claimOne(phaseId, req);
    } catch (e) {
      if (e instanceof BatonError && e.code === "claim_conflict") {
        const type = this.db.get<{ agent_type: string }>("SELECT agent_type FROM phases WHERE id = ?", [phaseId]);
        if (type?.agent_type) this.#tx((now) => recordMiss(this.db, now, [type.agent_type], "conflicts"));
      }
      throw e;
    }
  }

  #claimOne(phaseId: number, req: { agentId: string; capabilities?: string[]; idempotencyKey?: string }): Claim {
    return this.#tx((now) => {
      const replay = this.#replay(req.idempotencyKey, req.agentId);
      if (replay !== undefined) return replay as Claim;
      this.#ensureAgent(now, req.agentId, req.capabilities);
      this.#expire(now);
      const row = this.#phaseRow(phaseId);
      if (row.status === "claimed" || row.status === "running") {
        throw new BatonError(
          "claim_conflict",
          `Cannot claim ${what(row.name, row.ticket_id)}: held by ${row.claimed_by}`,
          { details: { holder: row.claimed_by } },
        );
      }
      if (row.agent_type === null) {
        throw new BatonError("forbidden", `Cannot claim ${what(row.name, row.ticket_id)}: it is a human gate`);
      }
      const agent = this.db.get<R>("SELECT capabilities FROM agents WHERE id = ?", [req.agentId])!;
      const caps: string[] = JSON.parse(agent.capabilities);
      if (!caps.includes(row.agent_type)) {
        throw new BatonError(
          "forbidden",
          `Cannot claim ${
            what(row.name, row.ticket_id)
          }: it needs a "${row.agent_type}" agent and ${req.agentId} can do ${caps.join(", ") || "nothing"}`,
        );
      }
      if (row.status === "waiting_retry" && row.retry_at > now) {
        throw new BatonError(
          "invalid_transition",
          `Cannot claim ${what(row.name, row.ticket_id)}: it waits for a retry until ${
            new Date(row.retry_at).toISOString()
          }`,
        );
      }
      if (this.#typesAtCapacity().has(row.agent_type)) {
        throw new BatonError(
          "claim_conflict",
          `Cannot claim ${what(row.name, row.ticket_id)}: "${row.agent_type}" agents are at max_concurrent`,
        );
      }
      const claim = this.#claimRow(now, req.agentId, row);
      this.#remember(now, req.idempotencyKey, req.agentId, claim);
      return claim;
    });
  }

  #ensureAgent(now: number, agentId: string, capabilities?: string[]): void {
    const a = this.db.get<R>("SELECT capabilities FROM agents WHERE id = ?", [agentId]);
    if (!a) {
      this.db.run(
        `INSERT INTO agents(id, capabilities, status, registered_at, last_heartbeat) VALUES (?, ?, 'active', ?, ?)`,
        [agentId, JSON.stringify(capabilities ?? []), now, now],
      );
      this.#audit(now, agentId, "agent.registered", { type: "agent", id: agentId }, null, "active", {
        capabilities: capabilities ?? [],
        implicit: true,
      });
    } else if (capabilities && JSON.stringify(capabilities) !== a.capabilities) {
      this.db.run("UPDATE agents SET capabilities = ? WHERE id = ?", [JSON.stringify(capabilities), agentId]);
    }
    this.#implicit(now, agentId);
  }

  #typesAtCapacity(): Set<string> {
    const full = new Set<string>();
    const registry = this.cfg.config.agents.registry;
    const limited = Object.entries(registry).filter(([, v]) => v.max_concurrent !== undefined);
    if (!limited.length) return full;
    const held = new Map(
      this.db.all<{ agent_type: string; n: number }>(
        "SELECT agent_type, count(*) AS n FROM phases WHERE status IN ('claimed', 'running') GROUP BY agent_type",
      ).map((r) => [r.agent_type, r.n]),
    );
    for (const [type, v] of limited) if ((held.get(type) ?? 0) >= v.max_concurrent!) full.add(type);
    return full;
  }

  /**
   * Claims a phase row read with `PHASE_COLS`; a row that also carries its
   * ticket's `t_metadata` and `TICKET_COLS` (as the queue query reads it)
   * saves reading them again.
   */
  #claimRow(now: number, agentId: string, row: R): Claim {
    const metadata: string = row.t_metadata ??
      this.db.get<{ metadata: string }>("SELECT metadata FROM tickets WHERE id = ?", [row.ticket_id])!.metadata;
    const overlaps = this.#overlapsFor(row.id, this.#expectedPaths(JSON.parse(metadata)));
    if (overlaps.length && this.cfg.config.file_conflicts.mode === "blocking") {
      throw this.#conflictError(`claim ${what(row.name, row.ticket_id)}`, overlaps);
    }
    const token = crypto.randomUUID();
    const lease = now + this.#leaseMs(row.name);
    const set = {
      claimed_by: agentId,
      claim_token: token,
      attempts: row.attempts + 1,
      claimed_at: now,
      lease_expires_at: lease,
      last_progress_at: now,
      retry_at: null,
    };
    this.#move(now, agentId, row, "claimed", "claim", set, { attempt: row.attempts + 1 });
    // #move changed exactly the status and `set`, with a compare-and-set.
    const r = "t_title" in row ? { ...row, ...set } : this.db.get<R>(
      `SELECT ${PHASE_COLS}, ${TICKET_COLS} FROM phases p JOIN tickets t ON t.id = p.ticket_id WHERE p.id = ?`,
      [row.id],
    )!;
    const phase = toPhase(r);
    return {
      overlaps,
      phase,
      ticket: { id: r.ticket_id, title: r.t_title, priority: r.t_priority, path: r.t_path },
      token,
      leaseExpiresAt: lease,
      reworkNotes: phase.reworkNotes,
    };
  }

  #replay(key: string | undefined, agentId: string): unknown | undefined {
    if (!key) return undefined;
    const r = this.db.get<R>("SELECT agent_id, result FROM idempotency WHERE key = ?", [key]);
    if (!r) return undefined;
    if (r.agent_id !== agentId) {
      throw new BatonError("invalid_argument", `Idempotency key "${key}" was used by another agent`);
    }
    return JSON.parse(r.result);
  }

  #remember(now: number, key: string | undefined, agentId: string, result: unknown): void {
    if (!key) return;
    this.db.run("INSERT INTO idempotency(key, agent_id, result, created_at) VALUES (?, ?, ?, ?)", [
      key,
      agentId,
      JSON.stringify(result),
      now,
    ]);
  }

  /** Loads a held phase, checking holder and fencing token. */
  #held(phaseId: number, agentId: string, token: string, action: string): R {
    const row = this.db.get<R>(`SELECT ${PHASE_COLS}, p.claim_token FROM phases p WHERE p.id = ?`, [phaseId]);
    if (!row) throw new BatonError("not_found", `Phase ${phaseId} does not exist`);
    if (row.status !== "claimed" && row.status !== "running") {
      throw new BatonError(
        "invalid_transition",
        `Cannot ${action} ${what(row.name, row.ticket_id)}: it is ${row.status.replace("_", " ")}`,
        { details: { status: row.status } },
      );
    }
    if (row.claimed_by !== agentId) {
      throw new BatonError(
        "claim_conflict",
        `Cannot ${action} ${what(row.name, row.ticket_id)}: held by ${row.claimed_by}`,
        {
          details: { holder: row.claimed_by },
        },
      );
    }
    if (row.claim_token !== token) {
      throw new BatonError(
        "stale_token",
        `Cannot ${action} ${what(row.name, row.ticket_id)}: the claim token is not the current one`,
      );
    }
    return row;
  }

  /**
   * Marks a claimed phase as started.
   * @param phaseId the phase
   * @param req agent id and claim token
   * @throws {BatonError} `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`
   */
  start(phaseId: number, req: { agentId: string; token: string }): Phase {
    return this.#tx((now) => {
      const row = this.#held(phaseId, req.agentId, req.token, "start");
      this.#implicit(now, req.agentId);
      this.#move(now, req.agentId, row, "running", "start", { started_at: now, last_progress_at: now });
      return toPhase(this.#phaseRow(phaseId));
    });
  }

  /**
   * Completes a phase; makes the next phases available in the same transaction.
   * @param phaseId the phase
   * @param req agent id, token, summary, artifacts (paths)
   * @throws {BatonError} `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`
   */
  complete(phaseId: number, req: { agentId: string; token: string; summary?: string; artifacts?: string[] }): Phase {
    return this.#tx((now) => {
      const row = this.#held(phaseId, req.agentId, req.token, "complete");
      this.#implicit(now, req.agentId);
      this.#move(now, req.agentId, row, "completed", "complete", {
        completed_at: now,
        result_summary: req.summary ?? null,
        artifacts: JSON.stringify(req.artifacts ?? []),
        claim_token: null,
        lease_expires_at: null,
        error: null,
      });
      this.#releaseDeclarations(now, phaseId);
      this.#resolveTicket(now, row.ticket_id, req.agentId);
      return toPhase(this.#phaseRow(phaseId));
    });
  }

  /**
   * Reports a failed attempt. The phase is retried after a backoff while
   * attempts remain, then becomes `failed` (needs a human).
   * @param phaseId the phase
   * @param req agent id, token, error text
   * @throws {BatonError} `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`
   */
  fail(phaseId: number, req: { agentId: string; token: string; error: string }): Phase {
    return this.#tx((now) => {
      const row = this.#held(phaseId, req.agentId, req.token, "fail");
      this.#implicit(now, req.agentId);
      const r = this.cfg.config.retry;
      const common = { claimed_by: null, claim_token: null, lease_expires_at: null, error: req.error };
      this.#releaseDeclarations(now, phaseId);
      if (row.attempts < r.max_attempts) {
        const delay = r.backoff_seconds * 1000 * r.backoff_multiplier ** (row.attempts - 1);
        this.#move(now, req.agentId, row, "waiting_retry", "fail", { ...common, retry_at: now + delay }, {
          error: req.error,
          attempt: row.attempts,
          retryAt: now + delay,
        });
      } else {
        this.#move(now, req.agentId, row, "failed", "fail", common, {
          error: req.error,
          attempt: row.attempts,
          final: true,
        });
      }
      return toPhase(this.#phaseRow(phaseId));
    });
  }

  /**
   * Gives a claimed phase back without counting an attempt against it.
   * @param phaseId the phase
   * @param req agent id and token
   * @throws {BatonError} `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`
   */
  release(phaseId: number, req: { agentId: string; token: string; reason?: string }): Phase {
    return this.#tx((now) => {
      const row = this.#held(phaseId, req.agentId, req.token, "release");
      this.#implicit(now, req.agentId);
      this.#move(now, req.agentId, row, "available", "release", {
        claimed_by: null,
        claim_token: null,
        lease_expires_at: null,
        available_at: now,
        attempts: Math.max(0, row.attempts - 1),
      }, req.reason ? { reason: req.reason } : undefined);
      this.#releaseDeclarations(now, phaseId);
      return toPhase(this.#phaseRow(phaseId));
    });
  }

  /**
   * An agent finished its phase but asks a human to review it: downstream
   * stays blocked until the review is approved.
   * @param phaseId the phase
   * @param req agent id, token, summary, artifacts
   * @returns the review gate
   * @throws {BatonError} `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`
   */
  requestReview(
    phaseId: number,
    req: { agentId: string; token: string; summary?: string; artifacts?: string[] },
  ): Gate {
    return this.#tx((now) => {
      const row = this.#held(phaseId, req.agentId, req.token, "request review of");
      this.#implicit(now, req.agentId);
      this.#move(now, req.agentId, row, "awaiting_review", "request_review", {
        result_summary: req.summary ?? null,
        artifacts: JSON.stringify(req.artifacts ?? []),
        claim_token: null,
        lease_expires_at: null,
      });
      this.#releaseDeclarations(now, phaseId);
      this.db.run(
        `INSERT INTO gates(phase_id, ticket_id, kind, status, requested_by, summary, opened_at, revision)
         VALUES (?, ?, 'review', 'open', ?, ?, ?, ?)`,
        [phaseId, row.ticket_id, req.agentId, req.summary ?? null, now, row.revisions],
      );
      const gid = this.db.get<{ id: number }>("SELECT last_insert_rowid() AS id")!.id;
      this.#audit(now, req.agentId, "gate.opened", { type: "gate", id: gid, ticket: row.ticket_id }, null, "open", {
        phase: row.name,
        kind: "review",
      });
      return this.gate(gid);
    });
  }

  // -------------------------------------------------------------------------
  // Gates

  #decider(actor: Actor, gate: Gate, verbText: string): void {
    const isHuman = typeof actor === "object" && actor.kind === "human";
    if (!isHuman && !this.cfg.config.gates.allow_agents) {
      throw new BatonError(
        "forbidden",
        `Cannot ${verbText} gate ${gate.id} (${gate.phaseName} of ticket ${gate.ticketId}): only a human decides gates`,
      );
    }
    if (gate.status !== "open") {
      throw new BatonError(
        "invalid_transition",
        `Cannot ${verbText} gate ${gate.id} (${gate.phaseName} of ticket ${gate.ticketId}): it is already ${gate.status}`,
      );
    }
  }

  /**
   * Approves a gate: the gated phase completes and the next phases open.
   * @param gateId the gate
   * @param req the deciding human and optional notes
   * @throws {BatonError} `forbidden` (not a human), `invalid_transition` (decided already), `not_found`
   */
  approveGate(gateId: number, req: { actor: Actor; notes?: string }): Gate {
    return this.#tx((now) => {
      const gate = this.gate(gateId);
      this.#decider(req.actor, gate, "approve");
      this.db.run(
        "UPDATE gates SET status = 'approved', decided_at = ?, decided_by = ?, notes = ? WHERE id = ? AND status = 'open'",
        [now, actorName(req.actor), req.notes ?? null, gateId],
      );
      this.#audit(
        now,
        req.actor,
        "gate.approved",
        { type: "gate", id: gateId, ticket: gate.ticketId },
        "open",
        "approved",
        {
          phase: gate.phaseName,
          notes: req.notes ?? null,
        },
      );
      const row = this.#phaseRow(gate.phaseId);
      this.#move(now, req.actor, row, "completed", "approve", {
        completed_at: now,
        claimed_by: null,
        rework_notes: null,
      });
      this.#resolveTicket(now, gate.ticketId, req.actor);
      return this.gate(gateId);
    });
  }

  /**
   * Rejects a gate (requests changes): the reviewed work goes back to the
   * agents with the notes; after `gates.max_revisions` rejections the gate
   * escalates to a human instead (the phase becomes `failed`).
   * @param gateId the gate
   * @param req the deciding human and the notes (required)
   * @throws {BatonError} `forbidden`, `invalid_transition`, `invalid_argument` (no notes), `not_found`
   */
  rejectGate(gateId: number, req: { actor: Actor; notes: string }): Gate {
    if (!req.notes?.trim()) {
      throw new BatonError("invalid_argument", "Rejecting a gate needs notes saying what to change");
    }
    return this.#tx((now) => {
      const gate = this.gate(gateId);
      this.#decider(req.actor, gate, "reject");
      const row = this.#phaseRow(gate.phaseId);
      const revision = row.revisions + 1;
      const escalate = revision > this.cfg.config.gates.max_revisions;
      const status = escalate ? "escalated" : "rejected";
      this.db.run(
        "UPDATE gates SET status = ?, decided_at = ?, decided_by = ?, notes = ? WHERE id = ? AND status = 'open'",
        [status, now, actorName(req.actor), req.notes, gateId],
      );
      this.#audit(
        now,
        req.actor,
        `gate.${status}`,
        { type: "gate", id: gateId, ticket: gate.ticketId },
        "open",
        status,
        {
          phase: gate.phaseName,
          notes: req.notes,
          revision,
        },
      );
      if (escalate) {
        this.#move(now, req.actor, row, "failed", "reject", {
          revisions: revision,
          error: `escalated after ${revision - 1} revision(s): ${req.notes}`,
        });
        return this.gate(gateId);
      }
      if (gate.kind === "review") {
        // The agent's own phase goes back for rework.
        this.#move(now, req.actor, row, "available", "reject", {
          revisions: revision,
          rework_notes: req.notes,
          claimed_by: null,
          available_at: now,
        });
      } else {
        this.#reopenForRework(now, req.actor, row, revision, req.notes);
      }
      this.#resolveTicket(now, gate.ticketId, req.actor);
      return this.gate(gateId);
    });
  }

  /** A gate phase was rejected: reopen the phases it reviews and everything between them and the gate. */
  #reopenForRework(now: number, actor: Actor, gateRow: R, revision: number, notes: string): void {
    const def = this.#defs.get(gateRow.name);
    const reviewed = new Set(def?.reviews ?? []);
    // Every phase on a path from a reviewed phase to the gate is reset.
    const between = new Set<string>();
    const reaches = (name: string, seen = new Set<string>()): boolean => {
      if (name === gateRow.name) return true;
      if (seen.has(name)) return false;
      seen.add(name);
      const after = this.cfg.workflow.phases.filter((p) => p.after.includes(name));
      let r = false;
      for (const p of after) if (reaches(p.name, seen)) r = true;
      return r;
    };
    for (const p of this.cfg.workflow.phases) {
      if (p.name === gateRow.name) continue;
      const fromReviewed = [...reviewed].some((r) => r === p.name || this.#isAfter(p.name, r));
      if (fromReviewed && reaches(p.name)) between.add(p.name);
    }
    const rows = this.db.all<R>(`SELECT ${PHASE_COLS} FROM phases p WHERE p.ticket_id = ? ORDER BY p.seq`, [
      gateRow.ticket_id,
    ]);
    for (const r of rows) {
      if (!between.has(r.name) || r.status === "skipped") continue;
      if (r.status === "claimed" || r.status === "running") {
        // Work in progress downstream of rejected work is void: the holder's token dies.
        this.#move(now, actor, r, "available", "release", {
          claimed_by: null,
          claim_token: null,
          lease_expires_at: null,
        });
      }
      if (r.status !== "pending") {
        this.#move(now, actor, r, "pending", "rework", {
          claimed_by: null,
          claim_token: null,
          lease_expires_at: null,
          completed_at: null,
          retry_at: null,
          rework_notes: reviewed.has(r.name) ? notes : r.rework_notes,
        }, { gate: gateRow.name });
      } else if (reviewed.has(r.name)) {
        this.db.run("UPDATE phases SET rework_notes = ? WHERE id = ?", [notes, r.id]);
      }
    }
    this.#move(now, actor, gateRow, "pending", "rework", { revisions: revision, claimed_by: null });
  }

  #isAfter(name: string, earlier: string, seen = new Set<string>()): boolean {
    const def = this.#defs.get(name);
    if (!def || seen.has(name)) return false;
    seen.add(name);
    return def.after.includes(earlier) || def.after.some((a) => this.#isAfter(a, earlier, seen));
  }

  /**
   * One gate.
   * @param gateId the gate
   * @throws {BatonError} `not_found`
   */
  gate(gateId: number): Gate {
    const r = this.db.get<R>(
      "SELECT g.*, p.name AS phase_name FROM gates g JOIN phases p ON p.id = g.phase_id WHERE g.id = ?",
      [gateId],
    );
    if (!r) throw new BatonError("not_found", `Gate ${gateId} does not exist`);
    return toGate(r);
  }

  /**
   * Gates, open ones by default, oldest first.
   * @param filter status (or "all") and ticket
   */
  gates(filter: { status?: Gate["status"] | "all"; ticketId?: string } = {}): Gate[] {
    const status = filter.status ?? "open";
    return this.db.all<R>(
      `SELECT g.*, p.name AS phase_name FROM gates g JOIN phases p ON p.id = g.phase_id
       WHERE (? = 'all' OR g.status = ?) AND (? IS NULL OR g.ticket_id = ?) ORDER BY g.opened_at, g.id`,
      [status, status, filter.ticketId ?? null, filter.ticketId ?? null],
    ).map(toGate);
  }

  // -------------------------------------------------------------------------
  // Queries

  /**
   * A ticket with its phases, gates and dependencies.
   * @param id ticket id
   * @throws {BatonError} `not_found`
   */
  ticket(id: string): TicketDetail {
    const t = this.#requireTicket(id);
    const deps = (sql: string) =>
      this.db.all<R>(sql, [id]).map((d) => ({
        ticketId: d.ticket_id,
        dependsOn: d.depends_on,
        type: d.type,
        satisfiedAt: d.satisfied_at,
      }));
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
      phases: this.db.all<R>(`SELECT ${PHASE_COLS} FROM phases p WHERE p.ticket_id = ? ORDER BY p.seq`, [id]).map(
        toPhase,
      ),
      gates: this.gates({ status: "all", ticketId: id }),
      dependencies: deps("SELECT * FROM ticket_deps WHERE ticket_id = ? ORDER BY depends_on"),
      dependents: deps("SELECT * FROM ticket_deps WHERE depends_on = ? ORDER BY ticket_id"),
    };
  }

  /**
   * Tickets matching a filter, in priority order.
   * @param filter status, priority, component (metadata `components`/`component`), agent holding a phase, blocked
   */
  listTickets(
    filter: {
      status?: "active" | "completed";
      priority?: string;
      component?: string;
      agent?: string;
      blocked?: boolean;
    } = {},
  ): { id: string; title: string; status: string; priority: string | null; phase: string | null; blocked: boolean }[] {
    const rows = this.db.all<R>(
      `SELECT t.id, t.title, t.status, t.priority, t.metadata,
         (SELECT name FROM phases p WHERE p.ticket_id = t.id AND p.status NOT IN ('completed', 'skipped') ORDER BY p.seq LIMIT 1) AS phase,
         EXISTS (SELECT 1 FROM ticket_deps d WHERE d.ticket_id = t.id AND d.satisfied_at IS NULL) AS blocked,
         EXISTS (SELECT 1 FROM phases p WHERE p.ticket_id = t.id AND p.claimed_by = ? AND p.status IN ('claimed', 'running')) AS held
       FROM tickets t
       WHERE (? IS NULL OR t.status = ?) AND (? IS NULL OR lower(t.priority) = lower(?))
       ORDER BY t.priority_rank, t.id`,
      [
        filter.agent ?? null,
        filter.status ?? null,
        filter.status ?? null,
        filter.priority ?? null,
        filter.priority ?? null,
      ],
    );
    return rows.filter((r) => {
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

  /**
   * The agent types of the workflow with their `agents.registry` settings
   * (how a supervisor starts one, how many may work at once) and the work
   * each has now.
   */
  agentTypes(): {
    type: string;
    command: string | null;
    args: string[];
    maxConcurrent: number | null;
    held: number;
    available: number;
  }[] {
    const counts = new Map<string, { held: number; available: number }>();
    for (
      const r of this.db.all<{ agent_type: string; held: number; available: number }>(
        `SELECT agent_type, sum(status IN ('claimed', 'running')) AS held, sum(status = 'available') AS available
         FROM phases WHERE agent_type IS NOT NULL GROUP BY agent_type`,
      )
    ) counts.set(r.agent_type, { held: r.held, available: r.available });
    const types = new Set([
      ...this.cfg.workflow.phases.map((p) => p.agentType).filter((t): t is string => t !== null),
      ...Object.keys(this.cfg.config.agents.registry),
    ]);
    return [...types].sort().map((type) => {
      const reg = this.cfg.config.agents.registry[type];
      return {
        type,
        command: reg?.command ?? null,
        args: reg?.args ?? [],
        maxConcurrent: reg?.max_concurrent ?? null,
        held: counts.get(type)?.held ?? 0,
        available: counts.get(type)?.available ?? 0,
      };
    });
  }

  /** Registered agents, with what each holds now. */
  agents(): {
    id: string;
    status: string;
    capabilities: string[];
    registeredAt: number;
    lastHeartbeat: number;
    holds: { phaseId: number; ticketId: string; phase: string; status: string }[];
  }[] {
    const holds = this.db.all<R>(
      "SELECT id, ticket_id, name, status, claimed_by FROM phases WHERE status IN ('claimed', 'running') ORDER BY id",
    );
    return this.db.all<R>("SELECT * FROM agents ORDER BY id").map((a) => ({
      id: a.id,
      status: a.status,
      capabilities: JSON.parse(a.capabilities),
      registeredAt: a.registered_at,
      lastHeartbeat: a.last_heartbeat,
      holds: holds.filter((h) => h.claimed_by === a.id).map((h) => ({
        phaseId: h.id,
        ticketId: h.ticket_id,
        phase: h.name,
        status: h.status,
      })),
    }));
  }

  /**
   * Ticket dependencies, all or of one ticket (both directions).
   * @param ticketId only those where this ticket waits or is waited for
   */
  dependencies(ticketId?: string): Dependency[] {
    return this.db.all<R>(
      `SELECT * FROM ticket_deps WHERE ? IS NULL OR ticket_id = ? OR depends_on = ? ORDER BY ticket_id, depends_on`,
      [ticketId ?? null, ticketId ?? null, ticketId ?? null],
    ).map((d) => ({ ticketId: d.ticket_id, dependsOn: d.depends_on, type: d.type, satisfiedAt: d.satisfied_at }));
  }

  /** Everything that cannot proceed, with the reason. */
  blocked(): BlockedItem[] {
    const out: BlockedItem[] = [];
    for (const g of this.gates()) {
      out.push({
        ticketId: g.ticketId,
        phaseId: g.phaseId,
        phaseName: g.phaseName,
        reason: g.kind === "gate" ? "gate" : "review",
        detail: `gate ${g.id} waits for a human decision`,
        since: g.openedAt,
      });
    }
    for (
      const d of this.db.all<R>(
        `SELECT d.*, (SELECT status FROM tickets WHERE id = d.depends_on) AS other FROM ticket_deps d
       WHERE d.satisfied_at IS NULL ORDER BY d.ticket_id, d.depends_on`,
      )
    ) {
      out.push({
        ticketId: d.ticket_id,
        phaseId: null,
        phaseName: null,
        reason: "dependency",
        detail: `waits for ${d.depends_on} (${d.type})${d.other ? "" : "; that ticket does not exist yet"}`,
        since: d.created_at,
      });
    }
    for (
      const p of this.db.all<R>(
        `SELECT ${PHASE_COLS} FROM phases p WHERE p.status IN ('waiting_retry', 'failed') ORDER BY p.ticket_id, p.seq`,
      )
    ) {
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
    return out;
  }

  /**
   * Available phases for an agent type, in the order claims take them.
   * @param agentType the agent type
   */
  queue(agentType: string): Phase[] {
    return this.db.all<R>(
      `SELECT ${PHASE_COLS} FROM phases p WHERE p.status = 'available' AND p.agent_type = ?
       ORDER BY p.priority_rank, p.ticket_id, p.seq`,
      [agentType],
    ).map(toPhase);
  }

  /**
   * Audit rows, oldest first.
   * @param filter ticket (all its entities), agent (as actor), time range (ms), limit
   */
  audit(
    filter: { ticketId?: string; agentId?: string; since?: number; until?: number; limit?: number } = {},
  ): AuditEntry[] {
    return this.db.all<R>(
      `SELECT * FROM audit WHERE (? IS NULL OR ticket_id = ?) AND (? IS NULL OR actor = ?)
         AND (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?) ORDER BY id LIMIT ?`,
      [
        filter.ticketId ?? null,
        filter.ticketId ?? null,
        filter.agentId ?? null,
        filter.agentId ?? null,
        filter.since ?? null,
        filter.since ?? null,
        filter.until ?? null,
        filter.until ?? null,
        filter.limit ?? -1,
      ],
    ).map(toAudit);
  }

  /**
   * Everything an agent needs to start a phase, in one call, fitted to a
   * byte budget (config `context.budget_bytes`) by trimming the least
   * important parts first.
   *
   * @param target the phase, or the agent (its held phase)
   * @param opts byte budget override
   * @returns the assembled context
   * @throws {BatonError} `not_found` (unknown phase, or the agent holds none)
   */
  context(target: { phaseId: number } | { agentId: string }, opts: { budgetBytes?: number } = {}): AgentContext {
    let row: R | undefined;
    if ("phaseId" in target) {
      row = this.#phaseRow(target.phaseId);
    } else {
      row = this.db.get<R>(
        `SELECT ${PHASE_COLS} FROM phases p WHERE p.claimed_by = ? AND p.status IN ('claimed', 'running')
         ORDER BY p.claimed_at DESC LIMIT 1`,
        [target.agentId],
      );
      if (!row) throw new BatonError("not_found", `Agent ${target.agentId} holds no phase`);
    }
    const t = this.#requireTicket(row.ticket_id);
    const def = this.#defs.get(row.name);
    const meta = JSON.parse(t.metadata) as Record<string, unknown>;
    // The reviewer's notes: the phase's own rework notes, else the last rejection of a gate reviewing it.
    const notes = row.rework_notes ?? this.db.get<{ notes: string }>(
      `SELECT g.notes FROM gates g WHERE g.ticket_id = ? AND g.status = 'rejected'
         AND (g.phase_id = ? OR g.phase_id IN (SELECT id FROM phases WHERE ticket_id = ? AND name IN (SELECT value FROM json_each(?))))
       ORDER BY g.decided_at DESC LIMIT 1`,
      [row.ticket_id, row.id, row.ticket_id, JSON.stringify(this.#gatesReviewing(row.name))],
    )?.notes ?? null;
    const previous = this.db.all<R>(
      `SELECT ${PHASE_COLS} FROM phases p WHERE p.ticket_id = ? AND p.seq < ? AND p.status = 'completed' ORDER BY p.seq`,
      [row.ticket_id, row.seq],
    ).map(toPhase);
    const ctx: AgentContext = {
      phase: {
        id: row.id,
        name: row.name,
        agentType: row.agent_type,
        status: row.status,
        attempt: row.attempts,
        description: def?.description ?? null,
        heldBy: row.claimed_by,
      },
      ticket: { id: t.id, title: t.title, priority: t.priority, path: t.path, metadata: meta },
      reworkNotes: notes,
      previousPhases: previous.map((p) => ({
        name: p.name,
        status: p.status,
        summary: p.resultSummary,
        artifacts: p.artifacts,
      })),
      openDependencies: this.db.all<R>(
        "SELECT depends_on, type FROM ticket_deps WHERE ticket_id = ? AND satisfied_at IS NULL ORDER BY depends_on",
        [t.id],
      ).map((d) => ({ dependsOn: d.depends_on, type: d.type })),
      overlaps: this.#overlapsFor(row.id, this.#pathsOf(row.id, meta)),
      markdown: t.path ? readRepoFile(this.cfg.repoRoot, t.path) : null,
      files: this.cfg.config.context.always_include.map((f) => readRepoFile(this.cfg.repoRoot, f)).filter((
        f,
      ): f is ContextFile => f !== null),
      trimmed: [],
      bytes: 0,
      budgetBytes: opts.budgetBytes ?? this.cfg.config.context.budget_bytes,
    };
    return fitToBudget(ctx);
  }

  // -------------------------------------------------------------------------
  // File declarations

  /** A ticket's expected paths, from its metadata (`paths`, a list). */
  #expectedPaths(meta: Record<string, unknown>): string[] {
    const raw = meta.paths;
    const list = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? raw.split(",") : [];
    const out: string[] = [];
    for (const p of list.map((x) => x.trim()).filter((x) => x)) {
      try {
        out.push(normalizeRepoPath(p));
      } catch { /* a bad expected path is ignored here; the import reports it */ }
    }
    return out;
  }

  /** The paths a phase is known to touch: its active declarations and its ticket's expected paths. */
  #pathsOf(phaseId: number, meta: Record<string, unknown>): string[] {
    const declared = this.db.all<{ pattern: string }>(
      "SELECT pattern FROM file_declarations WHERE phase_id = ? AND released_at IS NULL",
      [phaseId],
    ).map((r) => r.pattern);
    return [...new Set([...declared, ...this.#expectedPaths(meta)])];
  }

  /** Other active phases' declarations that overlap `paths`. */
  #overlapsFor(phaseId: number | null, paths: string[]): AgentContext["overlaps"] {
    if (paths.length === 0) return [];
    const active = this.db.all<R>(
      `SELECT d.pattern, d.phase_id, d.agent_id, p.ticket_id, p.name FROM file_declarations d
       JOIN phases p ON p.id = d.phase_id
       WHERE d.released_at IS NULL AND p.status IN ('claimed', 'running') AND (? IS NULL OR d.phase_id <> ?)
       ORDER BY d.id`,
      [phaseId, phaseId],
    );
    const out: AgentContext["overlaps"] = [];
    for (const a of active) {
      for (const mine of paths) {
        if (globsOverlap(mine, a.pattern)) {
          out.push({
            pattern: mine,
            otherPattern: a.pattern,
            phaseId: a.phase_id,
            ticketId: a.ticket_id,
            phase: a.name,
            agentId: a.agent_id,
          });
        }
      }
    }
    return out;
  }

  #conflictError(what: string, overlaps: AgentContext["overlaps"]): BatonError {
    const o = overlaps[0];
    const more = overlaps.length > 1 ? ` (and ${overlaps.length - 1} more)` : "";
    return new BatonError(
      "file_conflict",
      `Cannot ${what}: ${o.pattern} overlaps ${o.otherPattern} declared by ${o.agentId} for phase "${o.phase}" of ticket ${o.ticketId}${more}`,
      { details: { overlaps } },
    );
  }

  /**
   * Declares the files (paths or globs, repository-relative) a held phase
   * will touch. Overlaps with other active phases' declarations are
   * reported; with `file_conflicts.mode: blocking` they refuse the
   * declaration, and nothing is recorded.
   *
   * @param phaseId the held phase
   * @param req agent id, token, paths
   * @returns the normalized declared paths and the overlaps found
   * @throws {BatonError} `invalid_argument` (a path escaping the repository), `file_conflict`,
   *   `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`
   */
  declareFiles(
    phaseId: number,
    req: { agentId: string; token: string; paths: string[] },
  ): { declared: string[]; overlaps: AgentContext["overlaps"] } {
    if (!Array.isArray(req.paths) || req.paths.length === 0) {
      throw new BatonError("invalid_argument", "declareFiles needs at least one path");
    }
    const paths = [...new Set(req.paths.map((p) => normalizeRepoPath(p)))];
    return this.#tx((now) => {
      const row = this.#held(phaseId, req.agentId, req.token, "declare files for");
      this.#implicit(now, req.agentId);
      const overlaps = this.#overlapsFor(phaseId, paths);
      if (overlaps.length && this.cfg.config.file_conflicts.mode === "blocking") {
        throw this.#conflictError(`declare files for ${what(row.name, row.ticket_id)}`, overlaps);
      }
      const have = new Set(
        this.db.all<{ pattern: string }>(
          "SELECT pattern FROM file_declarations WHERE phase_id = ? AND released_at IS NULL",
          [phaseId],
        ).map((r) => r.pattern),
      );
      for (const p of paths) {
        if (!have.has(p)) {
          this.db.run("INSERT INTO file_declarations(phase_id, agent_id, pattern, declared_at) VALUES (?, ?, ?, ?)", [
            phaseId,
            req.agentId,
            p,
            now,
          ]);
        }
      }
      this.db.run("UPDATE phases SET last_progress_at = ? WHERE id = ?", [now, phaseId]);
      this.#audit(
        now,
        req.agentId,
        "files.declared",
        { type: "phase", id: phaseId, ticket: row.ticket_id },
        null,
        null,
        {
          phase: row.name,
          paths,
          overlaps: overlaps.length,
        },
      );
      return { declared: paths, overlaps };
    });
  }

  /**
   * Which active declarations would overlap these paths (read-only).
   * @param paths paths or globs, repository-relative
   * @param opts a phase whose own declarations to ignore
   * @returns the overlaps
   * @throws {BatonError} `invalid_argument` for a path escaping the repository
   */
  checkConflicts(paths: string[], opts: { phaseId?: number } = {}): AgentContext["overlaps"] {
    return this.#overlapsFor(opts.phaseId ?? null, paths.map((p) => normalizeRepoPath(p)));
  }

  /** Active declarations, for dashboards and `baton doctor`. */
  declarations(): {
    phaseId: number;
    ticketId: string;
    phase: string;
    agentId: string;
    pattern: string;
    declaredAt: number;
  }[] {
    return this.db.all<R>(
      `SELECT d.phase_id, p.ticket_id, p.name, d.agent_id, d.pattern, d.declared_at FROM file_declarations d
       JOIN phases p ON p.id = d.phase_id WHERE d.released_at IS NULL ORDER BY d.id`,
    ).map((r) => ({
      phaseId: r.phase_id,
      ticketId: r.ticket_id,
      phase: r.name,
      agentId: r.agent_id,
      pattern: r.pattern,
      declaredAt: r.declared_at,
    }));
  }

  /**
   * Up to `n` available phases that can safely run side by side: their
   * tickets' expected paths overlap neither each other nor any active
   * declaration. Phases whose tickets declare no paths are included, marked
   * `pathsKnown: false` (nothing is known to conflict).
   *
   * @param n how many at most
   * @param capabilities only phases of these agent types
   * @returns the phases in claim order
   */
  readyParallel(n: number, capabilities?: string[]): (Phase & { paths: string[]; pathsKnown: boolean })[] {
    const rows = this.db.all<R>(
      `SELECT ${PHASE_COLS}, t.metadata AS t_metadata FROM phases p JOIN tickets t ON t.id = p.ticket_id
       WHERE p.status = 'available' AND (? IS NULL OR p.agent_type IN (SELECT value FROM json_each(?)))
       ORDER BY p.priority_rank, p.ticket_id, p.seq`,
      [capabilities ? 1 : null, JSON.stringify(capabilities ?? [])],
    );
    const chosen: (Phase & { paths: string[]; pathsKnown: boolean })[] = [];
    const taken: string[] = [];
    for (const r of rows) {
      if (chosen.length >= n) break;
      const paths = this.#expectedPaths(JSON.parse(r.t_metadata));
      if (paths.length) {
        if (this.#overlapsFor(null, paths).length) continue;
        if (paths.some((a) => taken.some((b) => globsOverlap(a, b)))) continue;
        taken.push(...paths);
      }
      chosen.push({ ...toPhase(r), paths, pathsKnown: paths.length > 0 });
    }
    return chosen;
  }

  /** Gate phases whose `reviews` include `phaseName`. */
  #gatesReviewing(phaseName: string): string[] {
    return this.cfg.workflow.phases.filter((p) => p.agentType === null && p.reviews.includes(phaseName)).map((p) =>
      p.name
    );
  }

  /**
   * Metrics over the database (see {@link Metrics}).
   * @param opts window start in ms (default: all time)
   * @returns the metrics
   */
  metrics(opts: { since?: number } = {}): Metrics {
    return computeMetrics(this.db, {
      since: opts.since,
      now: this.#clock(),
      stallTimeoutMs: this.cfg.config.stall_timeout_minutes * 60_000,
    });
  }

  /** Held phases with no progress for longer than `stall_timeout_minutes`. */
  stalled(): Stalled[] {
    return findStalled(this.db, this.#clock(), this.cfg.config.stall_timeout_minutes * 60_000);
  }

  /**
   * Audit rows after a cursor: the feed a dashboard or script follows.
   * @param opts `since` (an audit id; 0 for everything), ticket, agent, limit
   * @returns the rows, oldest first; pass the last id as the next `since`
   */
  events(opts: { since: number; ticketId?: string; agentId?: string; limit?: number }): AuditEntry[] {
    return this.db.all<R>(
      `SELECT * FROM audit WHERE id > ? AND (? IS NULL OR ticket_id = ?) AND (? IS NULL OR actor = ?) ORDER BY id LIMIT ?`,
      [
        opts.since,
        opts.ticketId ?? null,
        opts.ticketId ?? null,
        opts.agentId ?? null,
        opts.agentId ?? null,
        opts.limit ?? 1000,
      ],
    ).map(toAudit);
  }

  /**
   * Yields audit rows as they are written, by this or any other process.
   * Polls cheaply: `PRAGMA data_version` tells when another connection
   * committed, and only then are new rows read.
   *
   * @param opts cursor and filters as in {@link events}, poll interval, abort signal
   * @returns an async iterator of audit rows
   */
  async *watch(
    opts: { since?: number; ticketId?: string; agentId?: string; pollMs?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<AuditEntry> {
    let since = opts.since ?? this.db.get<{ id: number }>("SELECT coalesce(max(id), 0) AS id FROM audit")!.id;
    let version = -1;
    while (!opts.signal?.aborted) {
      const v = this.db.get<{ data_version: number }>("PRAGMA data_version")!.data_version;
      if (v !== version) {
        version = v;
        for (;;) {
          const rows = this.events({ since, ticketId: opts.ticketId, agentId: opts.agentId, limit: 500 });
          for (const r of rows) {
            since = r.id;
            yield r;
          }
          if (rows.length < 500) break;
        }
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, opts.pollMs ?? 100);
        opts.signal?.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }
}

/**
 * Opens the engine for the repository containing `repoDir`: loads
 * `.workflow/`, opens (and migrates) the database.
 *
 * @param repoDir the repository or any directory inside it
 * @param options clock, journal mode override
 * @returns the engine
 * @throws {BatonError} `config_not_found`, `config_invalid`, `database_*`, `migration_failed`
 * @example Without a `.workflow/`, a coded error says what to do
 * ```ts
 * import assert from "node:assert/strict";
 * import { BatonError, openEngine } from "../mod.ts";
 * try {
 *   await openEngine(await Deno.makeTempDir());
 * } catch (e) {
 *   assert(e instanceof BatonError && e.code === "config_not_found");
 * }
 * ```
 */
export async function openEngine(repoDir: string, options: EngineOptions = {}): Promise<Engine> {
  const cfg = await loadWorkflowConfigCached(repoDir);
  const dbPath = databasePath(cfg);
  const db = await openBatonDatabase(dbPath, {
    journalMode: options.journalMode ?? cfg.config.database.journal_mode,
    busyTimeoutMs: cfg.config.database.busy_timeout_ms,
    backgroundCheckpoint: cfg.config.database.checkpoint === "background",
  });
  const engine = new Engine(db, cfg, options.clock);
  if (cfg.config.markdown_sync.mode === "realtime") {
    const { syncTicket } = await import("./tickets.ts");
    engine.onTicketsChanged = (ids) => {
      for (const id of ids) {
        try {
          if (engine.db.get("SELECT 1 AS x FROM tickets WHERE id = ? AND path IS NOT NULL", [id])) {
            syncTicket(engine, id);
          }
        } catch (e) {
          console.error(`warning: writing ticket ${id} back to markdown failed: ${(e as Error).message}`);
        }
      }
    };
  }
  return engine;
}

/** Helper for tests and scripts: true when every phase of the ticket is done. */
export function ticketDone(t: TicketDetail): boolean {
  return t.phases.every((p) => (DONE as string[]).includes(p.status));
}
