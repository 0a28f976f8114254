/**
 * Multi-process torture of the storage engine, in both journal modes, small
 * enough for CI. `bench/torture.ts` runs the same harness for long runs.
 */
import assert from "node:assert/strict";
import { skipHeavy } from "../helpers/heavy.ts";
import { runTorture, type TortureReport } from "../helpers/torture.ts";
import type { JournalMode } from "../../src/storage/sqlite.ts";

function verify(r: TortureReport) {
  console.log(JSON.stringify({ ...r, violations: r.violations.length }));
  assert.deepEqual(r.violations, []);
  assert.equal(r.commitsLost, 0, "a logged commit is missing");
  assert.equal(r.duplicateClaims, 0, "a slot was claimed twice");
  assert.equal(r.integrityBaton, "ok");
  if (r.integrityNative === null) {
    console.log("native sqlite3 CLI not installed: skipping the independent integrity check");
  } else {
    assert.equal(r.integrityNative, "ok");
    assert.equal(r.nativeEventCount, r.rowsClaimed);
  }
  assert.ok(r.commitsLogged > 0);
  assert.equal(r.assumptionViolations, 0, "wal.c shared-memory assumptions broken");
  assert.ok(r.kills > 0);
}

for (const mode of ["wal", "truncate"] as JournalMode[]) {
  Deno.test({
    ignore: skipHeavy,
    name: `torture: ${mode}: writers claim under SIGKILL, readers see consistent snapshots`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const r = await runTorture({
        mode,
        writers: 4,
        connsPerWriter: [1, 2],
        readers: 2,
        slots: mode === "wal" ? 3000 : 1200,
        kills: 8,
        killAlls: 1,
        killEveryMs: 600,
      });
      verify(r);
      if (mode === "wal") {
        assert.ok(r.walRecoveries > 0, "no WAL recovery ran");
        assert.ok(r.dmsResets > 0, "no dead-man-switch reset ran");
        assert.ok(r.mappedRegions > 0 && r.fileRegions > 0, "mapped and file-I/O wal-indexes did not both run");
        assert.ok(r.maxWalBytes < 64 * 1024 * 1024, `WAL grew to ${r.maxWalBytes} bytes`);
      } else {
        assert.ok(r.hotJournalLocks > 0 || r.kills === 0, "no hot-journal roll-back ran");
      }
    },
  });
}
