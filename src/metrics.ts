/**
 * Metrics and live events, computed in SQL over the engine's database:
 * durations and waits per phase, failure/retry/rework rates, throughput per
 * day, work in progress, the bottleneck, per-agent work, gate decision
 * latency, claim contention, stalled work, and an event feed that other
 * processes can follow.
 *
 * @module
 */
import type { Database } from "./storage/sqlite.ts";

/** p50 / p90 / max of a duration set, in ms (null when empty). */
export interface Distribution {
  count: number;
  p50: number | null;
  p90: number | null;
  max: number | null;
}

/** Per phase name. */
export interface PhaseMetrics {
  phase: string;
  /** Completed phases of this name (in the window). */
  completed: number;
  /** Claim → complete. */
  claimToComplete: Distribution;
  /** Start → complete. */
  startToComplete: Distribution;
  /** Available → claimed (the last claim of each phase). */
  wait: Distribution;
  /** Failed attempts / claims. */
  failureRate: number;
  /** Phases that needed more than one attempt / phases claimed. */
  retryRate: number;
  /** Times work of this phase was sent back by a gate. */
  rework: number;
}

/** Everything `metrics()` returns. */
export interface Metrics {
  /** Window start (ms) or null for all time. */
  since: number | null;
  phases: PhaseMetrics[];
  /** Completed phases and tickets per UTC day. */
  throughput: { day: string; phases: number; tickets: number }[];
  /** Phases held right now, by status. */
  workInProgress: { claimed: number; running: number };
  /** The phase waiting longest to be claimed. */
  oldestWaiting: { phaseId: number; ticketId: string; phase: string; since: number; waitingMs: number } | null;
  /** Phase name where work waits longest now (sum of current waits), with the count waiting. */
  bottleneck: { phase: string; waiting: number; totalWaitMs: number } | null;
  /** Per agent: phases completed and time spent (claim → complete). */
  agents: { agentId: string; completed: number; busyMs: number }[];
  /** Gate open → decided. */
  gateDecision: Distribution;
  /** Claim attempts that came back empty, or lost to another holder. */
  contention: { empty: number; conflicts: number };
  /** Running phases with no progress for longer than the stall timeout. */
  stalled: Stalled[];
}

/** A running phase that made no progress (heartbeat or event) for too long. */
export interface Stalled {
  phaseId: number;
  ticketId: string;
  phase: string;
  agentId: string | null;
  lastProgressAt: number;
  silentMs: number;
}

// deno-lint-ignore no-explicit-any
type R = Record<string, any>;

/** Percentiles of a duration expression per group, in one SQL pass (window functions). */
function distributions(
  db: Database,
  from: string,
  expr: string,
  groupBy: string,
  params: unknown[],
): Map<string, Distribution> {
  const rows = db.all<R>(
    `WITH d AS (SELECT ${groupBy} AS g, ${expr} AS v FROM ${from}),
          r AS (SELECT g, v, row_number() OVER (PARTITION BY g ORDER BY v) AS rn, count(*) OVER (PARTITION BY g) AS n
                FROM d WHERE v IS NOT NULL)
     SELECT g, max(n) AS n,
            max(CASE WHEN rn = max(1, (n + 1) / 2) THEN v END) AS p50,
            max(CASE WHEN rn = max(1, (n * 9 + 9) / 10) THEN v END) AS p90,
            max(v) AS mx
     FROM r GROUP BY g`,
    params as never,
  );
  return new Map(rows.map((r) => [String(r.g), { count: r.n, p50: r.p50, p90: r.p90, max: r.mx }]));
}

const EMPTY: Distribution = { count: 0, p50: null, p90: null, max: null };

/**
 * Computes every metric.
 *
 * @param db the engine's database
 * @param opts window start (ms), now (ms), stall timeout (ms)
 * @returns the metrics
 */
