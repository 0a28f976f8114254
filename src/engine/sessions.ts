/**
 * Agent sessions a supervisor starts: whether an agent ever reached Baton
 * (a session that ends without a single call failed in its environment, not
 * in its work), the worktree it works in, and `run.require_commit`: a phase
 * is completed only with its work committed in that worktree; and the
 * commits of that worktree no git hook recorded, recorded when the phase ends.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Core } from "./core.ts";
import { capText, LIMITS } from "./limits.ts";
import { agentById } from "./sql/agents.ts";
import { actedBeyondClaim, agentWorkspace, setAgentExit, setAgentWorkspace } from "./sql/sessions.ts";
import { commitRecord } from "./sql/hooks.ts";
import type { R } from "./sql/rows.ts";
import { phaseWithToken } from "./sql/phases.ts";
import { isHeld } from "./state_machine.ts";
import { type SessionCommit, worktreeCommits, worktreeFacts } from "../repo/worktree_state.ts";

/** `Engine.recordAgentCall`: the first tool call of an agent's session (audited once per session). */
export function recordAgentCall(core: Core, agentId: string, client?: string): void {
  capText(client, LIMITS.name, "The client's name");
  core.tx((now) => {
    if (!agentById(core.db, agentId)) return; // nothing to say about an agent nobody registered
    core.audit(now, agentId, "agent.call", { type: "agent", id: agentId }, null, null, client ? { client } : undefined);
  });
}

/** `Engine.agentReachedBaton`. */
export function agentReachedBaton(core: Core, agentId: string): boolean {
  return actedBeyondClaim(core.db, agentId);
}

/** `Engine.recordAgentWorkspace`. */
export function recordAgentWorkspace(core: Core, agentId: string, w: { dir: string; base: string | null }): void {
  capText(w.dir, LIMITS.text, "The worktree");
  capText(w.base, LIMITS.name, "The base commit");
  core.tx(() => {
    if (!agentById(core.db, agentId)) throw new BatonError("not_found", `Agent ${agentId} is not registered`);
    setAgentWorkspace(core.db, agentId, w);
  });
}

/** `Engine.recordAgentExit`: the agent's process is gone; it shows as `gone` from then on. */
export function recordAgentExit(
  core: Core,
  agentId: string,
  exit: { code: number | null; signal?: string | null },
): void {
  core.tx((now) => {
    if (!agentById(core.db, agentId)) return;
    setAgentExit(core.db, agentId, { code: exit.code, signal: exit.signal ?? null, at: now });
  });
}

/**
 * What a phase's end looks at in the agent's worktree (recorded by the
 * supervisor that spawned it), read before the transaction (git is not run
 * under the write lock), and only when the caller holds the phase with that
 * token (a caller with another's token, or a retry of what is done already,
 * gets the transaction's answer, without git run for it). Refuses the end
 * while the worktree holds uncommitted changes (`run.require_commit:
 * changes`, the default, in an agent's own worktree), or also no commit since
 * the agent started (`true`). Returns the session's commits no git hook
 * recorded (from where it started to its HEAD: its own worktree only), for
 * {@link recordSessionCommits}. Agents without a recorded worktree (not
 * started by `baton run`) are neither judged nor looked at.
 * @throws {BatonError} `commit_required`
 */
export function sessionAtEnd(
  core: Core,
  req: { agentId: string; token: string },
  phaseId: number,
  verb: string,
): SessionCommit[] {
  const row = phaseWithToken(core.db, phaseId);
  if (!row || row.claimed_by !== req.agentId || row.claim_token !== req.token || !isHeld(row.status)) return [];
  const w = agentWorkspace(core.db, req.agentId);
  if (!w) return [];
  const mode = core.cfg.config.run.require_commit;
  // `changes` judges an agent's own worktree only (with `run.worktrees: none` agents share the checkout).
  if (mode === true || (mode === "changes" && w.base)) checkCommitted(w, mode, phaseId, verb);
  return w.base ? worktreeCommits(w.dir, w.base) : [];
}

/** Refuses a phase's end while its worktree holds uncommitted changes (or, with `true`, no new commit). */
function checkCommitted(
  w: { dir: string; base: string | null },
  mode: true | "changes",
  phaseId: number,
  verb: string,
) {
  const facts = worktreeFacts(w.dir, w.base);
  const details = {
    phaseId,
    worktree: w.dir,
    uncommitted: facts.uncommitted.slice(0, 50),
    newCommits: facts.newCommits,
  };
  if (facts.uncommitted.length) {
    const shown = facts.uncommitted.slice(0, 10).join(", ") + (facts.uncommitted.length > 10 ? ", …" : "");
    throw new BatonError(
      "commit_required",
      `Cannot ${verb} phase ${phaseId}: the worktree has uncommitted changes (${shown}): they would not land. ` +
        "Commit your work (git add, git commit) in the worktree, and remove what is not part of it, then call " +
        `this again (run.require_commit: ${mode === true ? "true" : "changes, the default"})`,
      { details },
    );
  }
  if (mode === true && facts.newCommits === 0) {
    throw new BatonError(
      "commit_required",
      `Cannot ${verb} phase ${phaseId}: nothing was committed in the worktree since this session started. ` +
        "Commit your work (git add, git commit), then call this again (run.require_commit is on)",
      { details },
    );
  }
}

/**
 * Records, as the phase's, the session's commits no `post-commit` recorded (git hooks that an agent CLI switches
 * off, or a background recording it ended): what the merge queue knows of a ticket's work is then what git has.
 * Called in the transaction that ends the phase, while the agent holds it.
 */
export function recordSessionCommits(
  core: Core,
  now: number,
  agentId: string,
  row: R, // the phase's row
  commits: SessionCommit[],
): void {
  for (const c of commits) {
    if (commitRecord(core.db, row.ticket_id, c.sha)) continue;
    core.audit(now, agentId, "phase.commit", { type: "phase", id: row.id, ticket: row.ticket_id }, null, null, {
      phase: row.name,
      sha: c.sha,
      subject: c.subject.slice(0, 200),
      ...(c.parent ? { parent: c.parent } : {}),
      via: "completion",
    });
  }
}
