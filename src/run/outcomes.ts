/**
 * What the end of an agent's session does to its phase and to its agent
 * type, for `baton run` (`supervisor.ts`): a session that exits still
 * holding its phase fails it with the tail of its stderr (or releases it
 * when the supervisor stopped it); one that never reached Baton is the
 * environment's failure (its phase released without an attempt, a bounded
 * number of times); one on a usage or rate limit sends its type to its
 * fallback or makes it wait; sessions of a type that keep ending so within
 * seconds trip the type's circuit breaker; a phase failed for good is said
 * once. Kept per run: which types are proven, tripped, waiting or on their
 * fallback.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import type { Phase } from "../engine/types.ts";
import { isHeld } from "../engine/state_machine.ts";
import type { AgentProcess } from "./agent_process.ts";
import { classifyExit, rateLimitLine, rateLimitPatterns } from "./exits.ts";
import type { RunSummary } from "./supervisor.ts";

/** The session that ended, and the phase it held. */
export interface Ended {
  /** The agent type it served. */
  type: string;
  /** The session's agent id. */
  agentId: string;
  /** Its claim's token. */
  token: string;
  /** The phase it held. */
  phaseId: number;
  /** That phase's ticket. */
  ticketId: string;
  /** That phase's name. */
  phase: string;
}

/** A session that ended: its phase, what it ran and its process. */
export interface EndedSession extends Ended {
  /** The registry entry it ran (the type's own, or its fallback). */
  entry: string;
  /** Its process. */
  proc: AgentProcess;
  /** Whether it was seen to reach Baton while it ran. */
  reached: boolean;
  /** When its phase was seen ended while its process still ran. */
  phaseEndedAt?: number;
}

/** Per run: how each agent type's sessions have been ending, and what that changed. */
export class SessionOutcomes {
  readonly #engine: Engine;
  readonly #summary: RunSummary;
  readonly #log: (line: string) => void;
  readonly #actor: string;
  /** Sessions of each phase that ended without reaching Baton, in this run. */
  readonly #envFailures = new Map<number, number>();
  /** Per type: sessions in a row that ended without reaching Baton within `breaker_seconds`. */
  readonly #streak = new Map<string, number>();
  /** Types one of whose agents reached Baton in this run (no longer on probation). */
  readonly #proven = new Set<string>();
  /** Types whose breaker tripped. */
  readonly #tripped = new Map<string, string>();
  /** Types out of quota, until when. */
  readonly #limitedUntil = new Map<string, number>();
  /** Types whose next sessions run another registry entry (their fallback). */
  readonly #fallbackOf = new Map<string, string>();

  /**
   * @param engine the repository's engine
   * @param summary the run's summary, whose counters it keeps
   * @param log where its lines go
   * @param actor who escalates (the supervisor)
   */
  constructor(engine: Engine, summary: RunSummary, log: (line: string) => void, actor: string) {
    this.#engine = engine;
    this.#summary = summary;
    this.#log = log;
    this.#actor = actor;
  }

  /** Whether an agent of this type reached Baton in this run (the type is off probation). */
  proven(type: string): boolean {
    return this.#proven.has(type);
  }

  /** Why the type's breaker tripped, or undefined. */
  trippedReason(type: string): string | undefined {
    return this.#tripped.get(type);
  }

