/**
 * What every part of the engine works with: the database, the
 * configuration and its graph, the clock, and the request in progress
 * (one transaction, one correlation id for its audit rows, the tickets it
 * changed, the hooks to run after the outermost commit).
 *
 * @module
 */
import type { WorkflowGraph } from "../config/graph.ts";
import type { WorkflowConfig } from "../config/schema.ts";
import type { Database } from "../storage/sqlite.ts";
import { insertAudit } from "./sql/audit.ts";
import { type MachineTime, SharedClock, type TxTimes } from "./clock.ts";
import { upgradedMeanwhile } from "./database.ts";
import { latestVersion } from "./schema/mod.ts";
import type { Actor } from "./types.ts";
import { checkName } from "./limits.ts";

/** The name an actor is recorded under: `human:NAME`, an agent id, or `system`. */
export function actorName(a: Actor): string {
  if (typeof a === "string") return a;
  if (a.kind !== "human") return a.id;
  checkName(a.name, "A human's name"); // recorded with every decision: one visible line
  return `human:${a.name}`;
}

/** `phase "Design" of ticket 0083`, for messages. */
export const what = (name: string, ticket: string): string => `phase "${name}" of ticket ${ticket}`;

/** An entity an audit row is about. */
export interface Entity {
  type: string;
  id: string | number;
  ticket?: string | null;
}

/** The engine's state, shared by its modules. */
export class Core {
  /** The request in progress: its correlation id (empty between requests). */
  #corr = "";
  /** Tickets whose phases the request changed. */
  #changed = new Set<string>();
  /** Run after each outermost commit: the lazy retention policy (set by `openEngineWithoutWriteBack`). */
  maintenance?: () => void;
  /** Loads `.workflow/` again when its files changed (set by `openEngineWith`): see `Engine.followConfigEdits`. */
  followConfig?: () => Promise<boolean>;
  /** Who the calls in progress act for (a token holder of the HTTP server), recorded in the audit as `via`. */
  principal?: string;
  /** When this process last looked whether the hourly retention run is due. */
  pruneCheckedAt = -Infinity;
  /**
   * Transactions this engine committed: SQLite's `data_version` tells a
   * connection of other connections' commits only, so a watcher of this
   * engine reads both.
   */
  commits = 0;
  /** The times of the transaction in progress (see `clock.ts`). */
  #times: TxTimes | undefined;
  /** This engine's view of the clock the processes share. */
  readonly shared: SharedClock;

  /**
   * @param db the open, migrated database
   * @param cfg the configuration
   * @param graph its workflow graph
   * @param clock ms since the epoch
   * @param afterCommit called with the tickets a request changed, after the outermost commit
   * @param machine the machine's boot clock (`processes.ts` `machineTime`; null where not known)
   */
  constructor(
    readonly db: Database,
    public cfg: WorkflowConfig,
    public graph: WorkflowGraph,
    readonly clock: () => number,
    readonly afterCommit?: (ticketIds: string[]) => void,
    machine: () => MachineTime | null = () => null,
  ) {
    const leases = [cfg.config.leases.default_minutes ?? cfg.config.agents.stale_timeout_minutes]
      .concat(Object.values(cfg.config.leases.per_phase));
    const tolerance = typeof cfg.config.agents.clock_tolerance_seconds === "number"
      ? cfg.config.agents.clock_tolerance_seconds * 1000
      : Math.min(...leases) * 60_000 / 2;
    const toleranceSet = typeof cfg.config.agents.clock_tolerance_seconds === "number";
    this.shared = new SharedClock(clock, tolerance, crypto.randomUUID(), machine, toleranceSet);
  }

  /**
   * The time expiry is judged by in the transaction in progress (witnessed
   * time: see `clock.ts`); outside one, this process's clock.
   */
  get expiryNow(): number {
    return this.#times?.expiry ?? this.clock();
  }

  /**
   * Runs a request: one transaction (a savepoint inside a caller's), one
   * correlation id for its audit rows. The after-commit hook gets the
   * changed tickets once the outermost transaction commits, whoever opened it.
   */
  tx<T>(fn: (now: number) => T): T {
    if (this.#corr) return this.db.transaction(() => fn(this.#times?.now ?? this.clock()));
    this.#corr = crypto.randomUUID();
    try {
      const result = this.db.transaction(() => {
        const times = this.#times = this.shared.begin(this.db);
        if (times.schema > latestVersion) throw upgradedMeanwhile(this.db.path, times.schema);
        const r = fn(times.now);
        this.shared.end(this.db, times);
        const ids = [...this.#changed];
        if (ids.length && this.afterCommit) {
          const hook = this.afterCommit;
          this.db.afterCommit(() => hook(ids));
        }
        if (this.maintenance) this.db.afterCommit(this.maintenance);
        return r;
      });
      this.commits++;
      return result;
    } finally {
      this.#corr = "";
      this.#times = undefined;
      this.#changed.clear();
    }
  }

  /** Notes that a ticket's phases changed in this request. */
  touched(ticketId: string): void {
    this.#changed.add(ticketId);
  }

  /** Appends an audit row of the request in progress. */
  audit(
    now: number,
    actor: Actor,
    action: string,
    entity: Entity,
    oldState: string | null,
    newState: string | null,
    details?: Record<string, unknown>,
  ): void {
    insertAudit(this.db, {
      at: now,
      actor: actorName(actor),
      action,
      entityType: entity.type,
      entityId: String(entity.id),
      ticketId: entity.ticket ?? null,
      oldState,
      newState,
      details: details || this.principal
        ? JSON.stringify(this.principal ? { ...details, via: this.principal } : details)
        : null,
      correlationId: this.#corr,
    });
  }
}
