/**
 * Claims: an agent takes the best available phase it can do (or one given
 * phase), with a fencing token every later call must present, an
 * idempotency key that makes retries safe, and `max_concurrent` per agent
 * type. Then the holder starts, completes, fails, releases or hands its
 * phase to a human for review.
 *
 * @module
 */
import { LANDING_TYPE } from "../config/landing.ts";
import { checkLine } from "../lines.ts";
import { checkActingAs } from "./principals.ts";
import { notBefore } from "./clock.ts";
import { BatonError } from "../errors.ts";
import { capList, capText, LIMITS } from "./limits.ts";
import { type Core, what } from "./core.ts";
import { conflictError, expectedPaths, overlapsFor } from "./declarations.ts";
import { held } from "./fencing.ts";
import { ensureAgent, expire, implicitHeartbeat } from "./leases.ts";
import { resolveTicket } from "./resolve.ts";
import { move } from "./transitions.ts";
import { agentById } from "./sql/agents.ts";
import { countMiss, idempotencyResult, insertIdempotency, releaseDeclarations } from "./sql/coordination.ts";
import { gateById, insertGate } from "./sql/gates.ts";
import {
  agentTypeOf,
  heldBy,
  heldByType,
  outlookForTypes,
  phaseById,
  phaseWithTicket,
  phaseWithToken,
  queueHead,
} from "./sql/phases.ts";
import { type R, toGate, toPhase } from "./sql/rows.ts";
import { ticketById } from "./sql/tickets.ts";
import type {
  Claim,
  ClaimNextRequest,
  ClaimRequest,
  CompleteRequest,
  FailRequest,
  Gate,
  HeldRequest,
  Phase,
  ReleaseRequest,
  WorkScope,
} from "./types.ts";
import { isHeld } from "./state_machine.ts";
import { recordSessionCommits, sessionAtEnd } from "./sessions.ts";
import { checkScope, defaultPriority, inScope } from "./scope.ts";
import { insertEscalation, openEscalationOf } from "./sql/escalations.ts";

/**
 * Counts a claim lost to another agent (contention), per day and agent type.
 * Only a race lost counts: a claim that finds nothing to do is not contention.
 */
export function recordLostRace(core: Core, now: number, agentType: string): void {
  countMiss(core.db, new Date(now).toISOString().slice(0, 10), agentType, "conflicts");
}

/**
 * Refuses a claim by an agent that already holds `agents.max_held` phases
 * (one by default: one phase per agent session), naming what it holds.
 */
function checkHeld(core: Core, agentId: string): void {
  const max = core.cfg.config.agents.max_held;
  const holds = heldBy(core.db, agentId);
  if (holds.length < max) return;
  const h = holds[0];
  throw new BatonError(
    "already_holding",
    `Cannot claim: ${agentId} already holds ${what(h.name, h.ticket_id)} (phase ${h.id}; agents.max_held is ${max}): ` +
      "complete, fail or release it first",
    { details: { held: holds.map((x) => ({ phaseId: x.id, ticketId: x.ticket_id, phase: x.name })) } },
  );
}

/** The agent types whose `max_concurrent` is reached. */
function typesAtCapacity(core: Core): Set<string> {
  const full = new Set<string>();
  const limited = Object.entries(core.cfg.config.agents.registry).filter(([, v]) => v.max_concurrent !== undefined);
  if (!limited.length) return full;
  const held = new Map(heldByType(core.db).map((r) => [r.agent_type, r.n]));
  for (const [type, v] of limited) if ((held.get(type) ?? 0) >= v.max_concurrent!) full.add(type);
  return full;
}

/** The recorded result of an idempotency key (undefined: none yet). */
function replay(core: Core, key: string | undefined, agentId: string): unknown | undefined {
  if (!key) return undefined;
  const r = idempotencyResult(core.db, key);
  if (!r) return undefined;
  if (r.agent_id !== agentId) {
    throw new BatonError("invalid_argument", `Idempotency key "${key}" was used by another agent`);
  }
  return JSON.parse(r.result);
}

function remember(core: Core, now: number, key: string | undefined, agentId: string, result: unknown): void {
  // "Nothing to claim" is not remembered: a retry with the same key looks again.
  if (key && result !== null) insertIdempotency(core.db, key, agentId, JSON.stringify(result), now);
}

/**
 * Claims a phase row read with `PHASE_COLS`; a row that also carries its
 * ticket's `t_metadata` and ticket columns (as the queue query reads it)
 * saves reading them again.
 */
