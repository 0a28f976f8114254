/**
 * Where a run's agents work, and what it cleans up after them: which
 * worktree and branch a claimed phase gets, when it must wait for another
 * agent to leave that worktree or for its ticket's parallel group to be
 * merged, merging a finished group back into the ticket branch (a conflict
 * sends the phase back as rework), and removing the worktrees that finished
 * and failed work no longer needs. The git mechanics are `worktrees.ts`'s;
 * the supervisor asks this file and reports what it says.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import type { Claim } from "../engine/types.ts";
import { isDone, stoppedByFailure } from "../engine/state_machine.ts";
import type { Place, Worktrees } from "./worktrees.ts";

/** An agent at work, as far as its place goes. */
export interface Occupant {
  agentId: string;
  ticketId: string;
  place: Place;
  /** Whether it works on a branch of its own (a parallel group's phase). */
  inGroup: boolean;
}

/** The places of one supervisor's run. */
export class RunPlaces {
  readonly #engine: Engine;
  readonly #worktrees: Worktrees | null;
  readonly #log: (line: string) => void;
  readonly #occupants: () => Iterable<Occupant>;
  readonly #actor: string;
  /** Worktrees kept for their uncommitted changes, with the state last reported (reported again when it changes). */
  readonly #kept = new Map<string, { state: string; checkedAt: number }>();
  /** Tickets with group phases this supervisor ran, whose branches may need merging. */
  readonly #groupTickets = new Set<string>();
  /** Tickets whose finished parallel group waits for its agents to exit before it is merged. */
  readonly #mergePending = new Set<string>();

  /**
   * @param engine the repository's engine
   * @param worktrees its worktrees (null with `run.worktrees: none`: every agent works in the repository)
   * @param occupants the agents at work now
   * @param log where its lines go
   * @param actor who the audit names for a rework it decides
   */
  constructor(
    engine: Engine,
    worktrees: Worktrees | null,
    occupants: () => Iterable<Occupant>,
    log: (line: string) => void,
    actor: string,
  ) {
    this.#engine = engine;
    this.#worktrees = worktrees;
    this.#occupants = occupants;
    this.#log = log;
    this.#actor = actor;
  }

  /**
   * Whether a phase works on a branch of its own: a phase of a parallel
   * group with another member on this ticket (members whose condition skips
   * them do not count). A group of one works on the ticket branch like any
   * sequential phase: no branch of its own, no merge commit.
   * @param claim the claimed phase
   * @returns true for its own branch
   */
  ownBranch(claim: Claim): boolean {
    const wf = this.#engine.cfg.workflow.phases;
    const group = wf.find((p) => p.name === claim.phase.name)?.group;
    if (!group) return false;
    const members = new Set(wf.filter((p) => p.group === group).map((p) => p.name));
    let phases;
    try {
      phases = this.#engine.ticket(claim.ticket.id).phases;
    } catch {
      return true; // cannot tell: the group's own branch is always safe
    }
    return phases.filter((p) => members.has(p.name) && p.status !== "skipped").length > 1;
  }

