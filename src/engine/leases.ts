/**
 * Agents and leases: registration, heartbeats (which extend the leases an
 * agent holds), and the expiry of claims whose agent went quiet.
 *
 * @module
 */
import { checkActingAs } from "./principals.ts";
import { BatonError } from "../errors.ts";
import { capJson, capList, capText, checkName, LIMITS } from "./limits.ts";
import type { Core } from "./core.ts";
import { move } from "./transitions.ts";
import {
  agentById,
  setAgentProcess,
  setAgentStatus,
  setCapabilities,
  setHeartbeat,
  upsertAgent,
} from "./sql/agents.ts";
import { releaseDeclarations } from "./sql/coordination.ts";
import { dueRetries, expiredLeases, extendLeases, heldBy, markAgentProgress } from "./sql/phases.ts";
import type { R } from "./sql/rows.ts";
import type { Actor, AgentProcessInfo, HeartbeatOptions } from "./types.ts";

/**
 * Refuses an agent id that is empty, too long, or that the audit would read
 * as someone else: `human:NAME` is how a human's decisions are recorded, and
 * `system` and `baton-run` are Baton's own (maintenance, the supervisor).
 */
export function checkAgentId(agentId: string): void {
  if (!agentId?.trim()) throw new BatonError("invalid_argument", "An agent needs an id");
  checkName(agentId, "The agent id");
  // As a reader sees it: compatibility forms folded (ｈuman), invisible characters dropped (human\u200b:).
  const seen = agentId.normalize("NFKC").replace(/[\p{Cf}\p{Cc}\s]/gu, "").toLowerCase();
  if (seen.startsWith("human:") || seen === "system" || seen === "baton-run") {
    throw new BatonError(
      "invalid_argument",
      `"${agentId}" cannot be an agent id: the audit records humans as human:NAME, and Baton itself as system and baton-run`,
    );
  }
}

/** `Engine.registerAgent`. */
export function registerAgent(
  core: Core,
  agentId: string,
  capabilities: string[],
  metadata: Record<string, unknown>,
): void {
  checkAgentId(agentId);
  capList(capabilities, 100, LIMITS.name, "The capabilities");
  capJson(metadata, LIMITS.metadata, `The metadata of agent ${agentId}`);
  core.tx((now) => {
    const had = agentById(core.db, agentId);
    checkActingAs(core, had, agentId);
    upsertAgent(core.db, { id: agentId, capabilities, metadata, now, principal: core.principal });
    core.audit(
      now,
      agentId,
      had ? "agent.reregistered" : "agent.registered",
      { type: "agent", id: agentId },
      had?.status ?? null,
      "active",
      { capabilities },
    );
  });
}

/** Registers an agent on first use (a claim by an unknown id); updates capabilities given explicitly. */
export function ensureAgent(
  core: Core,
  now: number,
  agentId: string,
  capabilities?: string[],
  known?: R,
): void {
  const a = known ?? agentById(core.db, agentId);
  checkActingAs(core, a, agentId);
  if (!a) {
    checkAgentId(agentId);
    upsertAgent(core.db, {
      id: agentId,
      capabilities: capabilities ?? [],
      metadata: {},
      now,
      principal: core.principal,
    });
    core.audit(now, agentId, "agent.registered", { type: "agent", id: agentId }, null, "active", {
      capabilities: capabilities ?? [],
      implicit: true,
    });
  } else if (capabilities && JSON.stringify(capabilities) !== a.capabilities) {
    setCapabilities(core.db, agentId, capabilities);
  }
  implicitHeartbeat(core, now, agentId);
}

/**
 * Refreshes an agent's heartbeat (it is alive) and extends the leases of the
 * given phases it holds: all of them when `phaseIds` is undefined.
 */
