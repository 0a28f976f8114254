/**
 * Migration 14: fewer index pages written by each step of an agent. A
 * claim + complete wrote ~34 WAL pages (one process, the example workflow,
 * 1,210 tickets); a page is written once per transaction however many of
 * its rows change, so what costs is how many *different* pages the indexes
 * touch (decision 047):
 *
 * - `phases_queue` held every phase, so each status change moved an entry
 *   from one status's range to another's (~6.4 pages a pair). Only
 *   available phases are ever looked up through it: it now holds those
 *   alone, so a claim deletes one entry and a completion adds the next.
 *   Phases waiting for a retry or failed for good, which it also found
 *   (`baton blocked`), get their own partial index (`phases_trouble`).
 * - `audit_action(action, at)` put each of a pair's five audit rows in its
 *   action's range (~6.3 pages a pair). It is dropped: a time window is read
 *   through `audit_at`, which now holds each row's action too (a query for
 *   some actions in a window reads only their rows from the table; a
 *   transaction's rows still go to the index's last page). Partial indexes,
 *   which the rows of a claim or a completion never enter, serve the lookups
 *   by action that must stay fast at any size: when retention last ran
 *   (checked by every writer process), the commits of every ticket, and the
 *   rows that make a completion history rather than work (the tickets-per-day
 *   metric looked each one up among every row of its time and action: 32 s
 *   over 1,000,000 audit rows).
 */
export default {
  version: 14,
  name: "write_lean_indexes",
  sql: `
DROP INDEX phases_queue;
CREATE INDEX phases_queue ON phases(agent_type, priority_rank, ticket_id, seq) WHERE status = 'available';
CREATE INDEX phases_trouble ON phases(ticket_id, seq) WHERE status IN ('waiting_retry', 'failed');
DROP INDEX audit_action;
DROP INDEX audit_at;
CREATE INDEX audit_at ON audit(at, action);
CREATE INDEX audit_pruned ON audit(at) WHERE action = 'maintenance.pruned';
CREATE INDEX audit_commits ON audit(id) WHERE action = 'phase.commit';
CREATE INDEX audit_history ON audit(correlation_id, at) WHERE action IN ('phase.seeded', 'phase.resolve') AND new_state = 'completed';
`,
};
