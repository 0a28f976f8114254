/**
 * Supervisor overhead: the time from a phase becoming available (its ticket
 * committed by another process) to its agent's process running, with 8
 * agents at once, for `run.worktrees: none` and `git`.
 *
 * The agent is `/bin/sh`, which records its start time and claim, and
 * sleeps; this process then completes the phase with the agent's claim
 * token, as the agent's own MCP session would. The baseline, measured in the
 * same run, is the same `/bin/sh` started directly: what any supervisor
 * pays to start a process. Target: p50 under 100 ms plus that.
 *
 * `deno task bench:run [rounds]` (default 10 rounds of 8 tickets)
 */
import { openEngine } from "../mod.ts";
import { git } from "../tests/helpers/run_repo.ts";
import { CLI } from "../tests/helpers/cli.ts";

const ROUNDS = Number(Deno.args[0] ?? 10);
const AGENTS = 8;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const nowMs = () => performance.timeOrigin + performance.now();

/** The agent: one line "start-ns agent phase token ticket" appended to a file, then a pause. */
function agentScript(file: string): string {
  return `printf '%s %s %s %s %s\\n' "$(date +%s%N)" "$BATON_AGENT_ID" "$BATON_PHASE_ID" "$BATON_CLAIM_TOKEN" "{ticket}" >> ${file}; sleep 2`;
}

function readStarts(file: string): { at: number; agent: string; phase: number; token: string; ticket: string }[] {
  let text = "";
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    return [];
  }
  return text.trim().split("\n").filter(Boolean).map((l) => {
    const [ns, agent, phase, token, ticket] = l.split(" ");
    return { at: Number(BigInt(ns) / 1000n) / 1000, agent, phase: Number(phase), token, ticket };
  });
}

/** Process start alone: the same shell, spawned directly, 8 at a time. */
async function baseline(samples: number): Promise<number[]> {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/starts`;
  const out: number[] = [];
  for (let done = 0; done < samples; done += AGENTS) {
    const before = readStarts(file).length;
    const t0 = nowMs();
    const kids = Array.from({ length: AGENTS }, () =>
      new Deno.Command("/bin/sh", {
        args: ["-c", agentScript(file).replace("sleep 2", "true")],
        stdout: "null",
        stderr: "null",
      }).spawn());
    await Promise.all(kids.map((k) => k.status));
    for (const s of readStarts(file).slice(before)) out.push(s.at - t0);
  }
  await Deno.remove(dir, { recursive: true });
  return out;
}

async function supervised(worktrees: "none" | "git"): Promise<{ lat: number[]; spawns: number }> {
  const repo = await Deno.makeTempDir({ prefix: "baton-bench-run-" });
  const starts = `${repo}/.starts`;
  git(repo, "init", "-q", "-b", "main");
  await Deno.mkdir(`${repo}/.workflow`);
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, "phases:\n  - {name: Work, agent_type: worker}\n");
  await Deno.writeTextFile(
    `${repo}/.workflow/config.yaml`,
    `agents:\n  registry:\n    worker: {command: /bin/sh, args: ["-c", ${
      JSON.stringify(agentScript(starts))
    }], max_concurrent: ${AGENTS}}\nrun:\n  worktrees: ${worktrees}\n`,
  );
  await Deno.writeTextFile(
    `${repo}/.gitignore`,
    ".workflow/baton.db*\n.workflow/logs/\n.workflow/worktrees/\n.starts\n",
  );
  git(repo, "add", "-A");
  git(repo, "-c", "user.name=Bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "init");
  const engine = await openEngine(repo);
  const sup = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run"],
    cwd: repo,
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await new Promise((r) => setTimeout(r, 1500)); // the supervisor is up and idle
  const lat: number[] = [];
  let n = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const before = readStarts(starts).length;
    const avail = new Map<string, number>();
    for (let i = 0; i < AGENTS; i++) {
      const id = String(++n).padStart(4, "0");
      engine.upsertTicket({ id, title: `Ticket ${id}` });
      avail.set(id, nowMs()); // committed: available to every process from now
    }
    const deadline = Date.now() + 30_000;
    let got = readStarts(starts).slice(before);
    while (got.length < AGENTS && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      got = readStarts(starts).slice(before);
    }
    if (got.length < AGENTS) throw new Error(`round ${round}: only ${got.length} of ${AGENTS} agents started`);
    for (const s of got) {
      lat.push(s.at - avail.get(s.ticket)!);
      engine.complete(s.phase, { agentId: s.agent, token: s.token, summary: "done" });
    }
    await new Promise((r) => setTimeout(r, 2200)); // the agents exit; their slots free up
  }
  sup.kill("SIGINT");
  await sup.status;
  engine.close();
  await Deno.remove(repo, { recursive: true });
  return { lat, spawns: n };
}

const base = await baseline(ROUNDS * AGENTS);
console.log(
  `process start alone (/bin/sh, ${AGENTS} at once): p50 ${pct(base, 0.5).toFixed(1)} ms, p99 ${
    pct(base, 0.99).toFixed(1)
  } ms`,
);
for (const mode of ["none", "git"] as const) {
  const { lat } = await supervised(mode);
  const p50 = pct(lat, 0.5), p99 = pct(lat, 0.99);
  console.log(
    `baton run, worktrees: ${mode.padEnd(4)} available → agent running: p50 ${p50.toFixed(1)} ms, p99 ${
      p99.toFixed(1)
    } ms (${lat.length} agents, ${AGENTS} at once); ${(p50 / pct(base, 0.5)).toFixed(1)}× process start; ` +
      `overhead p50 ${(p50 - pct(base, 0.5)).toFixed(1)} ms`,
  );
}
