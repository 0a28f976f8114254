/**
 * Human gates and escalations: what deciding them takes, what is blocked and why.
 *
 * @module
 */
import type { Actor } from "../types.ts";

/** A human decision point. */
export interface Gate {
  /** Gate id (what approve and reject take). */
  id: number;
  /** The gated phase (a gate phase, or the phase whose review was asked for). */
  phaseId: number;
  /** Its name. */
  phaseName: string;
  /** Its ticket. */
  ticketId: string;
  /** A workflow gate, or a review an agent asked for. */
  kind: "gate" | "review";
  /** Where the decision stands (`withdrawn`: closed undecided, because work it waited on was sent back). */
  status: "open" | "approved" | "rejected" | "escalated" | "withdrawn";
  /** The agent that asked for the review. */
  requestedBy: string | null;
  /** The agent's summary for the reviewer. */
  summary: string | null;
  /** When it opened. */
  openedAt: number;
  /** When it was decided. */
  decidedAt: number | null;
  /** Who decided (`human:NAME` or an agent id). */
  decidedBy: string | null;
  /** The decider's notes. */
  notes: string | null;
  /** Rejections of the phase before this gate opened. */
  revision: number;
}

/** `Engine.approveGate`: who decides, and why. */
export interface DecisionRequest {
  /** The deciding human (or agent, with `gates.allow_agents`). */
  actor: Actor;
  /** Notes for the record (and, on a rejection, for the agents). */
  notes?: string;
  /**
   * The other agent ids the deciding agent's client acted as (an MCP session that registered more than one): a
   * gate on a ticket any of them worked on is refused as well.
   */
  actedAs?: string[];
}

/** `Engine.rejectGate`: a decision whose notes say what to change. */
export interface RejectRequest extends DecisionRequest {
  /** What to change (required). */
  notes: string;
}

/** A stalled phase a human should look at (`Engine.escalations`). */
export interface Escalation {
  /** Its id. */
  id: number;
  /** The phase. */
  phaseId: number;
  /** Its name. */
  phaseName: string;
  /** Its ticket. */
  ticketId: string;
  /** The agent that held it. */
  agentId: string | null;
  /** Why (e.g. "no progress for 30 minutes"). */
  reason: string;
  /** The agent's last output, as the supervisor saw it. */
  lastOutput: string | null;
  /** When it opened. */
  openedAt: number;
  /** When a human (or a retry or release) resolved it. */
  resolvedAt: number | null;
  /** Who. */
  resolvedBy: string | null;
  /** How: "retried", "released", or the human's notes. */
  resolution: string | null;
}

/** Why something cannot proceed. */
export interface BlockedItem {
  /** The ticket. */
  ticketId: string;
  /** The phase concerned (null: the whole ticket). */
  phaseId: number | null;
  /** Its name. */
  phaseName: string | null;
  /**
   * What it waits for. `unmerged`: a completed phase of a parallel group
   * whose branch is not merged into its ticket's branch yet.
   */
  reason: "gate" | "review" | "dependency" | "retry_backoff" | "failed" | "unmerged";
  /** For people. */
  detail: string;
  /** Since when. */
  since: number | null;
}
