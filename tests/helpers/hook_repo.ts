/**
 * Git repositories with Baton's hooks, and commits made by `git commit` as a
 * human or as an agent (the claim in the committer's environment, as
 * `baton run` puts it there).
 */
import assert from "node:assert/strict";
import type { Claim, Engine } from "../../mod.ts";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../../src/testing.ts";
import { baton } from "./cli.ts";
import { installHooks } from "../../src/cli/hooks.ts";

export const PHASES = "phases:\n  - {name: Implementation, agent_type: implementer}\n";

/** The environment without any Baton claim (a human), plus `extra`. */
export function envWith(extra: Record<string, string> = {}): Record<string, string> {
  const env = Object.fromEntries(Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("BATON_")));
  return { ...env, GIT_TERMINAL_PROMPT: "0", ...extra };
}

/** What `baton run` puts in an agent's environment. */
export function agentEnv(agentId: string, c: Claim): Record<string, string> {
  return envWith({ BATON_AGENT_ID: agentId, BATON_PHASE_ID: String(c.phase.id), BATON_CLAIM: c.token });
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function git(cwd: string, args: string[], env: Record<string, string> = envWith()): Promise<Run> {
  const o = await new Deno.Command("git", { args, cwd, env, clearEnv: true, stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout).trim(), stderr: d.decode(o.stderr).trim() };
}

export async function ok(cwd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await git(cwd, args, env);
  assert.equal(r.code, 0, `git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Writes `path` and commits it with `git commit` (hooks run) as whoever `env` says. */
export async function commit(
  repo: string,
  path: string,
  env: Record<string, string>,
  msg = `change ${path}`,
): Promise<Run> {
  const full = `${repo}/${path}`;
  await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(full, `${msg} ${crypto.randomUUID()}\n`);
  await ok(repo, ["add", path]);
  return await git(repo, ["commit", "-m", msg], env);
}

/**
 * `config` with `hooks.server_idle_minutes` set (unless it sets it): the guard server a hook starts in the
 * background stops soon after the test's last commit, not 10 minutes later.
 */
export function withIdleServer(config: string, minutes = 0.05): string {
  if (/server_idle_minutes/.test(config)) return config;
  const line = `  server_idle_minutes: ${minutes}\n`;
  return /^hooks:\n/m.test(config) ? config.replace(/^hooks:\n/m, `hooks:\n${line}`) : `${config}hooks:\n${line}`;
}

/**
 * A git repository with a one-phase workflow and tickets 0042 and 0043, optionally with the hooks installed (and
 * a guard server, when a hook starts one, that stops after 3 s without a request: {@link withIdleServer}).
 */
export async function hookRepo(
  config = "",
  opts: { install?: boolean; before?: (repo: string) => Promise<void>; clock?: () => number } = {},
): Promise<{ repo: string; engine: Engine }> {
  const repo = await tempRepo({
    phases: PHASES,
    config: withIdleServer(config),
    files: { ".gitignore": ".workflow/baton.db*\n", "README.md": "# project\n" },
  });
  await ok(repo, ["init", "-q", "-b", "main"]);
  await ok(repo, ["config", "user.email", "dev@example.com"]);
  await ok(repo, ["config", "user.name", "Dev"]);
  await ok(repo, ["add", "-A"]);
  await ok(repo, ["commit", "-q", "-m", "a project"]);
  await opts.before?.(repo);
  if (opts.install !== false) {
    const r = await baton(["hooks", "install"], { cwd: repo });
    assert.equal(r.code, 0, r.stderr);
  }
  // The first engine on the database sets its clock (a past clock: claims made long ago).
  const engine = await openEngine(repo, { clock: opts.clock });
  engine.upsertTicket({ id: "0042", title: "Cache" });
  engine.upsertTicket({ id: "0043", title: "Export" });
  return { repo, engine };
}

/** Claims ticket `id`'s Implementation for `agentId`. */
export function claimOf(e: Engine, id: string, agentId: string): Claim {
  const p = e.ticket(id).phases[0];
  return e.claim(p.id, { agentId, capabilities: ["implementer"] });
}

export const head = (repo: string) => ok(repo, ["rev-parse", "HEAD"]);

/** post-commit records in the background: waits (bounded) until `n` commits are in the audit. */
export async function commitsRecorded(e: Engine, n: number): Promise<ReturnType<Engine["audit"]>> {
  const until = Date.now() + 30_000;
  for (;;) {
    const rows = e.audit({ action: "phase.commit" });
    if (rows.length >= n || Date.now() > until) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/**
 * Installs the hooks with a `baton` that notes each start (its arguments, a line each) in `<repo>-starts`; returns
 * how to count them (those whose arguments start with `only`, if given). A guard server the hooks' Baton starts
 * is started with Baton's own command, not counted.
 */
export async function countingHooks(repo: string): Promise<(only?: string) => Promise<number>> {
  const log = `${repo}-starts`;
  const wrapper = `${repo}-baton`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\necho "$*" >> '${log}'\nexec '${Deno.execPath()}' run -A '${CLI}' "$@"\n`,
  );
  await Deno.chmod(wrapper, 0o755);
  installHooks(repo, [wrapper]);
  return async (only = "") =>
    (await Deno.readTextFile(log).catch(() => "")).split("\n").filter((l) => l && l.startsWith(only)).length;
}
