/**
 * What became of each item of a merge batch: landed (its landing phase
 * completes with the commit, exactly once), a conflict, a culprit or fenced
 * work (the ticket goes back to its rework phase with the notes), requeued
 * (back in the queue, in its place), or failed (the retry policy); and how
 * the batch ends.
 *
 * @module
 */
import { type BranchCommit, commitsOf, type FencedCommit, fencedCommits } from "./hooks.ts";
import { complete, fail, release } from "./claims.ts";
import type { Core } from "./core.ts";
import { returnForRework } from "./gates.ts";
import { capText, LIMITS } from "./limits.ts";
import { phaseById, phasesOfTicket } from "./sql/phases.ts";
import {
  batchById,
  countFlake,
  itemsOf,
  sentBackSinceLanded,
  setAvailableAt,
  setRevertStatus,
  updateBatch,
  updateItem,
} from "./sql/merge.ts";
import type { R } from "./sql/rows.ts";
import type { MergeBatch, MergeWorkerLease } from "./types.ts";
import { mergeConfig } from "./merge_config.ts";
import { batchOf, tail, toBatch } from "./merge_batches.ts";

/** Completes one item's landing phase (exactly once: a completed phase is left as it is). */
function landItem(core: Core, now: number, lease: MergeWorkerLease, b: R, item: R, sha: string | null): void {
  const noop = sha === null;
  if (item.kind === "revert") {
    setRevertStatus(core.db, item.revert_id, "landed", sha);
    updateItem(core.db, b.id, item.position, { outcome: "landed", sha });
    core.audit(
      now,
      lease.workerId,
      "merge.reverted",
      { type: "merge", id: String(b.id), ticket: item.ticket_id },
      null,
      "landed",
      {
        sha,
      },
    );
    return;
  }
  const phase = phaseById(core.db, item.phase_id);
  updateItem(core.db, b.id, item.position, { outcome: noop ? "noop" : "landed", sha });
  if (!phase || phase.status === "completed") return;
  const summary = noop
    ? `Nothing to land: ${item.branch} has no commits ${b.target} lacks`
    : `Landed on ${b.target} as ${sha}`;
  complete(core, item.phase_id, { agentId: lease.workerId, token: item.token, summary, artifacts: [] });
  core.audit(
    now,
    lease.workerId,
    noop ? "merge.noop" : "merge.landed",
    {
      type: "merge",
      id: String(b.id),
      ticket: item.ticket_id,
    },
    null,
    noop ? "noop" : "landed",
    // The commits its agents made under their claims (post-commit), tied to the SHA they landed as.
    {
      sha,
      branch: item.branch,
      commits: commitsOf(core, item.ticket_id).filter((c) => c.underClaim).map((c) => c.sha),
    },
  );
}

/**
 * `Engine.landMergeBatch`: the target points at the batch's candidate: every
 * item still pending lands with its commit (`shas[position]`, or null: it
 * had nothing to land).
 */
export function landBatch(
  core: Core,
  lease: MergeWorkerLease,
  batchId: number,
  req: { shas?: Record<number, string | null> } = {},
): MergeBatch {
  return core.tx((now) => {
    const b = batchOf(core, lease, batchId);
    if (b.status === "landed") return toBatch(core, b);
    for (const item of itemsOf(core.db, batchId)) {
      if (item.outcome !== "pending") continue;
      const sha = req.shas && item.position in req.shas ? req.shas[item.position] : item.sha;
      landItem(core, now, lease, b, item, sha ?? null);
    }
    updateBatch(core.db, batchId, { status: "landed", finished_at: now });
    return toBatch(core, batchById(core.db, batchId)!);
  });
}

/** The phase a ticket sent back from the queue returns to: `rework_phase`, else its last completed agent phase. */
export function reworkTarget(core: Core, ticketId: string): R | undefined {
  const m = mergeConfig(core);
  const rows = phasesOfTicket(core.db, ticketId);
  const named = rows.find((r) => r.name === m.rework_phase && r.status === "completed");
  if (named) return named;
  // On a ticket where group phases replace it (`C++ Implementation` for `Implementation`): the one that did its work.
  const by = new Set(m.rework_phase ? core.graph.overriddenBy(m.rework_phase) : []);
  const replacing = rows.filter((r) => by.has(r.name) && r.status === "completed").at(-1);
  return replacing ??
    rows.filter((r) => r.status === "completed" && r.agent_type !== null && r.name !== m.phase).at(-1);
}

/**
 * `Engine.sendBackFromMerge`: an item conflicted with the target (or the
 * batch before it) or broke the check: its ticket goes back to its rework
 * phase with `notes` (the conflicting files, the check's output), and its
 * landing phase waits for the workflow to be done again.
 */