  /**
   * Why a claimed phase cannot start yet, if it cannot: an agent that
   * finished its phase is still running in the worktree this one would use
   * (never two agents in one worktree), or the ticket's finished group is
   * not merged back yet (its agents are still exiting).
   * @param claim the claimed phase
   * @returns the reason, or null when it may start
   */
  mustWait(claim: Claim): string | null {
    const ticket = claim.ticket.id;
    const inGroup = this.ownBranch(claim);
    const dir = this.#worktrees?.placeOf(ticket, claim.phase.name, inGroup);
    for (const r of this.#occupants()) {
      if (r.ticketId !== ticket) continue;
      if (this.#worktrees && r.place.dir === dir) return `waiting for ${r.agentId} to leave ${r.place.dir}`;
    }
    if (this.#mergePending.has(ticket) && !inGroup) return `waiting to merge ${ticket}'s parallel group`;
    return null;
  }

  /**
   * The place for a claimed phase, made when missing: its ticket's worktree,
   * or its own for a parallel group's phase (the repository itself without worktrees).
   * @param claim the claimed phase
   * @returns the place, and whether it is a group phase's own
   * @throws {BatonError} `internal` when git fails
   */
  prepare(claim: Claim): Place & { inGroup: boolean } {
    const inGroup = this.ownBranch(claim);
    const ticket = claim.ticket.id;
    if (!this.#worktrees) return { dir: this.#engine.cfg.repoRoot, branch: null, inGroup };
    const place = this.#worktrees.prepare(ticket, claim.phase.name, inGroup);
    if (inGroup) {
      this.#groupTickets.add(ticket);
      // Its work waits on its own branch: what follows the group waits for the merge (a gate, the merge queue, a
      // phase another supervisor runs), not only this supervisor's next claim.
      this.#engine.recordPhaseBranch(claim.phase.id, {
        agentId: claim.phase.claimedBy!,
        token: claim.token,
        branch: place.branch!,
      });
    }
    return { ...place, inGroup };
  }

  /**
   * After an agent exits: a group phase's worktree goes once its phase is
   * completed (its branch stays for the merge).
   * @param r the agent that exited
   * @param status its phase's status now (undefined when it is gone)
   */
  exited(r: Occupant, status: string | undefined): void {
    if (!this.#worktrees || !r.inGroup || status !== "completed") return;
    try {
      if (!this.#worktrees.remove(r.place.dir)) this.#log(`kept ${r.place.dir}: it has uncommitted changes`);
    } catch (e) {
      this.#log(`could not remove ${r.place.dir}: ${(e as Error).message}`);
    }
  }

  /**
   * Merges the branches of finished parallel groups into their ticket
   * branches (a conflict is rework), then removes what is no longer needed.
   * @returns how many phases went back for a conflict
   */
  mergeGroups(): number {
    if (!this.#worktrees) return 0;
    let conflicts = 0;
    const wf = this.#engine.cfg.workflow.phases;
    const groups = [...new Set(wf.filter((p) => p.group).map((p) => p.group!))];
    for (const ticketId of [...this.#groupTickets]) {
      try {
        conflicts += this.#mergeGroupsOf(ticketId, groups);
      } catch (e) {
        // One ticket's trouble (its branch checked out in the user's tree, a merge git cannot do) is that ticket's:
        // the others are merged all the same, and this one is tried again next round.
        this.#log(`cannot merge ${ticketId}'s parallel group yet: ${(e as Error).message}`);
      }
    }
    this.#cleanFinished();
    return conflicts;
  }

  /** {@link mergeGroups} for one ticket; returns how many of its phases went back for a conflict. */
  #mergeGroupsOf(ticketId: string, groups: string[]): number {
    const wf = this.#engine.cfg.workflow.phases;
    let conflicts = 0;
    const worktrees = this.#worktrees!;
    let t;
    try {
      t = this.#engine.ticket(ticketId);
    } catch {
      this.#groupTickets.delete(ticketId);
      return 0;
    }
    let waiting = false;
    for (const g of groups) {
      const members = t.phases.filter((p) => wf.find((d) => d.name === p.name)?.group === g);
      if (!members.length) continue;
      const done = members.every((p) => isDone(p.status));
      if (!done) {
        if (members.some((p) => p.status !== "pending")) waiting = true;
        continue;
      }
      if ([...this.#occupants()].some((r) => r.ticketId === ticketId)) {
        // A member's agent finished its phase but has not exited yet (one on its own branch, or one that worked on
        // the ticket's while the group had one member): merge once it has, never under a running agent.
        this.#mergePending.add(ticketId);
        waiting = true;
        continue;
      }
      this.#mergePending.delete(ticketId);
      const names = members.filter((p) => p.status === "completed").map((p) => p.name);
      const conflicted = worktrees.mergeGroup(ticketId, names);
      // The others' work is in the ticket branch now: what follows the group may go on.
      for (const p of members) {
        if (p.status === "completed" && !conflicted.some((c) => c.phase === p.name)) {
          this.#engine.phaseBranchMerged(p.id, this.#actor);
        }
      }
      for (const c of conflicted) {
        const p = members.find((m) => m.name === c.phase)!;
        const notes = `Merging your branch into the ticket branch conflicted in: ${c.files.join(", ")}. ` +
          "Redo the phase on top of the ticket branch (your branch was reset to it).";
        worktrees.resetPhaseBranch(ticketId, c.phase);
        this.#engine.returnForRework(p.id, { actor: this.#actor, notes });
        conflicts++;
        waiting = true;
        this.#log(`merge conflict: ${ticketId}/${c.phase} (${c.files.join(", ")}) goes back for rework`);
      }
    }
    if (!waiting && t.status === "completed") this.#groupTickets.delete(ticketId);
    return conflicts;
  }

  /**
   * A restarted supervisor: the group branches an earlier run left are
   * merged when their group is done, the worktrees of phases nobody works
   * on any more are removed, and uncommitted work left there is reported.
   */
  adoptLeftovers(): void {
    if (!this.#worktrees) {
      // Branches an earlier run with worktrees left unmerged: nothing merges them now. Said once; what follows goes on.
      for (const u of this.#engine.unmergedBranches()) {
        this.#log(
          `${u.branch} (${u.ticketId}/${u.phase}) was never merged into baton/${u.ticketId}, and run.worktrees is ` +
            "none: merge it by hand; what follows the phase goes on now",
        );
        this.#engine.phaseBranchMerged(u.phaseId, this.#actor);
      }
      return;
    }
    // Work an earlier run left waiting to be merged (it stopped before merging, or after merging but before saying
    // so): merged now, or said to be.
    for (const u of this.#engine.unmergedBranches()) this.#groupTickets.add(u.ticketId);
    for (const w of this.#worktrees.list()) {
      const b = this.#worktrees.parseBranch(w.branch);
      if (!b) continue;
      if (b.phase) this.#groupTickets.add(b.ticket);
      if (this.#worktrees.dirty(w.dir)) {
        this.#log(`left ${w.dir} in place: it has uncommitted changes from an earlier run (commit or remove them)`);
      }
    }
    this.#cleanFinished();
  }

  /**
   * Removes the worktrees of finished tickets, and of tickets stopped on a
   * failure until a human retries them (branches stay). One with
   * uncommitted work is kept and reported once per state of that work (it
   * is looked at again at most every 2 s, not at every round).
   */
  #cleanFinished(): void {
    if (!this.#worktrees) return;
    const now = Date.now();
    const busy = new Set([...this.#occupants()].map((r) => r.place.dir));
    for (const w of this.#worktrees.list()) {
      const ticket = this.#worktrees.parseBranch(w.branch)?.ticket;
      if (!ticket || busy.has(w.dir)) continue;
      const kept = this.#kept.get(w.dir);
      if (kept && now - kept.checkedAt < 2000) continue;
      let t;
      try {
        t = this.#engine.ticket(ticket);
      } catch {
        continue;
      }
      // Finished, or stopped on a failure until a human retries it (a retry makes the worktree again from the branch).
      const stopped = t.status !== "completed" && stoppedByFailure(t.phases.map((p) => p.status));
      if (!stopped && (t.status !== "completed" || this.#groupTickets.has(ticket))) continue;
      const state = this.#worktrees.status(w.dir);
      const why = stopped ? "failed for good" : "finished";
      if (state) {
        if (kept?.state !== state) {
          this.#log(`kept ${w.dir}: ticket ${ticket} is ${why}, but the worktree has uncommitted changes`);
        }
        this.#kept.set(w.dir, { state, checkedAt: now });
        continue;
      }
      this.#kept.delete(w.dir);
      try {
        this.#worktrees.remove(w.dir);
        if (stopped) this.#log(`removed ${w.dir}: ticket ${ticket} failed for good (${w.branch} keeps its commits)`);
      } catch (e) {
        this.#log(`could not remove ${w.dir}: ${(e as Error).message}`);
      }
    }
  }
}
