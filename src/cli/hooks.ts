/**
 * Installing Baton's git hooks (`baton hooks install|uninstall|status`).
 *
 * Nothing that was there is moved or rewritten. Baton's scripts go in a
 * directory of their own, `<git common dir>/baton/hooks/`, and
 * `core.hooksPath` (the repository's local config, shared by every
 * worktree) points there. Each script first runs the hook of the same name
 * in the hooks directory git used before (the `.git/hooks/` default, a
 * `core.hooksPath` such as husky's `.husky/_`, the pre-commit framework's
 * scripts), by its own path, so a hook that finds its siblings through `$0`
 * (husky's `h`, pre-commit's `--hook-dir`) still works, and its failure
 * still blocks. Every other hook git knows gets a pass-through script, so
 * the project's `pre-push`, `post-checkout`… keep running. `uninstall`
 * sets `core.hooksPath` back to what it was (or unsets it) and removes the
 * directory.
 *
 * The scripts are sh and stay cheap: `pre-commit` runs `baton guard
 * pre-commit` (the one Baton process a commit waits for); `commit-msg` adds
 * the trailers `pre-commit` wrote down for the claim with `git
 * interpret-trailers`; `post-commit` starts `baton guard post-commit` in the
 * background (nothing it does can change the commit). A human's
 * `commit-msg` and `post-commit` start nothing.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { COMMIT_META_FORMAT, gitCommonDir, gitTry } from "../repo/git.ts";
import { guardSocketPath, TRAILERS_FILE } from "../repo/hook_files.ts";

/** The hooks Baton acts in. */
export const HOOK_NAMES = ["pre-commit", "commit-msg", "post-commit"] as const;

/** One of {@link HOOK_NAMES}. */
export type HookName = typeof HOOK_NAMES[number];

/**
 * Hooks that get a pass-through script always (so a hook the project adds
 * later to its own hooks directory still runs).
 */
const PASS_ALWAYS = [
  "applypatch-msg",
  "pre-applypatch",
  "post-applypatch",
  "pre-merge-commit",
  "prepare-commit-msg",
  "pre-rebase",
  "post-checkout",
  "post-merge",
  "pre-push",
  "pre-receive",
  "update",
  "post-receive",
  "post-update",
  "pre-auto-gc",
  "post-rewrite",
  "sendemail-validate",
];

/**
 * Hooks whose mere presence changes what git does (`push-to-checkout`
 * replaces `updateInstead`'s checkout, `proc-receive`), or that run very
 * often: a pass-through only when the old directory has one.
 */
const PASS_IF_PRESENT = [
  "push-to-checkout",
  "proc-receive",
  "reference-transaction",
  "fsmonitor-watchman",
  "post-index-change",
  "p4-changelist",
  "p4-prepare-changelist",
  "p4-post-changelist",
  "p4-pre-submit",
];

/** The client an agent CLI's pre-tool hook can call: `baton guard paths` through the guard server when it runs. */
export const GUARD_CLIENT = "baton-guard";

/** The line that marks a script as Baton's. */
const MARK = "# baton-hook:";
/** What install remembers for uninstall, in Baton's hooks directory. */
const STATE = "baton-hooks.json";

/** What `install` remembers: the local `core.hooksPath` before it, and the directory its scripts chain to. */
interface State {
  /** The local `core.hooksPath` before install (null: unset). */
  localHooksPath: string | null;
  /** The hooks directory git used before (absolute, or relative to a worktree's top as git reads a relative one). */
  chain: string;
}

/** `'it''s'` for sh. */
const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

