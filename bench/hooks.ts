/**
 * What Baton's git hooks add to a commit. Four repositories, the same
 * commits (one new file each) in each, interleaved so that the machine's
 * load falls on all alike:
 *
 * - no hooks;
 * - the hooks, an agent committing (the claim in its environment), with
 *   `baton run`'s guard server answering the hooks over its Unix socket (here
 *   in this process, as in the supervisor): curl, no Baton process;
 * - the same with no `baton run` about: the first commit's hooks start
 *   `baton guard`, which starts `baton guard serve` (the default,
 *   `hooks.server: auto`); the next ones are answered by it;
 * - the same with `hooks.server: off`: pre-commit starts `baton guard`
 *   (fencing, declaring, overlaps), commit-msg adds the trailers in sh,
 *   post-commit starts `baton guard post-commit` in the background;
 * - a human committing with the hooks, with and without `baton guard serve`
 *   (pre-commit only).
 *
 * The first commit of a repository with no server (the one that starts
 * `baton guard serve`) is timed apart: once per repository and idle period.
 *
 * Each commit is a wall-clock `git commit` process; p50 and p99 in ms, and
 * each row's median against the no-hooks median; CPU is the mean CPU time
 * of the `git commit` process and all it waited for (the hooks; not
 * post-commit's background work), which the machine's load does not
 * inflate. The floor of starting any
 * Baton process: `baton --version`, 20 times. Every commit is checked to be
 * recorded and its file declared.
 *
 * `deno run -A bench/hooks.ts [commits]` (default 50)
 */
import { type Engine, openEngine } from "../mod.ts";
import { installHooks } from "../src/cli/hooks.ts";
import { guardServerAnswers, startGuardServer } from "../src/run/guard_server.ts";
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

