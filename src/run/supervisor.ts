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
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import type { Claim } from "../engine/types.ts";
import { BatonError } from "../errors.ts";
import { AgentProcess, type Placeholders } from "./agent_process.ts";
import { isGitRepo } from "../repo/git.ts";
import { mcpCommand } from "./mcp_command.ts";
import { ensureLogsDir, logBase, logsDir, writeSessionFile } from "../repo/agent_logs.ts";
import { agentPrompt } from "./prompt.ts";
import { type Place, Worktrees } from "./worktrees.ts";
import { isDone, isHeld } from "../engine/state_machine.ts";
import { describeProcess, processGone } from "./processes.ts";

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
}

interface Running {
  agentId: string;
  token: string;
  phaseId: number;
  ticketId: string;
  phase: string;
  type: string;
  place: Place;
  inGroup: boolean;
  proc: AgentProcess;
  escalated: boolean;
  lastBeat: number;
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
}

const SUPERVISOR = "baton-run";

/** The supervisor of one repository. */
export class Supervisor {
  readonly #engine: Engine;
  readonly #opts: RunOptions;
  readonly #log: (line: string) => void;
  readonly #running = new Map<number, Running>();
  readonly #worktrees: Worktrees | null;
  readonly #logs: string;
  readonly #summary: RunSummary = { spawned: 0, failedByExit: 0, escalations: 0, conflicts: 0 };
  /** Tickets with group phases this supervisor ran, whose branches may need merging. */
  readonly #groupTickets = new Set<string>();
  #stopping = false;
  #gatesShown = "";
  #wake?: () => void;
  /** An event or an exit came since the current round began. */
  #woken = false;
  /** Agent types that claim nothing until the next agent exit or poll (a phase had to wait for one). */
  readonly #heldTypes = new Set<string>();
  #heldAt = 0;
  /** Tickets whose finished parallel group waits for its agents to exit before it is merged. */
  readonly #mergePending = new Set<string>();

