/**
 * Migration 22: a red merge batch that found the check failing on the
 * target itself (no ticket to blame), so that `baton merge status`,
 * `baton status` and the dashboard say the target is red and nothing lands
 * until a commit to it fixes the check, instead of only showing the tickets
 * queued.
 */
export default {
  version: 22,
  name: "merge_target_red",
  sql: `
ALTER TABLE merge_batches ADD COLUMN target_red INTEGER NOT NULL DEFAULT 0 CHECK (target_red IN (0, 1));
`,
};