export function computeMetrics(
  db: Database,
  opts: { since?: number; now: number; stallTimeoutMs: number },
): Metrics {
  const since = opts.since ?? null;
  const s = since ?? -1;
  const done = `phases WHERE status = 'completed' AND completed_at >= ${Number(s)}`;
  const claimToComplete = distributions(db, done, "completed_at - claimed_at", "name", []);
  const startToComplete = distributions(db, done, "completed_at - started_at", "name", []);
  const wait = distributions(
    db,
    `phases WHERE claimed_at >= available_at AND claimed_at >= ${Number(s)}
       AND status IN ('claimed', 'running', 'awaiting_review', 'completed')`,
    "claimed_at - available_at",
    "name",
    [],
  );
  const counts = db.all<R>(
    `SELECT name,
       sum(status = 'completed' AND completed_at >= ?1) AS completed,
       sum(claimed_at IS NOT NULL AND claimed_at >= ?1) AS claimed,
       sum(attempts > 1 AND claimed_at >= ?1) AS retried
     FROM phases GROUP BY name ORDER BY min(seq), name`,
    [s],
  );
  // Failed attempts and claims come from the audit trail (every attempt, not only the last).
  const attempts = new Map(
    db.all<R>(
      `SELECT json_extract(details, '$.phase') AS name, sum(action = 'phase.fail') AS fails, sum(action = 'phase.claim') AS claims,
         sum((action = 'phase.rework' AND old_state = 'completed') OR (action = 'phase.reject' AND new_state = 'available')) AS rework
       FROM audit WHERE at >= ? AND action IN ('phase.fail', 'phase.claim', 'phase.rework', 'phase.reject') GROUP BY 1`,
      [s],
    ).map((r) => [r.name, r]),
  );
  const phases: PhaseMetrics[] = counts.map((c) => {
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
  const day = (col: string) => `strftime('%Y-%m-%d', ${col} / 1000, 'unixepoch')`;
  const perDayPhases = db.all<R>(
    `SELECT ${day("completed_at")} AS day, count(*) AS n FROM phases
     WHERE status = 'completed' AND completed_at >= ? GROUP BY 1`,
    [s],
  );
  const perDayTickets = db.all<R>(
    `SELECT ${day("at")} AS day, count(*) AS n FROM audit WHERE action = 'ticket.completed' AND at >= ? GROUP BY 1`,
    [s],
  );
  const days = new Map<string, { day: string; phases: number; tickets: number }>();
  for (const r of perDayPhases) days.set(r.day, { day: r.day, phases: r.n, tickets: 0 });
  for (const r of perDayTickets) {
    const d = days.get(r.day) ?? { day: r.day, phases: 0, tickets: 0 };
    d.tickets = r.n;
    days.set(r.day, d);
  }
  const wip = db.get<R>(
    "SELECT sum(status = 'claimed') AS claimed, sum(status = 'running') AS running FROM phases WHERE status IN ('claimed', 'running')",
  )!;
  const oldest = db.get<R>(
    `SELECT id, ticket_id, name, available_at FROM phases WHERE status = 'available' AND available_at IS NOT NULL
     ORDER BY available_at, id LIMIT 1`,
  );
  const bottleneck = db.get<R>(
    `SELECT name, count(*) AS waiting, sum(? - available_at) AS total FROM phases
     WHERE status = 'available' AND available_at IS NOT NULL GROUP BY name ORDER BY total DESC, name LIMIT 1`,
    [opts.now],
  );
  const agents = db.all<R>(
    `SELECT claimed_by AS agent, count(*) AS n, sum(completed_at - claimed_at) AS busy FROM phases
     WHERE status = 'completed' AND claimed_by IS NOT NULL AND completed_at >= ? GROUP BY claimed_by ORDER BY n DESC, agent`,
    [s],
  );
  const gateDecision = distributions(
    db,
    `gates WHERE decided_at IS NOT NULL AND decided_at >= ${Number(s)}`,
    "decided_at - opened_at",
    "'all'",
    [],
  ).get("all") ?? EMPTY;
  const sinceDay = since === null ? "0000-00-00" : new Date(since).toISOString().slice(0, 10);
  const contention = db.get<R>(
    "SELECT coalesce(sum(empty), 0) AS empty, coalesce(sum(conflicts), 0) AS conflicts FROM claim_misses WHERE day >= ?",
    [sinceDay],
  )!;
  return {
    since,
    phases,
    throughput: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)),
    workInProgress: { claimed: wip.claimed ?? 0, running: wip.running ?? 0 },
    oldestWaiting: oldest
      ? {
        phaseId: oldest.id,
        ticketId: oldest.ticket_id,
        phase: oldest.name,
        since: oldest.available_at,
        waitingMs: opts.now - oldest.available_at,
      }
      : null,
    bottleneck: bottleneck
      ? { phase: bottleneck.name, waiting: bottleneck.waiting, totalWaitMs: bottleneck.total }
      : null,
    agents: agents.map((a) => ({ agentId: a.agent, completed: a.n, busyMs: a.busy ?? 0 })),
    gateDecision,
    contention: { empty: contention.empty, conflicts: contention.conflicts },
    stalled: findStalled(db, opts.now, opts.stallTimeoutMs),
  };
}

/**
 * Running (or claimed) phases with no progress — no heartbeat, no call, no
 * event — for longer than `timeoutMs`. Separate from stale claims, whose
 * lease expired: a stalled agent may still be heartbeating nothing useful.
 *
 * @param db the database
 * @param now ms
 * @param timeoutMs silence allowed
 * @returns the stalled phases, longest silence first
 */
export function findStalled(db: Database, now: number, timeoutMs: number): Stalled[] {
  return db.all<R>(
    `SELECT id, ticket_id, name, claimed_by, last_progress_at FROM phases
     WHERE status IN ('claimed', 'running') AND last_progress_at < ? ORDER BY last_progress_at, id`,
    [now - timeoutMs],
  ).map((r) => ({
    phaseId: r.id,
    ticketId: r.ticket_id,
    phase: r.name,
    agentId: r.claimed_by,
    lastProgressAt: r.last_progress_at,
    silentMs: now - r.last_progress_at,
  }));
}

/**
 * Counts a claim attempt that came back empty or lost to a holder.
 * @param db the database (inside or outside a transaction)
 * @param now ms
 * @param agentTypes the types asked for
 * @param kind empty or conflict
 */
export function recordMiss(db: Database, now: number, agentTypes: string[], kind: "empty" | "conflicts"): void {
  const day = new Date(now).toISOString().slice(0, 10);
  for (const t of agentTypes) {
    db.run(
      `INSERT INTO claim_misses(day, agent_type, ${kind}) VALUES (?, ?, 1)
       ON CONFLICT(day, agent_type) DO UPDATE SET ${kind} = ${kind} + 1`,
      [day, t],
    );
  }
}
