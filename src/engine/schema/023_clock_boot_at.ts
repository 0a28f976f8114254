/**
 * Migration 23: the witnessed time at which `clock.boot` and `clock.uptime`
 * were recorded. A process of the same boot counts the time its boot clock
 * ran since from that time, not from `clock.now`: a writer that moves `now`
 * without recording its boot (a Baton from before migration 21 still
 * running after an upgrade) would otherwise have the same time counted
 * twice, and a clock ahead could end a live claim. 0 (not known yet): the
 * tolerance rule applies until a process records its boot again.
 */
export default {
  version: 23,
  name: "clock_boot_at",
  sql: `
ALTER TABLE clock ADD COLUMN boot_at INTEGER NOT NULL DEFAULT 0;
`,
};
