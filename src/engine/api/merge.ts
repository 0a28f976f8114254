/**
 * The merge queue's part of the engine: the worker's lease, batches and
 * what became of each ticket in them, reverts, status and metrics. The rules
 * are in `../merge.ts` and the `../merge_*.ts` beside it; the worker that runs git and the check is the
 * `merge/` adapter.
 *
 * @module
 */
import * as merge from "../merge.ts";
import * as batches from "../merge_batches.ts";
import * as outcomes from "../merge_outcomes.ts";
import * as mergeWorker from "../merge_worker.ts";
import { coreOf } from "./base.ts";
import { EngineGates } from "./gates.ts";
import type {
  Actor,
  AgentProcessInfo,
  MergeBatch,
  MergeCandidate,
  MergeMetrics,
  MergeQueueEntry,
  MergeStatus,
  MergeWorkerLease,
} from "../types.ts";

/** The merge queue. Part of `Engine`. */
export class EngineMerge extends EngineGates {
  /**
   * Takes the repository's merge queue for a worker: one worker at a time;
   * a worker whose lease ended (killed, or silent) is replaced, and so is one the caller found gone (its process
   * no longer exists: killed with the `baton run` it ran in) once it has missed its renewals for half a lease,
   * without waiting for the rest.
   * @param workerId the worker's id (it claims the landing phases under it)
   * @param opts `holderGone`: the id of the worker holding the queue, whose process the caller found gone
   * @returns the lease (with its fencing token), or null while another worker holds the queue
   * @throws {BatonError} `config_invalid` without a `merge:` section
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "merge:\n  check: \"true\"\n" }));
   * const lease = engine.acquireMergeWorker("worker-1")!;
   * assert.equal(engine.acquireMergeWorker("worker-2"), null);
   * engine.releaseMergeWorker(lease);
   * engine.close();
   * ```
   */
  acquireMergeWorker(workerId: string, opts: { holderGone?: string } = {}): MergeWorkerLease | null {
    return mergeWorker.acquireWorker(coreOf(this), workerId, opts);
  }

  /**
   * Extends the worker's lease, and the leases of the landing phases it holds.
   * @param lease the worker's lease
   * @returns the lease, extended
   * @throws {BatonError} `stale_token` when another worker holds the queue now
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "merge:\n  check: \"true\"\n" }));
   * const lease = engine.renewMergeWorker(engine.acquireMergeWorker("w")!);
   * engine.releaseMergeWorker(lease);
   * engine.close();
   * ```
   */
  renewMergeWorker(lease: MergeWorkerLease): MergeWorkerLease {
    return mergeWorker.renewWorker(coreOf(this), lease);
  }

  /**
   * Lets the queue go (the worker stops): another worker may take it at once.
   * @param lease the worker's lease
   * @throws {BatonError} `database_*`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "merge:\n  check: \"true\"\n" }));
   * engine.releaseMergeWorker(engine.acquireMergeWorker("w")!);
   * assert.ok(engine.acquireMergeWorker("v"));
   * engine.close();
   * ```
   */
  releaseMergeWorker(lease: MergeWorkerLease): void {
    mergeWorker.releaseWorker(coreOf(this), lease);
  }

  /**
   * The tickets waiting to land, in the order they will be built.
   * @returns the queue
   * @throws {BatonError} `config_invalid` without a `merge:` section
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({
   *   phases: "phases:\n  - {name: Build, agent_type: builder}\n",
   *   config: "merge:\n  check: \"true\"\n",
   * }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * assert.equal(engine.mergeQueue()[0].branch, "baton/0001");
   * assert.equal(engine.ticket("0001").status, "active"); // completed once it has landed
   * engine.close();
   * ```
   */
  mergeQueue(): MergeQueueEntry[] {
    return merge.mergeQueue(coreOf(this));
  }

