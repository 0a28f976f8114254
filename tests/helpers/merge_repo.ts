/**
 * Repositories for merge-queue tests: a real git repository with a one-phase
 * workflow (Build, by a builder) and a `merge:` section, a check script in
 * the repository (`check.sh`: red when any file says BROKEN), and tickets
 * whose Build phase an agent finished by committing on `baton/<ticket>` —
 * so their landing phases are queued.
 */
import { type Engine, openEngine } from "../../mod.ts";
import { CLI } from "./cli.ts";
import { git } from "./run_repo.ts";

export { git };

/** The check every merge test starts from: red when a tracked text file says BROKEN. */
export const CHECK_SH = `#!/bin/sh
# The project's tests: every module must be sound.
if grep -rl BROKEN --include='*.txt' . >/dev/null 2>&1; then
  echo "FAIL: $(grep -rl BROKEN --include='*.txt' . | head -1) is broken" >&2
  exit 1
fi
echo "all tests passed"
`;

/**
 * A repository with the workflow, `merge:` settings and the check script.
 * @param merge more `merge:` lines (indented two spaces), e.g. `  batch_size: 4`
 * @param opts a different check command
 * @returns its path
 */
export async function mergeRepo(merge = "", opts: { check?: string } = {}): Promise<string> {
  const repo = await Deno.makeTempDir({ prefix: "baton-merge-" });
  git(repo, "init", "-q", "-b", "main");
  await Deno.mkdir(`${repo}/.workflow`);
  await Deno.writeTextFile(
    `${repo}/.workflow/phases.yaml`,
    "phases:\n  - name: Build\n    agent_type: builder\n    description: Write the module.\n",
  );
  await Deno.writeTextFile(
    `${repo}/.workflow/config.yaml`,
    `merge:\n  target: main\n  check: ${JSON.stringify(opts.check ?? "sh check.sh")}\n  batch_wait_seconds: 0\n` +
      `  lease_minutes: 0.05\n${merge}retry:\n  backoff_seconds: 0\n`,
  );
  await Deno.writeTextFile(`${repo}/check.sh`, CHECK_SH);
  await Deno.writeTextFile(`${repo}/README.md`, "# A project\n");
  await Deno.writeTextFile(`${repo}/.gitignore`, ".workflow/baton.db*\n.workflow/logs/\n.workflow/worktrees/\n");
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "a project with a merge queue");
  return repo;
}

/**
 * A ticket whose Build an agent finished: files committed on `baton/<id>`
 * (off `from`, default main), the phase completed through the engine.
 * @param e the engine
 * @param repo the repository
 * @param id the ticket id
 * @param files path → content committed on the branch
 * @param from where the branch starts
 * @param opts `recordCommit`: the commit is recorded as the git hooks' post-commit would
 */
export function finishedTicket(
  e: Engine,
  repo: string,
  id: string,
  files: Record<string, string>,
  from = "main",
  opts: { recordCommit?: boolean } = {},
): void {
  e.upsertTicket({ id, title: `Module ${id}` });
  const wt = `${repo}/.workflow/worktrees/${id}`;
  git(repo, "worktree", "add", "-q", "-b", `baton/${id}`, wt, from);
  for (const [path, text] of Object.entries(files)) {
    Deno.mkdirSync(`${wt}/${path}`.replace(/\/[^/]+$/, ""), { recursive: true });
    Deno.writeTextFileSync(`${wt}/${path}`, text);
  }
  git(wt, "add", "-A");
  git(wt, "commit", "-q", "-m", `${id} Build: module ${id}`);
  git(repo, "worktree", "remove", wt);
  const c = e.claimNext({ agentId: `builder-${id}`, capabilities: ["builder"] })!;
  if (c.ticket.id !== id) throw new Error(`claimed ${c.ticket.id}, not ${id}`);
  if (opts.recordCommit) {
    const sha = git(repo, "rev-parse", `baton/${id}`);
    e.recordCommit({ agentId: `builder-${id}`, phaseId: c.phase.id, token: c.token, sha, subject: `${id} Build` });
  }
  e.complete(c.phase.id, { agentId: `builder-${id}`, token: c.token, summary: `module ${id}` });
}

/** Subjects of the target's first-parent history, oldest first. */
export function history(repo: string, ref = "main"): string[] {
  return git(repo, "log", "--first-parent", "--format=%s", "--reverse", ref).split("\n");
}

/**
 * Runs `baton merge ARGS…` as a process.
 * @param repo the repository
 * @param args e.g. `["--until-idle"]`
 * @returns the child, and its output once done
 */
export function startMerge(repo: string, args: string[] = ["--until-idle"]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "merge", ...args],
    cwd: repo,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const arrived: (() => void)[] = [];
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      out += chunk;
      for (const f of arrived.splice(0)) f();
    }
  })();
  const err = new Response(child.stderr).text();
  const done = (async () => {
    const status = await child.status;
    await reading;
    return { code: status.code, signal: status.signal, out, err: await err };
  })();
  return {
    child,
    out: () => out,
    /** Resolves once the output matches (or rejects after `ms`). */
    async waitFor(re: RegExp, ms = 60_000): Promise<RegExpExecArray> {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = re.exec(out);
        if (m) return m;
        if (Date.now() > deadline) throw new Error(`no ${re} in:\n${out}`);
        await Promise.race([
          new Promise<void>((r) => arrived.push(r)),
          new Promise((r) => setTimeout(r, 200)),
        ]);
      }
    },
    done,
    /** Resolves once it exits; killed (SIGKILL) when it has not within `ms`, so that a test fails instead of hanging. */
    async doneWithin(ms: number) {
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* it exited */ }
      }, ms);
      try {
        return await done;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Sets the repository's merge check command.
 * @param repo the repository (made by {@link mergeRepo} with its default check)
 * @param check the command
 */
export async function setCheck(repo: string, check: string): Promise<void> {
  const path = `${repo}/.workflow/config.yaml`;
  await Deno.writeTextFile(
    path,
    (await Deno.readTextFile(path)).replace('check: "sh check.sh"', `check: ${JSON.stringify(check)}`),
  );
}

/** Opens the repository's engine. */
export function engineOf(repo: string): Promise<Engine> {
  return openEngine(repo);
}
