/**
 * Looking: `status`, `list`, `blocked`, `queue`, `ready`, `agents`,
 * `context`, `metrics`, `audit`, `watch`. Each command's work is a named
 * function; the table at the end says how each is called.
 *
 * @module
 */
import { parseSince } from "../../duration.ts";
import type { Engine } from "../../engine/mod.ts";
import type { AuditEntry } from "../../engine/types.ts";
import { isoDates } from "../../json.ts";
import { onStopSignals } from "../../signals.ts";
import { type Command, type CommandContext, int, list, usage } from "../command.ts";
import { localTime } from "../format.ts";
import { agentsText, metricsText } from "../views/metrics.ts";
import { eventLine, ticketText } from "../views/ticket.ts";
import { importLate } from "../../late_import.ts";

const GROUP = "Looking";
const TICKET = { name: "TICKET", help: "a ticket id, e.g. 0083" };

/** `status --watch`: the dashboard redrawn on each change (and each minute, for the ages it shows), for tmux. */
async function watchDashboard(c: CommandContext, e: Engine): Promise<void> {
  const { dashboard } = await importLate<typeof import("../dashboard.ts")>(new URL("../dashboard.ts", import.meta.url));
  const stop = new AbortController();
  const unlisten = onStopSignals(() => stop.abort());
  const draw = () => c.io.out(`\x1b[H\x1b[2J${dashboard(e).text}\n\n(live: redrawn on every event; Ctrl-C ends)`);
  // Events from the moment before the first frame: one committed while it is drawn is not missed.
  const since = e.audit({ limit: 1, latest: true })[0]?.id ?? 0;
  draw();
  let pending = false;
  const minute = setInterval(draw, 60_000);
  try {
    for await (const _ of e.watch({ since, pollMs: 100, signal: stop.signal })) {
      if (pending) continue;
      pending = true;
      setTimeout(() => {
        pending = false;
        if (!stop.signal.aborted) draw();
      }, 50);
    }
  } finally {
    clearInterval(minute);
    unlisten();
  }
}

/** `status [TICKET] [--watch]`. */
function status(c: CommandContext): Promise<number> {
  return c.withEngine(async (e) => {
    const id = c.positionals[0];
    if (id) {
      const t = e.ticket(id);
      const events = e.audit({ ticketId: t.id, limit: 10, latest: true });
      c.emit({ ...t, events }, () => ticketText(t, events));
      return;
    }
    if (c.values.watch === true) return await watchDashboard(c, e);
    const { dashboard } = await importLate<typeof import("../dashboard.ts")>(
      new URL("../dashboard.ts", import.meta.url),
    );
    const d = dashboard(e);
    c.emit(d.data, () => d.text);
  });
}

/** `list`: tickets in priority order. */
function listTickets(c: CommandContext): Promise<number> {
  const status = c.values.status as string | undefined;
  if (status && !["active", "completed"].includes(status)) {
    throw usage(`--status must be active or completed, got "${status}"`);
  }
  return c.withEngine((e) => {
    const rows = e.listTickets({
      status: status as "active" | "completed" | undefined,
      priority: c.values.priority as string | undefined,
      component: c.values.component as string | undefined,
      agent: c.values.agent as string | undefined,
      blocked: c.values.blocked as boolean | undefined,
    });
    const priority = c.values.priority as string | undefined;
    const order = e.cfg.config.priority_order;
    const known = (p: string) =>
      order.some((o) => o.toLowerCase() === p.toLowerCase()) || e.listTickets({ priority: p }).length > 0;
    if (priority && !rows.length && !known(priority)) {
      throw usage(`--priority "${priority}" is not in priority_order (${order.join(", ")}) and no ticket has it`);
    }
    c.emitTable(
      rows,
      ["ID", "TITLE", "STATUS", "PRIORITY", "AT PHASE", "BLOCKED"],
      (r) => [r.id, r.title, r.status, r.priority, r.phase, r.blocked ? "yes" : ""],
    );
  });
}

/** `blocked`: what cannot proceed, and why. */
function blocked(c: CommandContext): Promise<number> {
  return c.withEngine((e) =>
    c.emitTable(
      e.blocked(),
      ["TICKET", "PHASE", "REASON", "SINCE", "DETAIL"],
      (b) => [b.ticketId, b.phaseName, b.reason, localTime(b.since), b.detail],
    )
  );
}

/** `queue AGENT_TYPE`: available phases in claim order. */
function queue(c: CommandContext): Promise<number> {
  return c.withEngine((e) => {
    const type = c.positionals[0];
    const types = e.graph.agentTypes();
    if (!types.includes(type)) {
      c.io.err(`warning: no phase of the workflow is for agent type "${type}" (the types are ${types.join(", ")})`);
    }
    c.emitTable(
      e.queue(type),
      ["PHASE ID", "TICKET", "PHASE", "ATTEMPTS", "AVAILABLE SINCE"],
      (p) => [p.id, p.ticketId, p.name, p.attempts, localTime(p.availableAt)],
    );
  });
}

