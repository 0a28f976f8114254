/**
 * Statements for work restricted to some tickets (see `engine/scope.ts`).
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import type { R } from "./rows.ts";

/** Available phases of any of the agent types, best first, with their tickets' title, priority and metadata. */
export function availableInScope(db: Database, agentTypes: string[]): R[] {
  return db.all<R>(
    `SELECT p.id, p.ticket_id, p.name, p.agent_type, p.attempts, p.rework_notes IS NOT NULL AS rework,
       t.title, t.priority, t.metadata
     FROM phases p JOIN tickets t ON t.id = p.ticket_id
     WHERE p.status = 'available' AND p.agent_type IN (SELECT value FROM json_each(?))
     ORDER BY p.priority_rank, p.ticket_id, p.seq`,
    [JSON.stringify(agentTypes)],
  );
}

/** Whether any ticket has labels in its metadata (`labels` or `label`). */
export function anyTicketLabelled(db: Database): boolean {
  return db.get(
    "SELECT 1 AS x FROM tickets WHERE json_extract(metadata, '$.labels') IS NOT NULL OR json_extract(metadata, '$.label') IS NOT NULL LIMIT 1",
  ) !== undefined;
}
