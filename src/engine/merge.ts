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
 * This file holds the queue (what waits, adding to it, reverts, status and
 * metrics); the worker's lease is in `merge_worker.ts`, a batch's life in
 * `merge_batches.ts`, what became of its items in `merge_outcomes.ts`.
 *
 * @module
 */
import { LANDING_TYPE } from "../config/landing.ts";
import { BatonError } from "../errors.ts";
import type { Core } from "./core.ts";
import { returnForRework } from "./gates.ts";
import { capText, LIMITS } from "./limits.ts";
import {
  batchCounts,
  flakes,
  insertRevert,
  landedShas,
  landedTickets,
  landingOf,
  landingsByStatus,
  mergeBranch,
  outcomeCounts,
  queuedLandings,
  queuedReverts,
  queueWaits,
  recentBatches,
  revertById,
  setMergeBranch,
  workerLease,
} from "./sql/merge.ts";
import { ticketById } from "./sql/tickets.ts";
import { ticketBranch } from "../repo/names.ts";
import { freshlyAvailable, move } from "./transitions.ts";
import type { Actor, MergeMetrics, MergeQueueEntry, MergeStatus } from "./types.ts";
import { actorName } from "./core.ts";
import { mergeConfig } from "./merge_config.ts";
import { toBatch } from "./merge_batches.ts";
import { reworkTarget } from "./merge_outcomes.ts";

const DAY_MS = 86_400_000;

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