function git(cwd: string, ...args: string[]): string {
  const r = gitTry(cwd, ...args);
  if (!r.ok) throw new BatonError("internal", `git ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** The repository's common git directory (absolute; the same from every worktree). */
function commonDir(cwd: string): string {
  const common = gitCommonDir(cwd);
  if (common === null) throw new BatonError("invalid_argument", `${cwd} is not inside a git repository`);
  return common;
}

/** The directory Baton's scripts live in. */
export function batonHooksDir(cwd: string): string {
  return `${commonDir(cwd)}/baton/hooks`;
}

/** A `core.hooksPath` value (null: unset), at one scope or as git reads it. */
function hooksPathConfig(cwd: string, scope: "--local" | null): string | null {
  const r = gitTry(cwd, "config", ...(scope ? [scope] : []), "--get", "core.hooksPath");
  return r.ok ? r.stdout : null;
}

/**
 * The hooks directory git would use now: `core.hooksPath` (a leading `~/` is
 * the home directory; a relative path stays relative: git reads it from the
 * top of the worktree that runs the hook), else the common `hooks/`.
 */
function currentHooksDir(cwd: string): string {
  const v = hooksPathConfig(cwd, null);
  if (v === null || v === "") return `${commonDir(cwd)}/hooks`;
  if (v.startsWith("~/")) return `${Deno.env.get("HOME") ?? ""}/${v.slice(2)}`;
  return v;
}

function readState(dir: string): State | null {
  try {
    return JSON.parse(Deno.readTextFileSync(`${dir}/${STATE}`)) as State;
  } catch {
    return null;
  }
}

/**
 * The command that runs this `baton`: the compiled binary, or
 * `deno run -A cli.ts` when run from source (what the hook scripts call).
 * @returns the command and its leading arguments
 */
export function selfCommand(): string[] {
  const exe = Deno.execPath();
  const main = Deno.mainModule;
  if (/(^|\/)deno(\.exe)?$/.test(exe) && main.startsWith("file:")) {
    const cli = decodeURIComponent(new URL("../../cli.ts", import.meta.url).pathname);
    return [exe, "run", "-A", cli];
  }
  return [exe];
}

/** The lines that run the old hook of this name first (its failure ends the script with its code, if `blocks`). */
function chainLines(name: string, chain: string, blocks: boolean): string[] {
  return [
    `prev=${q(chain)}`,
    // A relative core.hooksPath is read from the worktree's top, where git runs hooks.
    `case "$prev" in /*) ;; *) prev="$PWD/$prev" ;; esac`,
    `if [ -x "$prev/${name}" ]; then "$prev/${name}" "$@"${blocks ? " || exit $?" : ""}; fi`,
  ];
}

/**
 * The script Baton installs as `name`.
 * @param name the hook
 * @param chain the hooks directory git used before
 * @param command how the script starts `baton`
 * @param socket where a running `baton run` answers (null: always start `baton guard`)
 * @returns the script
 */
export function hookScript(name: string, chain: string, command: string[], socket: string | null = null): string {
  const head = ["#!/bin/sh"];
  const baton = command.map(q).join(" ");
  if (name === GUARD_CLIENT) return guardClient(baton, socket);
  if (!(HOOK_NAMES as readonly string[]).includes(name)) {
    return [
      ...head,
      `${MARK} ${name}, passed through to the hook that was here ('baton hooks uninstall' puts core.hooksPath back)`,
      `prev=${q(chain)}`,
      `case "$prev" in /*) ;; *) prev="$PWD/$prev" ;; esac`,
      `[ -x "$prev/${name}" ] || exit 0`,
      `exec "$prev/${name}" "$@"`,
      "",
    ].join("\n");
  }
  const lines = [
    ...head,
    `${MARK} ${name} (installed by 'baton hooks install'; 'baton hooks uninstall' puts core.hooksPath back)`,
    ...chainLines(name, chain, name !== "post-commit"),
  ];
  // While baton run runs, its guard server answers over a Unix socket: a curl instead of a Baton process. The
  // answer is the lines to print, then the HTTP status (200 go ahead, 409 refused; anything else: ask baton guard).
  const ask = (path: string, extra: string) =>
    `curl -s --max-time 20 --unix-socket "$sock" -H "x-baton-agent: $BATON_AGENT_ID" ` +
    `-H "x-baton-phase: $BATON_PHASE_ID" -H "x-baton-claim: \${BATON_CLAIM:-$BATON_CLAIM_TOKEN}" ${extra}` +
    `-w '%{http_code}' "http://baton${path}"`;
  const answer = [`  code="\${out#"\${out%???}"}"`, `  [ -n "\${out%???}" ] && printf '%s' "\${out%???}" >&2`];
  const fast = socket === null ? [] : [
    `sock=${q(socket)}`,
    `if [ -S "$sock" ] && command -v curl >/dev/null 2>&1; then`,
  ];
  if (name === "pre-commit") {
    if (fast.length) {
      lines.push(
        ...fast,
        // The worktree's git directory (for the trailers) without starting git: git commit names its index there.
        `  case "$GIT_INDEX_FILE" in /*/*) gd="\${GIT_INDEX_FILE%/*}" ;; */*) gd="$PWD/\${GIT_INDEX_FILE%/*}" ;; *) gd="$(git rev-parse --absolute-git-dir)" ;; esac`,
        `  out="$(git diff --cached --name-only --no-renames -z | ${
          ask(
            "/guard/pre-commit",
            `-H "x-baton-git-dir: $gd" -H "x-baton-branch: $(git symbolic-ref --short -q HEAD)" --data-binary @- `,
          )
        })"`,
        ...answer,
        `  case "$code" in 200) exit 0 ;; 409) exit 1 ;; esac`,
        `fi`,
      );
    }
    lines.push(`exec ${baton} guard pre-commit`);
  } else if (name === "commit-msg") {
    // A human's commit gets no trailers. An agent's gets those its pre-commit wrote down for this very claim.
    lines.push(
      `[ -n "$BATON_AGENT_ID" ] || exit 0`,
      // git passes <git dir>/COMMIT_EDITMSG: its directory without starting git. Read with builtins only.
      `case "$1" in */COMMIT_EDITMSG) t="\${1%/*}/${TRAILERS_FILE}" ;; *) t="$(git rev-parse --git-dir)/${TRAILERS_FILE}" ;; esac`,
      `if [ -f "$t" ] && { read -r k; read -r t1; read -r t2; read -r t3; } <"$t" &&`,
      `  [ "$k" = "$BATON_AGENT_ID $BATON_PHASE_ID \${BATON_CLAIM:-$BATON_CLAIM_TOKEN}" ]; then`,
      `  exec git interpret-trailers --in-place --if-exists addIfDifferent --trailer "$t1" --trailer "$t2" --trailer "$t3" "$1"`,
      `fi`,
      `exec ${baton} guard commit-msg "$1"`,
    );
  } else {
    // Recorded in the background: git does not wait for what cannot change the commit (the engine judges a record
    // that arrives after the claim ended by the commit's time). HEAD is read now: the next commit may be quick. The
    // guard server if it answers, else baton guard; what they say goes to <git dir>/baton-hooks.log (the main
    // repository's for a linked worktree, whose own git directory goes when the worktree is removed).
    lines.push(
      `[ -n "$BATON_AGENT_ID" ] || exit 0`,
      // HEAD's SHA read with builtins: the worktree's git directory from GIT_INDEX_FILE, HEAD, the ref git just
      // wrote (loose; refs/heads are in the common directory a linked worktree's commondir names). Else one git.
      `sha=; gd=; case "$GIT_INDEX_FILE" in /*/*) gd="\${GIT_INDEX_FILE%/*}" ;; */*) gd="$PWD/\${GIT_INDEX_FILE%/*}" ;; esac`,
      `if [ -n "$gd" ] && read -r h <"$gd/HEAD" 2>/dev/null; then`,
      `  case "$h" in`,
      `    "ref: "*) c=; [ -f "$gd/commondir" ] && read -r c <"$gd/commondir"`,
      `      case "$c" in "") c="$gd" ;; /*) ;; *) c="$gd/$c" ;; esac`,
      `      read -r sha <"$c/\${h#ref: }" 2>/dev/null ;;`,
      `    *) sha="$h" ;;`,
      `  esac`,
      `fi`,
      `case "$sha" in *[!0-9a-f]* | "") sha= ;; esac`,
      `if [ \${#sha} -lt 40 ]; then`,
      // One git for both: the git directory, then HEAD's SHA (hex: everything after the last non-hex character).
      `  r="$(git rev-parse --git-dir HEAD)" || exit 0`,
      `  sha="\${r##*[!0-9a-f]}"; gd="\${r%?"$sha"}"`,
      `fi`,
      // A linked worktree's git directory (<main>/.git/worktrees/<name>) goes with it: the main working tree stays.
      `main=; log="$gd/baton-hooks.log"`,
      `case "$gd" in /*/.git/worktrees/*) main="\${gd%/.git/worktrees/*}"; log="$main/.git/baton-hooks.log" ;; esac`,
      `(`,
      // From a linked worktree, into the main working tree first, without git's hook variables (GIT_DIR names the
      // worktree's git directory): baton run removes a finished ticket's worktree, possibly before this
      // (backgrounded) recording has started Baton or git, which cannot work in a removed directory.
      `  [ -n "$main" ] && cd "$main" 2>/dev/null && unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE GIT_PREFIX`,
      ...(fast.length
        ? [
          `  ${fast[0]}`,
          `  ${fast[1]}`,
          `    out="$(git log -1 --format='${COMMIT_META_FORMAT}' "$sha" | ${
            ask("/guard/post-commit?sha=$sha", "--data-binary @- ")
          })"`,
          `    [ "\${out#"\${out%???}"}" = 200 ] && { printf '%s' "\${out%???}"; exit 0; }`,
          `  fi`,
        ]
        : []),
      `  exec ${baton} guard post-commit "$sha"`,
      `) </dev/null >>"$log" 2>&1 &`,
    );
  }
  lines.push("");
  return lines.join("\n");
}

/**
 * `baton-guard ARGS…`: `baton guard ARGS…`, but `paths` asks the guard server
 * of a running `baton run` first (a curl instead of a Baton process: an agent
 * CLI's pre-tool hook runs on every edit).
 */
function guardClient(baton: string, socket: string | null): string {
  const lines = [
    "#!/bin/sh",
    `${MARK} ${GUARD_CLIENT} ('baton guard', through baton run's guard server when it runs)`,
  ];
  if (socket !== null) {
    lines.push(
      `sock=${q(socket)}`,
      // paths [options] PATH…, in a function of its own: "$@" outside stays as given, for baton guard.
      `ask() {`,
      `  refuse=1; declare=1; shift; set -- "$@" --`,
      `  while [ "$1" != -- ]; do a=$1; shift; case "$a" in`,
      `    --no-declare) declare=0 ;; --refuse-code) refuse=$1; shift ;; --refuse-code=*) refuse=\${a#*=} ;;`,
      `    --json|--repo|--repo=*) return ;; *) set -- "$@" "$a" ;; esac; done; shift`,
      `  [ $# -gt 0 ] || return`,
      `  out="$(printf '%s\\0' "$@" | curl -s --max-time 20 --unix-socket "$sock" -H "x-baton-agent: $BATON_AGENT_ID" \\`,
      `    -H "x-baton-phase: $BATON_PHASE_ID" -H "x-baton-claim: \${BATON_CLAIM:-$BATON_CLAIM_TOKEN}" \\`,
      `    -H "x-baton-cwd: $PWD" -H "x-baton-declare: $declare" --data-binary @- -w '%{http_code}' "http://baton/guard/paths")"`,
      `  code="\${out#"\${out%???}"}"`,
      `  [ -n "\${out%???}" ] && printf '%s' "\${out%???}" >&2`,
      `  case "$code" in 200) exit 0 ;; 409) exit "$refuse" ;; esac`,
      `}`,
      `if [ "$1" = paths ] && [ -S "$sock" ] && command -v curl >/dev/null 2>&1; then ask "$@"; fi`,
    );
  }
  lines.push(`exec ${baton} guard "$@"`, "");
  return lines.join("\n");
}

function isOurs(path: string): boolean {
  try {
    return Deno.readTextFileSync(path).split("\n", 3).some((l) => l.startsWith(MARK));
  } catch {
    return false;
  }
}

function executables(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => !e.isDirectory && !e.name.includes(".")).map((e) => e.name);
  } catch {
    return [];
  }
}

