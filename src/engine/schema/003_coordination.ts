/** Migration 3: claim contention counters (for metrics). */
export default {
  version: 3,
  name: "coordination",
  sql: `
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
-- Metrics read phase outcomes (claims, failures, rework) out of a large audit trail.
CREATE INDEX audit_action ON audit(action, at);
`,
};