export function claimRow(core: Core, now: number, agentId: string, row: R): Claim {
  const metadata: string = row.t_metadata ?? ticketById(core.db, row.ticket_id)!.metadata;
  const overlaps = overlapsFor(core, row.id, expectedPaths(JSON.parse(metadata)));
  if (overlaps.length && core.cfg.config.file_conflicts.mode === "blocking") {
    throw conflictError(`claim ${what(row.name, row.ticket_id)}`, overlaps);
  }
  const token = crypto.randomUUID();
  const lease = now + core.graph.leaseMs(row.name);
  const set = {
    claimed_by: agentId,
    claim_token: token,
    attempts: row.attempts + 1,
    claimed_at: now,
    lease_expires_at: lease,
    last_progress_at: now,
    retry_at: null,
  };
  move(core, now, agentId, row, "claimed", "claim", set, { attempt: row.attempts + 1 });
  // move() changed exactly the status and `set`, with a compare-and-set.
  const r = "t_title" in row ? { ...row, ...set } : phaseWithTicket(core.db, row.id)!;
  const phase = toPhase(r);
  return {
    overlaps,
    phase,
    ticket: { id: r.ticket_id, title: r.t_title, priority: r.t_priority, path: r.t_path },
    token,
    leaseExpiresAt: lease,
    reworkNotes: phase.reworkNotes,
  };
}

const before = (a: R, b: R): boolean =>
  a.priority_rank < b.priority_rank ||
  (a.priority_rank === b.priority_rank &&
    (a.ticket_id < b.ticket_id || (a.ticket_id === b.ticket_id && a.seq < b.seq)));

/**
 * The first candidate of a type in the request's scope (tickets, labels,
 * priorities) and, in blocking mode, whose expected paths collide with no
 * active declaration, however far down the queue (read a page at a time:
 * the head is usually free).
 */
function firstFree(core: Core, type: string, blocking: boolean, scope?: WorkScope): R | undefined {
  const PAGE = 50;
  for (let offset = 0;; offset += PAGE) {
    const page = queueHead(core.db, type, PAGE, offset);
    const free = page.find((c) =>
      (!scope ||
        inScope(
          scope,
          { id: c.ticket_id, priority: c.t_priority, metadata: JSON.parse(c.t_metadata) },
          defaultPriority(core.cfg.workflow),
        )) &&
      (!blocking || overlapsFor(core, c.id, expectedPaths(JSON.parse(c.t_metadata))).length === 0)
    );
    if (free || page.length < PAGE) return free;
  }
}

/** Refuses a claim request without an agent or without capabilities. */
function checkClaimRequest(core: Core, req: ClaimNextRequest): void {
  if (!req.agentId) throw new BatonError("invalid_argument", "Claiming needs an agent id");
  checkScope(req.scope, core);
  capText(req.idempotencyKey, LIMITS.name, "The idempotency key");
  capList(req.capabilities, 100, LIMITS.name, "The capabilities");
  if (!req.capabilities?.length) {
    throw new BatonError(
      "invalid_argument",
      `${req.agentId} named no capabilities: an agent claims work of the agent types it can do (register it with them, or pass them)`,
    );
  }
  if (req.capabilities.includes(LANDING_TYPE)) {
    // Landing is the merge queue's: only its worker, holding the worker lease, takes those phases (merge.ts).
    throw new BatonError(
      "forbidden",
      `Phases of type ${LANDING_TYPE} are landed by the merge queue's worker, not claimed by agents`,
    );
  }
}

/**
 * Why nothing could be claimed for these agent types: work held by others,
 * waiting for a retry, for a human, for earlier phases or a dependency, or
 * types at their `max_concurrent`; or no work of these types at all.
 */
