/**
 * Migration 16: a ticket's gates through an index. `Engine.ticket` (MCP
 * `get_ticket`, `baton show`, the dashboard's ticket page, the supervisor)
 * lists the ticket's gates, and the statement read every gate ever opened
 * (a gate per human review, kept for good). A gate is written a few times
 * in its life: the index costs nothing an agent's step pays.
 */
export default {
  version: 16,
  name: "gates_ticket_index",
  sql: `
CREATE INDEX gates_ticket ON gates(ticket_id, opened_at);
`,
};
