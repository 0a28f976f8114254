/**
 * Which phases of a ticket may start: a pure function of the phases'
 * statuses and what each waits for.
 *
 * A skipped phase is transparent: whatever waited for it waits for what it
 * waited for, transitively (through conditions, parallel groups, overrides
 * and pipelines alike). So a phase is ready only when every phase it
 * transitively follows is completed or skipped.
 *
 * @module
 */
import type { PhaseStatus } from "./state_machine.ts";

/** A phase as readiness sees it. */
export interface PhaseNode {
  /** Phase id. */
  id: number;
  /** Its status. */
  status: PhaseStatus;
}

/** The phases `id` effectively waits for: its predecessors, with each skipped one replaced by its own. */
function effective(
  id: number,
  preds: Map<number, number[]>,
  status: Map<number, PhaseStatus>,
  memo: Map<number, Set<number>>,
): Set<number> {
  const done = memo.get(id);
  if (done) return done;
  const out = new Set<number>();
  memo.set(id, out); // a cycle (never in a valid workflow) ends here instead of looping
  for (const q of preds.get(id) ?? []) {
    if (status.get(q) === "skipped") { for (const r of effective(q, preds, status, memo)) out.add(r); }
    else out.add(q);
  }
  return out;
}

/**
 * The phases whose every effective predecessor is completed.
 * @param phases the ticket's phases
 * @param deps `[phase, waits for]` pairs
 * @returns for each phase id, whether what it waits for is done
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { waitsForNothing } from "./readiness.ts";
 * // Design (available) → Math Review (skipped) → Implementation: Implementation still waits for Design.
 * const phases = [{ id: 1, status: "available" }, { id: 2, status: "skipped" }, { id: 3, status: "pending" }] as const;
 * assert.equal(waitsForNothing([...phases], [[2, 1], [3, 2]]).get(3), false);
 * ```
 */
export function waitsForNothing(phases: PhaseNode[], deps: [number, number][]): Map<number, boolean> {
  const preds = new Map<number, number[]>();
  for (const [p, q] of deps) preds.set(p, [...(preds.get(p) ?? []), q]);
  const status = new Map(phases.map((p) => [p.id, p.status]));
  const memo = new Map<number, Set<number>>();
  const out = new Map<number, boolean>();
  for (const p of phases) {
    out.set(p.id, [...effective(p.id, preds, status, memo)].every((q) => status.get(q) === "completed"));
  }
  return out;
}