/** What `install`, `uninstall` or `status` found or did. */
export interface HooksReport {
  /** Baton's hooks directory. */
  dir: string;
  /** The hooks directory Baton's scripts run first (git's before install), absolute or relative to a worktree's top. */
  chain: string | null;
  /** The local `core.hooksPath` now. */
  hooksPath: string | null;
  /** `installed`, `updated` (already installed: scripts rewritten), `uninstalled`, `not-installed`, `bypassed` (installed, but `core.hooksPath` no longer points there). */
  state: "installed" | "updated" | "uninstalled" | "not-installed" | "bypassed";
  /** The hooks that Baton acts in, and those it passes through. */
  hooks: string[];
  /** What to tell the user (husky's or pre-commit's own install would undo or refuse this, …). */
  notes: string[];
  /**
   * (`status`) Baton's hooks whose script is not the one this Baton writes: another Baton installed them (an older
   * version, or one at another path, which a database this one migrated refuses), so agents' commits may be refused
   * or go unchecked until `baton hooks install` runs again.
   */
  outdated?: string[];
}

/** Notes about tools that manage hooks themselves. */
function toolNotes(cwd: string, chain: string): string[] {
  const notes: string[] = [];
  const top = gitTry(cwd, "rev-parse", "--show-toplevel");
  const at = (p: string) => {
    try {
      Deno.statSync(`${top.stdout}/${p}`);
      return true;
    } catch {
      return false;
    }
  };
  if (/(^|\/)\.husky(\/_)?\/?$/.test(chain) || (top.ok && at(".husky"))) {
    notes.push(
      "husky: its hooks run first, as before; husky's own install (npm's prepare script) sets core.hooksPath " +
        "back to .husky/_, which turns Baton's hooks off: run 'baton hooks install' again after it",
    );
  }
  if (top.ok && at(".pre-commit-config.yaml")) {
    notes.push(
      "pre-commit: its hooks run first, as before; 'pre-commit install' refuses while core.hooksPath is set: " +
        "run 'baton hooks uninstall', then it, then 'baton hooks install'",
    );
  }
  return notes;
}

