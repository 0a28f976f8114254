/**
 * Migration 5: `baton_meta` (a key/value table from migration 1) was never
 * read or written; facts about the database live in `baton_migrations` and
 * `PRAGMA user_version`.
 */
export default {
  version: 5,
  name: "drop_meta",
  sql: `
DROP TABLE baton_meta;
`,
};
