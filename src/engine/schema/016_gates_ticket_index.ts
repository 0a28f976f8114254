/**
 * Migration 16: a ticket's gates through an index. `Engine.ticket` (MCP
 * `get_ticket`, `baton show`, the dashboard's ticket page, the supervisor)
 * lists the ticket's gates, and the statement read every gate ever opened
 * (a gate per human review, kept for good). The index costs one more page
 * on the steps that open a gate (an agent's `request_review`, a completion
 * that reaches a human gate), none on a claim, heartbeat or completion.
 */
export default {
  version: 16,
  name: "gates_ticket_index",
  sql: `
CREATE INDEX gates_ticket ON gates(ticket_id, opened_at);
`,
};
