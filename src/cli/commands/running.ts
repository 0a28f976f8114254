/**
 * Running agents: `run` (the supervisor), `logs`, `escalations`, `resolve`.
 *
 * @module
 */
import { BatonError } from "../../errors.ts";
import { type Command, type CommandContext, int, list } from "../command.ts";
import { onStopSignals } from "../../signals.ts";
import { formatDuration as duration } from "../../duration.ts";
import { localTime } from "../format.ts";
import { decider } from "../human.ts";
import type { WorkScope } from "../../engine/types.ts";
import { importLate } from "../../late_import.ts";

const GROUP = "Running agents";

/** `serve`. */
async function serve(c: CommandContext): Promise<number | void> {
  const port = int(c.values.port, "--port", 0) ?? 8766;
  const token = (c.values.token as string | undefined) ?? Deno.env.get("BATON_SERVE_TOKEN") ?? undefined;
  return await c.withEngine(async (e) => {
    const { serveDashboard } = await importLate<typeof import("../../serve/mod.ts")>(
      new URL("../../serve/mod.ts", import.meta.url),
    );
    const stop = new AbortController();
    const unlisten = onStopSignals(() => stop.abort());
    try {
      const s = serveDashboard(e, {
        port,
        host: c.values.host as string | undefined,
        token,
        signal: stop.signal,
        onListen: (url) => c.io.out(`baton dashboard on ${url} (Ctrl-C stops)`),
      });
      await s.finished;
    } finally {
      unlisten();
    }
  });
}

/** `run`. */
async function runSupervisor(c: CommandContext): Promise<number | void> {
  const maxAgents = int(c.values["max-agents"], "--max-agents", 1);
  const types = c.values.types ? list(c.values.types) : undefined;
  const scope: WorkScope = {};
  if (c.values.tickets) scope.tickets = list(c.values.tickets);
  if (c.values.label) scope.labels = list(c.values.label);
  if (c.values.priority) scope.priorities = list(c.values.priority);
  const scoped = Object.keys(scope).length > 0;
  return await c.withEngine(async (e) => {
    const { Supervisor } = await importLate<typeof import("../../run/supervisor.ts")>(
      new URL("../../run/supervisor.ts", import.meta.url),
    );
    const log = (l: string) => c.io.out(`${new Date().toISOString().slice(11, 19)} ${l}`);
    // With a merge: section, the merge queue runs beside the agents: finished tickets land as part of the job.
    const stopMerge = new AbortController();
    let supervisorDone = false;
    const worker = e.cfg.config.merge && c.values["dry-run"] !== true
      ? new (await importLate<typeof import("../../merge/mod.ts")>(new URL("../../merge/mod.ts", import.meta.url)))
        .MergeWorker(e, {
        idleWhen: c.values["until-idle"] === true ? () => supervisorDone : undefined,
        signal: stopMerge.signal,
        log,
      })
      : null;
    const sup = new Supervisor(e, {
      untilIdle: c.values["until-idle"] === true,
      dryRun: c.values["dry-run"] === true,
      types,
      maxAgents,
      log,
      busyElsewhere: worker ? () => worker.busy : undefined,
      scope: scoped ? scope : undefined,
    });
    let stops = 0;
    const onSignal = () => {
      if (++stops === 1) {
        c.io.err("stopping: no new agents; waiting for the running ones (Ctrl-C again ends them)");
        sup.stop();
        stopMerge.abort();
      } else {
        c.io.err("ending the running agents and releasing their phases");
        void sup.abort();
      }
    };
    const unlisten = onStopSignals(onSignal);
    try {
      // A worker stopped by an error (a push the remote refuses, a remote out of reach): the run stops as at a first
      // Ctrl-C (no new agents; the running ones finish), and ends with that error. Nothing is left unsupervised.
      let mergeError: unknown;
      const merging = worker?.run().catch((err) => {
        mergeError = err;
        log(`merge: the merge queue stopped: ${(err as Error).message}`);
        if (!supervisorDone) {
          c.io.err("stopping: no new agents; waiting for the running ones (the merge queue stopped on an error)");
          sup.stop();
        }
        return null;
      });
      const s = await sup.run().finally(() => {
        supervisorDone = true;
        if (c.values["until-idle"] !== true) stopMerge.abort();
      });
      c.io.out(
        `spawned ${s.spawned} agent(s); ${s.failedByExit} phase(s) failed by an agent's exit or time limit; ` +
          `${s.escalations} escalation(s); ${s.conflicts} merge conflict(s) sent back` +
          (s.environmentFailures
            ? `; ${s.environmentFailures} session(s) never reached Baton (no attempt counted)`
            : "") +
          (s.rateLimited ? `; ${s.rateLimited} session(s) stopped on a usage limit (no attempt counted)` : ""),
      );
      // With --until-idle, work that failed for good (or a type that could not run) is a failed run.
      const failedRun = c.values["until-idle"] === true && c.values["dry-run"] !== true &&
        (s.failed.length > 0 || s.tripped.length > 0 || s.unmerged.length > 0);
      if (failedRun) {
        for (const f of s.failed) {
          c.io.err(`failed for good: ${f.ticketId}/${f.phase} (phase ${f.phaseId}); see baton escalations`);
        }
        for (const t of s.tripped) c.io.err(`not run: ${t.type}: ${t.reason}`);
        for (const u of s.unmerged) {
          c.io.err(`not merged: ${u.branch} (${u.ticketId}/${u.phase}); what follows it waits (see the log for why)`);
        }
      }
      const m = await merging;
      if (mergeError) throw mergeError;
      if (m) {
        c.io.out(
          `merge queue: ${m.batches} batch(es); ${m.landed} ticket(s) landed; ${m.conflicts} conflict(s) and ` +
            `${m.culprits} check failure(s) sent back; ${m.flaky} flaky check(s)`,
        );
        if (m.targetRed && c.values["until-idle"] === true) {
          c.io.err(
            `${e.cfg.config.merge?.target} is red at ${m.targetRed.slice(0, 10)}: the check fails on it without any ` +
              "ticket, so nothing lands until a commit fixes it (or the check command is fixed)",
          );
          return 1;
        }
      }
      if (failedRun) return 1;
    } finally {
      unlisten();
    }
  });
}

