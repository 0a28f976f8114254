/**
 * `GET /healthz` of `baton-mcp --http`: is the database readable, and is the
 * `.workflow/` configuration on disk still valid (and the one this server
 * runs with)?
 *
 * @module
 */
import { loadWorkflowConfig } from "../config/load.ts";
import type { Engine } from "../engine/mod.ts";
import { BatonError, treatmentOf, withoutPaths } from "../errors.ts";
import { VERSION } from "../version.ts";

/** The health report. */
export interface Health {
  ok: boolean;
  version: string;
  uptimeSeconds: number;
  database: {
    ok: boolean;
    journalMode?: string;
    schemaVersion?: number;
    walBytes?: number;
    tickets?: number;
    /** Set while a write of this server waits for another process's writer: `blocked for N s`. */
    writer?: string;
    error?: string;
  };
  config: { ok: boolean; phases?: number; changedSinceStart?: boolean; error?: string };
  sessions: number;
  /** This server process: resident memory, and the WebAssembly memory of its SQLite. */
  memory: { rssBytes: number; wasmHeapBytes?: number };
}

/** A failure as `code: message`, without absolute paths (/healthz needs no token). */
function describe(e: unknown): string {
  const text = e instanceof BatonError ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return `${treatmentOf(e).code}: ${withoutPaths(text)}`;
}

/**
 * Checks the database (one read through the engine's connection) and reloads
 * the configuration from disk.
 *
 * @param engine the server's engine
 * @param startedAt when the server started (ms)
 * @param sessions open HTTP sessions
 * @returns the report; `ok` is false when either check fails
 */
export function health(engine: Engine, startedAt: number, sessions: number): Health {
  const database: Health["database"] = { ok: false };
  try {
    const info = engine.storageInfo();
    database.tickets = info.tickets;
    database.schemaVersion = info.schemaVersion;
    database.journalMode = info.journalMode;
    if (info.walBytes > 0) database.walBytes = info.walBytes;
    database.ok = info.schemaVersion <= info.schemaKnown;
    if (!database.ok) {
      database.error = `database_newer: a newer Baton migrated the database to schema version ${info.schemaVersion} ` +
        `while this server ran (it knows ${info.schemaKnown}): it writes nothing more; restart it with the newer Baton`;
    }
  } catch (e) {
    database.error = describe(e);
  }
  const memory: Health["memory"] = { rssBytes: Deno.memoryUsage().rss };
  try {
    memory.wasmHeapBytes = engine.storageInfo().heapBytes;
  } catch { /* reported under database */ }
  const waiting = engine.writeWaitMs();
  if (waiting >= 1000) {
    database.writer = `blocked for ${(waiting / 1000).toFixed(1)} s (another process holds the write lock)`;
  }
  const config: Health["config"] = { ok: false };
  try {
    const now = loadWorkflowConfig(engine.cfg.repoRoot);
    config.ok = true;
    config.phases = now.workflow.phases.length;
    config.changedSinceStart = JSON.stringify([now.config, now.workflow]) !==
      JSON.stringify([engine.cfg.config, engine.cfg.workflow]);
  } catch (e) {
    config.error = describe(e);
  }
  return {
    ok: database.ok && config.ok,
    version: VERSION,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    database,
    config,
    memory,
    sessions,
  };
}
