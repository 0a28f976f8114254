/**
 * `baton guard`: the one entry point of Baton's guards. Git's hooks call it
 * (`pre-commit`, `commit-msg MSGFILE`, `post-commit [SHA]`), and so can an
 * agent CLI's own hooks (Claude Code's PreToolUse and the like) with
 * `paths PATH…`: may this agent write these files? `serve` answers them
 * from one process that stays (`guard_serve.ts`); a hook that had to start
 * `baton guard` starts it for the next ones.
 *
 * Who asks comes from the environment `baton run` gives an agent
 * (`BATON_AGENT_ID`, `BATON_PHASE_ID`, `BATON_CLAIM` or `BATON_CLAIM_TOKEN`);
 * without it, a human. The engine decides ({@link Engine.checkCommit},
 * {@link Engine.recordCommit}); this module finds the files, prints, and
 * turns the verdict into an exit code. It loads only what it needs, and
 * `cli.ts` starts it without the command table: a commit waits for it.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import { checkLines, commitTrailers as trailers } from "../engine/hooks.ts";
import { COMMIT_META_FORMAT, gitTry, parseCommitMeta } from "../repo/git.ts";
import { repoRelative, writeTrailersFile } from "../repo/hook_files.ts";
import type { Io } from "./command.ts";
import { importLate } from "../late_import.ts";

/** The modes of `baton guard`. */
export const GUARD_MODES = ["pre-commit", "commit-msg", "post-commit", "paths", "serve"] as const;

/** One of {@link GUARD_MODES}. */
export type GuardMode = typeof GUARD_MODES[number];

/** The committer's claim, from the environment `baton run` gives an agent. */
export interface Committer {
  /** `BATON_AGENT_ID`. */
  agentId: string;
  /** `BATON_PHASE_ID`. */
  phaseId: number;
  /** `BATON_CLAIM`, else `BATON_CLAIM_TOKEN`. */
  token: string;
}

/**
 * Who is committing: an agent when `BATON_AGENT_ID`, `BATON_PHASE_ID` and
 * `BATON_CLAIM` (or `BATON_CLAIM_TOKEN`) are all set, else a human.
 * @param env the environment
 * @returns the agent's claim, or null for a human
 * @throws {BatonError} `invalid_argument` when only part of a claim is set (a broken agent setup, not a human)
 */
export function committer(env: (name: string) => string | undefined = (n) => Deno.env.get(n)): Committer | null {
  const agentId = env("BATON_AGENT_ID") || undefined;
  const phase = env("BATON_PHASE_ID") || undefined;
  const token = env("BATON_CLAIM") || env("BATON_CLAIM_TOKEN") || undefined;
  if (!agentId && !phase && !token) return null;
  if (!agentId || !phase || !token || !/^\d+$/.test(phase)) {
    throw new BatonError(
      "invalid_argument",
      `an agent's claim needs BATON_AGENT_ID, BATON_PHASE_ID (a number) and BATON_CLAIM (or BATON_CLAIM_TOKEN); got ${
        [agentId && "BATON_AGENT_ID", phase && `BATON_PHASE_ID=${phase}`, token && "a claim token"].filter(Boolean)
          .join(", ") || "none"
      }`,
    );
  }
  return { agentId, phaseId: Number(phase), token };
}

/** pre-commit notes the trailers for commit-msg's script (keyed by the claim: another claim's are never used). */
function writeTrailers(cwd: string, who: Committer, lines: string[]): void {
  const dir = gitTry(cwd, "rev-parse", "--absolute-git-dir");
  if (dir.ok) writeTrailersFile(dir.stdout, `${who.agentId} ${who.phaseId} ${who.token}`, lines);
}

/** Staged paths (`git diff --cached --name-only`), NUL-separated so that no name is quoted. */
function stagedFiles(cwd: string): string[] {
  const r = gitTry(cwd, "diff", "--cached", "--name-only", "--no-renames", "-z");
  if (!r.ok) throw new BatonError("internal", `git diff --cached failed: ${r.stderr}`);
  return r.stdout.split("\0").filter((f) => f);
}

/** What `guard` needs from the command line. */
export interface GuardRequest {
  /** The mode. */
  mode: GuardMode;
  /** commit-msg: the message file; post-commit: the SHA (default HEAD); paths: the paths. */
  args: string[];
  /** paths: declare the paths for the agent's claim (default true). */
  declare?: boolean;
  /** Print the verdict as JSON on stdout. */
  json?: boolean;
  /** The exit code of a refusal (default 1; Claude Code's PreToolUse blocks on 2). */
  refuseCode?: number;
}