export function nothingToClaim(core: Core, types: string[]): BatonError {
  const rows = outlookForTypes(core.db, types);
  const n = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
  const reasons: string[] = [];
  const full = [...typesAtCapacity(core)].filter((t) => types.includes(t));
  if (full.length) reasons.push(`${full.join(", ")} agents are at max_concurrent`);
  if (n("available")) reasons.push(`${n("available")} available but refused (their files overlap work in progress)`);
  if (n("claimed") + n("running")) reasons.push(`${n("claimed") + n("running")} held by other agents`);
  const retry = rows.find((r) => r.status === "waiting_retry");
  if (retry) reasons.push(`${retry.n} wait for a retry (the first at ${new Date(retry.next_retry!).toISOString()})`);
  if (n("awaiting_review")) reasons.push(`${n("awaiting_review")} wait for a human's review`);
  if (n("pending") + n("blocked")) {
    reasons.push(`${n("pending") + n("blocked")} wait for earlier phases or a dependency`);
  }
  if (n("failed")) reasons.push(`${n("failed")} failed for good (a human resets them: baton retry)`);
  const why = reasons.length ? reasons.join("; ") : "no open phase of these agent types";
  return new BatonError("nothing_to_claim", `Nothing to claim for ${types.join(", ")} right now: ${why}`, {
    details: {
      capabilities: types,
      open: Object.fromEntries(rows.map((r) => [r.status, r.n])),
      ...(retry ? { nextRetryAt: retry.next_retry } : {}),
    },
  });
}

/** `Engine.claimNextOrThrow`: a claim, or `nothing_to_claim` saying why. */
export function claimNextOrThrow(core: Core, req: ClaimNextRequest): Claim {
  const claim = claimNext(core, req);
  if (claim) return claim;
  throw nothingToClaim(core, req.capabilities);
}

/** `Engine.claimNext`. */
export function claimNext(core: Core, req: ClaimNextRequest): Claim | null {
  checkClaimRequest(core, req);
  return core.tx((now) => {
    // A known agent's call is a heartbeat; an unknown one is registered only when it gets a phase (a supervisor
    // trying fresh agent ids, or a typo, leaves no agent behind).
    const agent = agentById(core.db, req.agentId);
    checkActingAs(core, agent, req.agentId); // before a replay: it would hand out the claim's token
    const replayed = replay(core, req.idempotencyKey, req.agentId);
    if (replayed !== undefined) return replayed as Claim | null;
    const known = agent !== undefined;
    if (known) ensureAgent(core, now, req.agentId, req.capabilities, agent);
    expire(core, now);
    if (known) checkHeld(core, req.agentId);
    const full = typesAtCapacity(core);
    const blocking = core.cfg.config.file_conflicts.mode === "blocking";
    // The best candidate of each capability is one index probe; pick the best of those.
    let best: R | undefined;
    for (const type of req.capabilities.filter((c) => !full.has(c))) {
      const row = blocking || req.scope ? firstFree(core, type, blocking, req.scope) : queueHead(core.db, type, 1)[0];
      if (row && (!best || before(row, best))) best = row;
    }
    if (best && !known) ensureAgent(core, now, req.agentId, req.capabilities);
    // Nothing to claim is not contention: the queue is read inside the write lock, so no race was lost.
    const claim = best ? claimRow(core, now, req.agentId, best) : null;
    remember(core, now, req.idempotencyKey, req.agentId, claim);
    return claim;
  });
}

/**
 * `Engine.claim`: one given phase. A phase another agent holds by then is a
 * race lost, counted as contention (not a refusal for `max_concurrent`, nor
 * the agent's own claim asked again).
 */
export function claim(core: Core, phaseId: number, req: ClaimRequest): Claim {
  try {
    return claimOne(core, phaseId, req);
  } catch (e) {
    const holder = e instanceof BatonError && e.code === "claim_conflict" ? e.details?.holder : undefined;
    if (holder && holder !== req.agentId) {
      const type = agentTypeOf(core.db, phaseId);
      if (type) core.tx((now) => recordLostRace(core, now, type));
    }
    throw e;
  }
}