  /**
   * The next batch, when one is due (a queued revert alone; else up to
   * `batch_size` tickets once that many wait or the oldest waited
   * `batch_wait_seconds`; at once with `now`); the worker claims their
   * landing phases.
   * @param lease the worker's lease
   * @param req the target's tip it is built on; `now` to build without waiting for the batch to fill
   * @returns the batch, or null when none is due
   * @throws {BatonError} `stale_token` when another worker holds the queue
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({
   *   phases: "phases:\n  - {name: Build, agent_type: builder}\n",
   *   config: "merge:\n  check: \"true\"\n  batch_size: 2\n",
   * }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * const lease = engine.acquireMergeWorker("w")!;
   * assert.equal(engine.startMergeBatch(lease, { baseSha: "abc" }), null); // waits to fill
   * assert.equal(engine.startMergeBatch(lease, { baseSha: "abc", now: true })!.items.length, 1);
   * engine.close();
   * ```
   */
  startMergeBatch(lease: MergeWorkerLease, req: { baseSha: string; now?: boolean }): MergeBatch | null {
    return batches.startBatch(coreOf(this), lease, req);
  }

  /**
   * Records the candidate the target is about to move to (its check passed),
   * with each ticket's commit in it: done before the target moves, so that a
   * worker killed in between is followed by one that knows what landed.
   * @param lease the worker's lease
   * @param batchId the batch
   * @param req the candidate, each item's commit by position (and the commit it was applied onto: `from`, what a
   *   revert undoes), builds, check time, the check's output
   * @throws {BatonError} `stale_token`, `forbidden` (another worker's batch), `invalid_transition`
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({
   *   phases: "phases:\n  - {name: Build, agent_type: builder}\n",
   *   config: "merge:\n  check: \"true\"\n",
   * }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * const lease = engine.acquireMergeWorker("w")!;
   * const b = engine.startMergeBatch(lease, { baseSha: "a1", now: true })!;
   * engine.recordMergeCandidate(lease, b.id, { candidateSha: "c2", shas: { 0: "c2" }, builds: 1, checkMs: 5 });
   * engine.landMergeBatch(lease, b.id);
   * engine.close();
   * ```
   */
  recordMergeCandidate(
    lease: MergeWorkerLease,
    batchId: number,
    req: MergeCandidate,
  ): void {
    batches.recordCandidate(coreOf(this), lease, batchId, req);
  }

  /**
   * Records the process group of the check the batch is running (its
   * leader: host, pid, start time), or that none runs (null): the worker
   * that recovers the batch after this one is killed ends what it left
   * running.
   * @param lease the worker's lease
   * @param batchId the batch
   * @param process the check's process group leader, or null once it ended
   * @throws {BatonError} `stale_token`, `forbidden` (another worker's batch), `not_found`
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * import assert from "node:assert/strict";
   * const engine = await openEngine(await tempRepo({
   *   phases: "phases:\n  - {name: Build, agent_type: builder}\n",
   *   config: "merge:\n  check: \"true\"\n",
   * }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * const lease = engine.acquireMergeWorker("w")!;
   * const b = engine.startMergeBatch(lease, { baseSha: "a1", now: true })!;
   * engine.recordMergeCheck(lease, b.id, { host: "h", pid: 4242, pidStart: "1234" });
   * assert.equal(engine.openMergeBatches()[0].checkProcess?.pid, 4242);
   * engine.close();
   * ```
   */
  recordMergeCheck(lease: MergeWorkerLease, batchId: number, process: AgentProcessInfo | null): void {
    batches.recordCheck(coreOf(this), lease, batchId, process);
  }