/** `ready`: phases that can run side by side. */
function ready(c: CommandContext): Promise<number> {
  const n = int(c.values.parallel, "--parallel", 1) ?? 10;
  return c.withEngine((e) => {
    const caps = list(c.values.capabilities);
    c.emitTable(
      e.readyParallel(n, caps.length ? caps : undefined),
      ["PHASE ID", "TICKET", "PHASE", "AGENT TYPE", "PATHS"],
      (p) => [p.id, p.ticketId, p.name, p.agentType, p.pathsKnown ? p.paths.join(" ") : "(unknown)"],
    );
  });
}

/** `agents`: registered agents, and the agent types. */
function agents(c: CommandContext): Promise<number> {
  return c.withEngine((e) => {
    const rows = e.agents();
    const types = e.agentTypes();
    c.emit({ agents: rows, types }, () => agentsText(rows, types));
  });
}

/** `context PHASE`: a phase's assembled context. */
function context(c: CommandContext): Promise<number> {
  const id = int(c.positionals[0], "PHASE", 1)!;
  return c.withEngine((e) => {
    const ctx = e.context({ phaseId: id }, { budgetBytes: int(c.values.budget, "--budget", 100) });
    c.emit(ctx, () => JSON.stringify(isoDates(ctx), null, 2));
  });
}

/** `metrics [--since]`. */
function metrics(c: CommandContext): Promise<number> {
  return c.withEngine((e) => {
    const m = e.metrics({ since: parseSince(c.values.since as string | undefined, e.now(), "--since") });
    c.emit(m, () => metricsText(m));
  });
}

/** `audit`: the latest rows matching the filters, oldest first. */
function audit(c: CommandContext): Promise<number> {
  const limit = int(c.values.limit, "--limit", 1) ?? 50;
  return c.withEngine((e) => {
    const rows = e.audit({
      ticketId: c.values.ticket as string | undefined,
      agentId: c.values.agent as string | undefined,
      since: parseSince(c.values.since as string | undefined, e.now(), "--since"),
      limit,
      latest: true,
    });
    c.emitTable(rows, ["ID", "WHEN", "ACTOR", "ACTION", "ENTITY", "TICKET", "FROM", "TO", "DETAIL"], (a) => [
      a.id,
      localTime(a.at),
      a.actor,
      a.action,
      `${a.entityType} ${a.entityId}`,
      a.ticketId,
      a.oldState,
      a.newState,
      auditDetail(a),
    ]);
  });
}

/**
 * The one detail of an audit row worth a column: a commit's SHA and subject,
 * the SHA a ticket landed as, why a commit was refused, the phase moved.
 */
function auditDetail(a: AuditEntry): string {
  const d = a.details ?? {};
  const s = (k: string) => (typeof d[k] === "string" ? d[k] as string : "");
  const first = (t: string) => t.split("\n")[0].slice(0, 100);
  switch (a.action) {
    case "phase.commit":
      return `${s("phase")}: commit ${s("sha").slice(0, 12)} ${first(s("subject"))}${
        d.claim === "lost" ? " (made without the claim)" : ""
      }`;
    case "commit.refused":
      return `${s("phase")}: ${first(s("reason")) || `${d.overlaps} file(s) claimed by others`}`;
    case "merge.landed":
      return `landed ${s("sha").slice(0, 12)} (${s("branch")}${
        Array.isArray(d.commits) && d.commits.length
          ? `; commits ${d.commits.map((x) => String(x).slice(0, 12)).join(", ")}`
          : ""
      })`;
    case "merge.fenced":
    case "merge.conflict":
    case "merge.culprit":
      return first(s("notes"));
    case "files.declared":
      return `${s("phase")}: ${Array.isArray(d.paths) ? d.paths.join(", ").slice(0, 100) : ""}`;
    default:
      return s("phase");
  }
}

/** `watch`: events as they happen, until SIGINT or SIGTERM. */
function watch(c: CommandContext): Promise<number> {
  const since = int(c.values.after, "--after", 0);
  return c.withEngine(async (e) => {
    const ac = new AbortController();
    const unlisten = onStopSignals(() => ac.abort());
    try {
      const opts = {
        since,
        ticketId: c.values.ticket as string | undefined,
        agentId: c.values.agent as string | undefined,
        signal: ac.signal,
      };
      for await (const a of e.watch(opts)) c.io.out(c.json ? JSON.stringify(isoDates(a)) : eventLine(a));
    } finally {
      unlisten();
    }
  });
}

