/**
 * What agents do: register, claim a phase, heartbeat, declare files, start, complete, fail, release, ask for review.
 *
 * @module
 */
import * as claims from "../claims.ts";
import { phaseBranchMerged, recordPhaseBranch, unmergedBranches } from "../branches.ts";
import * as declarations from "../declarations.ts";
import { expire, heartbeat, recordAgentProcess, registerAgent, releaseAgentClaims } from "../leases.ts";
import { prune } from "../retention.ts";
import { agentReachedBaton, recordAgentCall, recordAgentExit, recordAgentWorkspace } from "../sessions.ts";
import { linkDiscovered } from "../discovered.ts";
import { coreOf } from "./base.ts";
import { EngineTickets } from "./tickets.ts";
import type {
  Actor,
  AgentProcessInfo,
  Claim,
  ClaimNextRequest,
  ClaimRequest,
  CompleteRequest,
  DeclareRequest,
  DeclareResult,
  FailRequest,
  Gate,
  HeartbeatOptions,
  HeldRequest,
  Phase,
  PruneResult,
  ReleaseRequest,
} from "../types.ts";

/** What agents do: register, claim a phase, heartbeat, declare files, start, complete, fail, release, ask for review. Part of `Engine`. */
export class EngineWork extends EngineTickets {
  /**
   * Registers (or refreshes) an agent.
   * @param agentId unique id
   * @param capabilities agent types it can do
   * @param metadata anything (model, session…)
   * @throws {BatonError} `invalid_argument`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.registerAgent("agent-1", ["designer"], { model: "some-model" });
   * assert.deepEqual(engine.agent("agent-1")?.capabilities, ["designer"]);
   * engine.close();
   * ```
   */
  registerAgent(agentId: string, capabilities: string[], metadata: Record<string, unknown> = {}): void {
    registerAgent(coreOf(this), agentId, capabilities, metadata);
  }

  /**
   * Records that the agent is alive and extends the leases of the phases it
   * holds (all, or `phaseIds`). A heartbeat is liveness: only one with
   * `progress` restarts the stall clock (so do claims, starts, completions
   * and declared files).
   * @param agentId the agent
   * @param opts a note that the agent made progress; which held phases' leases to extend
   * @throws {BatonError} `not_found` for an unknown agent
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.registerAgent("a", ["designer"]);
   * engine.heartbeat("a", { progress: "read the ticket" });
   * engine.close();
   * ```
   */
  heartbeat(agentId: string, opts: HeartbeatOptions = {}): void {
    heartbeat(coreOf(this), agentId, opts);
  }

  /**
   * Records where an agent's process runs (a supervisor, for each agent it
   * spawns), so that a later supervisor on the same host can tell the
   * agent's process is gone ({@link EngineWork.releaseAgentClaims}).
   * @param agentId the agent (registered, e.g. by its claim)
   * @param process host, process id and the process's start time
   * @throws {BatonError} `not_found` for an unknown agent; `invalid_argument` for a host name over 256 bytes
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.registerAgent("a", ["designer"]);
   * engine.recordAgentProcess("a", { host: "build-1", pid: 4242, pidStart: "123456" });
   * assert.equal(engine.agents()[0].process?.pid, 4242);
   * engine.close();
   * ```
   */
  recordAgentProcess(agentId: string, process: AgentProcessInfo): void {
    recordAgentProcess(coreOf(this), agentId, process);
  }

  /**
   * Takes back at once every phase an agent holds, without waiting for its
   * lease: for an agent whose process is known to be gone (a supervisor
   * restarted after a crash finds its own dead agents). The phases are
   * available again (audited `phase.stale` with the reason), the agent's
   * token dies, and the agent is marked stale.
   * @param agentId the agent
   * @param req why, and who says so
   * @returns how many phases came back
   * @throws {BatonError} `invalid_argument` for a reason over 64 KB
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * engine.claimNext({ agentId: "a", capabilities: ["designer"] });
   * assert.equal(engine.releaseAgentClaims("a", { reason: "its process is gone", actor: "baton-run" }), 1);
   * assert.equal(engine.ticket("0001").phases[0].status, "available");
   * engine.close();
   * ```
   */
  releaseAgentClaims(agentId: string, req: { reason: string; actor: Actor }): number {
    return releaseAgentClaims(coreOf(this), agentId, req);
  }

