/**
 * Exhaustive model checking of the rollback-journal lock protocol
 * (`src/storage/lock_protocol.ts`): the protocol's own generators run over a
 * simulated Linux `flock` (per open file description: shared locks coexist,
 * exclusive excludes all, a failed non-blocking shared→exclusive conversion
 * drops the shared lock, exclusive→shared always succeeds), driven by
 * reader / writer / hot-journal-recoverer scripts. Every interleaving of the
 * atomic steps (one `next()` of a protocol generator, plus one scheduling
 * point between two calls of a script) is explored by depth-first search
 * with replay and state memoisation; see `tests/helpers/lock_model.ts`.
 *
 * Invariants checked after every step: one EXCLUSIVE at most, EXCLUSIVE
 * excludes every other process at SHARED or above, one reservation (R) at
 * most and its holder really holds R, a process at rest at SHARED or above
 * really holds S (exclusive at EXCLUSIVE), the protocol's bookkeeping
 * matches the lock table, no NONE → SHARED while another process is PENDING
 * or EXCLUSIVE, checkReserved answers true iff another process holds a
 * reservation at the probe, the protocol never sets `state.violation`, and
 * every finished schedule leaves all lock files free.
 *
 * The production protocol must pass everything; each known-bad
 * `ProtocolVariant` must be caught by the invariant it is meant to break.
 */

import assert from "node:assert/strict";
import { skipHeavy } from "../helpers/heavy.ts";
import {
  type ExplorationResult,
  explore,
  formatViolation,
  type InvariantName,
  type ModelConfig,
  SimulatedFlock,
  summary,
} from "../helpers/lock_model.ts";

function run(config: ModelConfig): ExplorationResult {
  const r = explore(config);
  console.log(summary(r));
  return r;
}

function violationReport(r: ExplorationResult): string {
  return [...r.violations.values()].map((v) => formatViolation(v.shortest)).join("\n\n");
}

/** Asserts `invariant` fired, and prints its shortest schedule found. */
function assertCaught(r: ExplorationResult, invariant: InvariantName): void {
  const v = r.violations.get(invariant);
  assert.ok(v, `expected ${invariant} to fire; got: ${[...r.violations.keys()].join(", ") || "nothing"}`);
  assert.ok(v.count > 0);
  console.log(formatViolation(v.shortest));
}

Deno.test("simulated flock follows Linux per-description semantics", () => {
  const f = new SimulatedFlock(3);
  // Shared locks coexist; exclusive excludes everybody else.
  assert.equal(f.tryLock(0, "shared", false), true);
  assert.equal(f.tryLock(1, "shared", false), true);
  assert.equal(f.tryLock(2, "shared", true), false);
  // A failed shared→exclusive conversion drops the shared lock it held.
  assert.equal(f.tryLock(0, "shared", true), false);
  assert.equal(f.mode(0, "shared"), 0);
  assert.equal(f.mode(1, "shared"), 1);
  // Once alone, the conversion succeeds, and excludes new shared lockers.
  assert.equal(f.tryLock(1, "shared", true), true);
  assert.equal(f.mode(1, "shared"), 2);
  assert.equal(f.tryLock(0, "shared", false), false);
  // exclusive→shared always succeeds; re-locking the held mode is a no-op.
  assert.equal(f.tryLock(1, "shared", false), true);
  assert.equal(f.mode(1, "shared"), 1);
  assert.equal(f.tryLock(1, "shared", false), true);
  assert.equal(f.tryLock(0, "shared", false), true);
  // Lock files are independent; unlock releases.
  assert.equal(f.tryLock(2, "reserved", true), true);
  assert.equal(f.tryLock(0, "reserved", false), false);
  f.unlock(2, "reserved");
  assert.equal(f.tryLock(0, "reserved", false), true);
  f.unlock(0, "reserved");
  f.unlock(0, "shared");
  f.unlock(1, "shared");
  assert.equal(f.empty(), true);
});

