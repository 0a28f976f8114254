/**
 * A merge batch's life: started from the queue (its landing phases claimed by
 * the worker), its candidate and check recorded before the target moves, and
 * recovered by a new worker when its worker was killed.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { claimRow } from "./claims.ts";
import type { Core } from "./core.ts";
import { expire, releaseAgentClaims } from "./leases.ts";
import { LIMITS } from "./limits.ts";
import { phaseById } from "./sql/phases.ts";
import {
  batchById,
  insertBatch,
  insertItem,
  itemsOf,
  openBatches,
  queuedLandings,
  queuedReverts,
  testedTip,
  updateBatch,
  updateItem,
} from "./sql/merge.ts";
import type { R } from "./sql/rows.ts";
import { ticketBranch } from "../repo/names.ts";
import type { AgentProcessInfo, MergeBatch, MergeCandidate, MergeItem, MergeWorkerLease } from "./types.ts";
import { mergeConfig } from "./merge_config.ts";
import { checkWorker } from "./merge_worker.ts";

function toItem(r: R): MergeItem {
  return {
    position: r.position,
    phaseId: r.phase_id,
    ticketId: r.ticket_id,
    kind: r.kind,
    revertId: r.revert_id,
    branch: r.branch,
    token: r.token,
    outcome: r.outcome,
    sha: r.sha,
    notes: r.notes,
  };
}

export function toBatch(core: Core, r: R): MergeBatch {
  return {
    id: r.id,
    worker: r.worker,
    target: r.target,
    baseSha: r.base_sha,
    candidateSha: r.candidate_sha,
    status: r.status,
    builds: r.builds,
    checkMs: r.check_ms,
    log: r.log,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    checkProcess: r.check_process ? JSON.parse(r.check_process) : null,
    targetRed: r.target_red === 1,
    items: itemsOf(core.db, r.id).map(toItem),
  };
}

/** The batch, held by the caller's worker (`stale_token`, `not_found`, `forbidden` otherwise). */
export function batchOf(core: Core, lease: MergeWorkerLease, batchId: number): R {
  checkWorker(core, lease);
  const b = batchById(core.db, batchId);
  if (!b) throw new BatonError("not_found", `Merge batch ${batchId} does not exist`);
  if (b.worker !== lease.workerId) {
    throw new BatonError("forbidden", `Merge batch ${batchId} is ${b.worker}'s (adopt it first)`);
  }
  return b;
}

/**
 * `Engine.startMergeBatch`: the next batch, when it is due: a queued revert
 * alone, else up to `batch_size` queued landings once that many wait or the
 * oldest has waited `batch_wait_seconds` (at once with `now`). Their landing
 * phases are claimed by the worker.
 */
export function startBatch(
  core: Core,
  lease: MergeWorkerLease,
  req: { baseSha: string; now?: boolean },
): MergeBatch | null {
  const m = mergeConfig(core);
  return core.tx((now) => {
    checkWorker(core, lease);
    expire(core, now); // a landing whose retry is due is queued again (claims do this for agents' phases)
    const revert = queuedReverts(core.db)[0];
    if (revert) {
      const id = insertBatch(core.db, { worker: lease.workerId, target: m.target, baseSha: req.baseSha, now });
      insertItem(core.db, {
        batchId: id,
        position: 0,
        phaseId: null,
        ticketId: revert.ticket_id,
        kind: "revert",
        revertId: revert.id,
        branch: null,
        token: null,
      });
      core.audit(
        now,
        lease.workerId,
        "merge.batch",
        { type: "merge", id: String(id), ticket: revert.ticket_id },
        null,
        "building",
        {
          revert: revert.id,
        },
      );
      return toBatch(core, batchById(core.db, id)!);
    }
    const queued = queuedLandings(core.db, m.phase, m.batch_size);
    if (!queued.length) return null;
    const oldest = Math.min(...queued.map((r) => r.available_at));
    const due = req.now || queued.length >= m.batch_size || core.expiryNow - oldest >= m.batch_wait_seconds * 1000;
    if (!due) return null;
    const id = insertBatch(core.db, { worker: lease.workerId, target: m.target, baseSha: req.baseSha, now });
    queued.forEach((row, position) => {
      const c = claimRow(core, now, lease.workerId, row);
      insertItem(core.db, {
        batchId: id,
        position,
        phaseId: row.id,
        ticketId: row.ticket_id,
        kind: "land",
        branch: row.m_branch ?? ticketBranch(row.ticket_id),
        token: c.token,
      });
    });
    core.audit(now, lease.workerId, "merge.batch", { type: "merge", id: String(id) }, null, "building", {
      tickets: queued.map((r) => r.ticket_id),
      base: req.baseSha,
    });
    return toBatch(core, batchById(core.db, id)!);
  });
}

