/**
 * Migration 10: where an agent's process runs. A supervisor records the
 * host, process id and process start time of each agent it spawns, so that
 * when it starts again it can tell its own dead agents (same host, process
 * gone) and release their claims at once instead of waiting for their leases.
 */
export default {
  version: 10,
  name: "agent_processes",
  sql: `
ALTER TABLE agents ADD COLUMN host TEXT;
ALTER TABLE agents ADD COLUMN pid INTEGER;
ALTER TABLE agents ADD COLUMN pid_start TEXT;
`,
};
