/**
 * The base of the `Engine` facade: its state, the configuration,
 * the clock, transactions, the database's health, and closing.
 *
 * @module
 */
import type { WorkflowGraph } from "../../config/graph.ts";
import type { WorkflowConfig } from "../../config/schema.ts";
import type { Core } from "../core.ts";
import { healthChecks, storageInfo } from "../maintenance.ts";
import type { HealthCheck, StorageInfo } from "../types.ts";

const cores = new WeakMap<EngineBase, Core>();

/** The state behind an engine facade (for the engine's own modules). */
export function coreOf(e: EngineBase): Core {
  return cores.get(e)!;
}

/**
 * Runs a query of the facade in one read transaction: the statements it runs see one snapshot of the database (a
 * ticket's row, phases and gates as one commit left them), and SQLite takes its locks once, not per statement.
 */
export function snapshot<T>(e: EngineBase, fn: (core: Core) => T): T {
  const core = cores.get(e)!;
  return core.db.read(() => fn(core));
}

/** What every engine has: its configuration, clock, transactions, health and `close`. Part of `Engine`. */
export class EngineBase {
  /**
   * Use `openEngine`: it loads the configuration and opens the database.
   * @param core the engine's state
   */
  constructor(core: Core) {
    cores.set(this, core);
  }

  /** The loaded `.workflow/` configuration. */
  get cfg(): WorkflowConfig {
    return coreOf(this).cfg;
  }

  /** The workflow's graph: which phase follows which, what a gate reviews, what replaces what. */
  get graph(): WorkflowGraph {
    return coreOf(this).graph;
  }

  /**
   * Follows edits of `.workflow/` made since the engine loaded it: when its
   * files changed and load, the engine works with the new settings and
   * workflow from its next call (leases, timeouts, the phases of tickets
   * created from then on; open tickets follow a changed workflow at
   * `seedNewPhases`). A long-running process (an MCP
   * server, `baton run`) calls it now and then; the files are read, and
   * parsed only when they changed.
   * @returns whether the settings changed
   * @throws {BatonError} `config_invalid` when the files do not load, or `database.path`, the `merge:` section or
   *   `markdown_sync` changed (the engine keeps what it had)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const repo = await tempRepo();
   * const engine = await openEngine(repo);
   * assert.equal(await engine.followConfigEdits(), false);
   * await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "leases:\n  default_minutes: 90\n");
   * assert.equal(await engine.followConfigEdits(), true);
   * assert.equal(engine.cfg.config.leases.default_minutes, 90);
   * engine.close();
   * ```
   */
  async followConfigEdits(): Promise<boolean> {
    return (await coreOf(this).followConfig?.()) ?? false;
  }

  /**
   * The current time of the engine's clock.
   * @returns ms since the epoch
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo(), { clock: () => 42 });
   * if (engine.now() !== 42) throw new Error("the clock is injected");
   * engine.close();
   * ```
   */
  now(): number {
    return coreOf(this).clock();
  }

  /**
   * Runs several engine calls as one transaction: all of them or none.
   * @param fn the calls; must be synchronous
   * @returns what `fn` returned
   * @throws whatever `fn` threw (everything it did is rolled back), `database_locked`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.throws(() =>
   *   engine.transaction(() => {
   *     engine.upsertTicket({ id: "0001", title: "Kept only if all succeed" });
   *     engine.addDependency("0001", "0001");
   *   })
   * );
   * assert.equal(engine.listTickets().length, 0);
   * engine.close();
   * ```
   */
  transaction<T>(fn: () => T): T {
    return coreOf(this).tx(() => fn());
  }

  /**
   * Runs `fn` on behalf of a principal: every audit row it writes records
   * `via: name` in its details (a team server records the token's holder,
   * so the audit says who, not only which agent id). Nested calls keep the
   * innermost name; `fn` must be synchronous.
   * @param name who the calls act for (undefined: nobody in particular)
   * @param fn the calls
   * @returns what `fn` returned
   * @throws whatever `fn` threw
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.withPrincipal("dana", () => engine.upsertTicket({ id: "0001", title: "A" }));
   * assert.equal(engine.audit()[0].details?.via, "dana");
   * engine.close();
   * ```
   */
  withPrincipal<T>(name: string | undefined, fn: () => T): T {
    const core = coreOf(this);
    const before = core.principal;
    core.principal = name ?? before;
    try {
      return fn();
    } finally {
      core.principal = before;
    }
  }

  /**
   * Waits, without blocking the event loop, until this engine may write:
   * other processes' writers go first, at most `database.busy_timeout_ms`.
   * A server awaits it before a write so that it keeps answering reads and
   * health checks while another process holds the write lock; the write
   * that follows in the same job starts at once. A no-op outside WAL mode.
   * @returns once it is this engine's turn
   * @throws {BatonError} `database_locked` after the busy timeout, naming the lock
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * await engine.whenWritable();
   * engine.upsertTicket({ id: "0001", title: "Written without waiting" });
   * engine.close();
   * ```
   */
  whenWritable(): Promise<void> {
    return coreOf(this).db.reserveWrite();
  }

  /**
   * How long a write of this engine has been waiting for other processes'
   * writers (0 when none waits), for health reports.
   * @returns milliseconds
   * @throws nothing
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.equal(engine.writeWaitMs(), 0);
   * engine.close();
   * ```
   */
  writeWaitMs(): number {
    return coreOf(this).db.writeWaitMs;
  }

  /**
   * What the database is: path, journal mode, schema version, WAL size, tickets.
   * @returns the facts
   * @throws {BatonError} `database_*` when it cannot be read
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.equal(engine.storageInfo().journalMode, "wal");
   * engine.close();
   * ```
   */
  storageInfo(): StorageInfo {
    return storageInfo(coreOf(this));
  }

  /**
   * The database checks of `baton doctor`: integrity, schema, WAL size,
   * orphaned declarations, expired leases.
   * @returns one result per check
   * @throws {BatonError} `database_*` when the database cannot be read at all
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.ok(engine.healthChecks().every((c) => c.ok));
   * engine.close();
   * ```
   */
  healthChecks(): HealthCheck[] {
    return healthChecks(coreOf(this), coreOf(this).clock());
  }

  /**
   * Closes the database. Idempotent.
   * @throws {BatonError} `database_*` when SQLite cannot close it cleanly
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.close();
   * engine.close();
   * ```
   */
  close(): void {
    coreOf(this).db.close();
  }
}