/**
 * Baton's first hooks replaced a hook in place and moved the original to
 * `HOOK.baton-chained`: put such originals back (and remove Baton's old
 * scripts), so that they run as the old directory's hooks again.
 */
function undoChainedLayout(old: string): void {
  for (const hook of HOOK_NAMES) {
    const path = `${old}/${hook}`;
    if (!isOurs(path)) continue;
    try {
      Deno.renameSync(`${path}.baton-chained`, path);
    } catch {
      Deno.removeSync(path);
    }
  }
}

/**
 * Installs Baton's hooks (again: rewrites its scripts, keeps what it remembered).
 * @param cwd a directory of the repository (any worktree)
 * @param command how the scripts start `baton` (default: this process's {@link selfCommand})
 * @returns where they are and what they chain to
 * @throws {BatonError} `invalid_argument` outside a git repository
 */
export function installHooks(cwd: string, command: string[] = selfCommand()): HooksReport {
  const dir = batonHooksDir(cwd);
  const local = hooksPathConfig(cwd, "--local");
  const again = local === dir ? readState(dir) : null;
  // Never chain to Baton's own directory (its state lost, or core.hooksPath pointing there from elsewhere): the
  // scripts would run themselves.
  const current = currentHooksDir(cwd);
  const state: State = again ?? {
    localHooksPath: local === dir ? null : local,
    chain: current === dir ? `${commonDir(cwd)}/hooks` : current,
  };
  Deno.mkdirSync(dir, { recursive: true });
  const names = new Set<string>([...HOOK_NAMES, ...PASS_ALWAYS, GUARD_CLIENT]);
  const old = state.chain.startsWith("/")
    ? state.chain
    : `${gitTry(cwd, "rev-parse", "--show-toplevel").stdout}/${state.chain}`;
  undoChainedLayout(old);
  for (const n of executables(old)) if (PASS_IF_PRESENT.includes(n) || PASS_ALWAYS.includes(n)) names.add(n);
  for (const n of executables(dir)) if (isOurs(`${dir}/${n}`) && !names.has(n)) Deno.removeSync(`${dir}/${n}`);
  for (const n of names) {
    const tmp = `${dir}/.${n}.tmp`;
    Deno.writeTextFileSync(tmp, hookScript(n, state.chain, command, guardSocketPath(commonDir(cwd))));
    Deno.chmodSync(tmp, 0o755);
    Deno.renameSync(tmp, `${dir}/${n}`);
  }
  Deno.writeTextFileSync(`${dir}/${STATE}`, JSON.stringify(state, null, 2) + "\n");
  if (local !== dir) git(cwd, "config", "--local", "core.hooksPath", dir);
  return {
    dir,
    chain: state.chain,
    hooksPath: dir,
    state: again ? "updated" : "installed",
    hooks: [...names].sort(),
    notes: toolNotes(cwd, state.chain),
  };
}

