/**
 * Migration 11: the merge queue. Each ticket's last phase (the landing
 * phase, see `config/landing.ts`) is claimed by the one merge worker of the
 * repository, which holds `merge_worker`'s lease (a fencing token per
 * holder). A batch records what it was built on and, before the target
 * moves, the candidate it moves to, so that a worker killed at any point is
 * followed by one that lands each ticket exactly once. Reverts land through
 * the same queue; flaky checks are counted.
 */
export default {
  version: 11,
  name: "merge_queue",
  sql: `
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
  finished_at   INTEGER
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
            CHECK (outcome IN ('pending', 'landed', 'noop', 'conflict', 'culprit', 'requeued', 'failed')),
  sha       TEXT,                     -- its commit on the target once landed
  notes     TEXT,
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
`,
};