function claimOne(core: Core, phaseId: number, req: ClaimRequest): Claim {
  return core.tx((now) => {
    checkActingAs(core, agentById(core.db, req.agentId), req.agentId); // before a replay: it would hand out the token
    const replayed = replay(core, req.idempotencyKey, req.agentId);
    if (replayed !== undefined) return replayed as Claim;
    ensureAgent(core, now, req.agentId, req.capabilities);
    expire(core, now);
    const row = phaseById(core.db, phaseId);
    if (!row) throw new BatonError("not_found", `Phase ${phaseId} does not exist`);
    if (isHeld(row.status)) {
      throw new BatonError(
        "claim_conflict",
        `Cannot claim ${what(row.name, row.ticket_id)}: held by ${row.claimed_by}`,
        {
          details: { holder: row.claimed_by },
        },
      );
    }
    if (row.agent_type === null) {
      throw new BatonError("forbidden", `Cannot claim ${what(row.name, row.ticket_id)}: it is a human gate`);
    }
    if (row.agent_type === LANDING_TYPE) {
      throw new BatonError(
        "forbidden",
        `Cannot claim ${what(row.name, row.ticket_id)}: the merge queue's worker lands it`,
      );
    }
    const caps: string[] = JSON.parse(agentById(core.db, req.agentId)!.capabilities);
    if (!caps.includes(row.agent_type)) {
      throw new BatonError(
        "forbidden",
        `Cannot claim ${
          what(row.name, row.ticket_id)
        }: it needs a "${row.agent_type}" agent and ${req.agentId} can do ${caps.join(", ") || "nothing"}`,
      );
    }
    if (row.status === "waiting_retry" && row.retry_at > now) {
      throw new BatonError(
        "invalid_transition",
        `Cannot claim ${what(row.name, row.ticket_id)}: it waits for a retry until ${
          new Date(row.retry_at).toISOString()
        }`,
      );
    }
    checkHeld(core, req.agentId);
    if (typesAtCapacity(core).has(row.agent_type)) {
      throw new BatonError(
        "claim_conflict",
        `Cannot claim ${what(row.name, row.ticket_id)}: "${row.agent_type}" agents are at max_concurrent`,
      );
    }
    const c = claimRow(core, now, req.agentId, row);
    remember(core, now, req.idempotencyKey, req.agentId, c);
    return c;
  });
}

const reread = (core: Core, id: number): Phase => toPhase(phaseById(core.db, id)!);

/** `Engine.start`. */
export function start(core: Core, phaseId: number, req: HeldRequest): Phase {
  return core.tx((now) => {
    // A retry of a start that happened: the same answer, nothing changes.
    const current = phaseWithToken(core.db, phaseId);
    if (sameHolder(current, req, ["running"])) return reread(core, phaseId);
    const row = held(core, phaseId, req.agentId, req.token, "start", current);
    now = notBefore(now, row.claimed_at);
    implicitHeartbeat(core, now, req.agentId, phaseId);
    move(core, now, req.agentId, row, "running", "start", { started_at: now, last_progress_at: now });
    return reread(core, phaseId);
  });
}

/** The phase row (read with its token), when it is in one of `statuses` and the request's agent holds it with the request's token. */
function sameHolder(row: R | undefined, req: HeldRequest, statuses: string[]): R | undefined {
  return row && statuses.includes(row.status) && row.claimed_by === req.agentId && row.claim_token === req.token &&
      req.token
    ? row
    : undefined;
}

/** Caps on what a completion or a review request stores. */
function capResult(req: CompleteRequest): void {
  capText(req.summary, LIMITS.text, "The summary");
  capList(req.artifacts, LIMITS.items, LIMITS.path, "The artifacts");
  // A path is one line: a newline in one would let it break out of its line in the ticket's workflow log.
  for (const a of req.artifacts ?? []) checkLine(a, "An artifact path");
}

/** `Engine.complete`. */
export function complete(core: Core, phaseId: number, req: CompleteRequest): Phase {
  capResult(req);
  const commits = sessionAtEnd(core, req, phaseId, "complete");
  return core.tx((now) => {
    // A retry of the completion that happened (same holder, token, summary and artifacts): the same answer.
    const current = phaseWithToken(core.db, phaseId);
    const done = sameHolder(current, req, ["completed"]);
    if (done) {
      if (
        (done.result_summary ?? null) === (req.summary ?? null) &&
        done.artifacts === JSON.stringify(req.artifacts ?? [])
      ) {
        return reread(core, phaseId);
      }
      throw new BatonError(
        "invalid_transition",
        `Cannot complete ${what(done.name, done.ticket_id)}: it was completed already, with another summary`,
      );
    }
    const row = held(core, phaseId, req.agentId, req.token, "complete", current);
    now = notBefore(now, row.claimed_at, row.started_at);
    implicitHeartbeat(core, now, req.agentId); // alive; the claim ends here, so no lease to extend
    recordSessionCommits(core, now, req.agentId, row, commits);
    if (row.status === "claimed") {
      // Completing without start_phase starts it implicitly (audited so): the work was done.
      move(core, now, req.agentId, row, "running", "start", { started_at: now, last_progress_at: now }, {
        implicit: true,
      });
    }
    // The token stays on the completed phase: it recognises a retry of this completion.
    move(core, now, req.agentId, row, "completed", "complete", {
      completed_at: now,
      result_summary: req.summary ?? null,
      artifacts: JSON.stringify(req.artifacts ?? []),
      lease_expires_at: null,
      error: null,
    });
    releaseDeclarations(core.db, phaseId, now);
    resolveTicket(core, now, row.ticket_id, req.agentId);
    return reread(core, phaseId);
  });
}

