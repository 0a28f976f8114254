/**
 * What Baton's git hooks add to a commit: 50 agent commits (one new file
 * each, the claim in the environment: pre-commit fences and declares,
 * commit-msg adds trailers in sh, post-commit records progress) in a repository
 * with the hooks installed, against the same 50 commits in a repository
 * without hooks, interleaved in the same run; then 50 human commits with the
 * hooks (only pre-commit opens the engine). The floor is what starting the
 * CLI costs at all: `baton --version`, 20 times. Times are wall-clock
 * `git commit` processes, p50 and p99 (ms).
 *
 * `deno run -A bench/hooks.ts [commits]` (default 50)
 */
import { openEngine } from "../mod.ts";
import { installHooks } from "../src/cli/hooks.ts";
import { tempRepo } from "../src/testing.ts";

const N = Number(Deno.args[0] ?? 50);
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const BATON = [Deno.execPath(), "run", "-A", CLI];

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1)];
};
const fmt = (xs: number[]) =>
  `p50 ${pct(xs, 50).toFixed(0).padStart(5)} ms   p99 ${pct(xs, 99).toFixed(0).padStart(5)} ms`;

const base = Object.fromEntries(Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("BATON_")));

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): number {
  const t = performance.now();
  const o = new Deno.Command(cmd, {
    args,
    cwd,
    env: { ...base, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  })
    .outputSync();
  const ms = performance.now() - t;
  if (!o.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
  return ms;
}

async function repo(): Promise<string> {
  const r = await tempRepo({
    phases: "phases:\n  - {name: Implementation, agent_type: implementer}\n",
    files: { ".gitignore": ".workflow/baton.db*\n" },
  });
  run("git", ["init", "-q", "-b", "main"], r);
  run("git", ["config", "user.email", "bench@example.com"], r);
  run("git", ["config", "user.name", "Bench"], r);
  run("git", ["add", "-A"], r);
  run("git", ["commit", "-q", "-m", "init"], r);
  return r;
}

function commit(r: string, i: number, env: Record<string, string> = {}): number {
  Deno.writeTextFileSync(`${r}/f${i}.txt`, `${i}\n`);
  run("git", ["add", `f${i}.txt`], r);
  return run("git", ["commit", "-q", "-m", `commit ${i}`], r, env);
}

const plain = await repo();
const hooked = await repo();
installHooks(hooked, BATON);
const e = await openEngine(hooked);
e.upsertTicket({ id: "0001", title: "Bench" });
const c = e.claim(e.ticket("0001").phases[0].id, { agentId: "bench-agent", capabilities: ["implementer"] });
e.close();
const agent = { BATON_AGENT_ID: "bench-agent", BATON_PHASE_ID: String(c.phase.id), BATON_CLAIM: c.token };

const startup: number[] = [];
for (let i = 0; i < 20; i++) startup.push(run(Deno.execPath(), ["run", "-A", CLI, "--version"], plain));

const without: number[] = [];
const withHooks: number[] = [];
commit(plain, -1), commit(hooked, -1, agent); // warm the caches
for (let i = 0; i < N; i++) {
  without.push(commit(plain, i));
  withHooks.push(commit(hooked, i, agent));
}
const human: number[] = [];
for (let i = N; i < 2 * N; i++) human.push(commit(hooked, i));

const check = await openEngine(hooked);
const recorded = check.audit({ action: "phase.commit" }).length;
const declared = check.declarations().length;
check.close();
if (recorded !== N + 1 || declared !== N + 1) {
  throw new Error(`expected ${N + 1} commits and declarations, got ${recorded}, ${declared}`);
}

console.log(`git commit, ${N} commits each (wall clock of the git process)`);
console.log(`  no hooks                   ${fmt(without)}`);
console.log(
  `  Baton hooks, agent         ${fmt(withHooks)}   ratio of medians ${
    (pct(withHooks, 50) / pct(without, 50)).toFixed(1)
  }x, +${(pct(withHooks, 50) - pct(without, 50)).toFixed(0)} ms`,
);
console.log(
  `  Baton hooks, human         ${fmt(human)}   ratio of medians ${(pct(human, 50) / pct(without, 50)).toFixed(1)}x, +${
    (pct(human, 50) - pct(without, 50)).toFixed(0)
  } ms`,
);
console.log(
  `  baton --version (startup)  ${fmt(startup)}   (an agent commit starts the CLI twice, a human commit once)`,
);
