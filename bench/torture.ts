/**
 * Long storage torture runs: `deno task bench:torture [--mode wal|truncate|both]
 * [--writers 6] [--readers 2] [--slots 40000] [--kills 40] [--kill-alls 3]
 * [--kill-every-ms 400]`. Prints one JSON report per mode and exits non-zero
 * when any invariant failed. The same harness runs small in `tests/`.
 */
import { parseArgs } from "node:util";
import { runTorture } from "../tests/helpers/torture.ts";
import type { JournalMode } from "../src/storage/sqlite.ts";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "both" },
    writers: { type: "string", default: "6" },
    readers: { type: "string", default: "2" },
    slots: { type: "string", default: "40000" },
    kills: { type: "string", default: "40" },
    "kill-alls": { type: "string", default: "3" },
    "kill-every-ms": { type: "string", default: "400" },
  },
});
const modes: JournalMode[] = values.mode === "both" ? ["wal", "truncate"] : [values.mode as JournalMode];
let failed = false;
for (const mode of modes) {
  const r = await runTorture({
    mode,
    writers: Number(values.writers),
    connsPerWriter: [1, 2, 3],
    readers: Number(values.readers),
    slots: Number(values.slots),
    kills: Number(values.kills),
    killAlls: Number(values["kill-alls"]),
    killEveryMs: Number(values["kill-every-ms"]),
    verbose: true,
  });
  console.log(JSON.stringify(r, null, 1));
  const ok = r.violations.length === 0 && r.commitsLost === 0 && r.duplicateClaims === 0 &&
    r.integrityBaton === "ok" && (r.integrityNative === null || r.integrityNative === "ok") &&
    r.assumptionViolations === 0 && r.kills + r.killAlls >= Number(values.kills);
  console.log(
    `${mode}: ${
      ok ? "PASS" : "FAIL"
    } — ${r.kills} kills + ${r.killAlls} kill-alls, ${r.commitsLogged} logged commits, ${r.commitsLost} lost, ${r.duplicateClaims} double claims, max WAL ${r.maxWalBytes} B`,
  );
  if (!ok) failed = true;
}
if (failed) Deno.exit(1);
