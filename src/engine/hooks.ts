/**
 * What git's hooks ask the engine (`baton hooks run`): may this commit go
 * ahead (fencing: the committing agent still holds its claim; its staged
 * files are declared for the claim; files another live claim declared are
 * refused or warned about), which trailers tie it to its claim, and the
 * commit recorded as the phase's progress with its SHA in the audit.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { normalizeRepoPath } from "../globs/mod.ts";
import { isSha } from "../repo/git.ts";
import { type Core, what } from "./core.ts";
import { parseBranch, ticketBranch } from "../repo/names.ts";
import { overlapsFor } from "./declarations.ts";
import { held } from "./fencing.ts";
import { implicitHeartbeat } from "./leases.ts";
import { declaredBy, insertDeclaration } from "./sql/coordination.ts";
import { claimedBetween, commitRecord, commitRows, holdEnded, phaseIdByName, transitionAt } from "./sql/hooks.ts";
import { markPhaseProgress, phaseWithToken } from "./sql/phases.ts";
import type { R } from "./sql/rows.ts";
import { isHeld } from "./state_machine.ts";
import type { Overlap } from "./types.ts";

/** Who is committing: an agent names its claim (`baton run` puts it in the agent's environment); a human names nothing. */
export interface CommitCheckRequest {
  /** The committing agent (`BATON_AGENT_ID`); absent for a human. */
  agentId?: string;
  /** The phase it holds (`BATON_PHASE_ID`). */
  phaseId?: number;
  /** Its claim's fencing token (`BATON_CLAIM` / `BATON_CLAIM_TOKEN`). */
  token?: string;
  /** The staged files, repository-relative (`git diff --cached --name-only`). */
  files: string[];
  /** Declare the files for the agent's claim when it may go ahead (default true; `baton guard paths --no-declare`). */
  declare?: boolean;
  /**
   * The branch the commit goes on (null: a detached HEAD; absent: not known, as from hooks installed before it was
   * sent). An agent's commit never goes on the merge queue's target, nor on another ticket's branch.
   */
  branch?: string | null;
}

/** The engine's verdict on a commit. */
export interface CommitCheck {
  /** `allow`: go ahead quietly; `warn`: go ahead, print `messages`; `refuse`: the hook fails. */
  verdict: "allow" | "warn" | "refuse";
  /** Who is committing. */
  committer: "agent" | "human";
  /** What to print, one line each (why it is refused, or the warnings). */
  messages: string[];
  /** Staged files that another live claim declared. */
  overlaps: Overlap[];
  /** The staged files declared for the agent's claim by this check. */
  declared: string[];
  /** The agent's ticket (when its phase exists). */
  ticketId?: string;
  /** The agent's phase name (when its phase exists). */
  phase?: string;
}

/** A commit made under a claim (`post-commit`). */
export interface CommitRecordRequest {
  /** The committing agent. */
  agentId: string;
  /** The phase it holds. */
  phaseId: number;
  /** Its claim's fencing token. */
  token: string;
  /** The commit's SHA. */
  sha: string;
  /** The commit's subject line. */
  subject?: string;
  /** When it was made (git's committer time, ms): judges a commit recorded after the claim ended. */
  committedAt?: number;
  /** Its parents' SHAs (git's `%P`): orders a phase's commits as they were made, whatever order they are recorded in. */
  parents?: string[];
}

/** What recording a commit did. */
export interface CommitRecorded {
  /** True when the claim was still the agent's: the commit counts as the phase's progress (the stall clock restarts). */
  progress: boolean;
  /** The phase's ticket. */
  ticketId: string;
  /** The phase's name. */
  phase: string;
}

/**
 * The trailers that tie an agent's commit to its claim.
 * @param ticketId the ticket
 * @param phase the phase's name
 * @param agentId the agent
 * @returns `Baton-Ticket: …`, `Baton-Phase: …`, `Baton-Agent: …`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commitTrailers } from "./hooks.ts";
 * assert.deepEqual(commitTrailers("0042", "Implementation", "implementer-9"), [
 *   "Baton-Ticket: 0042", "Baton-Phase: Implementation", "Baton-Agent: implementer-9",
 * ]);
 * ```
 */
