/**
 * The merge queue's worker lease: one worker at a time holds the repository's
 * queue. A worker whose lease ended (killed, or silent) is replaced; every
 * batch operation checks the caller still holds it (`stale_token` if not).
 *
 * @module
 */
import { LANDING_TYPE } from "../config/landing.ts";
import type { MergeConfig } from "../config/schema.ts";
import { BatonError } from "../errors.ts";
import type { Core } from "./core.ts";
import { ensureAgent } from "./leases.ts";
import { capText, LIMITS } from "./limits.ts";
import { extendLeases } from "./sql/phases.ts";
import { dropWorkerLease, renewWorkerLease, setWorkerLease, workerLease } from "./sql/merge.ts";
import type { MergeWorkerLease } from "./types.ts";
import { mergeConfig } from "./merge_config.ts";

const leaseMs = (m: MergeConfig) => m.lease_minutes * 60_000;

/** The lease row of the worker holding `lease`, or a `stale_token` error: another worker took the queue. */
export function checkWorker(core: Core, lease: MergeWorkerLease): void {
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
