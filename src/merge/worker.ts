/**
 * The merge queue's worker: one per repository at a time (it holds the
 * engine's worker lease, renewed while it runs). It recovers what a dead
 * predecessor left, then takes batches as they are due and, for each:
 * builds a candidate on the target's tip in a worktree of its own (a branch
 * that conflicts goes back to rework with its files; the others go on), runs
 * the check, and on green moves the target to the candidate with a
 * compare-and-swap (rebuilding on the new tip when someone moved it). On red
 * it builds once more (a flaky check is recorded and the batch lands), then
 * bisects: the green prefix lands, the culprit goes back to rework with the
 * check's output, and the tickets after it return to the queue in their
 * place. Every decision about tickets is the engine's; this adapter runs git
 * and the check and reports what they said.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import type { MergeBatch, MergeItem, MergeWorkerLease } from "../engine/types.ts";
import { BatonError } from "../errors.ts";
import { ensureLogsDir, logsDir, mergeLog } from "../repo/agent_logs.ts";
import { repoPath } from "../repo/files.ts";
import { excludeFromGit } from "../repo/git.ts";
import { ticketBranch } from "../repo/names.ts";
import { type CheckResult, runCheck } from "./check.ts";
import { describeProcess, killProcessGroup } from "../processes.ts";
import { QueueLease, workerIdHere } from "./lease.ts";
import { type Applied, Scratch } from "./scratch.ts";
import { advanceTarget, catchUpCheckout, onTarget, type Target, targetTip } from "./target.ts";

/** Options of a worker. */
export interface MergeWorkerOptions {
  /** Its id (default: `merge@HOST:PID:RANDOM`). */
  workerId?: string;
  /**
   * Stop once nothing is queued or building and this says so (default: run
   * until stopped). `baton merge --until-idle` passes `() => true`; `baton
   * run --until-idle` passes "the supervisor is done".
   */
  idleWhen?: () => boolean;
  /** How often it looks for a due batch, or for the queue when another worker holds it (ms; default 500). */
  pollMs?: number;
  /** Where its log lines go (default: stdout). */
  log?: (line: string) => void;
  /** Stops it (after the batch in progress). */
  signal?: AbortSignal;
}

/** What a worker did. */
export interface MergeSummary {
  /** Batches built. */
  batches: number;
  /** Tickets landed (or with nothing to land). */
  landed: number;
  /** Tickets sent back for a conflict. */
  conflicts: number;
  /** Tickets sent back for breaking the check. */
  culprits: number;
  /** Tickets sent back for commits an agent made after it lost its claim. */
  fenced: number;
  /** Checks that failed and then passed on the same candidate. */
  flaky: number;
  /** The target's commit the check failed on by itself, when the worker stopped with it still there (nothing lands). */
  targetRed: string | null;
}

/** The worker was stopped while a check ran: the batch goes back to the queue, neither green nor red. */
class CheckStopped extends Error {}

/** How many times a batch is rebuilt because the target moved before it gives its tickets back to the queue. */
const MAX_REBUILDS = 5;