export function commitTrailers(ticketId: string, phase: string, agentId: string): string[] {
  return [`Baton-Ticket: ${ticketId}`, `Baton-Phase: ${phase}`, `Baton-Agent: ${agentId}`].map((t) =>
    t.replace(/[\r\n]+/g, " ")
  );
}

/**
 * What a guard prints for a verdict, one line each (`baton: commit refused: …`, `baton: warning: …`).
 * @param r the verdict
 * @param what what was refused (`commit`, `change`)
 * @returns the lines, for stderr
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CommitCheck, checkLines } from "./hooks.ts";
 * const r: CommitCheck = { verdict: "refuse", committer: "agent", messages: ["x is claimed"], overlaps: [], declared: [] };
 * assert.deepEqual(checkLines(r, "commit"), ["baton: commit refused: x is claimed"]);
 * ```
 */
export function checkLines(r: CommitCheck, what: string): string[] {
  const lead = r.verdict === "refuse" ? `${what} refused: ` : "warning: ";
  const lines = r.messages.map((m) => `baton: ${lead}${m}`);
  if (r.verdict === "refuse" && r.committer === "human") lines.push("baton: (hooks.block_humans is true)");
  return lines;
}

/** `phase Implementation of 0042`, as the hooks' messages say it. */
const claimOf = (row: R): string => `claim of phase ${row.name} of ${row.ticket_id}`;

