/**
 * `baton run`: the supervisor. Whenever a phase is available for an agent
 * type of `agents.registry` that has a `command`, and the type has a free
 * slot (`max_concurrent`, enforced by the engine's claim, so that two
 * supervisors on one repository never over-spawn), it claims the phase for
 * a new agent id, prepares a worktree, writes the prompt and spawns the
 * command. The agent inherits the claim (`BATON_AGENT_ID`,
 * `BATON_PHASE_ID`, `BATON_CLAIM_TOKEN`): its own `baton-mcp` session holds
 * the phase. The supervisor never completes work on an agent's behalf and
 * never decides a gate: an agent that exits while still holding its phase
 * fails it, with the tail of its stderr; one over its time limit is ended
 * and fails; a stall becomes an escalation for a human.
 *
 * Not every exit is the work's fault (`exits.ts`): a session that never
 * reached Baton failed in its environment (its phase is released without an
 * attempt and retried at once, a bounded number of times); one that stopped
 * on a usage or rate limit releases its phase too, and its type waits or
 * falls back to another registry entry. Sessions of one type that keep
 * ending so within seconds trip a circuit breaker: the type is not spawned
 * again in this run, and one escalation carries the agent's output. A phase
 * that fails for good opens an escalation (the engine does), and
 * `--until-idle` then ends non-zero.
 *
 * A slot is free as soon as its agent's phase ends, whether or not the
 * process has exited; an agent still running `run.linger_seconds` later is
 * terminated.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import type { Claim, WorkScope } from "../engine/types.ts";
import { BatonError } from "../errors.ts";
import { isGitRepo } from "../repo/git.ts";
import { ensureLogsDir, logsDir } from "../repo/agent_logs.ts";
import { Worktrees } from "./worktrees.ts";
import { RunPlaces } from "./places.ts";
import { isHeld } from "../engine/state_machine.ts";
import { describeProcess } from "../processes.ts";
import { releaseDeadAgents } from "./dead_agents.ts";
import { startGuardServer } from "./guard_server.ts";
import { SessionOutcomes } from "./outcomes.ts";
import { launchAgent, type LaunchContext, type Running } from "./launch.ts";
import { WorkflowWatch } from "./config_watch.ts";
import { mergeWork, stillAtWork } from "./status_line.ts";
import { headCommit } from "../repo/worktree_state.ts";
import { defaultPriority, inScope } from "../engine/scope.ts";
import { LANDING_TYPE } from "../config/landing.ts";

/** Options of a supervisor run. */
export interface RunOptions {
  /** Exit once no agent runs, nothing is claimable (now or after a retry's backoff) and no gate waits. */
  untilIdle?: boolean;
  /** Print what would be spawned, and spawn nothing. */
  dryRun?: boolean;
  /** Serve only these agent types. */
  types?: string[];
  /** At most this many agents at once, all types together. */
  maxAgents?: number;
  /** How often it looks for work (ms; default 200). */
  pollMs?: number;
  /** Where its log lines go (default: stdout). */
  log?: (line: string) => void;
  /**
   * Whatever else may bring work back (the merge queue sends a ticket that
   * broke the check back to rework): not idle while it says so.
   */
  busyElsewhere?: () => boolean;
  /** Only work of these tickets (ids, labels, priorities). */
  scope?: WorkScope;
}

/** What a run did. */
export interface RunSummary {
  /** Agents started. */
  spawned: number;
  /** Phases failed because their agent exited, timed out or stalled without finishing. */
  failedByExit: number;
  /** Escalations opened for stalls. */
  escalations: number;
  /** Group merges that conflicted and sent a phase back for rework. */
  conflicts: number;
  /** Sessions that ended without reaching Baton, released without counting an attempt. */
  environmentFailures: number;
  /** Sessions that ended on a usage or rate limit, released without counting an attempt. */
  rateLimited: number;
  /** Agent types whose circuit breaker tripped (not spawned again in this run), with why. */
  tripped: { type: string; reason: string }[];
  /** Phases (in the run's scope) that failed for good and wait for a human, when the run ended. */
  failed: { phaseId: number; ticketId: string; phase: string }[];
  /** Group phases whose branch was still not merged into its ticket branch when the run ended (what follows waits). */
  unmerged: { ticketId: string; phase: string; branch: string }[];
}

