/**
 * The merge queue's rules. A ticket whose workflow is done has its landing
 * phase available (`config/landing.ts`); the repository's one merge worker,
 * holding the worker lease, takes them in batches (claims with leases and
 * fencing tokens, as any phase), and reports back what git and the check
 * said: landed (the phase completes with the commit), a conflict or a
 * culprit (the ticket goes back to its rework phase with the files or the
 * check's output as notes), requeued (back in the queue, in its place), or
 * failed (the retry policy). Before the target moves, the batch records the
 * candidate it moves to, so that a worker killed at any point is followed by
 * one that lands each ticket exactly once.
 *
 * @module
 */
import { type BranchCommit, commitsOf, type FencedCommit, fencedCommits } from "./hooks.ts";
import { LANDING_TYPE } from "../config/landing.ts";
import type { MergeConfig } from "../config/schema.ts";
import { BatonError } from "../errors.ts";
import { claimRow, complete, fail, release } from "./claims.ts";
import type { Core } from "./core.ts";
import { returnForRework } from "./gates.ts";
import { ensureAgent, expire, releaseAgentClaims } from "./leases.ts";
import { capText, LIMITS } from "./limits.ts";
import { extendLeases, phaseById, phasesOfTicket } from "./sql/phases.ts";
import {
  batchById,
  batchCounts,
  countFlake,
  dropWorkerLease,
  flakes,
  insertBatch,
  insertItem,
  insertRevert,
  itemsOf,
  landedShas,
  landedTickets,
  landingOf,
  landingsByStatus,
  mergeBranch,
  openBatches,
  outcomeCounts,
  queuedLandings,
  queuedReverts,
  queueWaits,
  recentBatches,
  renewWorkerLease,
  revertById,
  setAvailableAt,
  setMergeBranch,
  setRevertStatus,
  setWorkerLease,
  testedTip,
  updateBatch,
  updateItem,
  workerLease,
} from "./sql/merge.ts";
import type { R } from "./sql/rows.ts";
import { ticketById } from "./sql/tickets.ts";
import { ticketBranch } from "../repo/names.ts";

const DAY_MS = 86_400_000;
import { freshlyAvailable, move } from "./transitions.ts";
import type {
  Actor,
  AgentProcessInfo,
  MergeBatch,
  MergeCandidate,
  MergeItem,
  MergeMetrics,
  MergeQueueEntry,
  MergeStatus,
  MergeWorkerLease,
} from "./types.ts";
import { actorName } from "./core.ts";

/** The merge queue's settings, or a coded error when none are configured. */
export function mergeConfig(core: Core): MergeConfig {
  const m = core.cfg.config.merge;
  if (!m) {
    throw new BatonError(
      "config_invalid",
      "No merge queue is configured: add a merge: section (target, check) to .workflow/config.yaml",
    );
  }
  return m;
}

const leaseMs = (m: MergeConfig) => m.lease_minutes * 60_000;

/** The lease row of the worker holding `lease`, or a `stale_token` error: another worker took the queue. */
function checkWorker(core: Core, lease: MergeWorkerLease): void {
  const row = workerLease(core.db);
  if (!row || row.token !== lease.token) {
    throw new BatonError(
      "stale_token",
      `The merge worker ${lease.workerId} no longer holds the queue${row ? ` (${row.holder} does)` : ""}`,
    );
  }
}

/** `Engine.acquireMergeWorker`. */
export function acquireWorker(
  core: Core,
  workerId: string,
  opts: { holderGone?: string } = {},
): MergeWorkerLease | null {
  capText(workerId, LIMITS.name, "The worker id");
  const m = mergeConfig(core);
  return core.tx((now) => {
    const row = workerLease(core.db);
    // Another worker's lease that has not ended (judged by witnessed time, as claims are): the queue is taken,
    // unless that worker is the one the caller found gone and it has missed its renewals (a live worker renews
    // every quarter lease: one the caller cannot see, in another pid namespace say, keeps the queue).
    const gone = row !== undefined && row.holder === opts.holderGone &&
      row.lease_expires_at - leaseMs(m) / 2 <= core.expiryNow;
    if (row && row.holder !== workerId && row.lease_expires_at > core.expiryNow && !gone) return null;
    const token = crypto.randomUUID();
    const expires = now + leaseMs(m);
    setWorkerLease(core.db, workerId, token, now, expires);
    core.audit(now, workerId, "merge.worker", { type: "merge", id: "worker" }, row?.holder ?? null, workerId, {
      previous: row && row.holder !== workerId ? row.holder : null,
      ...(gone ? { previousGone: true } : {}),
    });
    ensureAgent(core, now, workerId, [LANDING_TYPE]);
    return { workerId, token, leaseExpiresAt: expires };
  });
}