function touch(core: Core, now: number, agentId: string, phaseIds?: readonly number[]): void {
  setHeartbeat(core.db, agentId, now);
  if (phaseIds !== undefined && phaseIds.length === 0) return;
  // One statement: each held phase's lease from its own length (per-phase overrides).
  extendLeases(core.db, agentId, now, core.graph.leaseOverridesJson, core.graph.leaseMs(""), phaseIds);
}

/**
 * A call by an agent counts as a heartbeat when `agents.heartbeat_implicit`
 * is on: the agent is alive, and the lease of the phase the call acts on is
 * extended (never the agent's other phases: a phase claimed and abandoned
 * still expires while the agent works elsewhere).
 */
export function implicitHeartbeat(core: Core, now: number, agentId: string, phaseId?: number): void {
  if (core.cfg.config.agents.heartbeat_implicit) touch(core, now, agentId, phaseId === undefined ? [] : [phaseId]);
}

/**
 * `Engine.heartbeat`: liveness, and the leases of the agent's phases (all,
 * or `phaseIds`). Only a heartbeat with `progress` restarts the stall clock.
 */
export function heartbeat(core: Core, agentId: string, opts: HeartbeatOptions = {}): void {
  capText(opts.progress, LIMITS.progress, "The progress note");
  core.tx((now) => {
    const agent = agentById(core.db, agentId);
    if (!agent) throw new BatonError("not_found", `Agent ${agentId} is not registered`);
    checkActingAs(core, agent, agentId, opts.token);
    touch(core, now, agentId, opts.phaseIds);
    if (opts.progress) {
      markAgentProgress(core.db, agentId, now);
      core.audit(now, agentId, "agent.progress", { type: "agent", id: agentId }, null, null, {
        progress: opts.progress,
      });
    }
  });
}

/** Releases every claim whose lease has expired, and readies retries whose backoff passed; returns the claims released. */
export function expire(core: Core, now: number): number {
  let released = 0;
  // Judged by witnessed time (clock.ts): a process whose clock runs ahead cannot end a live claim.
  const due = Math.min(now, core.expiryNow);
  for (const row of expiredLeases(core.db, due)) {
    takeBack(core, now, "system", row, { agent: row.claimed_by, lease_expired_at: row.lease_expires_at });
    released++;
  }
  for (const row of dueRetries(core.db, due)) {
    move(core, now, "system", row, "available", "retry_ready", { retry_at: null, available_at: now });
  }
  return released;
}

/** A held phase goes back to available (its holder is gone); the holder is marked stale. */
function takeBack(core: Core, now: number, actor: Actor, row: R, details: Record<string, unknown>): void {
  const holder = row.claimed_by;
  move(core, now, actor, row, "available", "stale", {
    claimed_by: null,
    claim_token: null,
    lease_expires_at: null,
    available_at: now,
  }, details);
  releaseDeclarations(core.db, row.id, now);
  const a = agentById(core.db, holder);
  if (a && a.status !== "stale") {
    setAgentStatus(core.db, holder, "stale");
    core.audit(now, actor, "agent.stale", { type: "agent", id: holder }, a.status, "stale");
  }
}

/** `Engine.recordAgentProcess`. */
export function recordAgentProcess(core: Core, agentId: string, p: AgentProcessInfo): void {
  capText(p.host, LIMITS.name, "The host name");
  capText(p.supervisor?.host, LIMITS.name, "The supervisor's host name");
  core.tx(() => {
    if (!agentById(core.db, agentId)) throw new BatonError("not_found", `Agent ${agentId} is not registered`);
    setAgentProcess(core.db, agentId, p);
  });
}

/** `Engine.releaseAgentClaims`: every phase the agent holds goes back at once (its process is gone). */
export function releaseAgentClaims(core: Core, agentId: string, req: { reason: string; actor: Actor }): number {
  capText(req.reason, LIMITS.text, "The reason");
  return core.tx((now) => {
    const rows = heldBy(core.db, agentId);
    for (const row of rows) takeBack(core, now, req.actor, row, { agent: agentId, reason: req.reason });
    return rows.length;
  });
}
