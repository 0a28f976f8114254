/**
 * Migration 12: a merge-queue item can end `fenced`: its branch holds a
 * commit an agent made after it lost its claim (the commit's Baton trailers
 * and the audit say so), so the ticket goes back to rework instead of
 * landing. SQLite cannot change a CHECK constraint in place, so the table
 * is rebuilt with the same columns and index.
 */
export default {
  version: 12,
  name: "merge_fenced",
  sql: `
CREATE TABLE merge_items_new (
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
  PRIMARY KEY (batch_id, position)
) STRICT;
INSERT INTO merge_items_new (batch_id, position, phase_id, ticket_id, kind, revert_id, branch, token, outcome, sha, notes)
  SELECT batch_id, position, phase_id, ticket_id, kind, revert_id, branch, token, outcome, sha, notes FROM merge_items;
DROP TABLE merge_items;
ALTER TABLE merge_items_new RENAME TO merge_items;
CREATE INDEX merge_items_ticket ON merge_items(ticket_id, batch_id);
`,
};
