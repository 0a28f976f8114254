/**
 * Repositories for `baton run` tests: a real git repository with the example
 * workflow, every agent type of the registry running the scripted agent
 * (`src/agents/scripted_agent.ts`), and the supervisor spawned as a
 * process.
 */
import { openEngine } from "../../mod.ts";
import { CLI } from "./cli.ts";

const SCRIPTED = new URL("../../src/agents/scripted_agent.ts", import.meta.url).pathname;
const EXAMPLE = new URL("../../.workflow.example/", import.meta.url).pathname;
const TYPES = ["designer", "implementer", "test-writer", "security-reviewer", "docs-writer"];

function git(cwd: string, ...args: string[]): string {
  const o = new Deno.Command("git", {
    args: ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!o.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
  return new TextDecoder().decode(o.stdout).trim();
}
export { git };

/** The registry line of one agent type running the scripted agent. */
export function scriptedAgent(extra = ""): string {
  return `{ command: ${JSON.stringify(Deno.execPath())}, args: ["run", "-A", ${
    JSON.stringify(SCRIPTED)
  }, "--mcp-config", "{mcp_config}"]${extra ? `, ${extra}` : ""} }`;
}

/**
 * A git repository with the example workflow and the tickets given.
 * @param tickets id, title, metadata (e.g. `scripted: "hang-once"`)
 * @param opts registry extras per type (`max_concurrent: 1`), more config, another `phases.yaml`
 * @returns its path
 */
export async function runRepo(
  tickets: { id: string; title: string; metadata?: Record<string, unknown> }[],
  opts: { perType?: Record<string, string>; config?: string; phases?: string } = {},
): Promise<string> {
  const repo = await Deno.makeTempDir({ prefix: "baton-run-" });
  git(repo, "init", "-q", "-b", "main");
  await Deno.writeTextFile(`${repo}/README.md`, "# A project\n");
  await Deno.mkdir(`${repo}/.workflow`);
  if (opts.phases) await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, opts.phases);
  else await Deno.copyFile(`${EXAMPLE}phases.yaml`, `${repo}/.workflow/phases.yaml`);
  const registry = TYPES.map((t) => `    ${t}: ${scriptedAgent(opts.perType?.[t] ?? "")}`).join("\n");
  await Deno.writeTextFile(
    `${repo}/.workflow/config.yaml`,
    `agents:\n  stale_timeout_minutes: 1\n  registry:\n${registry}\nretry:\n  max_attempts: 3\n  backoff_seconds: 0\n${
      opts.config ?? ""
    }`,
  );
  await Deno.writeTextFile(`${repo}/.gitignore`, ".workflow/baton.db*\n");
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "a project with a Baton workflow");
  const e = await openEngine(repo);
  for (const t of tickets) e.upsertTicket(t);
  e.close();
  return repo;
}

/** A running `baton run`, its output collected. */
export interface RunProcess {
  child: Deno.ChildProcess;
  /** Its stdout so far. */
  out(): string;
  /** Resolves with its exit status and whole output. */
  done: Promise<{ code: number; out: string; err: string }>;
  /** Resolves once its stdout matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/**
 * Starts `baton run ARGS…` in a repository.
 * @param repo the repository
 * @param args e.g. `["--until-idle"]`
 * @param env more environment (the agents inherit it)
 * @returns the process
 */
export function startRun(
  repo: string,
  args: string[] = ["--until-idle"],
  env: Record<string, string> = {},
): RunProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", ...args],
    cwd: repo,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "", err = "";
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const pump = async (s: ReadableStream<Uint8Array>, isOut: boolean) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      if (isOut) out += chunk;
      else err += chunk;
      for (const w of [...waiters]) {
        const m = w.re.exec(out);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout, true), pump(child.stderr, false)]);
  const done = (async () => {
    const s = await child.status;
    await pumps;
    return { code: s.code, out, err };
  })();
  return {
    child,
    out: () => out,
    done,
    waitFor(re, timeoutMs = 60_000) {
      const m = re.exec(out);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${out}\n${err}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (m) => {
            clearTimeout(t);
            resolve(m);
          },
        });
      });
    },
  };
}

/**
 * Approves every open gate with the CLI, as a human would, until the run ends.
 * @param repo the repository
 * @param until resolves when to stop
 * @returns how many gates it approved
 */
export async function approveGatesUntil(repo: string, until: Promise<unknown>): Promise<number> {
  let stop = false;
  void until.then(() => stop = true);
  let approved = 0;
  while (!stop) {
    const o = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "gates", "--json"],
      cwd: repo,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "null",
    }).output();
    const gates = o.success ? JSON.parse(new TextDecoder().decode(o.stdout)) as { id: number }[] : [];
    for (const g of gates) {
      const a = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "approve", String(g.id), "--by", "reviewer", "--notes", "looks right"],
        cwd: repo,
        env: { NO_COLOR: "1" },
        stdout: "null",
        stderr: "null",
      }).output();
      if (a.success) approved++;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return approved;
}

/** A workflow of one agent phase (Implementation), for tests that need a single agent per ticket. */
export const ONE_PHASE = "phases:\n  - name: Implementation\n    agent_type: implementer\n";

/**
 * Tickets 0001…000N titled `Feature N`.
 * @param n how many
 * @param metadata each one's metadata (e.g. `{ scripted: "slow:4" }`)
 * @returns the tickets, for {@link runRepo}
 */
export function tickets(n: number, metadata: Record<string, unknown> = {}) {
  return Array.from({ length: n }, (_, i) => ({ id: `000${i + 1}`, title: `Feature ${i + 1}`, metadata }));
}