/** `logs`. */
function logs(c: CommandContext): Promise<number> {
  const id = int(c.positionals[0], "PHASE", 1)!;
  return c.withEngine(async (e) => {
    const p = e.phase(id);
    const { logsDir, phaseLogs, readLogFrom } = await importLate<typeof import("../../repo/agent_logs.ts")>(
      new URL("../../repo/agent_logs.ts", import.meta.url),
    );
    const dir = logsDir(e.cfg);
    const files = phaseLogs(dir, p.ticketId, p.name);
    if (!files.length) {
      throw new BatonError("not_found", `No agent logs for phase ${id} (${p.ticketId}/${p.name}) in ${dir}`);
    }
    let offset = 0;
    for (const f of files) {
      const r = readLogFrom(f);
      c.io.out(r.text.trimEnd());
      offset = r.size; // the last one's: the one followed
    }
    if (!c.values.follow) return;
    const newest = files.at(-1)!;
    const stop = new AbortController();
    const unlisten = onStopSignals(() => stop.abort());
    try {
      while (!stop.signal.aborted) {
        await new Promise((r) => setTimeout(r, 250));
        const r = readLogFrom(newest, offset);
        if (!r.text) continue;
        offset = r.size;
        c.io.out(r.text.trimEnd());
      }
    } finally {
      unlisten();
    }
  });
}