/** The commands of this group. */
export const LOOKING: Command[] = [
  {
    name: "status",
    group: GROUP,
    usage: "status [TICKET] [--watch]",
    summary: ["dashboard, or one ticket's phases, gates, dependencies, events"],
    args: [TICKET],
    positionals: [0, 1],
    options: {
      watch: { type: "boolean", help: "redraw the dashboard on every event of any process, until Ctrl-C" },
    },
    examples: ["status", "status 0083", "status 0083 --json", "status --watch"],
    run: status,
  },
  {
    name: "list",
    group: GROUP,
    usage: "list [--status S] [--priority P] [--component C] [--agent A] [--blocked]",
    summary: [],
    description: "Tickets in priority order, with the phase each is at.",
    positionals: [0, 0],
    options: {
      status: { type: "string", value: "S", help: "active or completed" },
      priority: { type: "string", value: "P", help: "a priority label" },
      component: { type: "string", value: "C", help: "part of a component name (metadata components)" },
      agent: { type: "string", value: "A", help: "tickets where this agent holds a phase" },
      blocked: { type: "boolean", help: "only tickets waiting on a dependency" },
    },
    examples: ["list --status active --priority High", "list --blocked"],
    run: listTickets,
  },
  {
    name: "blocked",
    group: GROUP,
    usage: "blocked",
    summary: ["what cannot proceed, and why"],
    positionals: [0, 0],
    run: blocked,
  },
  {
    name: "queue",
    group: GROUP,
    usage: "queue AGENT_TYPE",
    summary: ["available phases for an agent type, in claim order"],
    args: [{ name: "AGENT_TYPE", help: "an agent type of phases.yaml, e.g. implementer" }],
    positionals: [1, 1],
    examples: ["queue implementer"],
    run: queue,
  },
  {
    name: "ready",
    group: GROUP,
    usage: "ready [--parallel N]",
    summary: ["phases that can run side by side without file overlaps"],
    positionals: [0, 0],
    options: {
      parallel: { type: "string", value: "N", help: "at most N phases (default 10)" },
      capabilities: { type: "string", value: "T[,T…]", help: "only these agent types" },
    },
    examples: ["ready --parallel 4"],
    run: ready,
  },
  {
    name: "agents",
    group: GROUP,
    usage: "agents",
    summary: ["registered agents and what they hold"],
    positionals: [0, 0],
    run: agents,
  },
  {
    name: "context",
    group: GROUP,
    usage: "context PHASE [--budget BYTES]",
    summary: ["the assembled context of a phase"],
    args: [{ name: "PHASE", help: "a phase's numeric id (see `baton status TICKET`)" }],
    positionals: [1, 1],
    options: {
      budget: { type: "string", value: "BYTES", help: "fit it to this many bytes (default context.budget_bytes)" },
    },
    examples: ["context 12 --budget 20000"],
    run: context,
  },
  {
    name: "metrics",
    group: GROUP,
    usage: "metrics [--since DURATION|DATE]",
    summary: ["durations, waits, throughput, bottleneck, contention"],
    positionals: [0, 0],
    options: { since: { type: "string", value: "DURATION|DATE", help: "only from then on: 2h, 3d, 30m, or a date" } },
    examples: ["metrics --since 7d"],
    run: metrics,
  },
  {
    name: "audit",
    group: GROUP,
    usage: "audit [--ticket T] [--agent A] [--since D] [--limit N]",
    summary: [],
    description: "The audit trail, oldest first: the latest N rows (default 50) matching the filters.",
    positionals: [0, 0],
    options: {
      ticket: { type: "string", value: "T", help: "rows about this ticket" },
      agent: { type: "string", value: "A", help: "rows by this actor (an agent id, or human:NAME)" },
      since: { type: "string", value: "D", help: "from then on: 2h, 3d, 30m, or a date" },
      limit: { type: "string", value: "N", help: "the latest N rows (default 50)" },
    },
    examples: ["audit --ticket 0083 --limit 20", "audit --agent human:dana --since 1d"],
    run: audit,
  },
  {
    name: "watch",
    group: GROUP,
    usage: "watch [--ticket T] [--agent A] [--after ID]",
    summary: ["follow events as they happen (Ctrl-C stops);", "--after replays those after audit ID first"],
    positionals: [0, 0],
    options: {
      ticket: { type: "string", value: "T", help: "events about this ticket" },
      agent: { type: "string", value: "A", help: "events by this actor" },
      after: { type: "string", value: "ID", help: "first replay the events after this audit id" },
    },
    examples: ["watch", "watch --ticket 0083 --json"],
    run: watch,
  },
];
