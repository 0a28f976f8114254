/**
 * Migration 21: the machine boot the database's clock was last advanced on,
 * and the time since that boot then (engine/clock.ts). A process of the same
 * boot trusts the time that boot's clock saw pass since: after the database
 * sat idle, a dead agent's claim comes back a lease after it was made, not a
 * lease plus the idle time.
 */
export default {
  version: 21,
  name: "clock_boot",
  sql: `
ALTER TABLE clock ADD COLUMN boot TEXT NOT NULL DEFAULT '';
ALTER TABLE clock ADD COLUMN uptime INTEGER NOT NULL DEFAULT 0;
`,
};
