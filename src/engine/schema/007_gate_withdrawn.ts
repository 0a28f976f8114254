/**
 * Migration 7: a gate can be `withdrawn`. When a rejection upstream sends
 * work back, a gate that was waiting on the work built from it closes
 * undecided (it opens again, with a new row, once the work is redone).
 * SQLite cannot change a CHECK constraint in place, so the table is rebuilt
 * with the same columns and indexes.
 */
export default {
  version: 7,
  name: "gate_withdrawn",
  sql: `
CREATE TABLE gates_new (
  id           INTEGER PRIMARY KEY,
  phase_id     INTEGER NOT NULL REFERENCES phases(id) ON DELETE CASCADE,
  ticket_id    TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  kind         TEXT NOT NULL CHECK (kind IN ('gate', 'review')),
  status       TEXT NOT NULL CHECK (status IN ('open', 'approved', 'rejected', 'escalated', 'withdrawn')),
  requested_by TEXT,
  summary      TEXT,
  opened_at    INTEGER NOT NULL,
  decided_at   INTEGER,
  decided_by   TEXT,
  notes        TEXT,
  revision     INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO gates_new (id, phase_id, ticket_id, kind, status, requested_by, summary, opened_at, decided_at, decided_by, notes, revision)
  SELECT id, phase_id, ticket_id, kind, status, requested_by, summary, opened_at, decided_at, decided_by, notes, revision FROM gates;
DROP TABLE gates;
ALTER TABLE gates_new RENAME TO gates;
CREATE UNIQUE INDEX gates_one_open ON gates(phase_id) WHERE status = 'open';
CREATE INDEX gates_status ON gates(status, opened_at);
`,
};