const SUPERVISOR = "baton-run";

/** The supervisor of one repository. */
export class Supervisor {
  readonly #engine: Engine;
  /** This supervisor's own process, recorded with each agent it spawns. */
  readonly #self = describeProcess(Deno.pid);
  readonly #opts: RunOptions;
  readonly #log: (line: string) => void;
  readonly #running = new Map<number, Running>();
  /** Where its agents work, and what it cleans up after them. */
  readonly #places: RunPlaces;
  readonly #logs: string;
  readonly #summary: RunSummary = {
    spawned: 0,
    failedByExit: 0,
    escalations: 0,
    conflicts: 0,
    environmentFailures: 0,
    rateLimited: 0,
    tripped: [],
    failed: [],
    unmerged: [],
  };
  /** How each type's sessions have been ending: its breaker, its fallback, its wait. */
  readonly #outcomes: SessionOutcomes;
  /** What starting an agent needs of it. */
  readonly #launch: LaunchContext;
  /** Whether `.workflow/` still loads (every agent's `baton-mcp` reads it), and what it last said of that. */
  readonly #workflow: WorkflowWatch;
  #workflowSaid: string | null = null;
  #idleSaid = false;
  #stopping = false;
  #gatesShown = "";
  #wake?: () => void;
  /** An event or an exit came since the current round began. */
  #woken = false;
  /** Agent types that claim nothing until the next agent exit or poll (a phase had to wait for one). */
  readonly #heldTypes = new Set<string>();
  #heldAt = 0;
  /** When it last said anything (a run that has said nothing for a while says what it waits for). */
  #saidAt = Date.now();

  /**
   * @param engine the repository's engine
   * @param opts what to serve and when to stop
   * @throws {BatonError} `config_invalid` when no registry entry has a command; `invalid_argument` for
   *   `run.worktrees: git` outside a git repository
   */
  constructor(engine: Engine, opts: RunOptions = {}) {
    this.#engine = engine;
    this.#opts = opts;
    const out = opts.log ?? ((l) => console.log(l));
    this.#log = (l) => {
      this.#saidAt = Date.now();
      out(l);
    };
    const run = engine.cfg.config.run;
    const root = engine.cfg.repoRoot;
    this.#logs = logsDir(engine.cfg);
    ensureLogsDir(this.#logs);
    let worktrees: Worktrees | null = null;
    if (run.worktrees === "git") {
      if (!isGitRepo(root)) {
        throw new BatonError(
          "invalid_argument",
          `${root} is not a git repository: baton run gives each agent a git worktree (set run.worktrees: none to run agents in the repository itself)`,
        );
      }
      if (!headCommit(root)) {
        throw new BatonError(
          "invalid_argument",
          `${root} has no commit yet: each agent's worktree starts from one (commit once, e.g. git commit --allow-empty -m init)`,
        );
      }
      // Ticket branches start where work lands (the merge queue's target), not on whatever is checked out.
      const m = engine.cfg.config.merge;
      const bases = m ? [...(m.remote ? [`refs/remotes/${m.remote}/${m.target}`] : []), `refs/heads/${m.target}`] : [];
      worktrees = new Worktrees(root, run.worktree_dir, bases);
    }
    this.#outcomes = new SessionOutcomes(engine, this.#summary, (l) => this.#log(l), SUPERVISOR);
    this.#places = new RunPlaces(engine, worktrees, () => this.#running.values(), (l) => this.#log(l), SUPERVISOR);
    this.#workflow = new WorkflowWatch(root);
    this.#launch = {
      engine,
      places: this.#places,
      outcomes: this.#outcomes,
      logs: this.#logs,
      log: (l) => this.#log(l),
      self: this.#self,
      summary: this.#summary,
    };
    for (const [type, spec] of Object.entries(engine.cfg.config.agents.registry)) {
      const fb = spec.fallback;
      if (fb === undefined) continue;
      if (fb === type || !engine.cfg.config.agents.registry[fb]?.command) {
        throw new BatonError(
          "config_invalid",
          `agents.registry.${type}.fallback names "${fb}", which is not another registry entry with a command`,
          { location: { file: ".workflow/config.yaml", field: `agents.registry.${type}.fallback` } },
        );
      }
    }
    if (!this.#types().length) {
      throw new BatonError(
        "config_invalid",
        "No agent type to run: give agents.registry.<type> a command (and args) in .workflow/config.yaml" +
          (opts.types ? ` (asked for: ${opts.types.join(", ")})` : ""),
      );
    }
  }

  /**
   * The registry types it serves: with a command, and among `--types`
   * (an entry that is only another's fallback, and no phase's type, is not served).
   */
  #types(): string[] {
    const registry = this.#engine.cfg.config.agents.registry;
    const fallbacks = new Set(Object.values(registry).map((s) => s.fallback).filter(Boolean));
    const phaseTypes = new Set(this.#engine.cfg.workflow.phases.map((p) => p.agentType));
    return Object.entries(registry)
      // The landing type is the merge queue worker's (an entry for it, e.g. written by an older `agents use`, is idle).
      .filter(([t, spec]) => spec.command && t !== LANDING_TYPE && (!this.#opts.types || this.#opts.types.includes(t)))
      .filter(([t]) => !fallbacks.has(t) || phaseTypes.has(t))
      .map(([t]) => t);
  }

  /** The types it may spawn now: served, breaker not tripped, not waiting out a usage limit. */
  #spawnable(): string[] {
    const now = Date.now();
    return this.#types().filter((t) => this.#outcomes.spawnable(t, now));
  }

  /** Agents whose phase has not ended yet: each holds a slot. */
  #busy(type?: string): number {
    let n = 0;
    for (const r of this.#running.values()) if (r.phaseEndedAt === undefined && (!type || r.type === type)) n++;
    return n;
  }

  /** The error that said a newer Baton migrated the database (the run ends with it). */
  #upgradedBy: BatonError | null = null;

  /** Stop spawning; the running agents finish. */
  stop(): void {
    this.#stopping = true;
    this.#poke();
  }

  /**
   * A newer Baton migrated the database while this run went on (`database_newer`): nothing this process writes goes
   * through any more, so it stops as at a first Ctrl-C (no new agents; the running ones finish) and {@link run} ends
   * with that error. Said once; true for that error.
   */
  #upgraded(e: unknown): boolean {
    if (!(e instanceof BatonError) || e.code !== "database_newer") return false;
    if (!this.#upgradedBy) {
      this.#upgradedBy = e;
      this.#log(`stopping: ${e.message} (no new agents; the running ones finish)`);
      this.stop();
    }
    return true;
  }

  /** Ends every running agent now and releases its phase (a second Ctrl-C). */
  async abort(): Promise<void> {
    this.#stopping = true;
    for (const r of this.#running.values()) r.proc.terminate("stopped");
    await Promise.allSettled([...this.#running.values()].map((r) => r.proc.done));
  }

  /**
   * Runs until stopped (or idle, with `untilIdle`).
   * @returns what it did
   */
  async run(): Promise<RunSummary> {
    if (!this.#opts.dryRun) {
      releaseDeadAgents(this.#engine, this.#self, (l) => this.#log(l), SUPERVISOR);
      // Open tickets follow the workflow's edits made since they were seeded (a merge: section added, a phase renamed).
      this.#followWorkflow();
    }
    this.#places.adoptLeftovers();
    const events = new AbortController();
    const following = this.#follow(events.signal);
    // The agents' git hooks ask this process instead of starting baton for each commit (guard_server.ts).
    const guard = this.#opts.dryRun ? null : await startGuardServer(this.#engine, { log: (l) => this.#log(l) });
    try {
      for (;;) {
        this.#woken = false;
        // A human's edit of .workflow/ (a stall timeout, a lease, an agent's limit) applies from this round on; one
        // that does not load is said by #spawnAll, and the run goes on with what it had.
        if (await this.#engine.followConfigEdits().catch((e) => this.#refusedEdit(e))) this.#followWorkflow();
        const spawned = this.#tick();
        this.#sayWhatItWaitsFor();
        if (this.#stopping && this.#running.size === 0) break;
        if (this.#opts.dryRun) break;
        if (this.#opts.untilIdle && !spawned && this.#running.size === 0 && this.#idle()) break;
        if (this.#woken) continue; // something happened during the round: look again at once
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.#opts.pollMs ?? 200);
          this.#wake = () => {
            this.#wake = undefined;
            clearTimeout(t);
            r();
          };
        });
      }
    } finally {
      events.abort();
      await following;
      await guard?.close();
    }
    if (!this.#opts.dryRun) this.#tick(); // merges and clean-up after the last exits
    this.#summary.failed = this.#failedInScope();
    this.#summary.unmerged = this.#opts.dryRun
      ? []
      : this.#engine.unmergedBranches().map(({ ticketId, phase, branch }) => ({ ticketId, phase, branch }));
    this.#summary.tripped = this.#outcomes.tripped();
    if (this.#upgradedBy) throw this.#upgradedBy;
    return {
      ...this.#summary,
      tripped: [...this.#summary.tripped],
      failed: [...this.#summary.failed],
      unmerged: [...this.#summary.unmerged],
    };
  }

  /**
   * After `run.status_seconds` without a line while agents run or something else is busy: what it waits for
   * (`status_line.ts`).
   */
  #sayWhatItWaitsFor(): void {
    const now = Date.now();
    if (now - this.#saidAt < this.#engine.cfg.config.run.status_seconds * 1000) return;
    const elsewhere = this.#opts.busyElsewhere?.() ?? false;
    if (!this.#running.size && !elsewhere) return;
    const agents = [...this.#running.values()].map((r) => ({
      ...r,
      pid: r.proc.child.pid,
      endedBy: r.proc.endedBy,
      lastOutputAt: r.proc.lastOutputAt,
    }));
    this.#log(stillAtWork(now, agents, elsewhere ? mergeWork(this.#engine, now) : null));
  }

  /** Phases of the types it serves (and its scope) that failed for good. */
  #failedInScope(): RunSummary["failed"] {
    const types = new Set(this.#types());
    const out: RunSummary["failed"] = [];
    for (const b of this.#engine.blocked()) {
      if (b.reason !== "failed" || b.phaseId === null) continue;
      let t;
      try {
        t = this.#engine.ticket(b.ticketId);
      } catch {
        continue;
      }
      const p = t.phases.find((x) => x.id === b.phaseId);
      if (!p || (p.agentType && !types.has(p.agentType))) continue;
      if (!this.#inScope(t)) continue;
      out.push({ phaseId: p.id, ticketId: t.id, phase: p.name });
    }
    return out;
  }

  /**
   * Wakes the loop on every event of any process (a completion, an approval,
   * a new ticket), so that work that becomes available is claimed within
   * milliseconds rather than at the next poll; the poll stays for time-based
   * duties (heartbeats, stalls, backoffs that end).
   */
  async #follow(signal: AbortSignal): Promise<void> {
    try {
      for await (const _ of this.#engine.watch({ pollMs: 10, signal })) this.#poke();
    } catch (e) {
      if (!signal.aborted) this.#log(`no longer following events (polling instead): ${(e as Error).message}`);
    }
  }

  #poke(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Nothing claimable now or after a backoff, and no gate waiting for a human. */
  #idle(): boolean {
    if (this.#opts.scope) {
      // Only what waits in this run's tickets: a gate on another ticket is not this run's to wait for.
      const waits = this.#engine.blocked().filter((b) => ["gate", "review", "retry_backoff"].includes(b.reason));
      if (waits.some((b) => this.#ticketInScope(b.ticketId))) return false;
    } else {
      const counts = this.#engine.summary().phases as Record<string, number>;
      if ((counts.waiting_retry ?? 0) > 0 || (counts.awaiting_review ?? 0) > 0) return false;
    }
    if (this.#opts.busyElsewhere?.()) return false;
    const types = this.#types().filter((t) => this.#outcomes.trippedReason(t) === undefined);
    if (!types.length) return true;
    return this.#engine.availableWork(types, 1, this.#opts.scope).phases.length === 0;
  }

  /** One round: merges, clean-up, heartbeats, stalls, spawning. Returns whether it spawned. */
  #tick(): boolean {
    // Housekeeping that fails (git, a database that is busy) is said and tried again next round; it never ends the run.
    for (const duty of [this.#mergeGroups, this.#watchPhases, this.#beat, this.#stalls, this.#showGates]) {
      try {
        duty.call(this);
      } catch (e) {
        if (!this.#upgraded(e)) this.#log(`${duty.name.replace("#", "")}: ${(e as Error).message}`);
      }
    }
    if (this.#stopping) return false;
    return this.#spawnAll();
  }

  #spawnAll(): boolean {
    let spawned = false;
    // A held type tries again at the next poll even if no agent exits (one that finished but hangs on exit).
    if (Date.now() - this.#heldAt >= (this.#opts.pollMs ?? 200)) this.#heldTypes.clear();
    const max = this.#opts.maxAgents ?? Infinity;
    if (this.#opts.dryRun) {
      this.#dryRun();
      return false;
    }
    // A .workflow/ saved half edited: an agent started now would fail before it reaches Baton.
    const problem = this.#workflow.problem();
    if (problem !== this.#workflowSaid) {
      if (problem) this.#log(`not starting agents: .workflow/ does not load (${problem}); they start once it does`);
      else this.#log(".workflow/ loads again: starting agents");
      this.#workflowSaid = problem;
      this.#idleSaid = false;
    }
    if (problem) {
      if (!this.#running.size && !this.#idleSaid) {
        this.#log("no agent runs now: waiting for .workflow/ to load");
        this.#idleSaid = true;
      }
      return false;
    }
    for (const type of this.#spawnable()) {
      if (this.#heldTypes.has(type)) continue;
      while (this.#busy(type) < this.#cap(type) && this.#busy() < max) {
        const agentId = `${type}-${crypto.randomUUID().slice(0, 6)}`;
        let claim: Claim | null;
        try {
          claim = this.#engine.claimNext({ agentId, capabilities: [type], scope: this.#opts.scope });
        } catch (e) {
          if (this.#upgraded(e)) return spawned;
          this.#log(`cannot claim for ${type}: ${(e as Error).message}`);
          break;
        }
        if (!claim) break;
        const wait = this.#places.mustWait(claim);
        if (wait) {
          // Not now: hand the phase back, and claim nothing more of this type until an agent exits.
          this.#engine.release(claim.phase.id, { agentId, token: claim.token, reason: wait });
          this.#neverStarted(agentId);
          this.#heldTypes.add(type);
          this.#heldAt = Date.now();
          break;
        }
        spawned = true;
        if (!this.#spawn(type, agentId, claim)) {
          this.#neverStarted(agentId);
          // No agent started (no worktree, a command that cannot run): the phase is back in the queue, and this
          // type claims nothing more until the next round — never a loop of claims and releases within one.
          this.#heldTypes.add(type);
          this.#heldAt = Date.now();
          break;
        }
        if (this.#outcomes.trippedReason(type) !== undefined) break;
      }
    }
    return spawned;
  }

  /** An agent id that claimed for a session that never started: shown as gone, not as an agent at work. */
  #neverStarted(agentId: string): void {
    try {
      this.#engine.recordAgentExit(agentId, { code: null });
    } catch (e) {
      this.#log(`${agentId}: could not record that it never started: ${(e as Error).message}`);
    }
  }

  /**
   * How many agents of a type may run at once: its `max_concurrent`; while
   * none of its agents has reached Baton in this run, at most
   * `run.breaker_failures` (a broken command costs a handful of sessions,
   * not one per ticket).
   */
  #cap(type: string): number {
    const cfg = this.#engine.cfg.config;
    const cap = cfg.agents.registry[type].max_concurrent ?? Infinity;
    return this.#outcomes.proven(type) ? cap : Math.min(cap, cfg.run.breaker_failures);
  }

  /** `--dry-run`: each phase it would start now, once, within every limit. */
  #dryRun(): void {
    let total = this.#busy();
    const max = this.#opts.maxAgents ?? Infinity;
    const held = new Map(this.#engine.agentTypes().map((t) => [t.type, t.held]));
    for (const type of this.#spawnable()) {
      const cap = this.#engine.cfg.config.agents.registry[type].max_concurrent ?? Infinity;
      const room = Math.min(cap - (held.get(type) ?? 0), max - total);
      if (room <= 0) continue;
      const next = this.#engine.availableWork([type], Number.isFinite(room) ? room : 1000, this.#opts.scope);
      for (const p of next.phases) {
        const entry = this.#outcomes.entryOf(type);
        this.#log(
          `would spawn ${type} for ${p.ticketId}/${p.phase} (phase ${p.phaseId})${
            entry !== type ? ` with ${entry}` : ""
          }`,
        );
      }
      total += next.phases.length;
    }
  }

  /** Starts an agent on a claimed phase; false when none started (the phase was handed back). */
  #spawn(type: string, agentId: string, claim: Claim): boolean {
    const r = launchAgent(this.#launch, type, agentId, claim);
    if (!r) return false;
    this.#running.set(claim.phase.id, r);
    void r.proc.done.then((status) => this.#exited(r, status)).catch((e) => {
      // Never let one agent's exit bring the supervisor down (its phase's lease still ends as usual).
      this.#log(`${agentId}: handling its exit failed: ${(e as Error).message}`);
      this.#poke();
    });
    return true;
  }

  #exited(r: Running, status: Deno.CommandStatus): void {
    if (this.#running.get(r.phaseId) === r) this.#running.delete(r.phaseId);
    this.#heldTypes.clear();
    const engine = this.#engine;
    try {
      engine.recordAgentExit(r.agentId, { code: status.code, signal: status.signal ?? null });
    } catch (e) {
      this.#upgraded(e);
      this.#log(`${r.agentId}: could not record its exit: ${(e as Error).message}`);
    }
    let phase;
    try {
      phase = engine.ticket(r.ticketId).phases.find((p) => p.id === r.phaseId);
    } catch { /* the ticket is gone */ }
    this.#outcomes.exited(r, status, phase, this.#workflow.problemSince(r.proc.startedAt));
    this.#places.exited(r, phase?.status);
    this.#poke();
  }

  /**
   * Frees the slot of an agent whose phase ended (completed, failed,
   * handed to review, taken back) while its process still runs, and ends an
   * agent still running `run.linger_seconds` after that. While a type is on
   * probation, notes when one of its agents reaches Baton.
   */
  #watchPhases(): void {
    const now = Date.now();
    const linger = this.#engine.cfg.config.run.linger_seconds * 1000;
    for (const r of this.#running.values()) {
      if (r.phaseEndedAt !== undefined) {
        if (now - r.phaseEndedAt >= linger && !r.proc.endedBy) {
          this.#log(
            `${r.agentId} (${r.ticketId}/${r.phase}) still runs ${linger / 1000} s after its phase ended: ending it`,
          );
          r.proc.terminate("lingered");
        }
        continue;
      }
      let p;
      try {
        p = this.#engine.phase(r.phaseId);
      } catch {
        continue;
      }
      if (
        !this.#outcomes.proven(r.type) && !r.reached &&
        (p.status !== "claimed" || this.#outcomes.reachedBaton(r.agentId))
      ) {
        r.reached = true;
        this.#outcomes.prove(r.type);
        this.#poke();
      }
      if (isHeld(p.status) && p.claimedBy === r.agentId) continue;
      r.phaseEndedAt = now;
      this.#log(`${r.agentId} (${r.ticketId}/${r.phase}): phase ${p.status}; its slot is free`);
      if (p.status === "completed" || p.status === "awaiting_review") this.#outcomes.prove(r.type);
      if (p.status === "failed") this.#outcomes.failedForGood(r, p.attempts);
      this.#poke();
    }
  }

  /** Tells the engine the running agents are alive (their leases hold while their processes run). */
  #beat(): void {
    const every = this.#engine.cfg.config.agents.stale_timeout_minutes * 60_000 / 4;
    const now = Date.now();
    for (const r of this.#running.values()) {
      if (now - r.lastBeat < every) continue;
      r.lastBeat = now;
      try {
        this.#engine.heartbeat(r.agentId, { phaseIds: [r.phaseId] });
      } catch (e) {
        this.#upgraded(e); // else an agent that never registered: its claim registered it
      }
    }
  }

  /** A running phase without progress past the stall timeout: an escalation (and, with on_stall: kill, its end). */
  #stalls(): void {
    const stalled = this.#engine.stalled();
    for (const s of stalled) {
      const r = this.#running.get(s.phaseId);
      if (!r || r.escalated) continue;
      r.escalated = true;
      const minutes = Math.round(s.silentMs / 60_000);
      this.#engine.escalate(r.phaseId, {
        reason: `no progress for ${minutes} min`,
        agentId: r.agentId,
        lastOutput: r.proc.tail() || undefined,
        actor: SUPERVISOR,
      });
      this.#summary.escalations++;
      this.#log(`escalation: ${r.ticketId}/${r.phase} (${r.agentId}) made no progress for ${minutes} min`);
      if (this.#engine.cfg.config.run.on_stall === "kill") r.proc.terminate("stalled");
    }
  }

  /** Merges finished parallel groups back into their ticket branches, and cleans up after finished work. */
  #mergeGroups(): void {
    this.#summary.conflicts += this.#places.mergeGroups();
  }

  /** Whether a ticket is one this run works on (`--tickets`, `--priority`…; every ticket without a scope). */
  #ticketInScope(ticketId: string): boolean {
    if (!this.#opts.scope) return true;
    try {
      return this.#inScope(this.#engine.ticket(ticketId));
    } catch {
      return false; // gone
    }
  }

  #inScope(t: { id: string; priority: string | null; metadata: Record<string, unknown> }): boolean {
    const scope = this.#opts.scope;
    return !scope || inScope(scope, t, defaultPriority(this.#engine.cfg.workflow));
  }

  #refusedSaid = "";
  /** An edit of .workflow/ the engine did not follow (one that does not load is said by #spawnAll): said once. */
  #refusedEdit(e: unknown): false {
    const msg = (e as Error).message;
    if (msg !== this.#refusedSaid && !this.#workflow.problem()) {
      this.#log(`not following an edit of .workflow/: ${msg}`);
    }
    this.#refusedSaid = msg;
    return false;
  }

  /** Open tickets follow the workflow's edits (phases added, renamed, dropped, retyped: `Engine.seedNewPhases`). */
  #followWorkflow(): void {
    try {
      const changed = this.#engine.seedNewPhases(SUPERVISOR);
      if (changed.length) this.#log(`open tickets follow the workflow's edits: ${changed.length} phase(s) changed`);
    } catch (e) {
      if (!this.#upgraded(e)) {
        this.#log(`could not apply the workflow's edits to open tickets: ${(e as Error).message}`);
      }
    }
  }

  /** Says which gates it waits on, when that changes (it never decides them). */
  #showGates(): void {
    const open = this.#engine.gates().filter((g) => this.#ticketInScope(g.ticketId))
      .map((g) => `${g.ticketId}/${g.phaseName} (gate ${g.id})`);
    const shown = open.join(", ");
    if (shown === this.#gatesShown) return;
    this.#gatesShown = shown;
    if (open.length) this.#log(`waiting on ${open.length} gate(s) for a human: ${shown}`);
  }
}
