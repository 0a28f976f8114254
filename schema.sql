-- Baton's database schema: the readable snapshot of every migration in
-- src/schema/ applied in order (tests/schema_test.ts proves they agree).
-- Never edit this file alone: add a migration, then update this snapshot.
-- Schema version (PRAGMA user_version): 24

CREATE TABLE baton_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at INTEGER NOT NULL -- ms since the epoch, UTC
) STRICT;

-- 002_engine: the workflow engine
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
  updated_at    INTEGER NOT NULL,
  -- 006: what Baton last wrote into the ticket's markdown ({syncedAt, fields}), so it never overwrites a human's value
  markdown_ledger TEXT CHECK (markdown_ledger IS NULL OR json_valid(markdown_ledger))
) STRICT;
CREATE INDEX tickets_status ON tickets(status, priority_rank, id);
CREATE INDEX tickets_parent ON tickets(parent_id) WHERE parent_id IS NOT NULL;  -- migration 13

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
  unmerged_branch  TEXT,                     -- its completed work's own branch, not merged into the ticket's yet (migration 19)
  UNIQUE (ticket_id, name)
) STRICT;
-- The claim queue: available phases only, in claim order (migration 14).
CREATE INDEX phases_queue ON phases(agent_type, priority_rank, ticket_id, seq) WHERE status = 'available';
CREATE INDEX phases_trouble ON phases(ticket_id, seq) WHERE status IN ('waiting_retry', 'failed');  -- migration 14
-- Only held phases: a completed phase keeps its claimed_by (migration 4).
CREATE INDEX phases_held ON phases(claimed_by) WHERE status IN ('claimed', 'running');
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
  last_heartbeat INTEGER NOT NULL,
  principal      TEXT,                     -- who registered it (a token holder); NULL: local
  host           TEXT,                     -- where its process runs (recorded by the supervisor that spawned it)
  pid            INTEGER,                  -- its process id there
  pid_start      TEXT                      -- the process's start time (a reused pid is another process)
) STRICT;

