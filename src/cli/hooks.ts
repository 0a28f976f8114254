/**
 * Baton's git hooks: `pre-commit`, `commit-msg` and `post-commit` scripts
 * that run `baton hooks run HOOK`, installed beside (never over) what was
 * there, and what each hook does with the engine's answers.
 *
 * An existing hook is moved aside to `HOOK.baton-chained` and run first by
 * Baton's script (its failure still blocks); uninstalling moves it back, so
 * the hooks directory is left as it was. The hooks directory is git's own
 * (`git rev-parse --git-path hooks`): it follows `core.hooksPath` (husky's
 * `.husky/_`, say) and is shared by every worktree.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import { gitTry } from "../repo/git.ts";
import type { Io } from "./command.ts";

/** The hooks Baton installs. */
export const HOOK_NAMES = ["pre-commit", "commit-msg", "post-commit"] as const;

/** One of {@link HOOK_NAMES}. */
export type HookName = typeof HOOK_NAMES[number];

/** The line that marks a hook script as Baton's. */
const MARK = "# baton-hook:";
/** Where pre-commit writes an agent's trailers for commit-msg (in the worktree's git directory). */
const TRAILERS = "baton-trailers";
/** The suffix an existing hook is moved aside to. */
const CHAINED = ".baton-chained";

/** The repository's hooks directory, absolute (follows `core.hooksPath`; the same from every worktree). */
export function hooksDir(cwd: string): string {
  const top = gitTry(cwd, "rev-parse", "--show-toplevel");
  if (!top.ok) throw new BatonError("invalid_argument", `${cwd} is not inside a git working tree`);
  const r = gitTry(top.stdout, "rev-parse", "--git-path", "hooks");
  if (!r.ok) throw new BatonError("internal", `git rev-parse --git-path hooks failed: ${r.stderr}`);
  return r.stdout.startsWith("/") ? r.stdout : `${top.stdout}/${r.stdout}`;
}

/** `'it''s'` for sh. */
const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The command that runs this `baton`: the compiled binary, or
 * `deno run -A cli.ts` when run from source (what the hook scripts call).
 */
export function selfCommand(): string[] {
  const exe = Deno.execPath();
  const main = Deno.mainModule;
  if (/(^|\/)deno(\.exe)?$/.test(exe) && main.startsWith("file:")) {
    return [exe, "run", "-A", decodeURIComponent(new URL(main).pathname)];
  }
  return [exe];
}

/** The script installed as `hook`. */
export function hookScript(hook: HookName, command: string[]): string {
  // pre-commit and commit-msg: the chained hook's failure blocks the commit; post-commit's never could.
  const onFail = hook === "post-commit" ? "" : " || exit $?";
  // Starting baton costs ~0.2 s or more: the scripts skip it when there is nothing to do. A human's commit-msg and
  // post-commit do nothing; an agent's commit-msg adds the trailers its pre-commit just wrote down for this claim.
  const fast = hook === "pre-commit" ? [] : [`[ -n "$BATON_AGENT_ID" ] || exit 0`];
  if (hook === "commit-msg") {
    fast.push(
      `t="$(git rev-parse --git-dir)/${TRAILERS}"`,
      `if [ -f "$t" ] && [ "$(sed -n 1p "$t")" = "$BATON_AGENT_ID $BATON_PHASE_ID \${BATON_CLAIM:-$BATON_CLAIM_TOKEN}" ]; then`,
      `  exec git interpret-trailers --in-place --if-exists addIfDifferent --trailer "$(sed -n 2p "$t")" \\`,
      `    --trailer "$(sed -n 3p "$t")" --trailer "$(sed -n 4p "$t")" "$1"`,
      `fi`,
    );
  }
  return [
    "#!/bin/sh",
    `${MARK} ${hook} (installed by 'baton hooks install'; 'baton hooks uninstall' puts back what was here)`,
    `chained="$(dirname "$0")/${hook}${CHAINED}"`,
    `if [ -x "$chained" ]; then "$chained" "$@"${onFail}; fi`,
    ...fast,
    `exec ${command.map(q).join(" ")} hooks run ${hook} "$@"`,
    "",
  ].join("\n");
}