/** `escalations`. */
function escalations(c: CommandContext): Promise<number> {
  return c.withEngine((e) => {
    const rows = e.escalations({ all: c.values.all === true });
    c.emitTable(
      rows,
      ["ESC", "TICKET", "PHASE", "AGENT", "SINCE", "REASON", "STATE"],
      (x) => [
        x.id,
        x.ticketId,
        `${x.phaseId} ${x.phaseName}`,
        x.agentId,
        localTime(x.openedAt),
        x.reason,
        x.resolvedAt ? `resolved by ${x.resolvedBy}: ${x.resolution}` : duration(e.now() - x.openedAt),
      ],
    );
    if (!c.json) {
      for (const x of rows.filter((r) => !r.resolvedAt && r.lastOutput)) {
        c.io.out(`\nlast output of ${x.agentId ?? `the gate's last rejection`} (escalation ${x.id}):\n${x.lastOutput}`);
      }
      // What clears each: a held phase (a stalled agent) is taken back; a failed one (out of attempts, a gate past
      // its revisions) gets another round; any escalation can be closed as it is.
      const open = rows.filter((r) => !r.resolvedAt).map((r) => e.phase(r.phaseId).status);
      if (open.length) {
        const ways = ["'baton resolve ESC'"];
        if (open.some((s) => s === "claimed" || s === "running")) ways.push("'baton release PHASE --by NAME' (held)");
        if (open.includes("failed")) ways.push("'baton retry PHASE --notes …' (failed)");
        c.io.out(`\nclear with ${ways.join(", ")}`);
      }
    }
  });
}

/** `resolve`. */
async function resolve(c: CommandContext): Promise<number | void> {
  const id = int(c.positionals[0], "ESC", 1)!;
  const by = await decider(c.values.by, "Resolving an escalation");
  return c.withEngine((e) => {
    const x = e.resolveEscalation(id, {
      actor: { kind: "human", name: by },
      notes: c.values.notes as string | undefined,
    });
    c.emit(x, () => `escalation ${x.id} (${x.ticketId}/${x.phaseName}) resolved by ${by}`);
  });
}

/** The commands of this group. */
export const RUNNING: Command[] = [
  {
    name: "serve",
    group: GROUP,
    usage: "serve [--port 8766] [--host 127.0.0.1] [--token TOKEN]",
    summary: ["the web dashboard: board, tickets, gates, agents, metrics, live"],
    description:
      "Serves the dashboard, its JSON API under /api/ and a server-sent-events stream of every process's events. " +
      "Loopback only by default, where Host and Origin must be local; beyond loopback a token is required (--token, or " +
      "BATON_SERVE_TOKEN); open the dashboard once with ?token=TOKEN. Gate decisions are recorded in the name the " +
      "reviewer enters. Ctrl-C stops it.",
    positionals: [0, 0],
    options: {
      port: { type: "string", value: "N", help: "port (default 8766; 0 picks a free one)" },
      host: { type: "string", value: "ADDR", help: "address to bind (default 127.0.0.1)" },
      token: { type: "string", value: "TOKEN", help: "required for every request (and to bind beyond loopback)" },
    },
    examples: ["serve", "serve --port 0", 'serve --host 0.0.0.0 --token "$(openssl rand -hex 16)"'],
    run: serve,
  },
  {
    name: "run",
    group: GROUP,
    usage:
      "run [--until-idle] [--dry-run] [--types T[,T…]] [--max-agents N] [--tickets ID[,ID…]] [--label L] [--priority P]",
    summary: ["start agents from agents.registry for available phases, one git worktree each"],
    description:
      "The supervisor: for every available phase of a registry type that has a command, and a free slot (max_concurrent), " +
      "it claims the phase, prepares a worktree (branch baton/<ticket>), writes the prompt and starts the command; the agent " +
      "inherits the claim. An agent that exits still holding its phase fails it (with its stderr tail); max_runtime_minutes " +
      "ends it; a stall becomes an escalation. It never completes work itself, and never decides a gate. Ctrl-C stops " +
      "spawning and waits for the agents (each runs in its own process group, out of the terminal's reach); a second " +
      "Ctrl-C ends them and releases their phases. A session that never reached Baton, or stopped on a usage limit, " +
      "costs no attempt; agents of one type failing at once stop that type (an escalation says why). With " +
      "--until-idle it exits 1 when work failed for good.",
    positionals: [0, 0],
    options: {
      "until-idle": {
        type: "boolean",
        help:
          "exit when no agent runs, nothing is claimable and no gate waits (scripts, CI, the demo): 0, or 1 when work failed for good",
      },
      "dry-run": { type: "boolean", help: "print what it would spawn, and spawn nothing" },
      types: { type: "string", value: "T[,T…]", help: "serve only these agent types" },
      "max-agents": { type: "string", value: "N", help: "at most N agents at once, all types together" },
      tickets: { type: "string", value: "ID[,ID…]", help: "only work of these tickets" },
      label: { type: "string", value: "L[,L…]", help: "only tickets with one of these labels (metadata labels)" },
      priority: { type: "string", value: "P[,P…]", help: "only tickets of these priorities" },
    },
    examples: [
      "run",
      "run --until-idle --max-agents 4",
      "run --types implementer --dry-run",
      "run --until-idle --tickets 0001,0002",
      "run --priority Critical,High",
    ],
    run: runSupervisor,
  },
  {
    name: "logs",
    group: GROUP,
    usage: "logs PHASE [--follow]",
    summary: ["the output of the agents baton run started for a phase"],
    args: [{ name: "PHASE", help: "the phase's numeric id" }],
    positionals: [1, 1],
    options: { follow: { type: "boolean", help: "keep printing the newest log as it grows (Ctrl-C stops)" } },
    examples: ["logs 31", "logs 31 --follow"],
    run: logs,
  },
  {
    name: "escalations",
    group: GROUP,
    usage: "escalations [--all]",
    summary: ["stalled phases waiting for a human, with the agent's last output"],
    positionals: [0, 0],
    options: { all: { type: "boolean", help: "resolved ones too" } },
    run: escalations,
  },
  {
    name: "resolve",
    group: GROUP,
    usage: "resolve ESC [--notes TEXT] [--by NAME]",
    summary: ["close an escalation: a human looked, the work goes on"],
    args: [{ name: "ESC", help: "the escalation's id (see `baton escalations`)" }],
    positionals: [1, 1],
    options: {
      notes: { type: "string", value: "TEXT", help: "what you decided" },
      by: { type: "string", value: "NAME", help: "who decides (default: the git user; refused when neither is known)" },
    },
    run: resolve,
  },
];
