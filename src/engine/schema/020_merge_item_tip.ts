/**
 * Migration 20: the tip of its branch a merge item was applied from (the
 * work the worker built and tested), so that a later build or batch that
 * finds the branch gone, or without that work, never completes the ticket
 * as landed.
 */
export default {
  version: 20,
  name: "merge_item_tip",
  sql: `
ALTER TABLE merge_items ADD COLUMN tip TEXT;
`,
};
