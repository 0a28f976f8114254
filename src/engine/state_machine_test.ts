import assert from "node:assert/strict";
import { canTransition, checkTransition, PHASE_STATUSES } from "./state_machine.ts";
import { conditionHolds, truthy } from "../config/conditions.ts";

Deno.test("state machine: the agent lifecycle is legal, repeats and reversals are not", () => {
  assert.ok(canTransition("available", "claimed", "claim"));
  assert.ok(canTransition("claimed", "running", "start"));
  assert.ok(canTransition("running", "completed", "complete"));
  assert.ok(canTransition("claimed", "completed", "complete"));
  assert.ok(canTransition("running", "waiting_retry", "fail"));
  assert.ok(canTransition("running", "available", "stale"));
  assert.ok(canTransition("awaiting_review", "completed", "approve"));
  assert.ok(canTransition("completed", "available", "rework"));
  assert.ok(!canTransition("completed", "completed", "complete"), "completing twice");
  assert.ok(!canTransition("completed", "failed", "fail"), "failing after completion");
  assert.ok(!canTransition("available", "running", "start"), "starting without a claim");
  assert.ok(!canTransition("pending", "claimed", "claim"), "claiming before earlier phases are done");
  assert.ok(!canTransition("awaiting_review", "completed", "complete"), "an agent completing a gate");
  assert.throws(() => checkTransition("completed", "completed", "complete", 'phase "Design" of ticket 0083'), {
    code: "invalid_transition",
    message: 'Cannot complete phase "Design" of ticket 0083: it is completed',
  });
});

Deno.test("state machine: every status can be left (no dead ends besides finished work)", () => {
  const causes = [
    "resolve",
    "claim",
    "start",
    "complete",
    "fail",
    "retry_ready",
    "release",
    "stale",
    "request_review",
    "approve",
    "reject",
    "rework",
    "reset",
    "block",
    "unblock",
  ] as const;
  for (const from of PHASE_STATUSES) {
    const exits = PHASE_STATUSES.filter((to) => causes.some((c) => canTransition(from, to, c)));
    assert.ok(exits.length > 0, `${from} has no way out`);
  }
});

Deno.test("truthy: yes/no the way people write them", () => {
  for (const y of ["yes", "Yes", "YES (educational value)", "true", "1", "y", "on", true, 1]) {
    assert.equal(truthy(y), true, String(y));
  }
  for (const n of ["no", "No - not needed", "false", "0", "", "none", false, 0]) {
    assert.equal(truthy(n), false, String(n));
  }
  assert.equal(truthy("maybe"), undefined);
  assert.equal(truthy(["x"]), undefined);
});

Deno.test("conditions: value, contains, has_multiple", () => {
  assert.ok(conditionHolds(undefined, {}));
  assert.ok(conditionHolds({ field: "tutorial", value: true }, { tutorial: "Yes (educational)" }));
  assert.ok(!conditionHolds({ field: "tutorial", value: true }, { tutorial: "No" }));
  assert.ok(!conditionHolds({ field: "tutorial", value: true }, {}));
  assert.ok(conditionHolds({ field: "tutorial", value: false }, {}));
  assert.ok(conditionHolds({ field: "complexity", value: "xl" }, { complexity: "XL" }));
  assert.ok(conditionHolds({ field: "size", value: 3 }, { size: "3" }));
  assert.ok(conditionHolds({ field: "languages", contains: "python" }, { languages: ["C++", "Python"] }));
  assert.ok(conditionHolds({ field: "languages", contains: "Python" }, { languages: "C++, Python" }));
  assert.ok(!conditionHolds({ field: "languages", contains: "Py" }, { languages: ["Python"] }), "whole items only");
  assert.ok(conditionHolds({ field: "languages", has_multiple: true }, { languages: ["C++", "Python"] }));
  assert.ok(conditionHolds({ field: "languages", has_multiple: false }, { languages: ["Python"] }));
  assert.ok(conditionHolds({ field: "languages", has_multiple: false }, {}));
});
