/**
 * The landing phase. With `merge:` configured, every ticket gets one more
 * phase after all of its workflow's phases (`merge.phase`, "Merge" by
 * default), of the reserved agent type {@link LANDING_TYPE}: the merge
 * queue's worker claims it (no agent can), so a ticket counts as completed
 * only once its work has landed on the target branch, and landing uses the
 * machinery every phase has (claims with leases and fencing tokens, the
 * retry policy, the audit, the board).
 *
 * @module
 */
import type { BatonConfig, PhaseDef, Workflow } from "./schema.ts";
import type { Problems } from "./yaml.ts";

/** The agent type of the landing phase: reserved for the merge queue's worker. */
export const LANDING_TYPE = "merge-queue";

/**
 * The workflow with its landing phase appended (when `merge` is set), and
 * `merge.rework_phase` resolved (default: the last agent phase). Problems:
 * a phase using the reserved type, a phase already named as the landing
 * phase, a rework phase that is not an agent phase of the workflow.
 * @param workflow the workflow read from phases.yaml
 * @param config config.yaml, whose `merge` (when set) gets its rework phase resolved and whose
 *   `leases.per_phase` gets the landing phase's lease (`merge.lease_minutes`) unless one is set
 * @param problems where problems go
 * @param files the two files' names, for locations
 * @returns the workflow Baton runs
 */
export function withLandingPhase(
  workflow: Workflow,
  config: BatonConfig,
  problems: Problems,
  files: { phases: string; config: string },
): Workflow {
  for (const p of workflow.phases) {
    if (p.agentType === LANDING_TYPE) {
      problems.add(files.phases, `agent type "${LANDING_TYPE}" is reserved for the merge queue's worker`, {
        field: `phases.${p.name}.agent_type`,
      });
    }
  }
  const merge = config.merge;
  if (!merge) return workflow;
  if (workflow.phases.some((p) => p.name === merge.phase)) {
    problems.add(
      files.config,
      `a phase named "${merge.phase}" exists already: name the landing phase otherwise (merge.phase)`,
      { field: "merge.phase" },
    );
    return workflow;
  }
  const agentPhases = workflow.phases.filter((p) => p.agentType !== null);
  if (merge.rework_phase === undefined) merge.rework_phase = agentPhases.at(-1)?.name;
  else if (!agentPhases.some((p) => p.name === merge.rework_phase)) {
    problems.add(files.config, `rework phase "${merge.rework_phase}" is not an agent phase of the workflow`, {
      field: "merge.rework_phase",
    });
  }
  // The worker heartbeats its claims; a dead worker's tickets come back after its own, short lease.
  config.leases.per_phase[merge.phase] ??= merge.lease_minutes;
  const landing: PhaseDef = {
    name: merge.phase,
    order: Math.max(-1, ...workflow.phases.map((p) => p.order)) + 1,
    agentType: LANDING_TYPE,
    after: workflow.phases.map((p) => p.name),
    reviews: [],
    description: `The merge queue lands the ticket's branch on ${merge.target} once \`${
      merge.check.join(" && ")
    }\` passes on it.`,
  };
  return { ...workflow, phases: [...workflow.phases, landing] };
}
