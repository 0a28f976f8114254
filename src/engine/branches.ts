/**
 * Work done on a branch of its own (a parallel group's phase under `baton
 * run`, in a worktree off the ticket branch): the supervisor records the
 * branch when it starts the phase's agent, and says when it has merged it
 * into the ticket branch. Until then the completed phase is not done for
 * what follows it (a gate, the next phase, the merge queue's landing) nor
 * for the ticket, which would otherwise move on without that work.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Core } from "./core.ts";
import { held } from "./fencing.ts";
import { capText, LIMITS } from "./limits.ts";
import { resolveTicket } from "./resolve.ts";
import { phaseById, setUnmergedBranch, unmergedPhases } from "./sql/phases.ts";
import type { Actor } from "./types.ts";

/** `Engine.recordPhaseBranch`. */
export function recordPhaseBranch(
  core: Core,
  phaseId: number,
  req: { agentId: string; token: string; branch: string },
): void {
  capText(req.branch, LIMITS.path, "The branch");
  if (!req.branch.trim()) throw new BatonError("invalid_argument", "The branch is empty");
  core.tx((now) => {
    const row = held(core, phaseId, req.agentId, req.token, "record the branch of");
    setUnmergedBranch(core.db, phaseId, req.branch);
    core.audit(now, req.agentId, "phase.branch", { type: "phase", id: phaseId, ticket: row.ticket_id }, null, null, {
      phase: row.name,
      branch: req.branch,
    });
  });
}

/** `Engine.unmergedBranches`. */
export function unmergedBranches(core: Core): { phaseId: number; ticketId: string; phase: string; branch: string }[] {
  return unmergedPhases(core.db).map((r) => ({
    phaseId: r.id,
    ticketId: r.ticket_id,
    phase: r.name,
    branch: r.unmerged_branch,
  }));
}

/** `Engine.phaseBranchMerged`. */
export function phaseBranchMerged(core: Core, phaseId: number, actor: Actor): void {
  core.tx((now) => {
    const row = phaseById(core.db, phaseId);
    if (!row) throw new BatonError("not_found", `Phase ${phaseId} does not exist`);
    if (!row.unmerged_branch) return; // merged already, or its claim ended without completing
    setUnmergedBranch(core.db, phaseId, null);
    core.audit(now, actor, "phase.branch_merged", { type: "phase", id: phaseId, ticket: row.ticket_id }, null, null, {
      phase: row.name,
      branch: row.unmerged_branch,
    });
    resolveTicket(core, now, row.ticket_id, actor);
  });
}