/** `3 min ago`. */
function ago(now: number, at: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  return s < 90 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

/** How a hold ended, by its audit action. */
const ENDED: Record<string, string> = {
  "phase.release": "released",
  "phase.complete": "completed",
  "phase.fail": "failed",
  "phase.reset": "reset",
  "phase.request_review": "sent for review",
  "phase.block": "blocked",
};

/** Why the agent's claim on `row` is no longer its own, or null while it is. */
function lostClaim(core: Core, now: number, row: R, agentId: string, token: string): string | null {
  const mine = isHeld(row.status) && row.claimed_by === agentId;
  if (mine && row.claim_token === token) {
    const exp = row.lease_expires_at as number | null;
    if (exp !== null && exp < core.expiryNow) {
      return `${claimOf(row)} is no longer yours (lease expired ${ago(now, exp)})`;
    }
    return null;
  }
  if (mine) return `${claimOf(row)} is no longer yours (it was claimed again: your claim token is not the current one)`;
  const ended = holdEnded(core.db, row.ticket_id, row.id, agentId);
  const how = ended === undefined
    ? "it was never yours"
    : ended.action === "phase.stale"
    ? `lease expired ${ago(now, ended.lease_expired_at ?? ended.at)}`
    : `${ENDED[ended.action] ?? ended.action.replace(/^phase\./, "")}${
      ended.actor !== agentId ? ` by ${ended.actor}` : "" // a human took it back (baton release --by)
    } ${ago(now, ended.at)}`;
  const now_ = isHeld(row.status) ? `now held by ${row.claimed_by}` : `now ${row.status.replace("_", " ")}`;
  return `${claimOf(row)} is no longer yours (${how}; ${now_})`;
}

/** The staged paths as declared patterns (paths git prints that are not valid repository paths are skipped). */
function normalized(files: string[]): string[] {
  const out = new Set<string>();
  for (const f of files) {
    try {
      out.add(normalizeRepoPath(f));
    } catch { /* not a path Baton can declare */ }
  }
  return [...out];
}

/** An overlap as a hook prints it. */
function overlapLine(o: Overlap): string {
  const how = o.pattern === o.otherPattern ? o.pattern : `${o.pattern} (declared as ${o.otherPattern})`;
  return `${how} is claimed by ticket ${o.ticketId}, phase ${o.phase}, agent ${o.agentId}`;
}

/** Overlaps, one per staged file (the first declaration that covers it). */
function perFile(overlaps: Overlap[]): Overlap[] {
  const seen = new Set<string>();
  return overlaps.filter((o) => !seen.has(o.pattern) && seen.add(o.pattern));
}

/**
 * Why an agent's commit is on a branch its work must not go on, or null: the merge queue's target (what lands there is
 * tested first), or another ticket's branch. Any other branch is the agent's to choose (`baton merge add --branch`).
 */
function wrongBranch(core: Core, branch: string | null | undefined, ticketId: string): string | null {
  if (typeof branch !== "string") return null;
  if (core.cfg.config.merge && branch === core.cfg.config.merge.target) {
    return `${branch}, the merge queue's target (what lands there is tested first)`;
  }
  const of = parseBranch(branch)?.ticket;
  return of !== undefined && of !== ticketId ? `branch ${branch}, ticket ${of}'s` : null;
}

/** `Engine.checkCommit`. */
export function checkCommit(core: Core, req: CommitCheckRequest): CommitCheck {
  const files = normalized(req.files);
  const blocking = (core.cfg.config.hooks.mode ?? core.cfg.config.file_conflicts.mode) === "blocking";
  if (req.agentId === undefined) {
    const overlaps = perFile(overlapsFor(core, null, files));
    if (overlaps.length === 0) return { verdict: "allow", committer: "human", messages: [], overlaps, declared: [] };
    const refuse = core.cfg.config.hooks.block_humans;
    return {
      verdict: refuse ? "refuse" : "warn",
      committer: "human",
      messages: overlaps.map(overlapLine),
      overlaps,
      declared: [],
    };
  }
  const { agentId, phaseId, token } = req;
  if (phaseId === undefined || token === undefined) {
    throw new BatonError("invalid_argument", "checkCommit: an agent names its phase and its claim token");
  }
  return core.tx((now) => {
    const row = phaseWithToken(core.db, phaseId);
    if (!row) {
      return {
        verdict: "refuse",
        committer: "agent",
        messages: [`phase ${phaseId} does not exist: this commit is not under a claim of yours`],
        overlaps: [],
        declared: [],
      };
    }
    const base = { committer: "agent" as const, ticketId: row.ticket_id as string, phase: row.name as string };
    const lost = lostClaim(core, now, row, agentId, token);
    if (lost) {
      core.audit(now, agentId, "commit.refused", { type: "phase", id: row.id, ticket: row.ticket_id }, null, null, {
        phase: row.name,
        reason: lost,
        files: files.length,
      });
      return { ...base, verdict: "refuse", messages: [lost], overlaps: [], declared: [] };
    }
    const wrong = wrongBranch(core, req.branch, row.ticket_id);
    if (wrong) {
      const why = `commit refused: this is ${wrong}, not ${ticketBranch(row.ticket_id)}, where the work of ` +
        `${what(row.name, row.ticket_id)} goes: commit in your own worktree`;
      core.audit(now, agentId, "commit.refused", { type: "phase", id: row.id, ticket: row.ticket_id }, null, null, {
        phase: row.name,
        reason: why,
        branch: req.branch,
      });
      return { ...base, verdict: "refuse", messages: [why], overlaps: [], declared: [] };
    }
    implicitHeartbeat(core, now, agentId, phaseId);
    const overlaps = perFile(overlapsFor(core, phaseId, files));
    if (overlaps.length && blocking) {
      core.audit(now, agentId, "commit.refused", { type: "phase", id: row.id, ticket: row.ticket_id }, null, null, {
        phase: row.name,
        overlaps: overlaps.length,
        files: files.length,
      });
      return { ...base, verdict: "refuse", messages: overlaps.map(overlapLine), overlaps, declared: [] };
    }
    const have = new Set(declaredBy(core.db, phaseId));
    const declared = req.declare === false ? [] : files.filter((p) => !have.has(p));
    for (const p of declared) insertDeclaration(core.db, phaseId, agentId, p, now);
    if (declared.length) {
      core.audit(now, agentId, "files.declared", { type: "phase", id: row.id, ticket: row.ticket_id }, null, null, {
        phase: row.name,
        paths: declared,
        overlaps: overlaps.length,
        via: "pre-commit",
      });
    }
    return {
      ...base,
      verdict: overlaps.length ? "warn" : "allow",
      messages: overlaps.map(overlapLine),
      overlaps,
      declared,
    };
  });
}

/** `Engine.recordCommit`. */
export function recordCommit(core: Core, req: CommitRecordRequest): CommitRecorded {
  if (!isSha(req.sha)) throw new BatonError("invalid_argument", `not a commit SHA: "${req.sha}"`);
  return core.tx((now) => {
    const row = phaseWithToken(core.db, req.phaseId);
    if (!row) throw new BatonError("not_found", `Phase ${req.phaseId} does not exist`);
    const entity = { type: "phase", id: row.id, ticket: row.ticket_id };
    // Recorded already: the phase's end found it in the worktree first (this hook ran late), or a hook ran twice.
    if (commitRecord(core.db, row.ticket_id, req.sha)) {
      return { progress: false, ticketId: row.ticket_id, phase: row.name };
    }
    const parent = req.parents?.find(isSha);
    const details = {
      phase: row.name,
      sha: req.sha,
      subject: req.subject?.slice(0, 200) ?? null,
      ...(parent ? { parent } : {}),
    };
    if (lostClaim(core, now, row, req.agentId, req.token) !== null) {
      // post-commit runs after the commit (in the background): the agent may have completed or released the phase
      // since. Made while it held it: on record as the claim's, no progress. Else made without the claim
      // (pre-commit skipped with --no-verify, or the lease ran out meanwhile).
      const ended = req.committedAt !== undefined && heldAt(core, row.ticket_id, row.id, req.agentId, req.committedAt);
      core.audit(now, req.agentId, "phase.commit", entity, null, null, { ...details, claim: ended ? "ended" : "lost" });
      return { progress: false, ticketId: row.ticket_id, phase: row.name };
    }
    held(core, req.phaseId, req.agentId, req.token, "record a commit for", row);
    implicitHeartbeat(core, now, req.agentId, req.phaseId);
    markPhaseProgress(core.db, req.phaseId, now);
    core.audit(now, req.agentId, "phase.commit", entity, null, null, details);
    return { progress: true, ticketId: row.ticket_id, phase: row.name };
  });
}

/** A commit recorded by `post-commit`. */
export interface PhaseCommit {
  /** The commit's SHA. */
  sha: string;
  /** Its subject line. */
  subject: string | null;
  /** The ticket. */
  ticketId: string;
  /** The phase's id. */
  phaseId: number;
  /** The phase's name. */
  phase: string;
  /** The agent that made it. */
  agentId: string;
  /** When it was recorded. */
  at: number;
  /** False when the agent had lost its claim by then (made with `--no-verify`, or the lease ran out meanwhile). */
  underClaim: boolean;
}

/**
 * `Engine.commits`: in the order they were made. They are recorded in the
 * background by each commit's post-commit hook, so two commits in a row can
 * be recorded in either order; a commit whose (first) parent is in the list
 * comes after it. Commits recorded without a parent (older hooks) keep the
 * order they were recorded in.
 */
export function commitsOf(core: Core, ticketId: string | null): PhaseCommit[] {
  return inCommitOrder(commitRows(core.db, ticketId)).map((r) => ({
    sha: r.sha,
    subject: r.subject ?? null,
    ticketId: r.ticket_id,
    phaseId: r.phase_id,
    phase: r.phase,
    agentId: r.actor,
    at: r.at,
    underClaim: r.claim !== "lost",
  }));
}

/** Rows in recorded order, each moved to just after its parent when the parent is recorded later. Stable. */
function inCommitOrder(rows: R[]): R[] {
  const index = new Map(rows.map((r) => [r.sha as string, r]));
  const children = new Map<string, R[]>();
  const roots: R[] = [];
  for (const r of rows) {
    const p = r.parent as string | null;
    if (p && p !== r.sha && index.has(p)) children.set(p, [...children.get(p) ?? [], r]);
    else roots.push(r);
  }
  const out: R[] = [];
  const seen = new Set<R>();
  const visit = (r: R) => {
    // A loop (two records naming each other) cannot come from git; each row is still listed once.
    const stack = [r];
    while (stack.length) {
      const x = stack.pop()!;
      if (seen.has(x)) continue;
      seen.add(x);
      out.push(x);
      stack.push(...(children.get(x.sha as string) ?? []).toReversed());
    }
  };
  for (const r of roots) visit(r);
  for (const r of rows) visit(r); // rows only reachable through a loop
  return out;
}

/** A commit on a branch, as git shows it (`git log` with the Baton trailers). */
export interface BranchCommit {
  /** Its SHA. */
  sha: string;
  /** Its committer time (ms; git's seconds × 1000). */
  committedAt: number;
  /** `Baton-Ticket` (absent: not an agent's commit). */
  ticketId?: string;
  /** `Baton-Phase`. */
  phase?: string;
  /** `Baton-Agent`. */
  agentId?: string;
}

/** A commit an agent made without its claim, and why Baton says so. */
export interface FencedCommit {
  /** The commit. */
  sha: string;
  /** `made by implementer-2 after it lost its claim of phase Implementation of 0042 (…)`. */
  reason: string;
}

/** Git's committer time has whole seconds: a commit made just after a claim may read up to 1 s before it. */
const COMMIT_TIME_SLACK_MS = 2000;

/** Who held a phase at a time, by the audit's transitions (null: nobody). */
function holderAt(core: Core, ticketId: string, phaseId: number, at: number): string | null {
  const t = transitionAt(core.db, ticketId, phaseId, at);
  return t && isHeld(t.new_state) ? t.actor as string : null;
}

/**
 * Whether `agentId` held a phase when a commit with git's whole-second time
 * `at` was made: at `at`, or from a claim in the second or so after it.
 */
function heldAt(core: Core, ticketId: string, phaseId: number, agentId: string, at: number): boolean {
  return holderAt(core, ticketId, phaseId, at) === agentId ||
    claimedBetween(core.db, ticketId, phaseId, agentId, at, at + COMMIT_TIME_SLACK_MS);
}

/**
 * The commits of `commits` that an agent made after it lost its claim:
 * those post-commit recorded as made without it, and, for commits Baton
 * never recorded (hooks bypassed), those whose trailers name an agent that
 * did not hold the phase when the commit was made (by the audit's
 * transitions). Commits without trailers (a human's) and trailers naming a
 * phase Baton does not know are not judged.
 */
export function fencedCommits(core: Core, commits: BranchCommit[], branchTicket: string): FencedCommit[] {
  const out: FencedCommit[] = [];
  for (const c of commits) {
    // What post-commit recorded decides (a commit made with --no-verify has no trailers, but it was recorded).
    const rec = commitRecord(core.db, c.ticketId ?? branchTicket, c.sha);
    if (rec) {
      if (rec.claim === "lost") {
        out.push({
          sha: c.sha,
          reason: `made by ${rec.actor} after it lost its claim of phase ${rec.phase} of ${
            c.ticketId ?? branchTicket
          } (recorded so by post-commit)`,
        });
      }
      continue;
    }
    if (!c.ticketId || !c.phase || !c.agentId) continue;
    const of = `phase ${c.phase} of ${c.ticketId}`;
    const phaseId = phaseIdByName(core.db, c.ticketId, c.phase);
    if (phaseId === undefined) continue;
    if (heldAt(core, c.ticketId, phaseId, c.agentId, c.committedAt)) continue;
    const h0 = holderAt(core, c.ticketId, phaseId, c.committedAt);
    out.push({
      sha: c.sha,
      reason: `made by ${c.agentId} at ${new Date(c.committedAt).toISOString()}, when ${
        h0 ? `${h0} held the claim of ${of}` : `nobody held the claim of ${of}`
      } (not recorded by Baton's hooks)`,
    });
  }
  return out;
}
