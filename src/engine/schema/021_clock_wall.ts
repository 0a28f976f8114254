/**
 * Migration 21: the latest wall time a process reported, and which process.
 * A process that finds another's clock agreeing with its own may bring the
 * witnessed time up to both (engine/clock.ts): after the database sat idle,
 * a dead agent's claim comes back a lease after it was made, not a lease
 * plus the idle time.
 */
export default {
  version: 21,
  name: "clock_wall",
  sql: `
ALTER TABLE clock ADD COLUMN wall INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clock ADD COLUMN wall_writer TEXT NOT NULL DEFAULT '';
`,
};