function isOurs(path: string): boolean {
  try {
    return Deno.readTextFileSync(path).split("\n", 3).some((l) => l.startsWith(MARK));
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** What `install` or `uninstall` did to one hook. */
export interface HookChange {
  /** The hook. */
  hook: HookName;
  /** Its path. */
  path: string;
  /** `installed`, `updated` (ours already), `chained` (an existing hook moved aside), `removed`, `restored`, `kept` (not ours: left alone). */
  action: "installed" | "updated" | "chained" | "removed" | "restored" | "kept";
}

/**
 * Installs Baton's hooks in the repository's hooks directory.
 * @param cwd a directory of the repository (any worktree)
 * @param command how the hooks call `baton` (default: this process's {@link selfCommand})
 * @returns what was done to each hook
 */
export function installHooks(cwd: string, command: string[] = selfCommand()): { dir: string; changes: HookChange[] } {
  const dir = hooksDir(cwd);
  Deno.mkdirSync(dir, { recursive: true });
  const changes: HookChange[] = [];
  for (const hook of HOOK_NAMES) {
    const path = `${dir}/${hook}`;
    let action: HookChange["action"] = "installed";
    if (isOurs(path)) action = "updated";
    else if (exists(path)) {
      if (exists(path + CHAINED)) {
        throw new BatonError("write_conflict", `${path}${CHAINED} exists already: move it away before installing`);
      }
      Deno.renameSync(path, path + CHAINED);
      action = "chained";
    }
    const tmp = `${path}.baton-tmp`;
    Deno.writeTextFileSync(tmp, hookScript(hook, command));
    Deno.chmodSync(tmp, 0o755);
    Deno.renameSync(tmp, path);
    changes.push({ hook, path, action });
  }
  return { dir, changes };
}

/**
 * Removes Baton's hooks and puts back the hooks they chained to.
 * @param cwd a directory of the repository (any worktree)
 * @returns what was done to each hook
 */
export function uninstallHooks(cwd: string): { dir: string; changes: HookChange[] } {
  const dir = hooksDir(cwd);
  const changes: HookChange[] = [];
  for (const hook of HOOK_NAMES) {
    const path = `${dir}/${hook}`;
    if (!isOurs(path)) {
      if (exists(path) || exists(path + CHAINED)) changes.push({ hook, path, action: "kept" });
      continue;
    }
    if (exists(path + CHAINED)) {
      Deno.renameSync(path + CHAINED, path);
      changes.push({ hook, path, action: "restored" });
    } else {
      Deno.removeSync(path);
      changes.push({ hook, path, action: "removed" });
    }
  }
  return { dir, changes };
}

/** The committer's claim, from the environment `baton run` gives an agent; null for a human. */
export interface Committer {
  agentId: string;
  phaseId: number;
  token: string;
}

/**
 * Who is committing: an agent when `BATON_AGENT_ID`, `BATON_PHASE_ID` and
 * `BATON_CLAIM` (or `BATON_CLAIM_TOKEN`) are all set, else a human.
 * @param env the environment
 * @returns the agent's claim, or null
 */
export function committer(env: (name: string) => string | undefined = (n) => Deno.env.get(n)): Committer | null {
  const agentId = env("BATON_AGENT_ID");
  const phase = env("BATON_PHASE_ID");
  const token = env("BATON_CLAIM") || env("BATON_CLAIM_TOKEN");
  if (!agentId || !phase || !token || !/^\d+$/.test(phase)) return null;
  return { agentId, phaseId: Number(phase), token };
}

/** The trailers of an agent's commit. */
function trailers(ticketId: string, phase: string, agentId: string): string[] {
  return [`Baton-Ticket: ${ticketId}`, `Baton-Phase: ${phase}`, `Baton-Agent: ${agentId}`].map((t) =>
    t.replace(/[\r\n]+/g, " ")
  );
}

/** pre-commit notes the trailers for commit-msg's script (keyed by the claim: another claim's are never used). */
function writeTrailers(cwd: string, who: Committer, lines: string[]): void {
  const dir = gitTry(cwd, "rev-parse", "--absolute-git-dir");
  if (!dir.ok) return;
  const tmp = `${dir.stdout}/${TRAILERS}.${Deno.pid}`;
  Deno.writeTextFileSync(tmp, [`${who.agentId} ${who.phaseId} ${who.token}`, ...lines, ""].join("\n"));
  Deno.renameSync(tmp, `${dir.stdout}/${TRAILERS}`);
}

/** Staged paths (`git diff --cached --name-only`), NUL-separated so that no name is quoted. */
function stagedFiles(cwd: string): string[] {
  const r = gitTry(cwd, "diff", "--cached", "--name-only", "-z");
  if (!r.ok) throw new BatonError("internal", `git diff --cached failed: ${r.stderr}`);
  return r.stdout.split("\0").filter((f) => f);
}

/**
 * Runs one hook (what the installed scripts exec).
 * @param hook which
 * @param args git's arguments to the hook (commit-msg: the message file)
 * @param cwd where git runs it (the worktree's top)
 * @param withEngine opens the engine for `fn`
 * @param io where to print
 * @returns the hook's exit code: 1 refuses the commit
 */
export async function runHook(
  hook: HookName,
  args: string[],
  cwd: string,
  withEngine: (fn: (e: Engine) => number | void | Promise<number | void>) => Promise<number>,
  io: Io,
): Promise<number> {
  const who = committer();
  // A human's commit-msg and post-commit have nothing to do: no engine opened (commits stay fast).
  if (!who && hook !== "pre-commit") return 0;
  const say = (l: string) => io.err(`baton: ${l}`);
  try {
    return await withEngine((e) => {
      if (hook === "pre-commit") {
        const r = e.checkCommit({ ...(who ?? {}), files: stagedFiles(cwd) });
        const lead = r.verdict === "refuse" ? "commit refused: " : "warning: ";
        for (const m of r.messages) say(lead + m);
        if (r.verdict === "refuse" && r.committer === "human") say("(hooks.block_humans is true)");
        if (r.verdict === "refuse") return 1;
        if (who) writeTrailers(cwd, who, trailers(r.ticketId!, r.phase!, who.agentId));
        return 0;
      }
      const phase = e.phase(who!.phaseId);
      if (hook === "commit-msg") {
        const file = args[0];
        if (!file) throw new BatonError("invalid_argument", "commit-msg needs the message file");
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
      const sha = gitTry(cwd, "rev-parse", "HEAD").stdout;
      const subject = gitTry(cwd, "log", "-1", "--format=%s").stdout;
      const rec = e.recordCommit({ ...who!, sha, subject });
      if (!rec.progress) {
        say(`commit ${sha.slice(0, 12)} was made without the claim: recorded, not counted as progress`);
      }
      return 0;
    });
  } catch (err) {
    // A repository without Baton's .workflow/ commits as if the hooks were not there.
    if (err instanceof BatonError && err.code === "config_not_found") return 0;
    if (hook === "post-commit" || hook === "commit-msg") {
      say(`${hook}: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
    throw err;
  }
}