  /**
   * Records the tip of its branch each item was applied from: the work the
   * worker built and checked. Until the ticket lands, a build that finds the
   * branch gone or without that work does not complete it
   * ({@link mergeTestedTip}).
   * @param lease the worker's lease
   * @param batchId the batch
   * @param tips each applied item's branch tip, by position
   * @throws {BatonError} `stale_token`, `forbidden` (another worker's batch), `not_found`
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * import assert from "node:assert/strict";
   * const engine = await openEngine(await tempRepo({
   *   phases: "phases:\n  - {name: Build, agent_type: builder}\n",
   *   config: "merge:\n  check: \"true\"\n",
   * }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * const lease = engine.acquireMergeWorker("w")!;
   * const b = engine.startMergeBatch(lease, { baseSha: "a1", now: true })!;
   * engine.recordMergeTips(lease, b.id, { [b.items[0].position]: "c0ffee" });
   * assert.equal(engine.mergeTestedTip("0001"), "c0ffee");
   * engine.close();
   * ```
   */
  recordMergeTips(lease: MergeWorkerLease, batchId: number, tips: Record<number, string>): void {
    batches.recordTips(coreOf(this), lease, batchId, tips);
  }

  /**
   * The branch tip the merge queue last built and checked a ticket's landing
   * from since the ticket last landed (not counting a build that sent it back
   * for rework), or null: work a landing must not complete the ticket
   * without.
   * @param ticketId the ticket
   * @returns the commit, or null
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * import assert from "node:assert/strict";
   * const engine = await openEngine(await tempRepo());
   * assert.equal(engine.mergeTestedTip("0001"), null);
   * engine.close();
   * ```
   */
  mergeTestedTip(ticketId: string): string | null {
    return batches.testedTipOf(coreOf(this), ticketId);
  }

  /**
   * The target points at the batch's candidate: each pending ticket lands
   * (its landing phase completes with its commit; null: nothing to land).
   * A ticket already landed is left as it is: each lands exactly once.
   * @param lease the worker's lease
   * @param batchId the batch
   * @param req commits by position (default: those recorded with the candidate)
   * @returns the batch
   * @throws {BatonError} `stale_token`, `forbidden` (another worker's batch)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({
   *   phases: "phases:\n  - {name: Build, agent_type: builder}\n",
   *   config: "merge:\n  check: \"true\"\n",
   * }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * const lease = engine.acquireMergeWorker("w")!;
   * const b = engine.startMergeBatch(lease, { baseSha: "a1", now: true })!;
   * engine.landMergeBatch(lease, b.id, { shas: { 0: "c2" } });
   * assert.equal(engine.ticket("0001").status, "completed");
   * engine.close();
   * ```
   */
  landMergeBatch(
    lease: MergeWorkerLease,
    batchId: number,
    req: { shas?: Record<number, string | null> } = {},
  ): MergeBatch {
    return outcomes.landBatch(coreOf(this), lease, batchId, req);
  }

  /**
   * Sends a ticket of a batch back to its rework phase (`merge.rework_phase`):
   * it conflicted, or it broke the check. The notes (the conflicting files,
   * the check's output) reach the next agent as rework notes.
   * @param lease the worker's lease
   * @param batchId the batch
   * @param position the ticket's place in it
   * @param req conflict or culprit, and the notes
   * @throws {BatonError} `stale_token`, `forbidden`, `invalid_argument` (notes over 64 KB)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({
   *   phases: "phases:\n  - {name: Build, agent_type: builder}\n",
   *   config: "merge:\n  check: \"true\"\n",
   * }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * const lease = engine.acquireMergeWorker("w")!;
   * const b = engine.startMergeBatch(lease, { baseSha: "a1", now: true })!;
   * engine.sendBackFromMerge(lease, b.id, 0, { outcome: "culprit", notes: "test_x failed" });
   * assert.equal(engine.claimNext({ agentId: "a", capabilities: ["builder"] })!.reworkNotes, "test_x failed");
   * engine.close();
   * ```
   */
  sendBackFromMerge(
    lease: MergeWorkerLease,
    batchId: number,
    position: number,
    req: { outcome: "conflict" | "culprit"; notes: string },
  ): void {
    outcomes.sendBack(coreOf(this), lease, batchId, position, req);
  }