/** `Engine.fail`: retried after a backoff while attempts remain, then failed for a human. */
export function fail(core: Core, phaseId: number, req: FailRequest): Phase {
  capText(req.error, LIMITS.text, "The error");
  return core.tx((now) => {
    const row = held(core, phaseId, req.agentId, req.token, "fail");
    now = notBefore(now, row.claimed_at, row.started_at);
    implicitHeartbeat(core, now, req.agentId); // alive; the claim ends here, so no lease to extend
    const r = core.cfg.config.retry;
    const common = { claimed_by: null, claim_token: null, lease_expires_at: null, error: req.error };
    releaseDeclarations(core.db, phaseId, now);
    if (row.attempts < r.max_attempts) {
      const delay = r.backoff_seconds * 1000 * r.backoff_multiplier ** (row.attempts - 1);
      move(core, now, req.agentId, row, "waiting_retry", "fail", { ...common, retry_at: now + delay }, {
        error: req.error,
        attempt: row.attempts,
        retryAt: now + delay,
      });
    } else {
      move(core, now, req.agentId, row, "failed", "fail", common, {
        error: req.error,
        attempt: row.attempts,
        final: true,
      });
      escalateFailure(core, now, row, req);
    }
    return reread(core, phaseId);
  });
}

/** A phase out of attempts waits for a human: it opens an escalation (one per phase while open) saying why. */
function escalateFailure(core: Core, now: number, row: R, req: FailRequest): void {
  if (openEscalationOf(core.db, row.id)) return;
  const reason = `failed for good after ${row.attempts} attempt(s): ${req.error.split("\n")[0].slice(0, 300)}`;
  const id = insertEscalation(core.db, {
    phaseId: row.id,
    ticketId: row.ticket_id,
    agentId: req.agentId,
    reason,
    lastOutput: req.error,
    now,
  });
  core.audit(now, req.agentId, "escalation.opened", { type: "escalation", id, ticket: row.ticket_id }, null, "open", {
    phase: row.name,
    reason,
  });
}

/** `Engine.release`: back to available without counting the attempt. */
export function release(core: Core, phaseId: number, req: ReleaseRequest): Phase {
  return core.tx((now) => {
    const row = held(core, phaseId, req.agentId, req.token, "release");
    implicitHeartbeat(core, now, req.agentId); // alive; the claim ends here, so no lease to extend
    move(core, now, req.agentId, row, "available", "release", {
      claimed_by: null,
      claim_token: null,
      lease_expires_at: null,
      available_at: now,
      attempts: Math.max(0, row.attempts - 1),
    }, req.reason ? { reason: req.reason } : undefined);
    releaseDeclarations(core.db, phaseId, now);
    return reread(core, phaseId);
  });
}

/** `Engine.requestReview`: the work is done but a human looks first; later phases wait. */
export function requestReview(core: Core, phaseId: number, req: CompleteRequest): Gate {
  capResult(req);
  const commits = sessionAtEnd(core, req, phaseId, "hand for review");
  return core.tx((now) => {
    const row = held(core, phaseId, req.agentId, req.token, "request review of");
    implicitHeartbeat(core, now, req.agentId); // alive; the claim ends here, so no lease to extend
    recordSessionCommits(core, now, req.agentId, row, commits);
    move(core, now, req.agentId, row, "awaiting_review", "request_review", {
      result_summary: req.summary ?? null,
      artifacts: JSON.stringify(req.artifacts ?? []),
      claim_token: null,
      lease_expires_at: null,
    });
    releaseDeclarations(core.db, phaseId, now);
    const gid = insertGate(core.db, {
      phaseId,
      ticketId: row.ticket_id,
      kind: "review",
      requestedBy: req.agentId,
      summary: req.summary ?? null,
      now,
      revision: row.revisions,
    });
    core.audit(now, req.agentId, "gate.opened", { type: "gate", id: gid, ticket: row.ticket_id }, null, "open", {
      phase: row.name,
      kind: "review",
    });
    return toGate(gateById(core.db, gid)!);
  });
}