  /** The types whose breaker tripped, with why. */
  tripped(): { type: string; reason: string }[] {
    return [...this.#tripped].map(([type, reason]) => ({ type, reason }));
  }

  /** Whether the type may be spawned at `now` (its breaker has not tripped, it is not waiting out a limit). */
  spawnable(type: string, now: number): boolean {
    return !this.#tripped.has(type) && (this.#limitedUntil.get(type) ?? 0) <= now;
  }

  /** The registry entry the next session of a type runs: its own, or its fallback after a usage limit. */
  entryOf(type: string): string {
    return this.#fallbackOf.get(type) ?? type;
  }

  /**
   * What an agent's exit does: a session that still held its phase failed it (with its stderr's tail), or stopped on
   * a usage limit, or never reached Baton (the environment's failure); one whose phase had ended proves its type, and
   * says a failure for good once.
   * @param r the session
   * @param status how its process ended
   * @param phase its phase now (undefined when the ticket is gone)
   * @param workflowProblem why `.workflow/` did not load at some moment of its session, if it did not
   */
  exited(r: EndedSession, status: Deno.CommandStatus, phase: Phase | undefined, workflowProblem?: string | null): void {
    const holding = phase && isHeld(phase.status) && phase.claimedBy === r.agentId;
    const code = `code ${status.code}${status.signal ? ` (${status.signal})` : ""}`;
    if (holding) {
      const entry = this.#engine.cfg.config.agents.registry[r.entry];
      const patterns = rateLimitPatterns(entry?.rate_limit_patterns);
      const output = [r.proc.tail(), r.proc.stdoutTail()].filter(Boolean).join("\n");
      const reached = r.reached || phase!.status !== "claimed" || this.reachedBaton(r.agentId);
      const kind = classifyExit({ endedBy: r.proc.endedBy, output, reachedBaton: reached, patterns });
      if (reached) this.prove(r.type);
      const fast = Date.now() - r.proc.startedAt < this.#engine.cfg.config.run.breaker_seconds * 1000;
      if (kind === "rate_limited") {
        this.rateLimited(r, code, output, patterns);
      } else if (kind === "environment") {
        // While .workflow/ did not load, every session failed so: not the agent type's fault (no breaker count).
        this.environmentFailure(r, {
          why: `exited with ${code} without ever calling Baton` +
            (workflowProblem ? ` (.workflow/ did not load: ${workflowProblem})` : ""),
          output: r.proc.tail() || r.proc.stdoutTail(),
          fast: fast && !workflowProblem,
        });
      } else {
        const why = r.proc.endedBy === "timed out"
          ? `timed out after ${entry.max_runtime_minutes} min`
          : r.proc.endedBy === "stalled"
          ? "ended by the supervisor after a stall"
          : `agent exited with ${code} without completing`;
        const tail = r.proc.tail();
        const error = tail ? `${why}\n--- the last lines of its stderr ---\n${tail}` : why;
        try {
          if (r.proc.endedBy === "stopped") {
            this.#engine.release(r.phaseId, {
              agentId: r.agentId,
              token: r.token,
              reason: "the supervisor was stopped",
            });
          } else {
            const after = this.#engine.fail(r.phaseId, { agentId: r.agentId, token: r.token, error });
            this.#summary.failedByExit++;
            if (after.status === "failed") this.failedForGood(r, after.attempts);
          }
        } catch (e) {
          this.#log(`${r.agentId}: could not record its exit: ${(e as Error).message}`);
        }
        this.#log(`${r.agentId} (${r.ticketId}/${r.phase}): ${why}`);
      }
    } else {
      if (phase?.status === "completed" || phase?.status === "awaiting_review") this.prove(r.type);
      this.#log(`${r.agentId} (${r.ticketId}/${r.phase}) exited ${status.code}: phase ${phase?.status ?? "gone"}`);
      if (phase?.status === "failed" && r.phaseEndedAt === undefined) this.failedForGood(r, phase.attempts);
    }
  }

  /** Whether the agent reached Baton (never throws: unknown is "no"). */
  reachedBaton(agentId: string): boolean {
    try {
      return this.#engine.agentReachedBaton(agentId);
    } catch {
      return false;
    }
  }

  /** An agent of this type reached Baton: the type is off probation and its breaker's count starts over. */
  prove(type: string): void {
    this.#proven.add(type);
    this.#streak.delete(type);
  }

  /** Says that a phase failed for good (its escalation was opened by the engine). */
  failedForGood(r: { agentId: string; ticketId: string; phase: string }, attempts: number): void {
    this.#summary.escalations++;
    this.#log(
      `${r.ticketId}/${r.phase} failed for good after ${attempts} attempt(s): an escalation waits for a human ` +
        "(baton escalations; baton retry PHASE)",
    );
  }

  /**
   * A phase whose ticket's own place could not be made (see
   * `worktrees.ts`): it fails as work does, with the reason, so that its
   * attempts run out into an escalation saying what to fix; other tickets go
   * on, and the type's breaker does not count it.
   */
  ticketFailure(r: Omit<Ended, "type">, why: string): void {
    try {
      const after = this.#engine.fail(r.phaseId, { agentId: r.agentId, token: r.token, error: why });
      this.#summary.failedByExit++;
      if (after.status === "failed") this.failedForGood(r, after.attempts);
    } catch (e) {
      this.#log(`${r.agentId}: could not record the failure: ${(e as Error).message}`);
    }
  }

  /**
   * A session that never reached Baton: its phase is released without
   * counting an attempt (retried at once), unless it already had
   * `run.environment_retries` such sessions (then the attempt counts). Fast
   * ones count towards the type's circuit breaker.
   */
  environmentFailure(r: Ended, x: { why: string; output: string; fast: boolean }): void {
    const run = this.#engine.cfg.config.run;
    const tries = (this.#envFailures.get(r.phaseId) ?? 0) + 1;
    this.#envFailures.set(r.phaseId, tries);
    this.#summary.environmentFailures++;
    try {
      if (tries <= run.environment_retries) {
        this.#engine.release(r.phaseId, {
          agentId: r.agentId,
          token: r.token,
          reason: `the agent ${x.why} (a failure of its environment, not of the work: no attempt counted)`,
        });
        this.#log(
          `${r.agentId} (${r.ticketId}/${r.phase}): ${x.why}; a failure of the environment, not of the work: ` +
            `released without counting an attempt, retrying at once (${tries} of ${run.environment_retries})`,
        );
      } else {
        const error = `the agent ${x.why}, in ${tries} sessions in a row` +
          (x.output ? `\n--- the last lines of its output ---\n${x.output}` : "");
        const after = this.#engine.fail(r.phaseId, { agentId: r.agentId, token: r.token, error });
        this.#summary.failedByExit++;
        this.#log(
          `${r.agentId} (${r.ticketId}/${r.phase}): ${x.why}, ${tries} sessions in a row: counted as a failed attempt`,
        );
        if (after.status === "failed") this.failedForGood(r, after.attempts);
      }
    } catch (e) {
      this.#log(`${r.agentId}: could not record its exit: ${(e as Error).message}`);
    }
    if (!x.fast) return;
    const n = (this.#streak.get(r.type) ?? 0) + 1;
    this.#streak.set(r.type, n);
    if (n >= run.breaker_failures && !this.#tripped.has(r.type)) this.#trip(r, n, x.output);
  }

  /** Stops spawning a type whose agents keep failing at once, with one escalation saying why. */
  #trip(r: { type: string; agentId: string; phaseId: number }, n: number, output: string): void {
    const run = this.#engine.cfg.config.run;
    const entry = this.entryOf(r.type);
    const spec = this.#engine.cfg.config.agents.registry[entry];
    const reason = `circuit breaker: ${n} ${r.type} agents in a row ended within ${run.breaker_seconds} s without ` +
      `reaching Baton (${spec.command} ${spec.args.join(" ")}); baton run stopped spawning ${r.type}. ` +
      "Check the command (baton doctor), then run again";
    this.#tripped.set(r.type, reason);
    this.#log(`${r.type}: ${reason}`);
    try {
      this.#engine.escalate(r.phaseId, {
        reason,
        agentId: r.agentId,
        lastOutput: output || undefined,
        actor: this.#actor,
      });
      this.#summary.escalations++;
    } catch (e) {
      this.#log(`could not record the escalation: ${(e as Error).message}`);
    }
  }

  /**
   * A session that stopped on a usage or rate limit: its phase is released
   * without counting an attempt; the type's next sessions run its entry's
   * `fallback`, or the type waits `run.rate_limit_wait_seconds`.
   */
  rateLimited(r: Ended & { entry: string }, code: string, output: string, patterns: RegExp[]): void {
    const run = this.#engine.cfg.config.run;
    const registry = this.#engine.cfg.config.agents.registry;
    this.#summary.rateLimited++;
    const line = rateLimitLine(output, patterns) ?? "";
    try {
      this.#engine.release(r.phaseId, {
        agentId: r.agentId,
        token: r.token,
        reason: `the agent (${r.entry}) stopped on a usage or rate limit: ${line.trim().slice(0, 200)}`,
      });
    } catch (e) {
      this.#log(`${r.agentId}: could not release its phase: ${(e as Error).message}`);
    }
    const fallback = registry[r.entry]?.fallback;
    let next: string;
    if (fallback && fallback !== r.type && this.entryOf(r.type) === r.entry) {
      this.#fallbackOf.set(r.type, fallback);
      next = `the next ${r.type} sessions run ${fallback}`;
    } else if (fallback === r.type) {
      this.#fallbackOf.delete(r.type);
      next = `the next ${r.type} sessions run ${r.type} again`;
    } else {
      this.#limitedUntil.set(r.type, Date.now() + run.rate_limit_wait_seconds * 1000);
      this.#fallbackOf.delete(r.type);
      next = `${r.type} waits ${run.rate_limit_wait_seconds} s before its next session`;
    }
    this.#log(
      `${r.agentId} (${r.ticketId}/${r.phase}): ${r.entry} exited with ${code} on a usage or rate limit ` +
        `(${line.trim().slice(0, 200)}): released without counting an attempt; ${next}`,
    );
  }
}