  /**
   * Puts tickets of a batch back in the queue, in their place (the batch is
   * rebuilt on a new tip, or was cut short after its culprit).
   * @param lease the worker's lease
   * @param batchId the batch
   * @param positions which items
   * @param reason why (audited)
   * @throws {BatonError} `stale_token`, `forbidden`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({
   *   phases: "phases:\n  - {name: Build, agent_type: builder}\n",
   *   config: "merge:\n  check: \"true\"\n",
   * }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * const lease = engine.acquireMergeWorker("w")!;
   * const b = engine.startMergeBatch(lease, { baseSha: "a1", now: true })!;
   * engine.requeueMerge(lease, b.id, [0], "the target moved");
   * assert.equal(engine.mergeQueue().length, 1);
   * engine.close();
   * ```
   */
  requeueMerge(lease: MergeWorkerLease, batchId: number, positions: number[], reason: string): void {
    outcomes.requeue(coreOf(this), lease, batchId, positions, reason);
  }

  /**
   * A ticket of a batch could not be landed for a reason that is not its
   * code's (its branch vanished, git failed): its landing phase fails and
   * the retry policy applies (a human looks after the last attempt).
   * @param lease the worker's lease
   * @param batchId the batch
   * @param position the ticket's place in it
   * @param error what went wrong
   * @throws {BatonError} `stale_token`, `forbidden`
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({
   *   phases: "phases:\n  - {name: Build, agent_type: builder}\n",
   *   config: "merge:\n  check: \"true\"\n",
   * }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * const lease = engine.acquireMergeWorker("w")!;
   * const b = engine.startMergeBatch(lease, { baseSha: "a1", now: true })!;
   * engine.failMergeItem(lease, b.id, 0, "branch baton/0001 is gone");
   * engine.close();
   * ```
   */
  failMergeItem(lease: MergeWorkerLease, batchId: number, position: number, error: string): void {
    outcomes.failItem(coreOf(this), lease, batchId, position, error);
  }

  /**
   * Ends a batch that landed nothing (red, or abandoned); its pending tickets go back to the queue.
   * @param lease the worker's lease
   * @param batchId the batch
   * @param req how it ended, builds, check time, the check's output; `targetRed`: the target's commit the check
   *   failed on by itself (nothing blamed: `mergeStatus().targetRed` names it until the next batch)
   * @throws {BatonError} `stale_token`, `forbidden`
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "merge:\n  check: \"true\"\n" }));
   * const lease = engine.acquireMergeWorker("w")!;
   * engine.releaseMergeWorker(lease);
   * engine.close();
   * ```
   */
  finishMergeBatch(
    lease: MergeWorkerLease,
    batchId: number,
    req: { status: "red" | "abandoned"; builds?: number; checkMs?: number; log?: string; targetRed?: string },
  ): void {
    outcomes.finishBatch(coreOf(this), lease, batchId, req);
  }

  /**
   * Counts a flaky check: it failed and then passed on the same candidate.
   * @param lease the worker's lease
   * @param batchId the batch
   * @param check the check command
   * @throws {BatonError} `stale_token`, `forbidden`
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "merge:\n  check: \"true\"\n" }));
   * engine.releaseMergeWorker(engine.acquireMergeWorker("w")!);
   * engine.close();
   * ```
   */
  recordMergeFlake(lease: MergeWorkerLease, batchId: number, check: string): void {
    outcomes.recordFlake(coreOf(this), lease, batchId, check);
  }

  /**
   * Batches a worker left unfinished (killed while building or landing), for its successor to recover.
   * @returns the batches
   * @throws {BatonError} `config_invalid` without a `merge:` section
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "merge:\n  check: \"true\"\n" }));
   * assert.deepEqual(engine.openMergeBatches(), []);
   * engine.close();
   * ```
   */
  openMergeBatches(): MergeBatch[] {
    return batches.unfinished(coreOf(this));
  }