/**
 * Runs one guard.
 * @param req the mode and its arguments
 * @param cwd where it runs (git runs hooks at the worktree's top)
 * @param withEngine opens the engine for `fn` (without markdown write-back: the hooks never write ticket files)
 * @param io where to print
 * @returns the exit code: 0 go ahead (warnings printed), `refuseCode` (1) refused
 * @throws {BatonError} `invalid_argument` for a bad request or a partial claim in the environment
 */
export async function runGuard(
  req: GuardRequest,
  cwd: string,
  withEngine: (fn: (e: Engine) => number | void | Promise<number | void>) => Promise<number>,
  io: Io,
): Promise<number> {
  if (req.mode === "serve") {
    const { serveGuard } = await importLate<typeof import("./guard_serve.ts")>(
      new URL("./guard_serve.ts", import.meta.url),
    );
    return await withEngine((e) => serveGuard(e, io));
  }
  const who = committer();
  const refused = req.refuseCode ?? 1;
  // A human's commit-msg and post-commit have nothing to do (the scripts skip them in sh already).
  if (!who && (req.mode === "commit-msg" || req.mode === "post-commit")) return 0;
  const say = (l: string) => io.err(`baton: ${l}`);
  // No server answered this hook (else it would not have started this process): start one for the next ones.
  const offer = async (e: Engine) => {
    if (req.mode === "commit-msg") return;
    const { offerGuardServer } = await importLate<typeof import("./guard_serve.ts")>(
      new URL("./guard_serve.ts", import.meta.url),
    );
    await offerGuardServer(e);
  };
  try {
    return await withEngine(async (e) => {
      const code = check(e);
      await offer(e);
      return code;
    });
  } catch (err) {
    // A repository without Baton's .workflow/ commits as if the hooks were not there.
    if (err instanceof BatonError && err.code === "config_not_found") return 0;
    if (req.mode === "post-commit" || req.mode === "commit-msg") {
      say(`${req.mode}: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
    // A human's commit is never held up by Baton's own trouble (a config key from a newer Baton, a phases.yaml
    // being edited, a damaged database): it is the moment they most need to commit. Said, not refused.
    if (!who && req.mode === "pre-commit") {
      say(`could not check this commit (${err instanceof Error ? err.message : String(err)}); committing anyway`);
      return 0;
    }
    throw err;
  }

  function check(e: Engine): number {
    if (req.mode === "pre-commit" || req.mode === "paths") {
      let files: string[];
      if (req.mode === "pre-commit") files = stagedFiles(cwd);
      else {
        const top = gitTry(cwd, "rev-parse", "--show-toplevel");
        // git prints the worktree's top with links resolved, as the kernel gives the current directory.
        files = repoRelative(req.args, cwd, top.ok ? top.stdout : cwd);
      }
      // The branch the commit goes on (an agent commits on its ticket's only): a pre-commit's HEAD.
      const head = req.mode === "pre-commit" ? gitTry(cwd, "symbolic-ref", "--short", "-q", "HEAD") : null;
      const branch = head ? (head.ok ? head.stdout : null) : undefined;
      const r = e.checkCommit({
        ...(who ?? {}),
        files,
        declare: req.mode === "pre-commit" || req.declare !== false,
        ...(branch !== undefined ? { branch } : {}),
      });
      if (req.json) io.out(JSON.stringify(r));
      for (const l of checkLines(r, req.mode === "pre-commit" ? "commit" : "change")) io.err(l);
      if (r.verdict === "refuse") return refused;
      if (who && req.mode === "pre-commit") writeTrailers(cwd, who, trailers(r.ticketId!, r.phase!, who.agentId));
      return 0;
    }
    if (req.mode === "commit-msg") {
      const file = req.args[0];
      if (!file) throw new BatonError("invalid_argument", "guard commit-msg needs the message file");
      const phase = e.phase(who!.phaseId);
      const r = gitTry(
        cwd,
        "interpret-trailers",
        "--in-place",
        "--if-exists",
        "addIfDifferent",
        ...trailers(phase.ticketId, phase.name, who!.agentId).flatMap((t) => ["--trailer", t]),
        file,
      );
      if (!r.ok) say(`could not add the Baton trailers: ${r.stderr}`);
      return 0;
    }
    const sha = req.args[0] ?? gitTry(cwd, "rev-parse", "HEAD").stdout;
    const meta = parseCommitMeta(gitTry(cwd, "log", "-1", `--format=${COMMIT_META_FORMAT}`, sha).stdout);
    const rec = e.recordCommit({ ...who!, sha, ...meta });
    if (req.json) io.out(JSON.stringify(rec));
    if (!rec.progress) {
      say(`commit ${sha.slice(0, 12)} was made without the claim: recorded, not counted as progress`);
    }
    return 0;
  }
}
