-- Baton's database schema: the readable snapshot of every migration in
-- src/schema/ applied in order (tests/schema_test.ts proves they agree).
-- Never edit this file alone: add a migration, then update this snapshot.
-- Schema version (PRAGMA user_version): 1

CREATE TABLE baton_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at INTEGER NOT NULL -- ms since the epoch, UTC
) STRICT;

CREATE TABLE baton_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
