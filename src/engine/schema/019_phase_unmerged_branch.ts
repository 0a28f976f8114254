/**
 * Migration 19: a phase's completed work that waits on a branch of its own
 * (a parallel group's phase under `baton run`) to be merged into the ticket
 * branch. The phases after it wait until it is, so that a gate or the merge
 * queue never sees the ticket branch without that work.
 */
export default {
  version: 19,
  name: "phase_unmerged_branch",
  sql: `
ALTER TABLE phases ADD COLUMN unmerged_branch TEXT;
`,
};
