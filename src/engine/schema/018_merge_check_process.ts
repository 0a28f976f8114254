/**
 * Migration 18: the process group of the check a batch is running (host,
 * pid, start time, as JSON), so that the worker that recovers the batch of a
 * killed predecessor ends the check it left running.
 */
export default {
  version: 18,
  name: "merge_check_process",
  sql: `
ALTER TABLE merge_batches ADD COLUMN check_process TEXT CHECK (check_process IS NULL OR json_valid(check_process));
`,
};