  /**
   * Takes over a batch a dead worker left: its landing phases are claimed
   * again by this worker, with new tokens.
   * @param lease the new worker's lease
   * @param batchId the batch
   * @returns the batch
   * @throws {BatonError} `stale_token`, `not_found`
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "merge:\n  check: \"true\"\n" }));
   * for (const b of engine.openMergeBatches()) engine.adoptMergeBatch(engine.acquireMergeWorker("w")!, b.id);
   * engine.close();
   * ```
   */
  adoptMergeBatch(lease: MergeWorkerLease, batchId: number): MergeBatch {
    return batches.adoptBatch(coreOf(this), lease, batchId);
  }

  /**
   * Lands a branch made some other way for a ticket (`baton merge add`), or
   * asks again for a ticket's landing: the branch is recorded, and a landing
   * that was done or failed is queued again.
   * @param ticketId the ticket
   * @param req the branch (default: `baton/<ticket>`), and who asks
   * @returns its place in the queue, or null while its workflow is not done
   * @throws {BatonError} `not_found`, `config_invalid` without a `merge:` section
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({
   *   phases: "phases:\n  - {name: Build, agent_type: builder}\n",
   *   config: "merge:\n  check: \"true\"\n",
   * }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * assert.equal(engine.addToMergeQueue("0001", { branch: "feature/a", actor: { kind: "human", name: "dana" } }), null);
   * engine.close();
   * ```
   */
  addToMergeQueue(ticketId: string, req: { branch?: string; actor: Actor }): MergeQueueEntry | null {
    return merge.enqueue(coreOf(this), ticketId, req);
  }

  /**
   * Reverts a landed ticket through the queue (the revert is tested like
   * any landing) and reopens the ticket at its rework phase with a note.
   * @param ticketId the ticket
   * @param req who asks, and why
   * @returns the revert's id
   * @throws {BatonError} `not_found`, `invalid_transition` (nothing landed)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BatonError, openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "merge:\n  check: \"true\"\n" }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * assert.throws(() => engine.revertMerge("0001", { actor: { kind: "human", name: "dana" } }), BatonError);
   * engine.close();
   * ```
   */
  revertMerge(ticketId: string, req: { actor: Actor; notes?: string }): number {
    return merge.requestRevert(coreOf(this), ticketId, req);
  }

  /**
   * A queued revert, for the worker: the ticket and the commits to revert (newest first).
   * @param revertId the revert
   * @returns its ticket, commits and notes
   * @throws {BatonError} `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "merge:\n  check: \"true\"\n" }));
   * assert.throws(() => engine.mergeRevert(1));
   * engine.close();
   * ```
   */
  mergeRevert(revertId: number): { ticketId: string; shas: string[]; notes: string | null } {
    return merge.revertOf(coreOf(this), revertId);
  }

  /**
   * What the merge queue holds and did: queued tickets, the batch being
   * built, recent batches, reverts, flaky checks, the worker.
   * @param opts how many recent batches
   * @returns the status
   * @throws {BatonError} `config_invalid` without a `merge:` section
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "merge:\n  check: \"true\"\n" }));
   * assert.equal(engine.mergeStatus().target, "main");
   * engine.close();
   * ```
   */
  mergeStatus(opts: { recent?: number } = {}): MergeStatus {
    return merge.status(coreOf(this), opts);
  }

  /**
   * The merge queue's rates since a time: landed, conflicts, culprits,
   * failure and bisect rates, and the share landed without a human.
   * @param since ms since the epoch
   * @returns the metrics
   * @throws {BatonError} `database_*`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "merge:\n  check: \"true\"\n" }));
   * assert.equal(engine.mergeMetrics(0).landed, 0);
   * engine.close();
   * ```
   */
  mergeMetrics(since: number): MergeMetrics {
    return merge.metrics(coreOf(this), since);
  }
}