  /**
   * Records that an agent's session made its first tool call (the MCP
   * server does, once per session that inherited a claim from `baton run`),
   * so that a supervisor can tell a session that never reached Baton (its
   * CLI started without Baton's tools, or failed at once) from one whose
   * work failed ({@link EngineWork.agentReachedBaton}). Audited as
   * `agent.call`; an unknown agent records nothing.
   * @param agentId the agent
   * @param client the MCP client's name, if known
   * @throws {BatonError} `invalid_argument` for a client name over 256 bytes
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * engine.claimNext({ agentId: "a", capabilities: ["designer"] }); // a supervisor claims for the agent it spawns
   * assert.equal(engine.agentReachedBaton("a"), false);
   * engine.recordAgentCall("a", "claude-code");
   * assert.equal(engine.agentReachedBaton("a"), true);
   * engine.close();
   * ```
   */
  recordAgentCall(agentId: string, client?: string): void {
    recordAgentCall(coreOf(this), agentId, client);
  }

  /**
   * Whether an agent did anything through Baton besides being claimed for:
   * a tool call of its session ({@link EngineWork.recordAgentCall}), a
   * start, a heartbeat with progress, a declaration, a completion… A
   * session that ends without any failed in its environment, not its work.
   * @param agentId the agent
   * @returns true once it reached Baton
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * engine.start(c.phase.id, { agentId: "a", token: c.token });
   * assert.equal(engine.agentReachedBaton("a"), true);
   * engine.close();
   * ```
   */
  agentReachedBaton(agentId: string): boolean {
    return agentReachedBaton(coreOf(this), agentId);
  }

  /**
   * Records that a held phase's work goes on a branch of its own, to be
   * merged into its ticket branch (a supervisor, for a parallel group's
   * phase it runs in a worktree off the ticket branch). Once completed, the
   * phase is not done for what follows it, nor for its ticket, until
   * {@link phaseBranchMerged}; a claim that ends without completing clears
   * the record.
   * @param phaseId the phase
   * @param req its holder, the claim's token, the branch
   * @throws {BatonError} `not_found`, `invalid_transition` (not held), `claim_conflict`, `stale_token`, `invalid_argument`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo({
   *   phases: "phases:\n  - {name: Build, agent_type: builder}\n  - {name: Docs, agent_type: writer}\n",
   * }));
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["builder"] })!;
   * engine.recordPhaseBranch(c.phase.id, { agentId: "a", token: c.token, branch: "baton/0001--build" });
   * engine.complete(c.phase.id, { agentId: "a", token: c.token });
   * assert.equal(engine.ticket("0001").phases[1].status, "pending"); // the Build branch is not merged yet
   * engine.phaseBranchMerged(c.phase.id, "supervisor");
   * assert.equal(engine.ticket("0001").phases[1].status, "available");
   * engine.close();
   * ```
   */
  recordPhaseBranch(phaseId: number, req: { agentId: string; token: string; branch: string }): void {
    recordPhaseBranch(coreOf(this), phaseId, req);
  }

  /**
   * Says that a phase's branch (see {@link recordPhaseBranch}) is merged
   * into its ticket branch: what follows the phase may go on. Nothing
   * happens when there is no such record.
   * @param phaseId the phase
   * @param actor who merged it (the supervisor)
   * @throws {BatonError} `not_found`
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * engine.phaseBranchMerged(engine.ticket("0001").phases[0].id, "supervisor"); // nothing recorded: nothing to do
   * engine.close();
   * ```
   */
  phaseBranchMerged(phaseId: number, actor: Actor): void {
    phaseBranchMerged(coreOf(this), phaseId, actor);
  }

