/**
 * Questions about a workflow's graph of phases, answered from the
 * configuration alone (no database): which phase comes after which, what a
 * gate sends back for rework, which phases make up a milestone, which gates
 * review a phase, how long a lease lasts, how a priority ranks.
 *
 * @module
 */
import { conditionHolds, type Metadata } from "./conditions.ts";
import type { PhaseDef, WorkflowConfig } from "./schema.ts";

/** The milestones a ticket dependency can wait for. */
export type Milestone = "completion" | "design" | "implementation";

/**
 * A workflow's phases by name, and the queries the engine asks of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkflowGraph } from "./graph.ts";
 * import { parsePhases } from "./phases.ts";
 * import { parseConfig } from "./config_file.ts";
 * const workflow = parsePhases(
 *   "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Build, agent_type: builder}\n" +
 *     "  - {name: Review, agent_type: null, reviews: [Design]}\n",
 *   "phases.yaml",
 * );
 * const g = new WorkflowGraph({ repoRoot: "/r", workflowDir: "/r/.workflow", config: parseConfig("", "c.yaml"), workflow, foreignSections: [] });
 * assert(g.isAfter("Review", "Design"));
 * assert.deepEqual([...g.reworkSet("Review")], ["Design", "Build"]);
 * ```
 */
export class WorkflowGraph {
  /** Every phase, in workflow order. */
  readonly phases: readonly PhaseDef[];
  #byName: Map<string, PhaseDef>;
  #cfg: WorkflowConfig;
  #leaseJson?: string;

  /**
   * The graph of a loaded configuration's workflow.
   * @param cfg the loaded configuration
   */
  constructor(cfg: WorkflowConfig) {
    this.#cfg = cfg;
    this.phases = cfg.workflow.phases;
    this.#byName = new Map(cfg.workflow.phases.map((p) => [p.name, p]));
  }

  /**
   * A phase by name.
   * @param name the phase name
   * @returns its definition, or undefined
   */
  def(name: string): PhaseDef | undefined {
    return this.#byName.get(name);
  }

  /**
   * Whether `name` comes (transitively) after `earlier`.
   * @param name a phase
   * @param earlier another phase
   * @returns true when `earlier` must be done before `name`
   */
  isAfter(name: string, earlier: string, seen: Set<string> = new Set()): boolean {
    const def = this.#byName.get(name);
    if (!def || seen.has(name)) return false;
    seen.add(name);
    return def.after.includes(earlier) || def.after.some((a) => this.isAfter(a, earlier, seen));
  }

  /**
   * What rejecting a gate phase reopens: the phases it reviews and every
   * phase that follows one of them (whatever was built on rejected work is
   * open to change too, parallel branches included), except the gate.
   * @param gate the gate phase's name
   * @returns phase names, in workflow order
   */
  reworkSet(gate: string): Set<string> {
    const reviewed = [...(this.#byName.get(gate)?.reviews ?? [])];
    const out = new Set<string>();
    for (const p of this.phases) {
      if (p.name === gate) continue;
      if (reviewed.some((r) => r === p.name || this.isAfter(p.name, r))) out.add(p.name);
    }
    return out;
  }

  /**
   * Why a phase does not apply to a ticket: its condition fails, or a group
   * phase that applies replaces it.
   * @param name the phase
   * @param meta the ticket's metadata
   * @returns the reason, or null when the phase applies
   */
  skipReason(name: string, meta: Metadata): string | null {
    const def = this.#byName.get(name);
    if (!def) return null;
    if (!conditionHolds(def.condition, meta)) return "its condition does not hold";
    const by = (def.overriddenBy ?? []).find((o) => conditionHolds(this.#byName.get(o)?.condition, meta));
    return by ? `overridden by ${by}` : null;
  }

  /**
   * The parallel-group phases that replace a phase on a ticket they apply to.
   * @param name the phase
   * @returns their names (empty when nothing replaces it)
   */
  overriddenBy(name: string): readonly string[] {
    return this.#byName.get(name)?.overriddenBy ?? [];
  }

  /**
   * Everything done once the named phases are: them, every phase they
   * transitively wait for, and the group phases that replace any of those
   * (with what those wait for). What an imported ticket's position means.
   * @param names phases known to be done
   * @returns their names and those of everything before them
   */
  doneThrough(names: readonly string[]): Set<string> {
    const done = new Set<string>();
    const queue = [...names];
    while (queue.length) {
      const n = queue.pop()!;
      if (done.has(n)) continue;
      const def = this.#byName.get(n);
      if (!def) continue;
      done.add(n);
      queue.push(...def.after, ...(def.overriddenBy ?? []));
    }
    return done;
  }

  /**
   * Whether a phase is reviewed by the given gate (rejections send it back).
   * @param gate the gate phase's name
   * @param phase the phase
   * @returns true when the gate's `reviews` lists it
   */
  reviews(gate: string, phase: string): boolean {
    return this.#byName.get(gate)?.reviews.includes(phase) ?? false;
  }

  /**
   * The agent types the workflow's phases name, in workflow order.
   * @returns each type once
   */
  agentTypes(): string[] {
    return [...new Set(this.phases.map((p) => p.agentType).filter((t): t is string => t !== null))];
  }

  /**
   * Whether a phase is a human gate (no agent type).
   * @param name the phase
   * @returns true for a gate
   */
  isGate(name: string): boolean {
    return this.#byName.get(name)?.agentType === null;
  }

  /**
   * The gate phases whose `reviews` include a phase.
   * @param phase the reviewed phase
   * @returns the gates' names
   */
  gatesReviewing(phase: string): string[] {
    return this.phases.filter((p) => this.isGate(p.name) && p.reviews.includes(phase)).map((p) => p.name);
  }

  /**
   * The phases that make up a milestone: `dependencies.milestones` from
   * config, else the phases whose names say design or implement.
   * @param type the milestone
   * @returns their names; null for `completion` (the whole ticket)
   */
  milestonePhases(type: Milestone): string[] | null {
    if (type === "completion") return null;
    const configured = this.#cfg.config.dependencies.milestones[type];
    if (configured) return configured;
    const re = type === "design" ? /design/i : /implement/i;
    return this.phases.filter((p) => re.test(p.name)).map((p) => p.name);
  }

  /**
   * How long a claim of a phase lasts without a heartbeat.
   * @param phase the phase name
   * @returns ms: `leases.per_phase`, else `leases.default_minutes`, else `agents.stale_timeout_minutes`
   */
  leaseMs(phase: string): number {
    const c = this.#cfg.config;
    const minutes = c.leases.per_phase[phase] ?? c.leases.default_minutes ?? c.agents.stale_timeout_minutes;
    return minutes * 60_000;
  }

  /** Per-phase lease lengths in ms, as a JSON object for SQL. */
  get leaseOverridesJson(): string {
    return (this.#leaseJson ??= JSON.stringify(
      Object.fromEntries(Object.entries(this.#cfg.config.leases.per_phase).map(([k, v]) => [k, v * 60_000])),
    ));
  }

  /**
   * A priority's place in `priority_order` (unknown and none: after all).
   * @param priority the label (case-insensitive)
   * @returns 0 for the first
   */
  rank(priority: string | null): number {
    const order = this.#cfg.config.priority_order;
    if (!priority) return order.length;
    const i = order.findIndex((p) => p.toLowerCase() === priority.toLowerCase());
    return i === -1 ? order.length : i;
  }
}