-- Human decisions: a gate phase reached, or an agent asking for review.
CREATE TABLE gates (
  id           INTEGER PRIMARY KEY,
  phase_id     INTEGER NOT NULL REFERENCES phases(id) ON DELETE CASCADE,
  ticket_id    TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  kind         TEXT NOT NULL CHECK (kind IN ('gate', 'review')),
  status       TEXT NOT NULL CHECK (status IN ('open', 'approved', 'rejected', 'escalated', 'withdrawn')), -- 007
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
CREATE INDEX gates_ticket ON gates(ticket_id, opened_at);  -- migration 16

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
CREATE INDEX audit_at ON audit(at, action);  -- (at) before migration 14
-- Lookups by action, on rows a claim or a completion never writes (migration 14 dropped audit_action(action, at)):
-- when retention last ran, every commit, what makes a completion history (an import's).
CREATE INDEX audit_pruned ON audit(at) WHERE action = 'maintenance.pruned';
CREATE INDEX audit_commits ON audit(id) WHERE action = 'phase.commit';
CREATE INDEX audit_history ON audit(correlation_id, at) WHERE action IN ('phase.seeded', 'phase.resolve') AND new_state = 'completed';

-- Idempotent requests: the first result of a key is returned again.
CREATE TABLE idempotency (
  key        TEXT PRIMARY KEY,
  agent_id   TEXT NOT NULL,
  result     TEXT NOT NULL CHECK (json_valid(result)),
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX idempotency_created ON idempotency(created_at);  -- migration 15

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
CREATE INDEX file_declarations_released ON file_declarations(released_at) WHERE released_at IS NOT NULL;  -- migration 15

-- 003_coordination: claim contention counters
-- Claim attempts that came back empty-handed, per day (UTC) and agent type:
-- nothing available, or the phase asked for was held by someone else.
CREATE TABLE claim_misses (
  day        TEXT    NOT NULL,               -- YYYY-MM-DD, UTC
  agent_type TEXT    NOT NULL,
  empty      INTEGER NOT NULL DEFAULT 0,
  conflicts  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, agent_type)
) STRICT, WITHOUT ROWID;

CREATE INDEX phases_completed ON phases(completed_at) WHERE completed_at IS NOT NULL;

-- 008_escalations: stalled phases a human should look at
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

-- 009_clock_and_principals: one clock for every process (see engine/clock.ts)
CREATE TABLE clock (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  now         INTEGER NOT NULL,
  writer      TEXT NOT NULL,
  boot        TEXT NOT NULL DEFAULT '',     -- the machine boot it was last advanced on (migration 21)
  uptime      INTEGER NOT NULL DEFAULT 0,   -- ms since that boot, then (migration 21)
  boot_at     INTEGER NOT NULL DEFAULT 0,   -- the witnessed time boot and uptime were recorded at (migration 23)
  mark        TEXT NOT NULL DEFAULT ''      -- BOOT<TAB>UPTIME<TAB>AT, written whole: what a process reads (migration 24)
) STRICT;
INSERT INTO clock (id, now, writer) VALUES (1, 0, '');

-- 011_merge_queue: the merge queue (see engine/merge.ts)
CREATE TABLE merge_worker (
  id               INTEGER PRIMARY KEY CHECK (id = 1),
  holder           TEXT NOT NULL,     -- the worker's id (host, pid, a random part)
  token            TEXT NOT NULL,     -- its fencing token: every call of the worker carries it
  acquired_at      INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE merge_branches (
  ticket_id TEXT PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
  branch    TEXT NOT NULL,            -- what lands for the ticket (default: baton/<ticket>)
  added_by  TEXT NOT NULL,
  added_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE merge_batches (
  id            INTEGER PRIMARY KEY,
  worker        TEXT NOT NULL,
  target        TEXT NOT NULL,
  base_sha      TEXT NOT NULL,        -- the target's tip the batch was built on
  candidate_sha TEXT,                 -- recorded before the target moves to it
  status        TEXT NOT NULL CHECK (status IN ('building', 'landing', 'landed', 'red', 'abandoned')),
  builds        INTEGER NOT NULL DEFAULT 0,   -- candidates built (a flaky retry and bisect steps add to it)
  check_ms      INTEGER,              -- time spent running the check
  log           TEXT,                 -- the tail of the last check's output
  started_at    INTEGER NOT NULL,
  finished_at   INTEGER,
  check_process TEXT CHECK (check_process IS NULL OR json_valid(check_process)),  -- the check's process group while it runs (migration 18)
  target_red    INTEGER NOT NULL DEFAULT 0 CHECK (target_red IN (0, 1))  -- red on the target itself, no ticket blamed (migration 22)
) STRICT;
CREATE INDEX merge_batches_open ON merge_batches(status) WHERE status IN ('building', 'landing');

CREATE TABLE merge_items (
  batch_id  INTEGER NOT NULL REFERENCES merge_batches(id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,         -- queue order within the batch
  phase_id  INTEGER REFERENCES phases(id) ON DELETE CASCADE,  -- the landing phase (NULL for a revert)
  ticket_id TEXT NOT NULL,
  kind      TEXT NOT NULL CHECK (kind IN ('land', 'revert')),
  revert_id INTEGER REFERENCES merge_reverts(id),
  branch    TEXT,
  token     TEXT,                     -- the landing phase's claim token
  outcome   TEXT NOT NULL DEFAULT 'pending'
            CHECK (outcome IN ('pending', 'landed', 'noop', 'conflict', 'culprit', 'fenced', 'requeued', 'failed')),
  sha       TEXT,                     -- its commit on the target once landed
  notes     TEXT,
  from_sha  TEXT,                     -- the commit it was applied onto: it landed from_sha..sha (migration 17)
  tip       TEXT,                     -- its branch's tip as applied (tested work; migration 20)
  PRIMARY KEY (batch_id, position)
) STRICT;
CREATE INDEX merge_items_ticket ON merge_items(ticket_id, batch_id);

CREATE TABLE merge_reverts (
  id          INTEGER PRIMARY KEY,
  ticket_id   TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  shas        TEXT NOT NULL CHECK (json_valid(shas)),   -- the commits to revert, newest first
  notes       TEXT,
  status      TEXT NOT NULL CHECK (status IN ('queued', 'landed', 'failed')),
  requested_by TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  landed_sha  TEXT
) STRICT;

CREATE TABLE merge_flakes (
  check_cmd  TEXT PRIMARY KEY,
  count      INTEGER NOT NULL,
  last_at    INTEGER NOT NULL,
  last_batch INTEGER
) STRICT;
