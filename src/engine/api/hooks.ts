/**
 * What git's hooks ask the engine: may a commit go ahead, and a commit
 * recorded as its phase's progress. The rules are in `../hooks.ts`; the
 * hooks themselves are the CLI's (`baton hooks`).
 *
 * @module
 */
import * as hooks from "../hooks.ts";
import { fence } from "../merge_outcomes.ts";
import type { MergeWorkerLease } from "../types.ts";
import { coreOf } from "./base.ts";
import { EngineMerge } from "./merge.ts";
import type {
  BranchCommit,
  CommitCheck,
  CommitCheckRequest,
  CommitRecorded,
  CommitRecordRequest,
  FencedCommit,
  PhaseCommit,
} from "../hooks.ts";

/** Commits under claims. Part of `Engine`. */
export class EngineHooks extends EngineMerge {
  /**
   * Judges a commit before it is made (`pre-commit`). For an agent: refused
   * when its claim is no longer its own (released, expired, taken over),
   * with why and who holds it now; else its staged files are declared for
   * the claim, and files another live claim declared refuse the commit
   * (`hooks.mode`, default `file_conflicts.mode`, is `blocking`) or warn.
   * For a human: a warning per such file, refused only with
   * `hooks.block_humans: true`.
   * @param req the committing agent's claim (none for a human) and the staged files
   * @returns the verdict and the lines to print
   * @throws {BatonError} `invalid_argument` when an agent names no phase or token
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({ config: "file_conflicts:\n  mode: blocking\n" }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * engine.upsertTicket({ id: "0002", title: "B" });
   * const a = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * const b = engine.claimNext({ agentId: "b", capabilities: ["designer"] })!;
   * engine.declareFiles(a.phase.id, { agentId: "a", token: a.token, paths: ["src/db.ts"] });
   * const r = engine.checkCommit({ agentId: "b", phaseId: b.phase.id, token: b.token, files: ["src/db.ts"] });
   * assert.equal(r.verdict, "refuse");
   * assert.equal(engine.checkCommit({ files: ["src/db.ts"] }).verdict, "warn");
   * engine.close();
   * ```
   */
  checkCommit(req: CommitCheckRequest): CommitCheck {
    return hooks.checkCommit(coreOf(this), req);
  }

  /**
   * Records a commit made under a claim (`post-commit`): an audit row
   * `phase.commit` with its SHA, and, while the claim is still the agent's,
   * the phase's progress (the stall clock restarts) and a heartbeat.
   * @param req the agent's claim and the commit
   * @returns whether it counted as progress, and the phase's ticket and name
   * @throws {BatonError} `not_found` for an unknown phase, `invalid_argument` for a malformed SHA
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const a = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * const r = engine.recordCommit({ agentId: "a", phaseId: a.phase.id, token: a.token, sha: "0123abc" });
   * assert.ok(r.progress);
   * assert.equal(engine.audit({ action: "phase.commit" }).length, 1);
   * engine.close();
   * ```
   */
  recordCommit(req: CommitRecordRequest): CommitRecorded {
    return hooks.recordCommit(coreOf(this), req);
  }

  /**
   * The commits agents made under their claims, as `post-commit` recorded
   * them (oldest first): what a ticket's workflow log lists, and what the
   * merge queue ties to a ticket.
   * @param filter `ticketId`: only this ticket's
   * @returns the commits
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const a = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * engine.recordCommit({ agentId: "a", phaseId: a.phase.id, token: a.token, sha: "0123abc", subject: "x" });
   * assert.equal(engine.commits({ ticketId: "0001" })[0].sha, "0123abc");
   * engine.close();
   * ```
   */
  commits(filter: { ticketId?: string } = {}): PhaseCommit[] {
    return hooks.commitsOf(coreOf(this), filter.ticketId ?? null);
  }

  /**
   * The merge queue's check before it lands a ticket's branch: the branch's
   * commits (with their Baton trailers) that an agent made after it lost its
   * claim. When there are any, the item does not land: it ends `fenced` and
   * the ticket goes back to rework with the commits and why, as for a
   * conflict.
   * @param lease the merge worker's lease
   * @param batchId the batch
   * @param position the item
   * @param commits the branch's commits not on the target
   * @returns the commits refused (empty: it may land)
   * @throws {BatonError} `stale_token` when the worker lost its lease
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
   * // A commit with a's trailers made after a completed the phase (Baton's hooks bypassed).
   * const late = { sha: "b2", committedAt: Date.now() + 60_000, ticketId: "0001", phase: "Build", agentId: "a" };
   * assert.equal(engine.fenceMergeItem(lease, b.id, 0, [late]).length, 1);
   * assert.equal(engine.mergeStatus().recent[0].items[0].outcome, "fenced");
   * engine.close();
   * ```
   */
  fenceMergeItem(lease: MergeWorkerLease, batchId: number, position: number, commits: BranchCommit[]): FencedCommit[] {
    return fence(coreOf(this), lease, batchId, position, commits);
  }
}
