/**
 * Starting one agent on a phase the supervisor claimed for it: its place (a
 * worktree, or the repository), its session files (the MCP configuration
 * naming its claim, the prompt), its process. What cannot start is handed
 * back as the ticket's failure or the environment's (`outcomes.ts`).
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import type { Claim } from "../engine/types.ts";
import { AgentProcess, type Placeholders } from "./agent_process.ts";
import { mcpCommand } from "./mcp_command.ts";
import { logBase, writeSessionFile } from "../repo/agent_logs.ts";
import { agentPrompt } from "./prompt.ts";
import { isTicketsOwnFailure, type Place } from "./worktrees.ts";
import type { RunPlaces } from "./places.ts";
import { describeProcess, type ProcessInfo } from "../processes.ts";
import type { SessionOutcomes } from "./outcomes.ts";
import { headCommit } from "../repo/worktree_state.ts";
import type { RunSummary } from "./supervisor.ts";

/** An agent the supervisor started, while its process runs. */
export interface Running {
  agentId: string;
  token: string;
  phaseId: number;
  ticketId: string;
  phase: string;
  type: string;
  /** The registry entry it runs (the type's own, or its fallback). */
  entry: string;
  place: Place;
  inGroup: boolean;
  proc: AgentProcess;
  escalated: boolean;
  lastBeat: number;
  /** When its phase was seen ended while its process still ran (its slot is free from then on). */
  phaseEndedAt?: number;
  /** Whether it reached Baton (known once seen). */
  reached: boolean;
}

/** What starting an agent needs of its supervisor. */
export interface LaunchContext {
  engine: Engine;
  places: RunPlaces;
  outcomes: SessionOutcomes;
  /** The directory of the agents' logs and session files. */
  logs: string;
  log: (line: string) => void;
  /** The supervisor's own process, recorded with each agent. */
  self: ProcessInfo;
  /** Counts the agents started (also one whose process could not start). */
  summary: RunSummary;
}

/**
 * Starts an agent on a claimed phase.
 * @param ctx the supervisor's parts it needs
 * @param type the agent type
 * @param agentId the new agent's id (the claim is under it)
 * @param claim the phase claimed for it
 * @returns the running agent, or null when none started (the phase was handed back)
 */
export function launchAgent(ctx: LaunchContext, type: string, agentId: string, claim: Claim): Running | null {
  const { engine } = ctx;
  const entry = ctx.outcomes.entryOf(type);
  const spec = engine.cfg.config.agents.registry[entry];
  const ticket = claim.ticket.id;
  let place: Place;
  let inGroup: boolean;
  try {
    ({ inGroup, ...place } = ctx.places.prepare(claim));
  } catch (e) {
    const output = `cannot prepare a worktree for ${ticket}/${claim.phase.name}: ${(e as Error).message}`;
    ctx.log(output);
    if (isTicketsOwnFailure(e)) {
      // Something of this ticket's in the way: its phase fails as work does (an escalation once its attempts are
      // spent, saying what to fix); the type goes on with other tickets.
      ctx.outcomes.ticketFailure({
        agentId,
        token: claim.token,
        phaseId: claim.phase.id,
        ticketId: ticket,
        phase: claim.phase.name,
      }, output);
      return null;
    }
    // git refused for every ticket (a disk that is full, a broken repository, the worktrees' directory in the
    // way): the environment's failure, not the work's. It counts towards the type's breaker, so that a failure
    // that lasts stops the run loudly.
    ctx.outcomes.environmentFailure(
      { type, agentId, token: claim.token, phaseId: claim.phase.id, ticketId: ticket, phase: claim.phase.name },
      { why: "could not be given a worktree", output, fast: true },
    );
    return null;
  }
  const base = logBase(ctx.logs, ticket, claim.phase.name, agentId);
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
  try {
    // Where it works and from which commit: run.require_commit judges its completion by them.
    engine.recordAgentWorkspace(agentId, { dir: place.dir, base: place.branch ? headCommit(place.dir) : null });
  } catch (e) {
    ctx.log(`${agentId}: could not record its worktree: ${(e as Error).message}`);
  }
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
    // A missing binary or a command that cannot run: the environment's failure, not the work's.
    const output = `the agent could not be started: ${spec.command}: ${(e as Error).message}`;
    ctx.log(`${agentId}: ${output}`);
    ctx.summary.spawned++;
    ctx.outcomes.environmentFailure(
      { type, agentId, token: claim.token, phaseId: claim.phase.id, ticketId: ticket, phase: claim.phase.name },
      { why: output, output, fast: true },
    );
    return null;
  }
  const r: Running = {
    agentId,
    token: claim.token,
    phaseId: claim.phase.id,
    ticketId: ticket,
    phase: claim.phase.name,
    type,
    entry,
    place,
    inGroup,
    proc,
    escalated: false,
    lastBeat: Date.now(),
    reached: false,
  };
  ctx.summary.spawned++;
  try {
    // Where it runs, so that a supervisor started after a crash of this one can tell it died.
    engine.recordAgentProcess(agentId, { ...describeProcess(proc.child.pid), supervisor: ctx.self });
  } catch (e) {
    ctx.log(`${agentId}: could not record its process: ${(e as Error).message}`);
  }
  ctx.log(
    `spawned ${agentId} for ${ticket}/${claim.phase.name} in ${place.dir} (pid ${proc.child.pid})` +
      (entry !== type ? ` running ${entry}` : ""),
  );
  return r;
}
