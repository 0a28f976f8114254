/**
 * Migration 4: the index behind "what does this agent hold" covers only held
 * phases. `phases_holder` indexed every phase an agent ever claimed (a
 * completed phase keeps its `claimed_by`), so each heartbeat and claim of a
 * long-running agent walked its whole history.
 */
export default {
  version: 4,
  name: "held_index",
  sql: `
DROP INDEX phases_holder;
CREATE INDEX phases_held ON phases(claimed_by) WHERE status IN ('claimed', 'running');
`,
};
