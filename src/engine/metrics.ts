/**
 * Metrics and live events, computed in SQL over the engine's database:
 * durations and waits per phase, failure/retry/rework rates, throughput per
 * day, work in progress, the bottleneck, per-agent work, gate decision
 * latency, claim contention, stalled work, and an event feed that other
 * processes can follow.
 *
 * @module
 */
import type { Core } from "./core.ts";
import {
  agentWork,
  attemptCounts,
  bottleneck,
  claimWaits,
  completionDurations,
  firstAuditAt,
  gateDecisionTimes,
  holdChanges,
  lostClaims,
  phaseOutcomes,
  phasesPerDay,
  ticketsPerDay,
  workInProgress,
} from "./sql/metrics.ts";
import { oldestAvailable, silentSince } from "./sql/phases.ts";
import type { R } from "./sql/rows.ts";
import type { Database } from "../storage/sqlite.ts";
import type { Distribution, Metrics, PhaseMetrics, Stalled, WipPoint } from "./types.ts";

export type { Distribution, Metrics, PhaseMetrics, Stalled, WipPoint };

const EMPTY: Distribution = { count: 0, p50: null, p90: null, max: null };

function byGroup(rows: R[]): Map<string, Distribution> {
  return new Map(rows.map((r) => [String(r.g), { count: r.n, p50: r.p50, p90: r.p90, max: r.mx }]));
}

/**
 * Computes every metric.
 *
 * @param core the engine
 * @param opts window start (ms, default all time), now (ms)
 * @returns the metrics
 */
export function computeMetrics(core: Core, opts: { since?: number; now: number }): Metrics {
  const db = core.db;
  const since = opts.since ?? null;
  const s = since ?? -1;
  const claimToComplete = byGroup(completionDurations(db, s, "claimed_at"));
  const startToComplete = byGroup(completionDurations(db, s, "started_at"));
  const wait = byGroup(claimWaits(db, s));
  // Failed attempts and claims come from the audit trail (every attempt, not only the last).
  const attempts = new Map(attemptCounts(db, s).map((r) => [r.name, r]));
  const phases: PhaseMetrics[] = phaseOutcomes(db, s).map((c) => {
    const a = attempts.get(c.name);
    return {
      phase: c.name,
      completed: c.completed ?? 0,
      claimToComplete: claimToComplete.get(c.name) ?? EMPTY,
      startToComplete: startToComplete.get(c.name) ?? EMPTY,
      wait: wait.get(c.name) ?? EMPTY,
      failureRate: a && a.claims ? a.fails / a.claims : 0,
      retryRate: c.claimed ? (c.retried ?? 0) / c.claimed : 0,
      rework: a?.rework ?? 0,
    };
  });
  const days = new Map<string, { day: string; phases: number; tickets: number }>();
  for (const r of phasesPerDay(db, s)) days.set(r.day, { day: r.day, phases: r.n, tickets: 0 });
  for (const r of ticketsPerDay(db, s)) {
    const d = days.get(r.day) ?? { day: r.day, phases: 0, tickets: 0 };
    d.tickets = r.n;
    days.set(r.day, d);
  }
  const wip = workInProgress(db);
  const oldest = oldestAvailable(db);
  const neck = bottleneck(db, opts.now);
  const g = gateDecisionTimes(db, s);
  const sinceDay = since === null ? "0000-00-00" : new Date(since).toISOString().slice(0, 10);
  const lost = lostClaims(db, sinceDay);
  return {
    since,
    phases,
    throughput: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)),
    workInProgress: { claimed: wip.claimed ?? 0, running: wip.running ?? 0 },
    workInProgressOverTime: wipOverTime(db, since, opts.now, (wip.claimed ?? 0) + (wip.running ?? 0)),
    oldestWaiting: oldest
      ? {
        phaseId: oldest.id,
        ticketId: oldest.ticket_id,
        phase: oldest.name,
        since: oldest.available_at,
        waitingMs: opts.now - oldest.available_at,
      }
      : null,
    bottleneck: neck ? { phase: neck.name, waiting: neck.waiting, totalWaitMs: neck.total } : null,
    agents: agentWork(db, s).map((a) => ({ agentId: a.agent, completed: a.n, busyMs: a.busy ?? 0 })),
    gateDecision: g ? { count: g.n, p50: g.p50, p90: g.p90, max: g.mx } : EMPTY,
    contention: { lost: lost.reduce((n, r) => n + r.lost, 0), byType: lost },
    stalled: findStalled(core, opts.now),
  };
}

const MINUTE = 60_000;
/** How many points the series has at most, and how far back it goes at most. */
const WIP_POINTS = 120, WIP_SPAN = 90 * 24 * 60 * MINUTE;

/**
 * Work in progress over time: the phases held (claimed or running), from the
 * window's start (or the first audit row; 90 days at most) to now, in at most
 * 120 buckets of whole minutes. Each point has the count at the bucket's end
 * and the most held at once within it, so that work claimed and finished
 * between two points still shows. Computed back from the count held now,
 * through every change of hold the audit records (so a pruned history cannot
 * make it negative).
 *
 * @param db the database
 * @param since window start (ms), null for all time
 * @param now ms
 * @param heldNow phases held now
 * @returns the points, oldest first; at least two (the window's start and now)
 */
export function wipOverTime(db: Database, since: number | null, now: number, heldNow: number): WipPoint[] {
  const first = firstAuditAt(db);
  const from = Math.max(since ?? first ?? now, now - WIP_SPAN);
  const step = Math.max(MINUTE, Math.ceil((now - from) / WIP_POINTS / MINUTE) * MINUTE);
  const start = Math.min(Math.floor(from / step) * step, now - 2 * step);
  const n = Math.ceil((now - start) / step);
  const end = (i: number) => Math.min(start + (i + 1) * step, now);
  const points: WipPoint[] = [];
  // Walk back from now: `held` is the count just after the change being undone.
  let held = heldNow, i = n - 1;
  let point: WipPoint = { at: end(i), held, peak: held };
  for (const c of holdChanges(db, start, first !== null && start <= first)) {
    while (i > 0 && c.at < start + i * step) {
      points.push(point);
      i--;
      point = { at: end(i), held, peak: held };
    }
    held = Math.max(0, held - c.delta);
    point.peak = Math.max(point.peak, held);
  }
  for (; i >= 0; i--) {
    points.push(point);
    point = { at: end(i - 1), held, peak: held };
  }
  return points.reverse();
}

/**
 * Held phases with no progress for longer than `stall_timeout_minutes`,
 * longest silence first. Separate from stale claims, whose lease expired: a
 * stalled agent may still be heartbeating nothing useful.
 *
 * @param core the engine
 * @param now ms
 * @returns the stalled phases
 */
export function findStalled(core: Core, now: number): Stalled[] {
  return silentSince(core.db, now - core.cfg.config.stall_timeout_minutes * 60_000).map((r) => ({
    phaseId: r.id,
    ticketId: r.ticket_id,
    phase: r.name,
    agentId: r.claimed_by,
    lastProgressAt: r.last_progress_at,
    silentMs: now - r.last_progress_at,
  }));
}
