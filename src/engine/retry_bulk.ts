/**
 * Retrying many failed phases at once, after a mass failure (a broken agent
 * command, an expired key): every phase that failed for good, or those of
 * one agent type, or those whose last error mentions some text.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Core } from "./core.ts";
import { retryPhase } from "./gates.ts";
import { capText, LIMITS } from "./limits.ts";
import { failedPhaseRows } from "./sql/retry.ts";
import type { Actor, Phase, RetryFilter } from "./types.ts";

/** `Engine.retryFailed`: one transaction; each phase reopened as `retryPhase` does it. */
export function retryFailed(core: Core, filter: RetryFilter, req: { actor: Actor; notes?: string }): Phase[] {
  capText(filter.agentType, LIMITS.name, "The agent type");
  capText(filter.error, LIMITS.name, "The error text");
  if (!filter.all && filter.agentType === undefined && filter.error === undefined) {
    throw new BatonError(
      "invalid_argument",
      "Say which failed phases to retry: an agent type, a text of their error, or all of them",
    );
  }
  const isHuman = typeof req.actor === "object" && req.actor.kind === "human";
  if (!isHuman) throw new BatonError("forbidden", "Only a human reopens failed phases");
  const needle = filter.error?.toLowerCase();
  return core.tx(() =>
    failedPhaseRows(core.db)
      .filter((r) => filter.agentType === undefined || r.agent_type === filter.agentType)
      .filter((r) => needle === undefined || String(r.error ?? "").toLowerCase().includes(needle))
      .map((r) => retryPhase(core, r.id, req))
  );
}