export function sendBack(
  core: Core,
  lease: MergeWorkerLease,
  batchId: number,
  position: number,
  req: { outcome: "conflict" | "culprit" | "fenced"; notes: string },
): void {
  capText(req.notes, LIMITS.text, "The notes");
  core.tx((now) => {
    const b = batchOf(core, lease, batchId);
    const item = itemsOf(core.db, batchId).find((i) => i.position === position);
    if (!item || item.outcome !== "pending") return;
    updateItem(core.db, batchId, position, { outcome: req.outcome, notes: req.notes });
    core.audit(
      now,
      lease.workerId,
      `merge.${req.outcome}`,
      { type: "merge", id: String(b.id), ticket: item.ticket_id },
      null,
      req.outcome,
      {
        notes: req.notes,
      },
    );
    if (item.kind === "revert") {
      setRevertStatus(core.db, item.revert_id, "failed", null);
      return;
    }
    const target = reworkTarget(core, item.ticket_id);
    // Sent back as often as a phase may be tried (retry.max_attempts) without landing: a human looks (the landing
    // fails, with an escalation) instead of agents redoing the same work against a target that keeps refusing it.
    const times = sentBackSinceLanded(core.db, item.ticket_id);
    const limit = core.cfg.config.retry.max_attempts;
    if (target && times > limit) {
      fail(core, item.phase_id, {
        agentId: lease.workerId,
        token: item.token,
        error: `sent back by the merge queue ${times} times without landing (retry.max_attempts: ${limit}); the ` +
          `last time: ${req.notes.split("\n")[0]}`,
      });
    } else if (target) returnForRework(core, target.id, { actor: lease.workerId, notes: req.notes });
    else {
      // No agent phase to return to (a ticket of gates only): the landing fails for a human.
      fail(core, item.phase_id, { agentId: lease.workerId, token: item.token, error: req.notes });
    }
  });
}

/** `Engine.requeueMerge`: items go back to the queue in their place (a rebuild on a new tip, a batch cut short). */
export function requeue(
  core: Core,
  lease: MergeWorkerLease,
  batchId: number,
  positions: number[],
  reason: string,
): void {
  core.tx(() => {
    batchOf(core, lease, batchId);
    for (const item of itemsOf(core.db, batchId)) {
      if (!positions.includes(item.position) || item.outcome !== "pending") continue;
      updateItem(core.db, batchId, item.position, { outcome: "requeued", notes: reason });
      if (item.kind === "revert") continue; // a queued revert is taken again by the next batch
      const phase = phaseById(core.db, item.phase_id);
      if (!phase || phase.claimed_by !== lease.workerId) continue;
      release(core, item.phase_id, { agentId: lease.workerId, token: item.token, reason });
      setAvailableAt(core.db, item.phase_id, phase.available_at); // keeps its place in the queue
    }
  });
}

/** `Engine.failMergeItem`: git could not do what landing needs (a branch that vanished…): the retry policy applies. */
export function failItem(core: Core, lease: MergeWorkerLease, batchId: number, position: number, error: string): void {
  capText(error, LIMITS.text, "The error");
  core.tx(() => {
    batchOf(core, lease, batchId);
    const item = itemsOf(core.db, batchId).find((i) => i.position === position);
    if (!item || item.outcome !== "pending") return;
    updateItem(core.db, batchId, position, { outcome: "failed", notes: error });
    if (item.kind === "revert") setRevertStatus(core.db, item.revert_id, "failed", null);
    else fail(core, item.phase_id, { agentId: lease.workerId, token: item.token, error });
  });
}

/** `Engine.finishMergeBatch`: a batch ends without landing (red, or abandoned); pending items are requeued first. */
export function finishBatch(
  core: Core,
  lease: MergeWorkerLease,
  batchId: number,
  req: { status: "red" | "abandoned"; builds?: number; checkMs?: number; log?: string; targetRed?: string },
): void {
  core.tx((now) => {
    const b = batchOf(core, lease, batchId);
    if (b.status === "landed") return;
    const pending = itemsOf(core.db, batchId).filter((i) => i.outcome === "pending").map((i) => i.position);
    if (pending.length) requeue(core, lease, batchId, pending, `the batch was ${req.status}`);
    updateBatch(core.db, batchId, {
      status: req.status,
      finished_at: now,
      ...(req.builds !== undefined ? { builds: req.builds } : {}),
      ...(req.checkMs !== undefined ? { check_ms: Math.round(req.checkMs) } : {}),
      ...(req.log !== undefined ? { log: tail(req.log) } : {}),
      // The commit the check failed on: the batch's base, or the tip it was last rebuilt on.
      ...(req.targetRed && req.status === "red" ? { target_red: 1, base_sha: req.targetRed } : {}),
    });
    core.audit(
      now,
      lease.workerId,
      "merge.batch",
      { type: "merge", id: String(batchId) },
      b.status,
      req.status,
      req.targetRed && req.status === "red" ? { targetRed: req.targetRed } : undefined,
    );
  });
}

/** `Engine.recordMergeFlake`: a check failed and then passed on the same candidate. */
export function recordFlake(core: Core, lease: MergeWorkerLease, batchId: number, check: string): void {
  core.tx((now) => {
    batchOf(core, lease, batchId);
    countFlake(core.db, check, batchId, now);
    core.audit(now, lease.workerId, "merge.flaky", { type: "merge", id: String(batchId) }, null, null, { check });
  });
}

/**
 * `Engine.fenceMergeItem`: the branch's commits that an agent made after it
 * lost its claim; when there are any, the item ends `fenced` and its ticket
 * goes back to rework with them (as for a conflict).
 */
export function fence(
  core: Core,
  lease: MergeWorkerLease,
  batchId: number,
  position: number,
  commits: BranchCommit[],
): FencedCommit[] {
  const b = batchOf(core, lease, batchId);
  const item = itemsOf(core.db, b.id).find((i) => i.position === position);
  if (!item || item.outcome !== "pending" || item.kind !== "land") return [];
  const fenced = fencedCommits(core, commits, item.ticket_id);
  if (fenced.length) {
    const notes = `Not landed: ${fenced.length} commit(s) of the branch were made by an agent that no longer held ` +
      `its claim:\n${fenced.map((f) => `- ${f.sha.slice(0, 12)}: ${f.reason}`).join("\n")}\n\n` +
      "Check that work, then drop or redo it under a live claim, and finish the phase again.";
    sendBack(core, lease, batchId, position, { outcome: "fenced", notes });
  }
  return fenced;
}