const PRODUCTION: ModelConfig[] = [
  { name: "2 writers + 1 reader", processes: ["writer", "writer", "reader"] },
  { name: "1 writer + 2 readers", processes: ["writer", "reader", "reader"] },
  { name: "1 recoverer + 1 writer + 1 reader", processes: ["recoverer", "writer", "reader"] },
  { name: "2 recoverers + 1 reader", processes: ["recoverer", "recoverer", "reader"] },
  { name: "2 writers + 1 recoverer", processes: ["writer", "writer", "recoverer"] },
  { name: "2 writers + 2 readers", processes: ["writer", "writer", "reader", "reader"] },
];

for (const config of PRODUCTION) {
  Deno.test(`lock model, production protocol: ${config.name}`, { ignore: skipHeavy }, () => {
    const r = run(config);
    assert.equal(r.violations.size, 0, violationReport(r));
    assert.ok(r.states > 1000, `only ${r.states} states explored`);
    assert.ok(r.schedules > 100_000n, `only ${r.schedules} interleavings`);
    // Not vacuous: every kind of process reaches its goal in some schedule,
    // and the contended paths (BUSY answers) are exercised too.
    const kinds = new Set(config.processes);
    if (kinds.has("writer")) {
      assert.ok(r.events.has("writer:EXCLUSIVE"), "no schedule where a writer holds EXCLUSIVE");
      assert.ok(r.events.has("writer:wrote"));
      assert.ok(r.events.has("writer:lock(EXCLUSIVE)=BUSY"), "a writer is never kept out of EXCLUSIVE");
    }
    if (kinds.has("recoverer")) {
      assert.ok(r.events.has("recoverer:EXCLUSIVE"), "no schedule where a recoverer holds EXCLUSIVE");
      assert.ok(r.events.has("recoverer:rolled-back"));
      assert.ok(r.events.has("recoverer:checkReserved=false"));
    }
    if (kinds.has("reader")) {
      assert.ok(r.events.has("reader:lock(SHARED)=OK"));
      if (kinds.has("writer") || kinds.has("recoverer")) {
        assert.ok(r.events.has("reader:lock(SHARED)=BUSY"), "a reader is never shut out");
      }
    }
    if (kinds.has("recoverer") && kinds.has("writer")) {
      // A recoverer sees the writer's reservation in some schedule.
      assert.ok(r.events.has("recoverer:checkReserved=true"));
    }
  });
}

Deno.test("lock model catches inPlaceUpgrade: a failed flock conversion silently drops S", () => {
  for (const processes of [["writer", "writer", "reader"], ["writer", "reader", "reader"]] as const) {
    const r = run({
      name: `inPlaceUpgrade, ${processes.join(" + ")}`,
      processes: [...processes],
      variant: { inPlaceUpgrade: true },
    });
    assertCaught(r, "shared-lock-held");
    assertCaught(r, "bookkeeping-matches-flock");
  }
  // The consequence once that is ignored: a writer that gives up after the
  // failed conversion believes it is at SHARED without holding S, and
  // another writer takes EXCLUSIVE under it.
  const r = run({
    name: "inPlaceUpgrade, 2 writers + 1 reader, S-held checks off",
    processes: ["writer", "writer", "reader"],
    variant: { inPlaceUpgrade: true },
    ignore: ["shared-lock-held", "bookkeeping-matches-flock"],
  });
  assertCaught(r, "exclusive-excludes-shared");
});

Deno.test("lock model catches readersSkipPending: a new reader enters past a pending writer", () => {
  const r = run({
    name: "readersSkipPending, 1 writer + 2 readers",
    processes: ["writer", "reader", "reader"],
    variant: { readersSkipPending: true },
  });
  assertCaught(r, "pending-blocks-readers");
});

Deno.test("lock model catches exclusiveProbe: concurrent probers see each other as a reservation", () => {
  const r = run({
    name: "exclusiveProbe, 2 recoverers + 1 reader",
    processes: ["recoverer", "recoverer", "reader"],
    variant: { exclusiveProbe: true },
  });
  assertCaught(r, "check-reserved-accurate");
  const v = r.violations.get("check-reserved-accurate");
  assert.match(v?.shortest.message ?? "", /probe failed \(answer true\) but no other process holds a reservation/);
  // With no writer at all, some recoverer was told the journal is in use.
  assert.ok(r.events.has("recoverer:checkReserved=true"));
});