/** The merge queue's worker for one repository. */
export class MergeWorker {
  readonly #engine: Engine;
  readonly #opts: MergeWorkerOptions;
  readonly #log: (line: string) => void;
  readonly #id: string;
  readonly #summary: MergeSummary = {
    batches: 0,
    landed: 0,
    conflicts: 0,
    culprits: 0,
    fenced: 0,
    flaky: 0,
    targetRed: null,
  };
  /** The target's commit the check failed on by itself: no batch starts until the target moves on. */
  #redTarget: string | null = null;
  /** The reverts queued when the red target was found or a revert was last tried on it ({@link #queuedReverts}). */
  #redReverts = "";
  readonly #queue: QueueLease;
  #busy = false;
  /** It has returned from {@link run}, or thrown. */
  #stopped = false;

  /**
   * @param engine the repository's engine
   * @param opts when to stop, logging
   * @throws {BatonError} `config_invalid` without a `merge:` section
   */
  constructor(engine: Engine, opts: MergeWorkerOptions = {}) {
    if (!engine.cfg.config.merge) {
      throw new BatonError(
        "config_invalid",
        "No merge queue is configured: add a merge: section (target, check) to .workflow/config.yaml",
      );
    }
    this.#engine = engine;
    this.#opts = opts;
    this.#log = opts.log ?? ((l) => console.log(l));
    this.#id = opts.workerId ?? workerIdHere();
    this.#queue = new QueueLease(engine, this.#id, this.#log, (ms) => this.#sleep(ms), opts.signal);
  }

  /**
   * Whether it may still land or send back work: something is queued, or a batch is being built. Not while the
   * target is red (nothing lands until a human fixes it), and not once it stopped.
   */
  get busy(): boolean {
    if (this.#busy) return true;
    if (this.#stopped || this.#redTarget) return false;
    return this.#engine.mergeQueue().length > 0 || this.#engine.openMergeBatches().length > 0;
  }

  get #cfg() {
    return this.#engine.cfg.config.merge!;
  }

  get #target(): Target {
    return { repoRoot: this.#engine.cfg.repoRoot, branch: this.#cfg.target, remote: this.#cfg.remote };
  }

  /**
   * Runs until stopped (or idle, with `idleWhen`).
   * @returns what it did
   */
  async run(): Promise<MergeSummary> {
    this.#stopped = false;
    try {
      return await this.#work();
    } finally {
      this.#stopped = true;
    }
  }

  async #work(): Promise<MergeSummary> {
    const root = this.#engine.cfg.repoRoot;
    excludeFromGit(root, [`/${this.#engine.cfg.config.run.worktree_dir.replace(/^\/+|\/+$/g, "")}/`]);
    // Tickets seeded before merge: was configured get their landing phase (else they complete without landing).
    const added = this.#engine.seedNewPhases();
    if (added.length) {
      this.#log(`merge: open tickets follow the workflow's edits: ${added.length} phase(s) added or retired`);
    }
    ensureLogsDir(logsDir(this.#engine.cfg));
    let waitingLogged = false;
    // The lease is renewed all along, idle rounds (a poll every half second) included.
    this.#queue.startRenewing(Math.max(200, this.#cfg.lease_minutes * 60_000 / 4));
    // A worker that stops, by an error too, gives the queue up at once: the next one recovers the batch it left
    // (landed when its candidate is on the target, else back in the queue) instead of waiting for the lease to end.
    try {
      while (!this.#opts.signal?.aborted) {
        if (!this.#queue.holding) {
          if (!this.#queue.acquire()) {
            if (!waitingLogged) this.#log(`merge: another worker holds the queue (${this.#queue.holder()}); waiting`);
            waitingLogged = true;
            if (this.#idle()) break;
            await this.#sleep();
            continue;
          }
          waitingLogged = false;
          this.#log(`merge: ${this.#id} holds the queue for ${this.#cfg.target}`);
          await this.#recover();
        }
        try {
          const worked = await this.#round();
          if (!worked) {
            if (this.#idle()) break;
            await this.#sleep();
          }
        } catch (e) {
          if (e instanceof BatonError && e.code === "stale_token") this.#queue.lostTo(e.message);
          else throw e;
        }
      }
    } finally {
      this.#queue.release();
    }
    return { ...this.#summary, targetRed: this.#redTarget };
  }

  /** The ids of the reverts waiting to land, as one string (what changed since the target was found red). */
  #queuedReverts(): string {
    return this.#engine.mergeStatus({ recent: 0 }).reverts.map((r) => r.id).join(",");
  }

  /** Nothing queued, nothing being built (by anyone: a dead worker's batch is recovered first), no retry due later. */
  #idle(): boolean {
    if (!this.#opts.idleWhen?.()) return false;
    // With the target red nothing can land until someone fixes it (or a revert queued since does): as idle as it gets.
    if (this.#redTarget) {
      let tip: string;
      try {
        tip = targetTip(this.#target);
      } catch (e) {
        if (e instanceof BatonError && e.code === "remote_unreachable") return false; // the next round tries again
        throw e;
      }
      if (tip === this.#redTarget) return this.#queuedReverts() === this.#redReverts;
    }
    const s = this.#engine.mergeStatus({ recent: 0 });
    return s.queued.length === 0 && s.retrying === 0 && s.reverts.length === 0 &&
      this.#engine.openMergeBatches().length === 0;
  }

  #sleep(ms = this.#opts.pollMs ?? 500): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.#opts.signal?.addEventListener("abort", () => {
        clearTimeout(t);
        r();
      }, { once: true });
    });
  }

  /** The lease, or the error that says another worker took the queue. */
  #held(): MergeWorkerLease {
    return this.#queue.held();
  }

  /** `op` tried again while the remote cannot be reached ({@link QueueLease.reaching}). */
  #reaching<T>(op: () => T): Promise<T> {
    return this.#queue.reaching(op, this.#cfg.remote);
  }

  /**
   * What a dead worker left: a batch whose candidate is on the target landed
   * (each ticket once); any other goes back to the queue. Its worktrees go.
   */
  async #recover(): Promise<void> {
    const lease = this.#held();
    for (const b of this.#engine.openMergeBatches()) {
      // The check it was running outlives it (its own process group): it would go on in a worktree removed below.
      const killed = b.checkProcess ? killProcessGroup(b.checkProcess, { environ: `BATON_MERGE_BATCH=${b.id}` }) : 0;
      if (killed) this.#log(`merge: ended the check batch ${b.id} of ${b.worker} left running (${killed} processes)`);
      const adopted = this.#engine.adoptMergeBatch(lease, b.id);
      const candidate = adopted.candidateSha;
      if (adopted.status === "landing" && candidate && await this.#reaching(() => onTarget(this.#target, candidate))) {
        this.#engine.landMergeBatch(lease, b.id);
        const n = adopted.items.filter((i) => i.outcome === "pending").length;
        this.#summary.landed += n;
        this.#log(`merge: batch ${b.id} of ${b.worker} had landed (${candidate.slice(0, 10)}): recorded`);
        const caught = catchUpCheckout(this.#target, candidate);
        if (caught) this.#log(`merge: ${caught}`);
      } else {
        this.#engine.finishMergeBatch(lease, b.id, { status: "abandoned" });
        this.#log(`merge: batch ${b.id} of ${b.worker} was not landed: its tickets are back in the queue`);
      }
      Scratch.remove(this.#engine.cfg.repoRoot, this.#scratchDir(b.id));
    }
  }

  #scratchDir(batchId: number): string {
    return repoPath(this.#engine.cfg.repoRoot, `${this.#engine.cfg.config.run.worktree_dir}/merge-${batchId}`);
  }

  /** One due batch built, tested and landed or sent back; false when none was due. */
  async #round(): Promise<boolean> {
    const lease = this.#held();
    const base = await this.#reaching(() => targetTip(this.#target));
    if (base === this.#redTarget) {
      // A red target: every landing would be red. A revert queued since may be the fix: it gets its try.
      const reverts = this.#queuedReverts();
      if (reverts === this.#redReverts) return false;
      this.#redReverts = reverts;
    } else {
      if (this.#redTarget) this.#log(`merge: ${this.#cfg.target} moved on (${base.slice(0, 10)}); building again`);
      this.#redTarget = null;
    }
    const batch = this.#engine.startMergeBatch(lease, { baseSha: base, now: !!this.#opts.idleWhen?.() });
    if (!batch) return false;
    this.#busy = true;
    this.#summary.batches++;
    const scratch = Scratch.create(this.#engine.cfg.repoRoot, this.#scratchDir(batch.id), base);
    try {
      await this.#build(batch, scratch);
    } catch (e) {
      if (!(e instanceof CheckStopped)) throw e;
      this.#engine.finishMergeBatch(this.#held(), batch.id, { status: "abandoned" });
      this.#log(`merge: stopped during batch ${batch.id}'s check; its tickets are back in the queue`);
    } finally {
      this.#busy = false;
      Scratch.remove(this.#engine.cfg.repoRoot, scratch.dir);
    }
    return true;
  }

  /** Applies the pending items onto the scratch's base; returns each applied item's commit by position. */
  #apply(
    batch: MergeBatch,
    scratch: Scratch,
  ): {
    applied: MergeItem[];
    shas: Record<number, string | null>;
    from: Record<number, string>;
    tips: Map<string, string>;
  } {
    const lease = this.#held();
    const applied: MergeItem[] = [];
    const shas: Record<number, string | null> = {};
    const from: Record<number, string> = {}; // the head each item was applied onto: it lands from..sha
    const tips = new Map<string, string>(); // branch → the commit applied (checked again before landing)
    for (const item of batch.items.filter((i) => i.outcome === "pending")) {
      const onto = scratch.head();
      let r: Applied;
      if (item.kind === "revert") {
        const rv = this.#engine.mergeRevert(item.revertId!);
        r = scratch.revert(rv.shas, `ticket ${rv.ticketId}${rv.notes ? `: ${rv.notes}` : ""}`);
      } else {
        // Commits an agent made after it lost its claim (their trailers and the audit say so) never land.
        const commits = scratch.branchCommits(item.branch!);
        const fenced = commits.length ? this.#engine.fenceMergeItem(lease, batch.id, item.position, commits) : [];
        if (fenced.length) {
          this.#summary.fenced++;
          this.#log(`merge: ${item.ticketId} has ${fenced.length} commit(s) made without the claim: sent back`);
          continue;
        }
        const title = this.#title(item.ticketId);
        r = scratch.apply(item.branch!, this.#cfg.strategy, `${item.ticketId}: ${title} (merge queue)`);
      }
      if (r.kind === "applied") {
        // Work recorded as the ticket's that the branch no longer has (an agent's `git reset --hard`, a phase's
        // branch deleted before its group was joined) would be lost by landing the rest and completing the ticket.
        const lost = this.#lostWork(item, scratch, r.tip ?? null);
        if (lost.length) {
          const base = scratch.base;
          scratch.reset(onto);
          scratch.base = base;
          const why = `branch ${item.branch} lacks ${lost.length} commit(s) of ${item.ticketId}'s recorded work ` +
            `(${lost.map((c) => c.slice(0, 10)).join(", ")}), which ${this.#cfg.target} lacks too: put it back on ` +
            `the branch (git cherry-pick), or, if it is not wanted, land the branch with 'baton merge add ` +
            `${item.ticketId} --branch ${item.branch}' after saying so in the ticket`;
          this.#engine.failMergeItem(lease, batch.id, item.position, why);
          this.#log(`merge: ${item.ticketId} cannot land: ${why}`);
          continue;
        }
      }
      if ((r.kind === "applied" || r.kind === "noop") && r.tip && item.branch) tips.set(item.branch, r.tip);
      if (r.kind === "applied") {
        if (r.note) this.#log(`merge: ${item.ticketId}: ${r.note}`);
        shas[item.position] = r.sha;
        from[item.position] = onto;
        applied.push(item);
      } else if (r.kind === "noop" || r.kind === "missing") {
        // Nothing to land: no branch at all for a ticket nobody gave one, or a branch the target already holds (its
        // work was done elsewhere). Not when work known to be the ticket's is on neither the target nor the branch
        // (the branch deleted, or rewritten without it): completing the ticket would lose it. A branch given by hand
        // must exist.
        const lost = this.#lostWork(item, scratch, r.kind === "noop" ? r.tip ?? null : null);
        if (!lost.length && (r.kind === "noop" || item.branch === ticketBranch(item.ticketId))) {
          shas[item.position] = null;
        } else {
          const said = r.kind === "noop" ? `branch ${item.branch} has nothing ${this.#cfg.target} lacks` : r.message;
          const why = lost.length
            ? `${said}, though ${lost.length} commit(s) of ${item.ticketId}'s work are on neither ` +
              `${this.#cfg.target} nor the branch (${lost.map((c) => c.slice(0, 10)).join(", ")}): restore it (git ` +
              `branch -f ${item.branch} ${lost.at(-1)!.slice(0, 10)}), land another with 'baton merge add ` +
              `${item.ticketId} --branch NAME', or, if its work reached ${this.#cfg.target} another way, record ` +
              `that with 'baton merge add ${item.ticketId} --branch ${this.#cfg.target}'`
            : `${said}: create it, or land another with 'baton merge add ${item.ticketId} --branch NAME'`;
          this.#engine.failMergeItem(lease, batch.id, item.position, why);
          this.#log(`merge: ${item.ticketId} cannot land: ${why}`);
        }
      } else {
        const notes = `Landing ${item.branch ?? "the revert"} on ${this.#cfg.target} conflicted in: ${
          r.files.join(", ") || "(no file named)"
        }\n\n${r.message}\n\nRebase the branch on ${this.#cfg.target} (or resolve the conflict) and finish the phase again.`;
        this.#engine.sendBackFromMerge(lease, batch.id, item.position, { outcome: "conflict", notes });
        this.#summary.conflicts++;
        this.#log(`merge: ${item.ticketId} conflicts with ${this.#cfg.target} in ${r.files.join(", ")}: sent back`);
      }
    }
    // The work each applied item was built from: a later build that finds its branch without it does not land it.
    const tested = Object.fromEntries(
      applied.filter((i) => i.branch && tips.has(i.branch)).map((i) => [i.position, tips.get(i.branch!)!]),
    );
    if (Object.keys(tested).length) this.#engine.recordMergeTips(lease, batch.id, tested);
    return { applied, shas, from, tips };
  }

  /**
   * A ticket's work that nothing holds: not the scratch's head (not even its changes, landed another way: squashed,
   * cherry-picked, rebased), not its branch (at `tip`; null: gone). What is known of its work: each phase's last
   * commit the git hooks recorded under its latest claim since it last landed (its default branch only), and the tip a
   * build applied and tested (`Engine.mergeTestedTip`). A branch that is the target
   * itself (`baton merge add T --branch main`: a human says the work is there) has none to lose.
   */
  #lostWork(item: MergeItem, scratch: Scratch, tip: string | null): string[] {
    if (!item.branch || item.branch === this.#cfg.target) return [];
    const known: string[] = [];
    if (item.branch === ticketBranch(item.ticketId)) {
      const since = this.#engine.audit({ ticketId: item.ticketId, action: "merge.landed", limit: 1, latest: true })[0]
        ?.at ?? -Infinity;
      // Each phase's last commit recorded under its latest claim since: an earlier phase's work is the ticket's as
      // much as the last one's. Within a claim, an amended commit is recorded again (its old self is not work to keep);
      // what an earlier claim of a phase made was redone (a rework); one a later phase rebased is found by its changes.
      const claimedAt = new Map(this.#engine.ticket(item.ticketId).phases.map((p) => [p.id, p.claimedAt ?? Infinity]));
      const lastOfPhase = new Map<number, string>();
      for (const c of this.#engine.commits({ ticketId: item.ticketId })) {
        if (c.at > since && c.underClaim && c.at >= (claimedAt.get(c.phaseId) ?? Infinity)) {
          lastOfPhase.set(c.phaseId, c.sha);
        }
      }
      for (const sha of lastOfPhase.values()) if (!known.includes(sha)) known.push(sha);
    }
    const tested = this.#engine.mergeTestedTip(item.ticketId);
    if (tested && !known.includes(tested)) known.push(tested);
    return known.filter((sha) =>
      !scratch.contains(sha) && !(tip && scratch.contains(sha, tip)) && !scratch.hasChangesOf(sha)
    );
  }

  /** The branches that moved since they were applied (their new commits are not in the candidate). */
  #movedBranches(scratch: Scratch, tips: Map<string, string>): string[] {
    return [...tips].filter(([branch, tip]) => scratch.branchTip(branch) !== tip).map(([branch]) => branch);
  }

  #title(ticketId: string): string {
    try {
      return this.#engine.ticket(ticketId).title;
    } catch {
      return ticketId;
    }
  }

  /** Records the check's process group, which a worker recovering this batch after a `kill -9` ends. */
  #recordCheck(batchId: number, pid: number | null): void {
    try {
      this.#engine.recordMergeCheck(this.#held(), batchId, pid === null ? null : describeProcess(pid));
    } catch (e) {
      this.#log(`merge: could not record the check's process: ${(e as Error).message}`);
    }
  }

  async #check(batch: MergeBatch, scratch: Scratch): Promise<CheckResult> {
    const candidate = scratch.head();
    const r = await runCheck(this.#cfg.check, {
      cwd: scratch.dir,
      timeoutMs: this.#cfg.max_runtime_minutes * 60_000,
      logFile: mergeLog(logsDir(this.#engine.cfg), batch.id),
      env: {
        BATON_MERGE_BATCH: String(batch.id),
        BATON_MERGE_TICKETS: batch.items.map((i) => i.ticketId).join(","),
        BATON_MERGE_CANDIDATE: candidate,
      },
      signal: this.#opts.signal,
      onProcess: (pid) => this.#recordCheck(batch.id, pid),
    });
    if (r.stopped) throw new CheckStopped();
    // A check that changes tracked files (a formatter that fixes, a lockfile rewritten, a commit) passed on a
    // tree that is not the candidate: what lands would be untested. Red, and the candidate is put back as it was.
    const changed = scratch.changedSince(candidate);
    if (!changed.length) return r;
    scratch.restore(candidate);
    if (!r.green) return r;
    const why = `the check changed tracked files (${changed.slice(0, 10).join(", ")}${
      changed.length > 10 ? ", …" : ""
    }): what it passed is not what would land; check without fixing (e.g. a formatter's --check)`;
    return { ...r, green: false, failed: "(the check changed files)", tail: `${r.tail}\n${why}\n`.slice(-8192) };
  }

  /** Builds, tests and lands (or bisects) one batch, rebuilding when the target moved. */
  async #build(batch: MergeBatch, scratch: Scratch): Promise<void> {
    const lease = this.#held();
    let base = batch.baseSha;
    let builds = 0, checkMs = 0;
    for (let rebuild = 0;; rebuild++) {
      const current = this.#engine.openMergeBatches().find((b) => b.id === batch.id) ?? batch;
      const { applied, shas, from, tips } = this.#apply(current, scratch);
      const candidate = scratch.head();
      let check: CheckResult | null = null;
      if (applied.length) {
        builds++;
        check = await this.#check(current, scratch);
        checkMs += check.ms;
        for (let retry = 0; !check.green && retry < this.#cfg.flaky_retries; retry++) {
          builds++;
          this.#log(`merge: batch ${batch.id} is red (${check.failed}); building it once more (flaky check?)`);
          const again = await this.#check(current, scratch);
          checkMs += again.ms;
          if (again.green) {
            this.#engine.recordMergeFlake(lease, batch.id, check.failed!);
            this.#summary.flaky++;
            this.#log(`merge: ${check.failed} failed and then passed on the same candidate: recorded as flaky`);
          }
          check = again;
        }
        if (!check.green) {
          await this.#bisect(current, scratch, applied, { shas, from }, tips, base, check, builds, checkMs);
          return;
        }
      }
      // A commit added to a ticket's branch while the check ran is not in the candidate: landing it would
      // complete the ticket without that work. The batch is rebuilt, as when the target moves.
      const moved = this.#movedBranches(scratch, tips);
      if (
        !moved.length &&
        await this.#land(batch.id, base, candidate, { shas, from }, { builds, checkMs, log: check?.tail })
      ) {
        return;
      }
      if (rebuild >= MAX_REBUILDS) {
        this.#engine.finishMergeBatch(lease, batch.id, { status: "abandoned", builds, checkMs });
        this.#log(
          `merge: ${moved.length ? moved.join(", ") : this.#cfg.target} kept moving; batch ${batch.id}'s tickets ` +
            "are back in the queue",
        );
        return;
      }
      base = await this.#reaching(() => targetTip(this.#target));
      this.#log(
        `merge: ${moved.length ? moved.join(", ") : this.#cfg.target} moved while batch ${batch.id} was tested; ` +
          `rebuilding on ${base.slice(0, 10)}`,
      );
      scratch.reset(base);
    }
  }

  /**
   * Moves the target to a tested candidate and lands the batch's pending
   * items; false when the target had moved (nothing landed).
   */
  async #land(
    batchId: number,
    base: string,
    candidate: string,
    items: { shas: Record<number, string | null>; from: Record<number, string> },
    facts: { builds: number; checkMs: number; log?: string },
  ): Promise<boolean> {
    const lease = this.#held();
    const { shas, from } = items;
    const recorded: Record<number, string> = {};
    for (const [p, s] of Object.entries(shas)) if (s) recorded[Number(p)] = s;
    if (candidate !== base) {
      this.#engine.recordMergeCandidate(lease, batchId, { candidateSha: candidate, shas: recorded, from, ...facts });
      for (let waiting = false;;) {
        this.#queue.renew(); // asks the database now: a worker stopped past its lease may have lost the queue meanwhile
        this.#held(); // a worker that lost the queue moves nothing (stale_token)
        const moved = await this.#reaching(() => advanceTarget(this.#target, base, candidate));
        if (moved.result === "moved") return false;
        if (moved.result === "landed") {
          if (moved.note) this.#log(`merge: ${moved.note}`);
          break;
        }
        // The target's checkout has local changes the landing would have to touch: the tested candidate waits.
        if (!waiting) this.#log(`merge: ${moved.note}`);
        waiting = true;
        await this.#sleep();
        if (this.#opts.signal?.aborted) {
          this.#engine.finishMergeBatch(this.#held(), batchId, { status: "abandoned", ...facts });
          this.#log(`merge: stopped while batch ${batchId} waited to land; its tickets are back in the queue`);
          return true;
        }
        if (await this.#reaching(() => targetTip(this.#target)) !== base) return false;
      }
    }
    const b = this.#engine.landMergeBatch(lease, batchId, { shas });
    const landed = b.items.filter((i) => i.outcome === "landed" || i.outcome === "noop");
    this.#summary.landed += landed.length;
    const moved = landed.filter((i) => i.outcome === "landed").map((i) => i.ticketId);
    const noop = landed.filter((i) => i.outcome === "noop").map((i) => i.ticketId);
    this.#log(
      (moved.length || !noop.length
        ? `merge: landed ${moved.join(", ") || "nothing"} on ${this.#cfg.target}` +
          (candidate !== base ? ` (${candidate.slice(0, 10)})` : "")
        : "merge:") +
        (noop.length
          ? `${moved.length ? ";" : ""} nothing to land for ${
            noop.join(", ")
          } (${this.#cfg.target} has its work already)`
          : ""),
    );
    return true;
  }

  /**
   * A batch still red after its flaky retries: find the first ticket whose
   * addition turns the check red (the candidates of every prefix exist: each
   * applied ticket's commit), land the green prefix, send the culprit back
   * with the check's output, requeue the rest in their place.
   */
  async #bisect(
    batch: MergeBatch,
    scratch: Scratch,
    applied: MergeItem[],
    items: { shas: Record<number, string | null>; from: Record<number, string> },
    tips: Map<string, string>,
    base: string,
    red: CheckResult,
    builds: number,
    checkMs: number,
  ): Promise<void> {
    const lease = this.#held();
    const { shas } = items;
    let lo = 0, hi = applied.length, last = red;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      scratch.reset(shas[applied[mid - 1].position]!);
      builds++;
      const r = await this.#check(batch, scratch);
      checkMs += r.ms;
      if (r.green) lo = mid;
      else {
        hi = mid;
        last = r;
      }
    }
    if (hi === 1) {
      // The first ticket alone is red: unless the target itself is red, it is the culprit.
      scratch.reset(base);
      builds++;
      const onBase = await this.#check(batch, scratch);
      checkMs += onBase.ms;
      if (!onBase.green) {
        this.#engine.finishMergeBatch(lease, batch.id, {
          status: "red",
          builds,
          checkMs,
          log: onBase.tail,
          targetRed: base,
        });
        this.#redTarget = base;
        this.#redReverts = this.#queuedReverts();
        const said = onBase.tail.trim().split("\n").slice(-3).join(" | ");
        this.#log(
          `merge: the check fails on ${this.#cfg.target} itself (${onBase.failed}): ${said}. Nothing is blamed; ` +
            `the queue waits for a commit to ${this.#cfg.target} that fixes it`,
        );
        return;
      }
    }
    const culprit = applied[hi - 1];
    const notes = `Landing on ${this.#cfg.target} broke the check \`${last.failed}\`${
      last.timedOut ? " (over its time limit)" : ""
    }. The end of its output:\n\n${last.tail.trim()}`;
    this.#engine.sendBackFromMerge(lease, batch.id, culprit.position, { outcome: "culprit", notes });
    this.#summary.culprits++;
    this.#log(`merge: ${culprit.ticketId} breaks ${last.failed}: sent back for rework`);
    const after = applied.slice(hi).map((i) => i.position);
    if (after.length) this.#engine.requeueMerge(lease, batch.id, after, `queued again behind ${culprit.ticketId}`);
    if (lo === 0) {
      // Nothing green to land but what had nothing to land (if anything).
      const noops = Object.entries(shas).filter(([p, s]) => s === null && !after.includes(Number(p)));
      if (noops.length) {
        const b = this.#engine.landMergeBatch(lease, batch.id, { shas: Object.fromEntries(noops) });
        this.#summary.landed += b.items.filter((i) => i.outcome === "noop").length;
      } else this.#engine.finishMergeBatch(lease, batch.id, { status: "red", builds, checkMs, log: last.tail });
      return;
    }
    const candidate = shas[applied[lo - 1].position]!;
    const prefix: Record<number, string | null> = {};
    for (const [p, s] of Object.entries(shas)) {
      const pos = Number(p);
      if (s === null || applied.slice(0, lo).some((i) => i.position === pos)) prefix[pos] = s;
    }
    // Only the branches of what lands here: a commit to the culprit's (or a requeued ticket's) branch changes nothing.
    const landingBranches = new Set(
      batch.items.filter((i) => i.position in prefix && i.branch).map((i) => i.branch!),
    );
    const moved = this.#movedBranches(scratch, new Map([...tips].filter(([b]) => landingBranches.has(b))));
    const landing = { shas: prefix, from: items.from };
    if (moved.length || !await this.#land(batch.id, base, candidate, landing, { builds, checkMs, log: last.tail })) {
      this.#engine.finishMergeBatch(lease, batch.id, { status: "abandoned", builds, checkMs });
      this.#log(
        `merge: ${moved.length ? moved.join(", ") : this.#cfg.target} moved during the bisect; the green tickets ` +
          "are back in the queue",
      );
    }
  }
}
