/**
 * Migration 17: each landed merge item's range. An item's `sha` is the
 * target's commit once it landed; `from_sha` is the commit it was applied
 * onto, so that a revert undoes all of `from_sha..sha` (a rebased branch's
 * several commits, a merge commit) and not only its last commit.
 */
export default {
  version: 17,
  name: "merge_item_ranges",
  sql: `
ALTER TABLE merge_items ADD COLUMN from_sha TEXT;
`,
};