  /**
   * The completed phases whose work waits on a branch of its own to be
   * merged into its ticket branch (see {@link recordPhaseBranch}), oldest
   * first (a phase still at work is not listed): what a restarted supervisor
   * merges, or says is merged.
   * @returns each phase, its ticket, its name and the branch
   * @throws {BatonError} `database_*` when the database cannot be read
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * assert.deepEqual(engine.unmergedBranches(), []);
   * engine.close();
   * ```
   */
  unmergedBranches(): { phaseId: number; ticketId: string; phase: string; branch: string }[] {
    return unmergedBranches(coreOf(this));
  }

  /**
   * Records the worktree an agent works in and the commit it starts from (a
   * supervisor, for each agent it spawns): its completion is refused while
   * that worktree holds uncommitted changes (`run.require_commit: changes`,
   * the default), or also no new commit (`true`) (`commit_required`); the
   * commits made there that no git hook recorded are recorded when its phase
   * ends.
   * @param agentId the agent (registered, e.g. by its claim)
   * @param workspace the worktree's path and the commit its HEAD was at (null: unknown)
   * @throws {BatonError} `not_found` for an unknown agent; `invalid_argument` for values over the limits
   * @example
   * ```ts
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.registerAgent("a", ["designer"]);
   * engine.recordAgentWorkspace("a", { dir: "/tmp/worktrees/0001", base: null });
   * engine.close();
   * ```
   */
  recordAgentWorkspace(agentId: string, workspace: { dir: string; base: string | null }): void {
    recordAgentWorkspace(coreOf(this), agentId, workspace);
  }

  /**
   * Records that an agent's process exited (a supervisor, when it sees the
   * exit, or finds the process gone after a restart): `agents()` shows it as
   * `gone` instead of `active`. An unknown agent records nothing.
   * @param agentId the agent
   * @param exit its exit code (null: unknown) and the signal that ended it
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.registerAgent("a", ["designer"]);
   * engine.recordAgentExit("a", { code: 0 });
   * assert.equal(engine.agents()[0].status, "gone");
   * engine.close();
   * ```
   */
  recordAgentExit(agentId: string, exit: { code: number | null; signal?: string | null }): void {
    recordAgentExit(coreOf(this), agentId, exit);
  }

  /**
   * Records that a ticket was discovered while working on another (an
   * agent's `report_issue`, `baton new --from`): the new ticket's metadata
   * `discovered_from` names it, audited as `ticket.discovered`. Neither
   * ticket waits for the other.
   * @param ticketId the new ticket
   * @param fromId the ticket it was discovered from
   * @param actor who filed it
   * @throws {BatonError} `not_found` for an unknown ticket; `invalid_argument` for a ticket discovered from itself
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ id: "0001", title: "Cache" }, { id: "0002", title: "Cache misses on Windows" }]);
   * engine.linkDiscovered("0002", "0001", "agent-7");
   * assert.equal(engine.ticket("0002").metadata.discovered_from, "0001");
   * engine.close();
   * ```
   */
  linkDiscovered(ticketId: string, fromId: string, actor: Actor): void {
    linkDiscovered(coreOf(this), ticketId, fromId, actor);
  }

  /**
   * Releases claims whose lease expired (agents that stopped heartbeating).
   * Claims also expire lazily at the next claim.
   * @returns how many claims came back
   * @throws {BatonError} `database_*`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * let t = 0;
   * const engine = await openEngine(await tempRepo(), { clock: () => t });
   * engine.upsertTicket({ id: "0001", title: "A" });
   * engine.claimNext({ agentId: "a", capabilities: ["designer"] });
   * t += 60 * 60_000; // an hour of silence
   * assert.equal(engine.sweepStale(), 1);
   * engine.close();
   * ```
   */
  sweepStale(): number {
    return coreOf(this).tx((now) => expire(coreOf(this), now));
  }

