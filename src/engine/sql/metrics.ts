/**
 * The metrics queries: percentiles per group in one pass (window
 * functions), counts per phase and per day, contention. Every value is
 * bound: the statement text never depends on the window asked for.
 *
 * @module
 */
import type { Database } from "../../storage/sqlite.ts";
import { HELD_SQL, type R } from "./rows.ts";

/** p50, p90 and max of `v` per group `g`, over the rows a `WITH d(g, v)` produces. */
function percentiles(db: Database, d: string, params: unknown[]): R[] {
  return db.all<R>(
    `WITH d AS (${d}),
          r AS (SELECT g, v, row_number() OVER (PARTITION BY g ORDER BY v) AS rn, count(*) OVER (PARTITION BY g) AS n
                FROM d WHERE v IS NOT NULL)
     SELECT g, max(n) AS n,
            max(CASE WHEN rn = max(1, (n + 1) / 2) THEN v END) AS p50,
            max(CASE WHEN rn = max(1, (n * 9 + 9) / 10) THEN v END) AS p90,
            max(v) AS mx
     FROM r GROUP BY g`,
    params as never,
  );
}

/** Claim → complete and start → complete of phases completed since `since`, per phase name. */
export function completionDurations(db: Database, since: number, from: "claimed_at" | "started_at"): R[] {
  return percentiles(
    db,
    `SELECT name AS g, max(0, completed_at - ${from}) AS v FROM phases WHERE status = 'completed' AND completed_at >= ?`,
    [since],
  );
}

/** Available → claimed of the last claim of each phase claimed since `since`, per phase name. */
export function claimWaits(db: Database, since: number): R[] {
  return percentiles(
    db,
    `SELECT name AS g, claimed_at - available_at AS v FROM phases
     WHERE claimed_at >= available_at AND claimed_at >= ? AND status IN ('claimed', 'running', 'awaiting_review', 'completed')`,
    [since],
  );
}

/** Open → decided of gates decided since `since`, as one group. */
export function gateDecisionTimes(db: Database, since: number): R | undefined {
  return percentiles(
    db,
    "SELECT 'all' AS g, max(0, decided_at - opened_at) AS v FROM gates WHERE decided_at IS NOT NULL AND decided_at >= ?",
    [since],
  )[0];
}

/** Per phase name, in workflow order: completed, claimed and retried since `since`. */
export function phaseOutcomes(db: Database, since: number): R[] {
  return db.all<R>(
    `SELECT name,
       sum(status = 'completed' AND completed_at >= ?1) AS completed,
       sum(claimed_at IS NOT NULL AND claimed_at >= ?1) AS claimed,
       sum(attempts > 1 AND claimed_at >= ?1) AS retried
     FROM phases GROUP BY name ORDER BY min(seq), name`,
    [since],
  );
}

/** Per phase name, from the audit trail (every attempt): failures, claims and times sent back. */
export function attemptCounts(db: Database, since: number): R[] {
  return db.all<R>(
    `SELECT json_extract(details, '$.phase') AS name, sum(action = 'phase.fail') AS fails, sum(action = 'phase.claim') AS claims,
       sum((action = 'phase.rework' AND old_state = 'completed') OR (action = 'phase.reject' AND new_state = 'available')) AS rework
     FROM audit WHERE at >= ? AND action IN ('phase.fail', 'phase.claim', 'phase.rework', 'phase.reject') GROUP BY 1`,
    [since],
  );
}

const DAY = (col: string) => `strftime('%Y-%m-%d', ${col} / 1000, 'unixepoch')`;

/** Phases completed per UTC day since `since`. */
export function phasesPerDay(db: Database, since: number): R[] {
  return db.all<R>(
    `SELECT ${DAY("completed_at")} AS day, count(*) AS n FROM phases
     WHERE status = 'completed' AND completed_at >= ? GROUP BY 1`,
    [since],
  );
}

