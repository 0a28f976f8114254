/**
 * The retention policy: bookkeeping that would otherwise grow for ever
 * (idempotency keys, daily claim-miss counters, agents gone for months,
 * released file declarations, and the audit trail when `audit.retain_days`
 * is set) is pruned by `baton sweep`, and lazily by any writer at most once
 * an hour. Each run deletes in bounded batches, found through indexes; the
 * lazy check reads first and takes the write lock only when a row is due.
 *
 * @module
 */
import type { Core } from "./core.ts";
import {
  lastPruneAt,
  pruneAgents,
  pruneAudit,
  pruneClaimMisses,
  pruneDeclarations,
  pruneIdempotency,
  type RetentionCutoffs,
  retentionDue,
} from "./sql/retention.ts";
import type { PruneResult } from "./types.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Rows one run deletes from each table at most (the rest goes in the next run). */
export const PRUNE_BATCH = 5000;

/**
 * Prunes what the retention policy no longer keeps, in one transaction.
 * @param core the engine core
 * @returns how many rows went, per kind
 */
export function prune(core: Core): PruneResult {
  return core.tx((stamp) => {
    const now = witnessed(core, stamp);
    const c = cutoffs(core, now);
    const out: PruneResult = {
      idempotencyKeys: pruneIdempotency(core.db, c.idempotency, PRUNE_BATCH),
      claimMissDays: pruneClaimMisses(core.db, c.claimMissDay, PRUNE_BATCH),
      agents: pruneAgents(core.db, c.agents, PRUNE_BATCH),
      declarations: pruneDeclarations(core.db, c.declarations, PRUNE_BATCH),
      auditRows: c.audit === null ? 0 : pruneAudit(core.db, c.audit, PRUNE_BATCH),
    };
    // Recorded when something went (a run that found nothing leaves no trace).
    if (Object.values(out).some((n) => n > 0)) {
      core.audit(now, "system", "maintenance.pruned", { type: "database", id: "retention" }, null, null, { ...out });
    }
    return out;
  });
}

/** What ages out is judged by witnessed time (clock.ts): a process whose clock runs ahead prunes nothing early. */
function witnessed(core: Core, now: number): number {
  return Math.min(now, core.expiryNow);
}

/** The policy's cut-offs at `now`, from the configuration. */
function cutoffs(core: Core, now: number): RetentionCutoffs {
  const r = core.cfg.config.retention;
  const retainAudit = core.cfg.config.audit.retain_days;
  return {
    idempotency: now - r.idempotency_hours * HOUR,
    claimMissDay: new Date(now - r.claim_misses_days * DAY).toISOString().slice(0, 10),
    agents: now - r.agents_days * DAY,
    declarations: now - r.declarations_days * DAY,
    audit: retainAudit === null ? null : now - retainAudit * DAY,
  };
}

/**
 * Runs {@link prune} when its hourly run is due: at most once an hour in a
 * process, skipped when another process's run deleted something within the hour
 * or when a read finds nothing old enough to go.
 * Called after a write commits; never throws (the write is done).
 * @param core the engine core
 */
export function pruneIfDue(core: Core): void {
  const now = core.clock();
  // At most once an hour per process, and not when another process pruned within the hour.
  if (now - core.pruneCheckedAt < HOUR) return;
  core.pruneCheckedAt = now;
  try {
    // Judged at the time prune() judges by and records its runs at: after a commit, the witnessed time of the
    // transaction just committed (not this process's clock, which may be behind the database's).
    const at = core.expiryNow;
    if (at - lastPruneAt(core.db) < HOUR) return;
    // Read first: with nothing due (the usual answer), no write transaction and no wait behind other writers.
    if (!retentionDue(core.db, cutoffs(core, at))) return;
    prune(core);
  } catch { /* a busy or read-only database: the next hour tries again */ }
}
