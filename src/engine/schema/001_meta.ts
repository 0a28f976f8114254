/** Migration 1: Baton's own bookkeeping (history of applied migrations, key/value facts). */
export default {
  version: 1,
  name: "meta",
  sql: `
CREATE TABLE baton_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at INTEGER NOT NULL -- ms since the epoch, UTC
) STRICT;

CREATE TABLE baton_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
`,
};
