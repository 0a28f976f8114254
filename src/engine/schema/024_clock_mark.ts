/**
 * Migration 24: the machine's boot clock as one mark, `BOOT<TAB>UPTIME<TAB>AT`
 * (the boot, the time since it, and the witnessed time then), written whole
 * by each process that moves the clock. Migrations 21 and 23 kept them in
 * three columns, and a Baton of each of those versions still running after
 * an upgrade writes only some of them (`now` alone before 21; `boot` and
 * `uptime` without `boot_at` at 21–22), leaving a row whose parts disagree:
 * time counted twice (a live claim ended) or not at all (a dead one kept). A
 * mark no older Baton knows is never written in part. Empty: not known, the
 * tolerance rule applies. The old columns are still written, for the
 * versions that read them.
 */
export default {
  version: 24,
  name: "clock_mark",
  sql: `
ALTER TABLE clock ADD COLUMN mark TEXT NOT NULL DEFAULT '';
`,
};
