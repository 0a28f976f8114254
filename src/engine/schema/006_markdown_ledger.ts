/**
 * Migration 6: what Baton last wrote into each ticket's markdown (workflow
 * log values, and when), so that a later write-back updates its own values
 * and never a human's.
 */
export default {
  version: 6,
  name: "markdown_ledger",
  sql: `
ALTER TABLE tickets ADD COLUMN markdown_ledger TEXT CHECK (markdown_ledger IS NULL OR json_valid(markdown_ledger));
`,
};
