/**
 * Statements on `agents`.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import type { R } from "./rows.ts";

/** One agent. */
export function agentById(db: Database, id: string): R | undefined {
  return db.get<R>("SELECT * FROM agents WHERE id = ?", [id]);
}

/** Registers an agent, or refreshes its capabilities, metadata and heartbeat. */
export function upsertAgent(
  db: Database,
  a: { id: string; capabilities: string[]; metadata: Record<string, unknown>; now: number },
): void {
  db.run(
    `INSERT INTO agents(id, capabilities, metadata, status, registered_at, last_heartbeat) VALUES (?, ?, ?, 'active', ?, ?)
     ON CONFLICT(id) DO UPDATE SET capabilities = excluded.capabilities, metadata = excluded.metadata,
       status = 'active', last_heartbeat = excluded.last_heartbeat`,
    [a.id, JSON.stringify(a.capabilities), JSON.stringify(a.metadata), a.now, a.now],
  );
}

/** Sets an agent's capabilities. */
export function setCapabilities(db: Database, id: string, capabilities: string[]): void {
  db.run("UPDATE agents SET capabilities = ? WHERE id = ?", [JSON.stringify(capabilities), id]);
}

/** Records an agent's heartbeat (it is active again). */
export function setHeartbeat(db: Database, id: string, now: number): void {
  // A heartbeat within HEARTBEAT_GRAIN_MS of the last one writes nothing: no page changes, no WAL frame.
  db.run(
    "UPDATE agents SET last_heartbeat = ?1, status = 'active' WHERE id = ?2 AND (status <> 'active' OR last_heartbeat <= ?1 - ?3)",
    [now, id, HEARTBEAT_GRAIN_MS],
  );
}

/**
 * How finely an agent's last heartbeat is recorded (ms): a call within this
 * of the last recorded one changes nothing (leases and stall clocks are
 * minutes long; a write per call was a tenth of a claim's pages).
 */
export const HEARTBEAT_GRAIN_MS = 1000;

/** Sets an agent's status. */
export function setAgentStatus(db: Database, id: string, status: string): void {
  db.run("UPDATE agents SET status = ? WHERE id = ?", [status, id]);
}

/** Every agent, by id. */
export function allAgents(db: Database): R[] {
  return db.all<R>("SELECT * FROM agents ORDER BY id");
}
