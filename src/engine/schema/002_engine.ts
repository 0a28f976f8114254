/** Migration 2: the workflow engine: tickets, phases, agents, gates, dependencies, audit. */
export default {
  version: 2,
  name: "engine",
  sql: `
CREATE TABLE tickets (
  id            TEXT PRIMARY KEY,
  title         TEXT NOT NULL,
  path          TEXT,                        -- markdown file, relative to the repository root
  priority      TEXT,
  priority_rank INTEGER NOT NULL,            -- position in config priority_order (unknown: after all)
  metadata      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  content_hash  TEXT,
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed')),
  parent_id     TEXT,
  created_at    INTEGER NOT NULL,            -- ms since the epoch, UTC (as every *_at)
  updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX tickets_status ON tickets(status, priority_rank, id);

CREATE TABLE phases (
  id               INTEGER PRIMARY KEY,
  ticket_id        TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  name             TEXT NOT NULL,
  seq              INTEGER NOT NULL,
  parallel_group   TEXT,
  agent_type       TEXT,                     -- NULL: a human gate
  priority_rank    INTEGER NOT NULL,         -- copy of the ticket's, so the claim order is one index scan
  status           TEXT NOT NULL CHECK (status IN ('pending', 'blocked', 'available', 'claimed', 'running',
                     'waiting_retry', 'awaiting_review', 'completed', 'failed', 'skipped')),
  claimed_by       TEXT,
  claim_token      TEXT,
  attempts         INTEGER NOT NULL DEFAULT 0,
  revisions        INTEGER NOT NULL DEFAULT 0,
  lease_expires_at INTEGER,
  retry_at         INTEGER,
  available_at     INTEGER,
  claimed_at       INTEGER,
  started_at       INTEGER,
  completed_at     INTEGER,
  last_progress_at INTEGER,
  result_summary   TEXT,
  artifacts        TEXT CHECK (artifacts IS NULL OR json_valid(artifacts)),
  error            TEXT,
  rework_notes     TEXT,
  UNIQUE (ticket_id, name)
) STRICT;
CREATE INDEX phases_queue ON phases(status, agent_type, priority_rank, ticket_id, seq);
CREATE INDEX phases_holder ON phases(claimed_by) WHERE claimed_by IS NOT NULL;
CREATE INDEX phases_lease ON phases(lease_expires_at) WHERE lease_expires_at IS NOT NULL;
CREATE INDEX phases_retry ON phases(retry_at) WHERE retry_at IS NOT NULL;

-- Phase ordering inside a ticket: phase_id waits for after_id.
CREATE TABLE phase_deps (
  phase_id INTEGER NOT NULL REFERENCES phases(id) ON DELETE CASCADE,
  after_id INTEGER NOT NULL REFERENCES phases(id) ON DELETE CASCADE,
  PRIMARY KEY (phase_id, after_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX phase_deps_after ON phase_deps(after_id);

CREATE TABLE agents (
  id             TEXT PRIMARY KEY,
  capabilities   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(capabilities)),
  metadata       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'stale')),
  registered_at  INTEGER NOT NULL,
  last_heartbeat INTEGER NOT NULL
) STRICT;

-- Human decisions: a gate phase reached, or an agent asking for review.
CREATE TABLE gates (
  id           INTEGER PRIMARY KEY,
  phase_id     INTEGER NOT NULL REFERENCES phases(id) ON DELETE CASCADE,
  ticket_id    TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  kind         TEXT NOT NULL CHECK (kind IN ('gate', 'review')),
  status       TEXT NOT NULL CHECK (status IN ('open', 'approved', 'rejected', 'escalated')),
  requested_by TEXT,
  summary      TEXT,
  opened_at    INTEGER NOT NULL,
  decided_at   INTEGER,
  decided_by   TEXT,
  notes        TEXT,
  revision     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX gates_one_open ON gates(phase_id) WHERE status = 'open';
CREATE INDEX gates_status ON gates(status, opened_at);

-- Ticket-to-ticket dependencies: ticket_id waits until depends_on reaches the milestone.
CREATE TABLE ticket_deps (
  ticket_id    TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  depends_on   TEXT NOT NULL,                -- may name a ticket not imported yet
  type         TEXT NOT NULL CHECK (type IN ('completion', 'design', 'implementation')),
  created_at   INTEGER NOT NULL,
  satisfied_at INTEGER,
  PRIMARY KEY (ticket_id, depends_on)
) STRICT;
CREATE INDEX ticket_deps_on ON ticket_deps(depends_on);

CREATE TABLE audit (
  id             INTEGER PRIMARY KEY,
  at             INTEGER NOT NULL,
  actor          TEXT NOT NULL,              -- "human:<name>", an agent id, or "system"
  action         TEXT NOT NULL,
  entity_type    TEXT NOT NULL,              -- ticket | phase | gate | agent | dependency
  entity_id      TEXT NOT NULL,
  ticket_id      TEXT,
  old_state      TEXT,
  new_state      TEXT,
  details        TEXT CHECK (details IS NULL OR json_valid(details)),
  correlation_id TEXT NOT NULL               -- ties together the rows of one request
) STRICT;
CREATE INDEX audit_ticket ON audit(ticket_id, id);
CREATE INDEX audit_actor ON audit(actor, id);
CREATE INDEX audit_at ON audit(at);

-- Idempotent requests: the first result of a key is returned again.
CREATE TABLE idempotency (
  key        TEXT PRIMARY KEY,
  agent_id   TEXT NOT NULL,
  result     TEXT NOT NULL CHECK (json_valid(result)),
  created_at INTEGER NOT NULL
) STRICT;

-- Files an active phase declared it will touch (paths or globs, repository-relative).
CREATE TABLE file_declarations (
  id          INTEGER PRIMARY KEY,
  phase_id    INTEGER NOT NULL REFERENCES phases(id) ON DELETE CASCADE,
  agent_id    TEXT NOT NULL,
  pattern     TEXT NOT NULL,
  declared_at INTEGER NOT NULL,
  released_at INTEGER
) STRICT;
CREATE INDEX file_declarations_active ON file_declarations(phase_id) WHERE released_at IS NULL;
`,
};
