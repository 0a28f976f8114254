/**
 * Migration 8: escalations. A running phase that stalls (no progress for
 * `stall_timeout_minutes`) under `baton run` becomes a record a human sees
 * in `baton status`, `baton escalations` and the dashboard, with the
 * agent's last output, until it is retried, released or resolved.
 */
export default {
  version: 8,
  name: "escalations",
  sql: `
CREATE TABLE escalations (
  id          INTEGER PRIMARY KEY,
  phase_id    INTEGER NOT NULL REFERENCES phases(id) ON DELETE CASCADE,
  ticket_id   TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  agent_id    TEXT,
  reason      TEXT NOT NULL,
  last_output TEXT,
  opened_at   INTEGER NOT NULL,
  resolved_at INTEGER,
  resolved_by TEXT,
  resolution  TEXT
) STRICT;
CREATE UNIQUE INDEX escalations_open ON escalations(phase_id) WHERE resolved_at IS NULL;
`,
};
