/**
 * Statements on `agents`.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import { HELD_SQL, type R } from "./rows.ts";

/** One agent. */
export function agentById(db: Database, id: string): R | undefined {
  return db.get<R>("SELECT * FROM agents WHERE id = ?", [id]);
}

/** Registers an agent, or refreshes its capabilities, metadata and heartbeat. */
export function upsertAgent(
  db: Database,
  a: { id: string; capabilities: string[]; metadata: Record<string, unknown>; now: number; principal?: string },
): void {
  // The principal is set once, by whoever registered the agent first. What its supervisor recorded (its worktree,
  // the supervisor's process) outlives a registration again, and an agent's own metadata cannot set it.
  db.run(
    `INSERT INTO agents(id, capabilities, metadata, status, registered_at, last_heartbeat, principal)
     VALUES (?, ?, ?, 'active', ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET capabilities = excluded.capabilities,
       metadata = json_patch(excluded.metadata, json_object(
         'workspace', agents.metadata -> '$.workspace', 'supervisor', agents.metadata -> '$.supervisor')),
       status = 'active', last_heartbeat = excluded.last_heartbeat`,
    [a.id, JSON.stringify(a.capabilities), JSON.stringify(a.metadata), a.now, a.now, a.principal ?? null],
  );
}

/** Whether the agent holds a phase with this claim token. */
export function holdsToken(db: Database, agentId: string, token: string): boolean {
  return db.get(
    `SELECT 1 AS x FROM phases WHERE claimed_by = ? AND claim_token = ? AND status IN ${HELD_SQL}`,
    [agentId, token],
  ) !== undefined;
}

/**
 * Whether any agent of `principal` worked on the ticket: claimed, started,
 * completed, failed, released or handed one of its phases to review (the
 * audit keeps it after a rework clears the phase's holder), or asked for one
 * of its gates.
 */
export function principalWorkedOn(db: Database, ticketId: string, principal: string): boolean {
  return db.get(
    `SELECT 1 AS x FROM audit au JOIN agents a ON a.id = au.actor
     WHERE au.ticket_id = ? AND a.principal = ? AND au.entity_type IN ('phase', 'gate') LIMIT 1`,
    [ticketId, principal],
  ) !== undefined;
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

/** Records where an agent's process runs. */
export function setAgentProcess(
  db: Database,
  id: string,
  p: { host: string; pid: number; pidStart: string | null; supervisor?: unknown },
): void {
  db.run(
    "UPDATE agents SET host = ?, pid = ?, pid_start = ?, metadata = json_set(metadata, '$.supervisor', json(?)) " +
      "WHERE id = ?",
    [p.host, p.pid, p.pidStart, JSON.stringify(p.supervisor ?? null), id],
  );
}

/** Sets an agent's status. */
export function setAgentStatus(db: Database, id: string, status: string): void {
  db.run("UPDATE agents SET status = ? WHERE id = ?", [status, id]);
}

/** Every agent, by id. */
export function allAgents(db: Database): R[] {
  return db.all<R>("SELECT * FROM agents ORDER BY id");
}