/** `Engine.renewMergeWorker`: extends the worker's lease and the leases of the landing phases it holds. */
export function renewWorker(core: Core, lease: MergeWorkerLease): MergeWorkerLease {
  const m = mergeConfig(core);
  return core.tx((now) => {
    const expires = now + leaseMs(m);
    if (!renewWorkerLease(core.db, lease.token, expires)) checkWorker(core, lease);
    extendLeases(core.db, lease.workerId, now, core.graph.leaseOverridesJson, core.graph.leaseMs(""));
    return { ...lease, leaseExpiresAt: expires };
  });
}

/** `Engine.releaseMergeWorker`: the worker stops; the queue is free at once. */
export function releaseWorker(core: Core, lease: MergeWorkerLease): void {
  core.tx(() => dropWorkerLease(core.db, lease.token));
}

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

function toBatch(core: Core, r: R): MergeBatch {
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

function batchOf(core: Core, lease: MergeWorkerLease, batchId: number): R {
  checkWorker(core, lease);
  const b = batchById(core.db, batchId);
  if (!b) throw new BatonError("not_found", `Merge batch ${batchId} does not exist`);
  if (b.worker !== lease.workerId) {
    throw new BatonError("forbidden", `Merge batch ${batchId} is ${b.worker}'s (adopt it first)`);
  }
  return b;
}

/** `Engine.mergeQueue`: the landing phases waiting, in the order they will be built. */
export function mergeQueue(core: Core, limit = 1000): MergeQueueEntry[] {
  const m = mergeConfig(core);
  return queuedLandings(core.db, m.phase, limit).map((r) => ({
    phaseId: r.id,
    ticketId: r.ticket_id,
    title: r.t_title,
    branch: r.m_branch ?? ticketBranch(r.ticket_id),
    queuedAt: r.available_at,
    attempts: r.attempts,
  }));
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

const tail = (s: string | undefined | null) => (s ? s.slice(-LIMITS.text / 4) : null);

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
function reworkTarget(core: Core, ticketId: string): R | undefined {
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
    if (target) returnForRework(core, target.id, { actor: lease.workerId, notes: req.notes });
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

/**
 * `Engine.addToMergeQueue`: a branch made some other way lands for a ticket
 * (or a ticket's landing is asked for again): recorded, and the ticket's
 * landing phase queued when its workflow is done.
 */
export function enqueue(core: Core, ticketId: string, req: { branch?: string; actor: Actor }): MergeQueueEntry | null {
  if (req.branch !== undefined) capText(req.branch, LIMITS.path, "The branch");
  const m = mergeConfig(core);
  return core.tx((now) => {
    if (!ticketById(core.db, ticketId)) throw new BatonError("not_found", `Ticket ${ticketId} does not exist`);
    if (req.branch) setMergeBranch(core.db, ticketId, req.branch, actorName(req.actor), now);
    const phase = landingOf(core.db, ticketId, m.phase);
    if (!phase) throw new BatonError("not_found", `Ticket ${ticketId} has no ${m.phase} phase`);
    if (phase.status === "completed" || phase.status === "failed") {
      move(
        core,
        now,
        req.actor,
        phase,
        "available",
        phase.status === "failed" ? "reset" : "rework",
        freshlyAvailable(now),
        {
          branch: req.branch ?? mergeBranch(core.db, ticketId) ?? ticketBranch(ticketId),
        },
      );
    }
    core.audit(now, req.actor, "merge.added", { type: "merge", id: ticketId, ticket: ticketId }, null, null, {
      branch: req.branch ?? null,
    });
    return mergeQueue(core).find((e) => e.ticketId === ticketId) ?? null;
  });
}

/**
 * `Engine.revertMerge`: a landed ticket's commits are reverted through the
 * queue (tested like any landing), and the ticket reopens at its rework
 * phase with the notes.
 */
export function requestRevert(core: Core, ticketId: string, req: { actor: Actor; notes?: string }): number {
  capText(req.notes, LIMITS.text, "The notes");
  mergeConfig(core);
  return core.tx((now) => {
    if (!ticketById(core.db, ticketId)) throw new BatonError("not_found", `Ticket ${ticketId} does not exist`);
    const shas = landedShas(core.db, ticketId);
    if (!shas.length) throw new BatonError("invalid_transition", `Ticket ${ticketId} has nothing landed to revert`);
    const id = insertRevert(core.db, {
      ticketId,
      shas,
      notes: req.notes ?? null,
      by: actorName(req.actor),
      now,
    });
    core.audit(now, req.actor, "merge.revert", { type: "merge", id: String(id), ticket: ticketId }, null, "queued", {
      shas,
      notes: req.notes ?? null,
    });
    const target = reworkTarget(core, ticketId);
    const notes = `Reverted from ${mergeConfig(core).target}${req.notes ? `: ${req.notes}` : ""}`;
    if (target) returnForRework(core, target.id, { actor: req.actor, notes });
    return id;
  });
}

/** One revert, for the worker. */
export function revertOf(core: Core, id: number): { ticketId: string; shas: string[]; notes: string | null } {
  const r = revertById(core.db, id);
  if (!r) throw new BatonError("not_found", `Revert ${id} does not exist`);
  return { ticketId: r.ticket_id, shas: JSON.parse(r.shas), notes: r.notes };
}

/** `Engine.mergeStatus`. */
export function status(core: Core, opts: { recent?: number } = {}): MergeStatus {
  const m = mergeConfig(core);
  const lease = workerLease(core.db);
  const byStatus = Object.fromEntries(landingsByStatus(core.db, m.phase).map((r) => [r.status, r.n]));
  const recent = recentBatches(core.db, opts.recent ?? 20).map((r) => toBatch(core, r));
  const latest = recentBatches(core.db, 1)[0];
  return {
    target: m.target,
    worker: lease && lease.lease_expires_at > core.clock()
      ? { id: lease.holder, leaseExpiresAt: lease.lease_expires_at }
      : null,
    queued: mergeQueue(core),
    waitingForWorkflow: byStatus.pending ?? 0,
    retrying: byStatus.waiting_retry ?? 0,
    failed: byStatus.failed ?? 0,
    building: recent.find((b) => b.status === "building" || b.status === "landing") ?? null,
    recent,
    reverts: queuedReverts(core.db).map((r) => ({ id: r.id, ticketId: r.ticket_id, requestedAt: r.requested_at })),
    flaky: flakes(core.db).map((f) => ({ check: f.check_cmd, count: f.count, lastAt: f.last_at })),
    targetRed: latest?.target_red === 1
      ? { sha: latest.base_sha, batchId: latest.id, since: latest.finished_at ?? latest.started_at, log: latest.log }
      : null,
  };
}

/** `Engine.mergeMetrics`: landed, rates, and the share landed without a human stepping in. */
export function metrics(core: Core, since: number): MergeMetrics {
  const outcomes = Object.fromEntries(outcomeCounts(core.db, since).map((r) => [r.outcome, r.n]));
  const b = batchCounts(core.db, since);
  const t = landedTickets(core.db, since);
  const items = Object.values(outcomes).reduce((a, n) => a + n, 0);
  const rate = (n: number, of: number) => (of ? n / of : null);
  const waits = queueWaits(core.db, LANDING_TYPE, since).sort((a, b) => a - b);
  const now = core.clock();
  const from = Math.max(since, now - 365 * DAY_MS);
  const days = Math.max(1, (now - from) / DAY_MS);
  return {
    batches: b.batches,
    landed: (outcomes.landed ?? 0) + (outcomes.noop ?? 0),
    conflicts: outcomes.conflict ?? 0,
    culprits: outcomes.culprit ?? 0,
    failureRate: rate(b.red, b.batches),
    bisectRate: rate(b.rebuilt, b.batches),
    conflictRate: rate(outcomes.conflict ?? 0, items),
    withoutHuman: rate(t.clean, t.landed),
    landedPerDay: t.landed / days,
    queueMedianMs: waits.length ? waits[Math.floor((waits.length - 1) / 2)] : null,
  };
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