  /**
   * @param engine the repository's engine
   * @param opts what to serve and when to stop
   * @throws {BatonError} `config_invalid` when no registry entry has a command; `invalid_argument` for
   *   `run.worktrees: git` outside a git repository
   */
  constructor(engine: Engine, opts: RunOptions = {}) {
    this.#engine = engine;
    this.#opts = opts;
    this.#log = opts.log ?? ((l) => console.log(l));
    const run = engine.cfg.config.run;
    const root = engine.cfg.repoRoot;
    this.#logs = logsDir(engine.cfg);
    ensureLogsDir(this.#logs);
    if (run.worktrees === "git") {
      if (!isGitRepo(root)) {
        throw new BatonError(
          "invalid_argument",
          `${root} is not a git repository: baton run gives each agent a git worktree (set run.worktrees: none to run agents in the repository itself)`,
        );
      }
      this.#worktrees = new Worktrees(root, run.worktree_dir);
    } else this.#worktrees = null;
    if (!this.#types().length) {
      throw new BatonError(
        "config_invalid",
        "No agent type to run: give agents.registry.<type> a command (and args) in .workflow/config.yaml" +
          (opts.types ? ` (asked for: ${opts.types.join(", ")})` : ""),
      );
    }
  }

  /** The registry types it serves: with a command, and among `--types`. */
  #types(): string[] {
    return Object.entries(this.#engine.cfg.config.agents.registry)
      .filter(([t, spec]) => spec.command && (!this.#opts.types || this.#opts.types.includes(t)))
      .map(([t]) => t);
  }

  /** Stop spawning; the running agents finish. */
  stop(): void {
    this.#stopping = true;
    this.#poke();
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
    this.#releaseDeadAgents();
    this.#adoptLeftovers();
    const events = new AbortController();
    const following = this.#follow(events.signal);
    try {
      for (;;) {
        this.#woken = false;
        const spawned = this.#tick();
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
    }
    this.#tick(); // merges and clean-up after the last exits
    return { ...this.#summary };
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
    const s = this.#engine.summary();
    const counts = s.phases as Record<string, number>;
    if ((counts.waiting_retry ?? 0) > 0 || (counts.awaiting_review ?? 0) > 0) return false;
    if (this.#opts.busyElsewhere?.()) return false;
    const types = this.#types();
    return this.#engine.availableWork(types, 1).phases.length === 0;
  }

  /** One round: merges, clean-up, heartbeats, stalls, spawning. Returns whether it spawned. */
  #tick(): boolean {
    this.#mergeGroups();
    this.#beat();
    this.#stalls();
    this.#showGates();
    if (this.#stopping) return false;
    return this.#spawnAll();
  }

  #spawnAll(): boolean {
    let spawned = false;
    const cfg = this.#engine.cfg.config;
    // A held type tries again at the next poll even if no agent exits (one that finished but hangs on exit).
    if (Date.now() - this.#heldAt >= (this.#opts.pollMs ?? 200)) this.#heldTypes.clear();
    for (const type of this.#types()) {
      if (this.#heldTypes.has(type)) continue;
      const cap = cfg.agents.registry[type].max_concurrent ?? Infinity;
      while (
        [...this.#running.values()].filter((r) => r.type === type).length < cap &&
        this.#running.size < (this.#opts.maxAgents ?? Infinity)
      ) {
        if (this.#opts.dryRun) {
          const next = this.#engine.availableWork([type], 10).phases;
          for (const p of next) this.#log(`would spawn ${type} for ${p.ticketId}/${p.phase} (phase ${p.phaseId})`);
          break;
        }
        const agentId = `${type}-${crypto.randomUUID().slice(0, 6)}`;
        let claim: Claim | null;
        try {
          claim = this.#engine.claimNext({ agentId, capabilities: [type] });
        } catch (e) {
          this.#log(`cannot claim for ${type}: ${(e as Error).message}`);
          break;
        }
        if (!claim) break;
        const wait = this.#mustWait(claim);
        if (wait) {
          // Not now: hand the phase back, and claim nothing more of this type until an agent exits.
          this.#engine.release(claim.phase.id, { agentId, token: claim.token, reason: wait });
          this.#heldTypes.add(type);
          this.#heldAt = Date.now();
          break;
        }
        this.#spawn(type, agentId, claim);
        spawned = true;
      }
    }
    return spawned;
  }

  /**
   * Why a claimed phase cannot start yet, if it cannot: an agent that
   * finished its phase is still running in the worktree this one would use
   * (never two agents in one worktree), or the ticket's finished group is
   * not merged back yet (its agents are still exiting).
   */
  #mustWait(claim: Claim): string | null {
    const ticket = claim.ticket.id;
    const inGroup = !!this.#engine.cfg.workflow.phases.find((p) => p.name === claim.phase.name)?.group;
    const dir = this.#worktrees?.placeOf(ticket, claim.phase.name, inGroup);
    for (const r of this.#running.values()) {
      if (r.ticketId !== ticket) continue;
      if (this.#worktrees && r.place.dir === dir) return `waiting for ${r.agentId} to leave ${r.place.dir}`;
    }
    if (this.#mergePending.has(ticket) && !inGroup) return `waiting to merge ${ticket}'s parallel group`;
    return null;
  }

  #spawn(type: string, agentId: string, claim: Claim): void {
    const engine = this.#engine;
    const spec = engine.cfg.config.agents.registry[type];
    const def = engine.cfg.workflow.phases.find((p) => p.name === claim.phase.name);
    const inGroup = !!def?.group;
    const ticket = claim.ticket.id;
    let place: Place;
    try {
      place = this.#worktrees ? this.#worktrees.prepare(ticket, claim.phase.name, inGroup) : {
        dir: engine.cfg.repoRoot,
        branch: null,
      };
    } catch (e) {
      this.#log(`cannot prepare a worktree for ${ticket}/${claim.phase.name}: ${(e as Error).message}`);
      engine.release(claim.phase.id, {
        agentId,
        token: claim.token,
        reason: "the supervisor could not prepare a worktree",
      });
      return;
    }
    if (inGroup) this.#groupTickets.add(ticket);
    const base = logBase(this.#logs, ticket, claim.phase.name, agentId);
    const mcp = mcpCommand();
    const env = {
      BATON_AGENT_ID: agentId,
      BATON_PHASE_ID: String(claim.phase.id),
      // BATON_CLAIM reaches baton-mcp through every client (Gemini CLI drops names with TOKEN); the old name stays.
      BATON_CLAIM: claim.token,
      BATON_CLAIM_TOKEN: claim.token,
      BATON_REPO: engine.cfg.repoRoot,
      BATON_MCP_CONFIG: `${base}.mcp.json`,
    };
    writeSessionFile(
      `${base}.mcp.json`,
      JSON.stringify(
        {
          mcpServers: {
            baton: { command: mcp.command, args: [...mcp.args, "--repo", engine.cfg.repoRoot], env },
          },
        },
        null,
        2,
      ) + "\n",
    );
    const values: Placeholders = {
      repo: engine.cfg.repoRoot,
      prompt_file: `${base}.prompt.md`,
      ticket,
      phase: String(claim.phase.id),
      worktree: place.dir,
      agent_id: agentId,
      mcp_config: `${base}.mcp.json`,
    };
    const prompt = agentPrompt(engine.context({ phaseId: claim.phase.id }), place, { agentId, token: claim.token });
    let proc: AgentProcess;
    try {
      proc = new AgentProcess(
        { ...spec, command: spec.command! },
        values,
        env,
        prompt,
        `${base}.log`,
        engine.cfg.config.run.grace_seconds * 1000,
      );
    } catch (e) {
      const error = `the agent could not be started: ${(e as Error).message}`;
      this.#log(`${agentId}: ${error}`);
      engine.fail(claim.phase.id, { agentId, token: claim.token, error });
      return;
    }
    const r: Running = {
      agentId,
      token: claim.token,
      phaseId: claim.phase.id,
      ticketId: ticket,
      phase: claim.phase.name,
      type,
      place,
      inGroup,
      proc,
      escalated: false,
      lastBeat: Date.now(),
    };
    this.#running.set(claim.phase.id, r);
    this.#summary.spawned++;
    try {
      // Where it runs, so that a supervisor started after a crash of this one can tell it died.
      engine.recordAgentProcess(agentId, describeProcess(proc.child.pid));
    } catch (e) {
      this.#log(`${agentId}: could not record its process: ${(e as Error).message}`);
    }
    this.#log(`spawned ${agentId} for ${ticket}/${claim.phase.name} in ${place.dir} (pid ${proc.child.pid})`);
    void proc.done.then((status) => this.#exited(r, status)).catch((e) => {
      // Never let one agent's exit bring the supervisor down (its phase's lease still ends as usual).
      this.#log(`${agentId}: handling its exit failed: ${(e as Error).message}`);
      this.#poke();
    });
  }

  #exited(r: Running, status: Deno.CommandStatus): void {
    if (this.#running.get(r.phaseId) === r) this.#running.delete(r.phaseId);
    this.#heldTypes.clear();
    const engine = this.#engine;
    let phase;
    try {
      phase = engine.ticket(r.ticketId).phases.find((p) => p.id === r.phaseId);
    } catch { /* the ticket is gone */ }
    const holding = phase && isHeld(phase.status) &&
      phase.claimedBy === r.agentId;
    if (holding) {
      const why = r.proc.endedBy === "timed out"
        ? `timed out after ${engine.cfg.config.agents.registry[r.type].max_runtime_minutes} min`
        : r.proc.endedBy === "stalled"
        ? "ended by the supervisor after a stall"
        : `agent exited with code ${status.code}${status.signal ? ` (${status.signal})` : ""} without completing`;
      const tail = r.proc.tail();
      const error = tail ? `${why}\n--- the last lines of its stderr ---\n${tail}` : why;
      try {
        if (r.proc.endedBy === "stopped") {
          engine.release(r.phaseId, { agentId: r.agentId, token: r.token, reason: "the supervisor was stopped" });
        } else {
          engine.fail(r.phaseId, { agentId: r.agentId, token: r.token, error });
          this.#summary.failedByExit++;
        }
      } catch (e) {
        this.#log(`${r.agentId}: could not record its exit: ${(e as Error).message}`);
      }
      this.#log(`${r.agentId} (${r.ticketId}/${r.phase}): ${why}`);
    } else {
      this.#log(`${r.agentId} (${r.ticketId}/${r.phase}) exited ${status.code}: phase ${phase?.status ?? "gone"}`);
    }
    // A group phase's worktree goes once its phase is over (its branch stays for the merge).
    if (this.#worktrees && r.inGroup && phase?.status === "completed") {
      try {
        if (!this.#worktrees.remove(r.place.dir)) this.#log(`kept ${r.place.dir}: it has uncommitted changes`);
      } catch (e) {
        this.#log(`could not remove ${r.place.dir}: ${(e as Error).message}`);
      }
    }
    this.#poke();
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
      } catch { /* an agent that never registered: its claim registered it */ }
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

  /** Merges the branches of finished parallel groups into their ticket branches; a conflict is rework. */
  #mergeGroups(): void {
    if (!this.#worktrees) return;
    const wf = this.#engine.cfg.workflow.phases;
    const groups = [...new Set(wf.filter((p) => p.group).map((p) => p.group!))];
    for (const ticketId of [...this.#groupTickets]) {
      let t;
      try {
        t = this.#engine.ticket(ticketId);
      } catch {
        this.#groupTickets.delete(ticketId);
        continue;
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
        if ([...this.#running.values()].some((r) => r.ticketId === ticketId && r.inGroup)) {
          // A member's agent finished its phase but has not exited yet: merge once it has.
          this.#mergePending.add(ticketId);
          waiting = true;
          continue;
        }
        this.#mergePending.delete(ticketId);
        const names = members.filter((p) => p.status === "completed").map((p) => p.name);
        for (const c of this.#worktrees.mergeGroup(ticketId, names)) {
          const p = members.find((m) => m.name === c.phase)!;
          const notes = `Merging your branch into the ticket branch conflicted in: ${c.files.join(", ")}. ` +
            "Redo the phase on top of the ticket branch (your branch was reset to it).";
          this.#worktrees.resetPhaseBranch(ticketId, c.phase);
          this.#engine.returnForRework(p.id, { actor: SUPERVISOR, notes });
          this.#summary.conflicts++;
          waiting = true;
          this.#log(`merge conflict: ${ticketId}/${c.phase} (${c.files.join(", ")}) goes back for rework`);
        }
      }
      if (!waiting && t.status === "completed") this.#groupTickets.delete(ticketId);
    }
    this.#cleanFinished();
  }

  /** Removes the worktrees of finished tickets (branches stay; uncommitted work is kept and reported). */
  #cleanFinished(): void {
    if (!this.#worktrees) return;
    for (const w of this.#worktrees.list()) {
      const ticket = /^baton\/([^/]+?)(?:--.*)?$/.exec(w.branch ?? "")?.[1];
      if (!ticket || [...this.#running.values()].some((r) => r.place.dir === w.dir)) continue;
      let status;
      try {
        status = this.#engine.ticket(ticket).status;
      } catch {
        continue;
      }
      if (status !== "completed" || this.#groupTickets.has(ticket)) continue;
      for (const kept of this.#worktrees.removeTicket(ticket)) {
        this.#log(`kept ${kept}: ticket ${ticket} is finished, but the worktree has uncommitted changes`);
      }
    }
  }

  /** A restarted supervisor: worktrees of phases nobody works on any more are removed (unless dirty: reported). */
  /**
   * Phases held by agents a supervisor spawned on this host whose process is
   * gone (this supervisor's predecessor was killed with them) come back at
   * once, instead of when their leases end.
   */
  #releaseDeadAgents(): void {
    if (this.#opts.dryRun) return;
    for (const a of this.#engine.agents()) {
      if (!a.holds.length || !a.process || !processGone(a.process)) continue;
      const reason = `its process (pid ${a.process.pid} on ${a.process.host}) is gone`;
      const n = this.#engine.releaseAgentClaims(a.id, { reason, actor: SUPERVISOR });
      if (n) this.#log(`released ${a.holds.map((h) => `${h.ticketId}/${h.phase}`).join(", ")} of ${a.id}: ${reason}`);
    }
  }

  #adoptLeftovers(): void {
    if (!this.#worktrees) return;
    for (const w of this.#worktrees.list()) {
      const m = /^baton\/([^/]+?)(?:--(.*))?$/.exec(w.branch ?? "");
      if (!m) continue;
      if (m[2]) this.#groupTickets.add(m[1]);
      if (this.#worktrees.dirty(w.dir)) {
        this.#log(`left ${w.dir} in place: it has uncommitted changes from an earlier run (commit or remove them)`);
      }
    }
    this.#cleanFinished();
  }

  /** Says which gates it waits on, when that changes (it never decides them). */
  #showGates(): void {
    const open = this.#engine.gates().map((g) => `${g.ticketId}/${g.phaseName} (gate ${g.id})`);
    const shown = open.join(", ");
    if (shown === this.#gatesShown) return;
    this.#gatesShown = shown;
    if (open.length) this.#log(`waiting on ${open.length} gate(s) for a human: ${shown}`);
  }
}