/**
 * Tickets completed per UTC day since `since`, by work: a completion in the
 * same request as an import placing phases done (seeded completed, or moved
 * forward to where the ticket's file says it is) is history, not throughput.
 * Phases done before Baton need no such filter: they have no completion time.
 */
export function ticketsPerDay(db: Database, since: number): R[] {
  return db.all<R>(
    `SELECT ${DAY("a.at")} AS day, count(*) AS n FROM audit a
     WHERE a.action = 'ticket.completed' AND a.at >= ?
       AND NOT EXISTS (SELECT 1 FROM audit i INDEXED BY audit_history WHERE i.correlation_id = a.correlation_id
                       AND i.at = a.at AND i.action IN ('phase.seeded', 'phase.resolve') AND i.new_state = 'completed')
     GROUP BY 1`,
    [since],
  );
}

/**
 * Every change of how many phases are held (claimed or running) since
 * `since`, newest first: +1 when a phase became held, -1 when it stopped
 * being held, whatever caused it (claim; completion, failure, release, a
 * stale lease, a review request, a forced release). A window that starts
 * after the trail's first row is read through `audit_at` (in id order SQLite
 * read the whole trail, however short the window: 267 ms for the last day of
 * 1,000,000 rows); the whole trail is read in table order and its few hold
 * changes sorted (through the index, every row is looked up: 955 against 667 ms).
 * @param db the database
 * @param since the window's start (ms)
 * @param whole whether the window holds the whole trail
 */
export function holdChanges(db: Database, since: number, whole: boolean): { at: number; delta: number }[] {
  return db.all<{ at: number; delta: number }>(
    `SELECT at, CASE WHEN new_state IN ${HELD_SQL} THEN 1 ELSE -1 END AS delta FROM audit ${whole ? "NOT INDEXED" : ""}
     WHERE at >= ? AND entity_type = 'phase'
       AND (coalesce(old_state, '') IN ${HELD_SQL}) <> (coalesce(new_state, '') IN ${HELD_SQL})
     ORDER BY at DESC, id DESC`,
    [since],
  );
}

/** The time of the first audit row (null: none). */
export function firstAuditAt(db: Database): number | null {
  return db.get<{ at: number | null }>("SELECT min(at) AS at FROM audit")!.at;
}

/** Phases held now, claimed and running. */
export function workInProgress(db: Database): { claimed: number | null; running: number | null } {
  return db.get<R>(
    `SELECT sum(status = 'claimed') AS claimed, sum(status = 'running') AS running FROM phases WHERE status IN ${HELD_SQL}`,
  )! as { claimed: number | null; running: number | null };
}

/** The phase name where available work has waited longest in total, now. */
export function bottleneck(db: Database, now: number): R | undefined {
  return db.get<R>(
    `SELECT name, count(*) AS waiting, sum(? - available_at) AS total FROM phases
     WHERE status = 'available' AND available_at IS NOT NULL GROUP BY name ORDER BY total DESC, name LIMIT 1`,
    [now],
  );
}

/** Per agent: phases completed since `since` and time spent on them (claim → complete). */
export function agentWork(db: Database, since: number): R[] {
  return db.all<R>(
    `SELECT claimed_by AS agent, count(*) AS n, sum(completed_at - claimed_at) AS busy FROM phases
     WHERE status = 'completed' AND claimed_by IS NOT NULL AND completed_at >= ? GROUP BY claimed_by ORDER BY n DESC, agent`,
    [since],
  );
}

/**
 * Claims lost to another agent (the phase was held by another when asked
 * for), per agent type, from UTC day `sinceDay` on. The `empty` column
 * (claims that found nothing, counted before) is not contention and is
 * not read.
 */
export function lostClaims(db: Database, sinceDay: string): { agentType: string; lost: number }[] {
  return db.all<{ agentType: string; lost: number }>(
    `SELECT agent_type AS agentType, sum(conflicts) AS lost FROM claim_misses
     WHERE day >= ? AND conflicts > 0 GROUP BY agent_type ORDER BY lost DESC, agent_type`,
    [sinceDay],
  );
}