/**
 * `Engine.recordMergeCandidate`: the batch's candidate passed its check and
 * the target is about to move to it: recorded first, so that a worker that
 * dies between the two is followed by one that knows what landed.
 */
export function recordCandidate(
  core: Core,
  lease: MergeWorkerLease,
  batchId: number,
  req: MergeCandidate,
): void {
  core.tx(() => {
    const b = batchOf(core, lease, batchId);
    // "landing" again: the target had moved, the last candidate never landed, and the batch was rebuilt.
    if (b.status !== "building" && b.status !== "landing") {
      throw new BatonError("invalid_transition", `Merge batch ${batchId} is ${b.status}: it builds no candidate`);
    }
    for (const [pos, sha] of Object.entries(req.shas)) {
      updateItem(core.db, batchId, Number(pos), { sha, from_sha: req.from?.[Number(pos)] ?? null });
    }
    updateBatch(core.db, batchId, {
      status: "landing",
      candidate_sha: req.candidateSha,
      builds: req.builds,
      check_ms: Math.round(req.checkMs),
      log: tail(req.log),
    });
  });
}

/**
 * `Engine.recordMergeCheck`: the process group of the check the batch runs
 * now (null: none runs), for the worker that recovers the batch if this one
 * is killed.
 */
export function recordCheck(
  core: Core,
  lease: MergeWorkerLease,
  batchId: number,
  process: AgentProcessInfo | null,
): void {
  core.tx(() => {
    batchOf(core, lease, batchId);
    updateBatch(core.db, batchId, { check_process: process ? JSON.stringify(process) : null });
  });
}

/** The end of a check's output, as much as a batch keeps. */
export const tail = (s: string | undefined | null) => (s ? s.slice(-LIMITS.text / 4) : null);

/** `Engine.recordMergeTips`. */
export function recordTips(core: Core, lease: MergeWorkerLease, batchId: number, tips: Record<number, string>): void {
  core.tx(() => {
    batchOf(core, lease, batchId);
    for (const [position, tip] of Object.entries(tips)) updateItem(core.db, batchId, Number(position), { tip });
  });
}

/** `Engine.mergeTestedTip`. */
export function testedTipOf(core: Core, ticketId: string): string | null {
  return testedTip(core.db, ticketId);
}

/** `Engine.openMergeBatches`: batches a worker left unfinished (it was killed), to recover. */
export function unfinished(core: Core): MergeBatch[] {
  return openBatches(core.db).map((r) => toBatch(core, r));
}

/**
 * `Engine.adoptMergeBatch`: a new worker takes over a batch its dead
 * predecessor left: the landing phases it still held (or that came back
 * when its lease ended) are claimed by the new worker, with new tokens.
 */
export function adoptBatch(core: Core, lease: MergeWorkerLease, batchId: number): MergeBatch {
  return core.tx((now) => {
    checkWorker(core, lease);
    const b = batchById(core.db, batchId);
    if (!b) throw new BatonError("not_found", `Merge batch ${batchId} does not exist`);
    if (b.worker !== lease.workerId) {
      releaseAgentClaims(core, b.worker, { reason: "its merge worker is gone", actor: lease.workerId });
    }
    for (const item of itemsOf(core.db, batchId)) {
      if (item.outcome !== "pending" || item.kind !== "land") continue;
      const phase = phaseById(core.db, item.phase_id);
      if (!phase || phase.status !== "available") continue;
      const c = claimRow(core, now, lease.workerId, phase);
      updateItem(core.db, batchId, item.position, { token: c.token });
    }
    updateBatch(core.db, batchId, { worker: lease.workerId });
    core.audit(now, lease.workerId, "merge.adopted", { type: "merge", id: String(batchId) }, b.worker, lease.workerId);
    return toBatch(core, batchById(core.db, batchId)!);
  });
}