  /**
   * Runs the retention policy now (`baton sweep` does; any writer also does,
   * at most once an hour): idempotency keys, claim-miss counters, agents
   * gone for long, released declarations, and the audit when
   * `audit.retain_days` is set. Each kind is deleted in batches of at most
   * 5,000 rows per run.
   * @returns how many rows went, per kind
   * @throws {BatonError} `database_locked`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * let t = Date.UTC(2026, 0, 1);
   * const engine = await openEngine(await tempRepo(), { clock: () => t });
   * engine.upsertTicket({ id: "0001", title: "A" });
   * engine.claimNext({ agentId: "a", capabilities: ["designer"], idempotencyKey: "k1" });
   * t += 25 * 3_600_000; // a day and an hour later
   * assert.equal(engine.prune().idempotencyKeys, 1);
   * engine.close();
   * ```
   */
  prune(): PruneResult {
    return prune(coreOf(this));
  }

  /**
   * Claims the best available phase the agent can do: by priority order,
   * then ticket id, then phase order; honouring `max_concurrent` per agent
   * type. Retrying with the same idempotency key returns the same claim.
   * @param req agent id, capabilities, optional idempotency key
   * @returns the claim, or null when nothing is available
   * @throws {BatonError} `invalid_argument`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ title: "Low", priority: "Low" }, { title: "Urgent", priority: "Critical" }]);
   * const claim = engine.claimNext({ agentId: "a", capabilities: ["designer"], idempotencyKey: "k1" })!;
   * assert.equal(claim.ticket.title, "Urgent");
   * assert.equal(engine.claimNext({ agentId: "a", capabilities: ["designer"], idempotencyKey: "k1" })!.token, claim.token);
   * engine.close();
   * ```
   */
  claimNext(req: ClaimNextRequest): Claim | null {
    return claims.claimNext(coreOf(this), req);
  }

  /**
   * Claims the best available phase like {@link claimNext}, and when there
   * is none says why: work held by other agents, waiting for a retry (and
   * until when), for a human, for earlier phases or a dependency, agent
   * types at `max_concurrent`, or no work of these types at all. What the
   * CLI and the MCP server call.
   * @param req agent id, capabilities, optional idempotency key
   * @returns the claim
   * @throws {BatonError} `nothing_to_claim` with the reasons (details: open phases by status, `nextRetryAt`),
   *   `invalid_argument`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * engine.claimNextOrThrow({ agentId: "a", capabilities: ["designer"] });
   * assert.throws(() => engine.claimNextOrThrow({ agentId: "b", capabilities: ["designer"] }), /1 held by other agents/);
   * engine.close();
   * ```
   */
  claimNextOrThrow(req: ClaimNextRequest): Claim {
    return claims.claimNextOrThrow(coreOf(this), req);
  }

  /**
   * Claims one specific phase.
   * @param phaseId the phase
   * @param req agent id, optional capabilities and idempotency key
   * @returns the claim
   * @throws {BatonError} `not_found`, `claim_conflict` (held by another agent), `forbidden`, `invalid_transition`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * const t = engine.upsertTicket({ id: "0001", title: "A" });
   * engine.claim(t.phases[0].id, { agentId: "a", capabilities: ["designer"] });
   * assert.throws(() => engine.claim(t.phases[0].id, { agentId: "b", capabilities: ["designer"] }), /held by a/);
   * engine.close();
   * ```
   */
  claim(phaseId: number, req: ClaimRequest): Claim {
    return claims.claim(coreOf(this), phaseId, req);
  }

  /**
   * Marks a claimed phase as started.
   * @param phaseId the phase
   * @param req agent id and claim token
   * @returns the phase
   * @throws {BatonError} `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * assert.equal(engine.start(c.phase.id, { agentId: "a", token: c.token }).status, "running");
   * engine.close();
   * ```
   */
  start(phaseId: number, req: HeldRequest): Phase {
    return claims.start(coreOf(this), phaseId, req);
  }