/**
 * Removes Baton's hooks: `core.hooksPath` back to what it was before
 * install (or unset), Baton's directory removed. The old hooks were never
 * touched.
 * @param cwd a directory of the repository (any worktree)
 * @returns what was done
 * @throws {BatonError} `invalid_argument` outside a git repository
 */
export function uninstallHooks(cwd: string): HooksReport {
  const dir = batonHooksDir(cwd);
  const local = hooksPathConfig(cwd, "--local");
  const state = readState(dir);
  if (state === null) {
    return { dir, chain: null, hooksPath: local, state: "not-installed", hooks: [], notes: [] };
  }
  const notes: string[] = [];
  if (local === dir) {
    if (state.localHooksPath === null) git(cwd, "config", "--local", "--unset", "core.hooksPath");
    else git(cwd, "config", "--local", "core.hooksPath", state.localHooksPath);
  } else {
    notes.push(`core.hooksPath is ${local === null ? "unset" : `"${local}"`} (not Baton's): left as it is`);
  }
  Deno.removeSync(dir, { recursive: true });
  // With nothing left to ask it, a guard server stops (`baton guard serve` on its own; `baton run`'s goes unasked).
  const socket = guardSocketPath(dir.replace(/\/baton\/hooks$/, ""));
  try {
    if (socket !== null) Deno.removeSync(socket);
  } catch { /* none */ }
  try {
    Deno.removeSync(dir.replace(/\/hooks$/, "")); // baton/, when empty
  } catch { /* other files of Baton's there */ }
  return {
    dir,
    chain: state.chain,
    hooksPath: hooksPathConfig(cwd, "--local"),
    state: "uninstalled",
    hooks: [],
    notes,
  };
}

