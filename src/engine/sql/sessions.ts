/**
 * Statements about agent sessions a supervisor started: whether the agent
 * ever reached Baton, and the worktree it works in.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";

/** What a claim records in the agent's name (a supervisor claims for the agent it is about to spawn). */
const CLAIM_ACTIONS = ["agent.registered", "phase.claim"];

/**
 * Whether the agent did anything through Baton besides being claimed for:
 * any audit row in its name other than its registration and its claim (one
 * probe of the audit's actor index).
 */
export function actedBeyondClaim(db: Database, agentId: string): boolean {
  return db.get(
    `SELECT 1 AS x FROM audit INDEXED BY audit_actor WHERE actor = ? AND action NOT IN (SELECT value FROM json_each(?))
     LIMIT 1`,
    [agentId, JSON.stringify(CLAIM_ACTIONS)],
  ) !== undefined;
}

/** Records the worktree (and the commit it started from) of an agent in its metadata. */
export function setAgentWorkspace(db: Database, agentId: string, w: { dir: string; base: string | null }): void {
  db.run("UPDATE agents SET metadata = json_set(metadata, '$.workspace', json(?)) WHERE id = ?", [
    JSON.stringify(w),
    agentId,
  ]);
}

/** The worktree recorded for an agent, if any. */
export function agentWorkspace(db: Database, agentId: string): { dir: string; base: string | null } | undefined {
  const r = db.get<{ w: string | null }>("SELECT json_extract(metadata, '$.workspace') AS w FROM agents WHERE id = ?", [
    agentId,
  ]);
  if (!r?.w) return undefined;
  const w = JSON.parse(r.w) as { dir?: unknown; base?: unknown };
  return typeof w.dir === "string" ? { dir: w.dir, base: typeof w.base === "string" ? w.base : null } : undefined;
}

/** Records the ticket another was discovered from (its metadata `discovered_from`). */
export function setDiscoveredFrom(db: Database, ticketId: string, fromId: string, now: number): void {
  db.run("UPDATE tickets SET metadata = json_set(metadata, '$.discovered_from', ?), updated_at = ? WHERE id = ?", [
    fromId,
    now,
    ticketId,
  ]);
}

/** Records that an agent's process exited (its metadata `exit`: code, signal, when). */
export function setAgentExit(
  db: Database,
  agentId: string,
  e: { code: number | null; signal: string | null; at: number },
): void {
  db.run("UPDATE agents SET metadata = json_set(metadata, '$.exit', json(?)) WHERE id = ?", [
    JSON.stringify(e),
    agentId,
  ]);
}