async function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<number> {
  const t = performance.now();
  const o = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { ...base, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t;
  if (!o.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
  return ms;
}

async function repo(config = ""): Promise<string> {
  const r = await tempRepo({
    phases: "phases:\n  - {name: Implementation, agent_type: implementer}\n",
    config,
    files: { ".gitignore": ".workflow/baton.db*\n" },
  });
  await run("git", ["init", "-q", "-b", "main"], r);
  await run("git", ["config", "user.email", "bench@example.com"], r);
  await run("git", ["config", "user.name", "Bench"], r);
  await run("git", ["add", "-A"], r);
  await run("git", ["commit", "-q", "-m", "init"], r);
  return r;
}

/** CPU seconds of this process's waited-for children (user + system), from /proc/self/stat. */
function childCpu(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime (fields 16, 17), in ticks of 10 ms
}

/** CPU seconds spent in each row's git commit processes and what they waited for (the hooks). */
const cpu: Record<string, number> = {};

async function commit(r: string, i: number, env: Record<string, string> = {}, row = ""): Promise<number> {
  await Deno.writeTextFile(`${r}/f${i}.txt`, `${i}\n`);
  await run("git", ["add", `f${i}.txt`], r);
  const c = childCpu();
  const ms = await run("git", ["commit", "-q", "-m", `commit ${i}`], r, env);
  cpu[row] = (cpu[row] ?? 0) + childCpu() - c;
  return ms;
}

/** A repository with the hooks and one claim; its agent's environment. */
async function hooked(config = ""): Promise<{ dir: string; agent: Record<string, string> }> {
  const dir = await repo(config);
  installHooks(dir, BATON);
  const e = await openEngine(dir);
  e.upsertTicket({ id: "0001", title: "Bench" });
  const c = e.claim(e.ticket("0001").phases[0].id, { agentId: "bench-agent", capabilities: ["implementer"] });
  e.close();
  return { dir, agent: { BATON_AGENT_ID: "bench-agent", BATON_PHASE_ID: String(c.phase.id), BATON_CLAIM: c.token } };
}

/** Waits (bounded) until `n` commits are recorded (post-commit may run in the background), then checks. */
async function recorded(e: Engine, n: number, what: string): Promise<void> {
  const until = Date.now() + 60_000;
  let got = 0;
  while ((got = e.audit({ action: "phase.commit" }).length) < n && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const declared = e.declarations().length;
  if (got !== n || declared !== n) {
    throw new Error(`${what}: expected ${n} commits and declarations, got ${got}, ${declared}`);
  }
}

const OFF = "hooks:\n  server: off\n";
const plain = await repo();
const cold = await hooked(OFF);
const warm = await hooked();
const idle = await hooked();
const human = await hooked(OFF);
const humanIdle = await hooked();
const serverEngine = await openEngine(warm.dir);
const server = await startGuardServer(serverEngine);
if (!server) throw new Error("the guard server did not start");

const startup: number[] = [];
for (let i = 0; i < 20; i++) startup.push(await run(Deno.execPath(), ["run", "-A", CLI, "--version"], plain));

type Row = "plain" | "cold" | "warm" | "idle" | "human" | "humanIdle";
const times: Record<Row, number[]> = { plain: [], cold: [], warm: [], idle: [], human: [], humanIdle: [] };
// Warm the caches. The first commit in `idle` and `humanIdle` starts their `baton guard serve`: timed apart.
await commit(plain, -1), await commit(cold.dir, -1, cold.agent), await commit(warm.dir, -1, warm.agent);
const first = [await commit(idle.dir, -1, idle.agent), await commit(humanIdle.dir, -1)];
await new Promise((r) => setTimeout(r, 2000));
await commit(human.dir, -1);
const serving = async (dir: string) => {
  const sock = `${dir}/.git/baton/guard.sock`;
  for (let t = 0; t < 600 && !(await guardServerAnswers(sock)); t++) await new Promise((r) => setTimeout(r, 50));
  if (!(await guardServerAnswers(sock))) throw new Error(`no guard server answers in ${dir}`);
  return sock;
};
const idleSockets = [await serving(idle.dir), await serving(humanIdle.dir)];
// The background post-commit of one commit must not load the next one's (of another row): each commit waits,
// untimed, until the one before it is recorded.
const coldEngine = await openEngine(cold.dir);
const idleEngine = await openEngine(idle.dir);
const settled = async (e: Engine, n: number) => {
  for (let t = 0; t < 600 && e.audit({ action: "phase.commit" }).length < n; t++) {
    await new Promise((r) => setTimeout(r, 10));
  }
};
for (let i = 0; i < N; i++) {
  times.plain.push(await commit(plain, i, {}, "plain"));
  times.cold.push(await commit(cold.dir, i, cold.agent, "cold"));
  await settled(coldEngine, i + 2);
  times.warm.push(await commit(warm.dir, i, warm.agent, "warm"));
  await settled(serverEngine, i + 2);
  times.idle.push(await commit(idle.dir, i, idle.agent, "idle"));
  await settled(idleEngine, i + 2);
  times.human.push(await commit(human.dir, i, {}, "human"));
  times.humanIdle.push(await commit(humanIdle.dir, i, {}, "humanIdle"));
}
coldEngine.close();
await recorded(idleEngine, N + 1, "with baton guard serve");
idleEngine.close();
// The idle servers: each answered every commit after the first (status), then stopped.
for (const sock of idleSockets) {
  const o = await new Deno.Command("curl", { args: ["-s", "--unix-socket", sock, "http://baton/guard/status"] })
    .output();
  const st = JSON.parse(new TextDecoder().decode(o.stdout));
  if (st.kind !== "baton guard serve" || st.answered < N) throw new Error(`${sock}: ${JSON.stringify(st)}`);
  Deno.kill(st.pid, "SIGTERM");
}
const answered = server.answered;
await server.close();
await recorded(serverEngine, N + 1, "with the guard server");
serverEngine.close();
const check = await openEngine(cold.dir);
await recorded(check, N + 1, "without it");
check.close();
if (answered !== 2 * (N + 1)) throw new Error(`the guard server answered ${answered} requests, not ${2 * (N + 1)}`);

const cpuMs = (k: string) => (cpu[k] / N * 1000).toFixed(0).padStart(4);
const row = (name: string, k: Row) =>
  `  ${name.padEnd(44)} ${fmt(times[k])}   CPU ${cpuMs(k)} ms   median ${
    (pct(times[k], 50) / pct(times.plain, 50)).toFixed(1)
  }x, +${(pct(times[k], 50) - pct(times.plain, 50)).toFixed(0)} ms`;
console.log(`git commit, ${N} commits each (wall clock of the git process; load: ${Deno.loadavg().join(" ")})`);
console.log(`  ${"no hooks".padEnd(44)} ${fmt(times.plain)}   CPU ${cpuMs("plain")} ms`);
console.log(row("agent, baton run's guard server (curl)", "warm"));
console.log(row("agent, no baton run: baton guard serve", "idle"));
console.log(row("agent, no baton run, hooks.server off", "cold"));
console.log(row("human: baton guard serve (pre-commit only)", "humanIdle"));
console.log(row("human, hooks.server off (pre-commit only)", "human"));
console.log(
  `  ${"first commit, starting baton guard serve".padEnd(44)} agent ${first[0].toFixed(0)} ms, human ${
    first[1].toFixed(0)
  } ms (once per repository and idle period)`,
);
console.log(`  ${"baton --version (any Baton process)".padEnd(44)} ${fmt(startup)}`);