/**
 * Whether Baton's hooks are installed and in use.
 * @param cwd a directory of the repository (any worktree)
 * @returns the state (`bypassed`: installed, but `core.hooksPath` points elsewhere now)
 * @throws {BatonError} `invalid_argument` outside a git repository
 */
export function hooksStatus(cwd: string): HooksReport {
  const dir = batonHooksDir(cwd);
  const state = readState(dir);
  const effective = hooksPathConfig(cwd, null);
  const hooks = executables(dir).filter((n) => isOurs(`${dir}/${n}`)).sort();
  if (state === null) return { dir, chain: null, hooksPath: effective, state: "not-installed", hooks: [], notes: [] };
  const bypassed = effective !== dir;
  const mine = selfCommand();
  const socket = guardSocketPath(commonDir(cwd));
  const outdated = hooks.filter((n) => {
    const script = hookText(`${dir}/${n}`);
    // The same program by another path (a link to the checkout, to the binary) is this Baton.
    const theirs = commandOf(script);
    const command = theirs && sameProgram(theirs, mine) ? theirs : mine;
    return script !== hookScript(n, state.chain, command, socket);
  });
  const notes = bypassed
    ? [
      `core.hooksPath is ${
        effective === null ? "unset" : `"${effective}"`
      }: git does not run Baton's hooks; run 'baton hooks install' again`,
    ]
    : toolNotes(cwd, state.chain);
  if (outdated.length) {
    const theirs = commandOf(hookText(`${dir}/${outdated[0]}`))?.map(q).join(" ");
    const mineText = mine.map(q).join(" ");
    notes.push(
      `${outdated.join(", ")} ${outdated.length === 1 ? "was" : "were"} written by another Baton ` +
        `(${theirs && theirs !== mineText ? `they run ${theirs}, not ${mineText}` : "another version"}): ` +
        "agents' commits may be refused or go unchecked; run 'baton hooks install' again",
    );
  }
  return {
    dir,
    chain: state.chain,
    hooksPath: effective,
    state: bypassed ? "bypassed" : "installed",
    hooks,
    notes,
    outdated,
  };
}

/** The command a hook script starts `baton` with (its `exec … guard` line), or null. */
function commandOf(script: string): string[] | null {
  const line = /^\s*exec ((?:'(?:[^']|'\\'')*' ?)+) guard /m.exec(script)?.[1];
  if (!line) return null;
  return [...line.matchAll(/'((?:[^']|'\\'')*)'/g)].map((m) => m[1].replaceAll(`'\\''`, "'"));
}

/** Whether two commands run the same files (each path by what it resolves to). */
function sameProgram(a: string[], b: string[]): boolean {
  const real = (p: string) => {
    try {
      return Deno.realPathSync(p);
    } catch {
      return p;
    }
  };
  return a.length === b.length && a.every((x, i) => x === b[i] || real(x) === real(b[i]));
}

function hookText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}