  /**
   * Completes a phase; makes the next phases available in the same transaction.
   * @param phaseId the phase
   * @param req agent id, token, summary, artifacts (paths)
   * @returns the completed phase
   * @throws {BatonError} `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`; `commit_required`
   *   when the agent's worktree has uncommitted changes (`run.require_commit`: `changes`, the default) or no new
   *   commit (`true`)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * engine.complete(c.phase.id, { agentId: "a", token: c.token, summary: "docs/design.md", artifacts: ["docs/design.md"] });
   * assert.equal(engine.gates()[0].phaseName, "Design Review"); // a human decides next
   * engine.close();
   * ```
   */
  complete(phaseId: number, req: CompleteRequest): Phase {
    return claims.complete(coreOf(this), phaseId, req);
  }

  /**
   * Reports a failed attempt. The phase is retried after a backoff while
   * attempts remain, then becomes `failed` (a human decides) and opens an
   * escalation saying why.
   * @param phaseId the phase
   * @param req agent id, token, error text
   * @returns the phase (`waiting_retry` or `failed`)
   * @throws {BatonError} `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * assert.equal(engine.fail(c.phase.id, { agentId: "a", token: c.token, error: "no network" }).status, "waiting_retry");
   * engine.close();
   * ```
   */
  fail(phaseId: number, req: FailRequest): Phase {
    return claims.fail(coreOf(this), phaseId, req);
  }

  /**
   * Gives a claimed phase back without counting an attempt against it.
   * @param phaseId the phase
   * @param req agent id, token, optional reason
   * @returns the phase, available again
   * @throws {BatonError} `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * assert.equal(engine.release(c.phase.id, { agentId: "a", token: c.token, reason: "not mine" }).attempts, 0);
   * engine.close();
   * ```
   */
  release(phaseId: number, req: ReleaseRequest): Phase {
    return claims.release(coreOf(this), phaseId, req);
  }

  /**
   * An agent finished its phase but asks a human to review it: downstream
   * stays blocked until the review is approved.
   * @param phaseId the phase
   * @param req agent id, token, summary, artifacts
   * @returns the review gate
   * @throws {BatonError} `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.upsertTicket({ id: "0001", title: "A" });
   * const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * const g = engine.requestReview(c.phase.id, { agentId: "a", token: c.token, summary: "unsure about the API" });
   * assert.equal(g.kind, "review");
   * engine.close();
   * ```
   */
  requestReview(phaseId: number, req: CompleteRequest): Gate {
    return claims.requestReview(coreOf(this), phaseId, req);
  }

  /**
   * Declares the files (paths or globs, repository-relative) a held phase
   * will touch. Overlaps with other active phases' declarations are
   * reported; with `file_conflicts.mode: blocking` they refuse the
   * declaration, and nothing is recorded.
   * @param phaseId the held phase
   * @param req agent id, token, paths
   * @returns the normalized declared paths and the overlaps found
   * @throws {BatonError} `invalid_argument` (a path escaping the repository), `file_conflict`,
   *   `claim_conflict`, `stale_token`, `invalid_transition`, `not_found`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openEngine } from "@baton/baton";
   * import { tempRepo } from "@baton/baton/testing";
   * const engine = await openEngine(await tempRepo());
   * engine.createTickets([{ title: "A" }, { title: "B" }]);
   * const a = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
   * const b = engine.claimNext({ agentId: "b", capabilities: ["designer"] })!;
   * engine.declareFiles(a.phase.id, { agentId: "a", token: a.token, paths: ["src/**"] });
   * const r = engine.declareFiles(b.phase.id, { agentId: "b", token: b.token, paths: ["./src/db.ts"] });
   * assert.equal(r.overlaps[0].agentId, "a");
   * engine.close();
   * ```
   */
  declareFiles(phaseId: number, req: DeclareRequest): DeclareResult {
    return declarations.declareFiles(coreOf(this), phaseId, req);
  }
}
