/**
 * Looking: `status`, `list`, `blocked`, `queue`, `ready`, `agents`,
 * `context`, `metrics`, `audit`, `watch`.
 *
 * @module
 */
import { formatDuration as duration, parseSince } from "../../duration.ts";
import { isoDates } from "../../json.ts";
import { type Command, int, list, usage } from "../command.ts";
import { localTime, paint, table } from "../format.ts";
import { isHeld } from "../../state_machine.ts";

const GROUP = "Looking";
const TICKET = { name: "TICKET", help: "a ticket id, e.g. 0083" };

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
    run(c) {
      return c.withEngine(async (e) => {
        if (!c.positionals[0]) {
          const { dashboard } = await import("../dashboard.ts");
          if (c.values.watch === true) {
            // A terminal dashboard for tmux: redrawn on each change, and each minute for the ages it shows.
            const stop = new AbortController();
            const onSignal = () => stop.abort();
            Deno.addSignalListener("SIGINT", onSignal);
            const draw = () => {
              const d = dashboard(e);
              c.io.out(`\x1b[H\x1b[2J${d.text}\n\n(live: redrawn on every event; Ctrl-C ends)`);
            };
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
              Deno.removeSignalListener("SIGINT", onSignal);
            }
            return;
          }
          const d = dashboard(e);
          c.emit(d.data, () => d.text);
          return;
        }
        const t = e.ticket(c.positionals[0]);
        const events = e.audit({ ticketId: t.id, limit: 10, latest: true });
        c.emit({ ...t, events }, () =>
          [
            `${paint(t.id, "bold")}  ${t.title}  [${t.status}]${t.priority ? `  priority ${t.priority}` : ""}`,
            "",
            table(
              ["ID", "PHASE", "STATUS", "AGENT TYPE", "HELD BY", "ATTEMPTS", "COMPLETED"],
              t.phases.map((p) => [
                p.id,
                p.name,
                p.status,
                p.agentType ?? "(human gate)",
                p.claimedBy && isHeld(p.status) ? p.claimedBy : "",
                p.attempts,
                localTime(p.completedAt),
              ]),
            ),
            "",
            "Gates: " + (t.gates.length ? "" : "none"),
            ...(t.gates.length
              ? [table(
                ["GATE", "PHASE", "KIND", "STATUS", "OPENED", "DECIDED BY", "NOTES"],
                t.gates.map((g) => [g.id, g.phaseName, g.kind, g.status, localTime(g.openedAt), g.decidedBy, g.notes]),
              )]
              : []),
            "Depends on: " +
            (t.dependencies.map((d) => `${d.dependsOn} (${d.type}${d.satisfiedAt ? ", satisfied" : ", waiting"})`)
              .join(", ") || "nothing"),
            "Blocks: " + (t.dependents.map((d) => d.ticketId).join(", ") || "nothing"),
            "",
            "Recent events:",
            table(
              ["WHEN", "ACTOR", "ACTION", "FROM", "TO"],
              events.map((a) => [localTime(a.at), a.actor, a.action, a.oldState, a.newState]),
            ),
          ].join("\n"));
      });
    },
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
    run(c) {
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
        c.emitTable(
          rows,
          ["ID", "TITLE", "STATUS", "PRIORITY", "AT PHASE", "BLOCKED"],
          (r) => [r.id, r.title, r.status, r.priority, r.phase, r.blocked ? "yes" : ""],
        );
      });
    },
  },
  {
    name: "blocked",
    group: GROUP,
    usage: "blocked",
    summary: ["what cannot proceed, and why"],
    positionals: [0, 0],
    run(c) {
      return c.withEngine((e) =>
        c.emitTable(
          e.blocked(),
          ["TICKET", "PHASE", "REASON", "SINCE", "DETAIL"],
          (b) => [b.ticketId, b.phaseName, b.reason, localTime(b.since), b.detail],
        )
      );
    },
  },
  {
    name: "queue",
    group: GROUP,
    usage: "queue AGENT_TYPE",
    summary: ["available phases for an agent type, in claim order"],
    args: [{ name: "AGENT_TYPE", help: "an agent type of phases.yaml, e.g. implementer" }],
    positionals: [1, 1],
    examples: ["queue implementer"],
    run(c) {
      return c.withEngine((e) => {
        const type = c.positionals[0];
        if (!e.cfg.workflow.phases.some((p) => p.agentType === type)) {
          const known = [...new Set(e.cfg.workflow.phases.map((p) => p.agentType).filter(Boolean))].join(", ");
          c.io.err(`warning: no phase of the workflow is for agent type "${type}" (the types are ${known})`);
        }
        c.emitTable(
          e.queue(type),
          ["PHASE ID", "TICKET", "PHASE", "ATTEMPTS", "AVAILABLE SINCE"],
          (p) => [p.id, p.ticketId, p.name, p.attempts, localTime(p.availableAt)],
        );
      });
    },
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
    run(c) {
      const n = int(c.values.parallel, "--parallel", 1) ?? 10;
      return c.withEngine((e) => {
        const caps = list(c.values.capabilities);
        c.emitTable(
          e.readyParallel(n, caps.length ? caps : undefined),
          ["PHASE ID", "TICKET", "PHASE", "AGENT TYPE", "PATHS"],
          (p) => [p.id, p.ticketId, p.name, p.agentType, p.pathsKnown ? p.paths.join(" ") : "(unknown)"],
        );
      });
    },
  },
  {
    name: "agents",
    group: GROUP,
    usage: "agents",
    summary: ["registered agents and what they hold"],
    positionals: [0, 0],
    run(c) {
      return c.withEngine((e) => {
        const rows = e.agents();
        const types = e.agentTypes();
        c.emit({ agents: rows, types }, () =>
          [
            table(
              ["AGENT", "STATUS", "CAPABILITIES", "LAST HEARTBEAT", "HOLDS"],
              rows.map((a) => [
                a.id,
                a.status,
                a.capabilities.join(","),
                localTime(a.lastHeartbeat),
                a.holds.map((h) => `${h.ticketId}/${h.phase}`).join(", "),
              ]),
            ),
            "",
            table(
              ["AGENT TYPE", "HELD", "MAX", "AVAILABLE", "COMMAND"],
              types.map((t) => [
                t.type,
                t.held,
                t.maxConcurrent ?? "-",
                t.available,
                t.command ? [t.command, ...t.args].join(" ") : "-",
              ]),
            ),
          ].join("\n"));
      });
    },
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
    run(c) {
      const id = int(c.positionals[0], "PHASE", 1)!;
      return c.withEngine((e) => {
        const ctx = e.context({ phaseId: id }, { budgetBytes: int(c.values.budget, "--budget", 100) });
        c.emit(ctx, () => JSON.stringify(isoDates(ctx), null, 2));
      });
    },
  },
  {
    name: "metrics",
    group: GROUP,
    usage: "metrics [--since DURATION|DATE]",
    summary: ["durations, waits, throughput, bottleneck, contention"],
    positionals: [0, 0],
    options: { since: { type: "string", value: "DURATION|DATE", help: "only from then on: 2h, 3d, 30m, or a date" } },
    examples: ["metrics --since 7d"],
    run(c) {
      return c.withEngine((e) => {
        const m = e.metrics({ since: parseSince(c.values.since as string | undefined, e.now(), "--since") });
        c.emit(m, () =>
          [
            table(
              ["PHASE", "DONE", "CLAIM→DONE p50", "p90", "max", "WAIT p50", "FAIL", "RETRY", "REWORK"],
              m.phases.map((p) => [
                p.phase,
                p.completed,
                duration(p.claimToComplete.p50),
                duration(p.claimToComplete.p90),
                duration(p.claimToComplete.max),
                duration(p.wait.p50),
                `${(p.failureRate * 100).toFixed(0)}%`,
                `${(p.retryRate * 100).toFixed(0)}%`,
                p.rework,
              ]),
            ),
            "",
            `work in progress: ${m.workInProgress.claimed} claimed, ${m.workInProgress.running} running`,
            `oldest waiting: ${
              m.oldestWaiting
                ? `${m.oldestWaiting.ticketId} ${m.oldestWaiting.phase} for ${duration(m.oldestWaiting.waitingMs)}`
                : "none"
            }`,
            `bottleneck: ${m.bottleneck ? `${m.bottleneck.phase} (${m.bottleneck.waiting} waiting)` : "none"}`,
            `gate decisions: p50 ${duration(m.gateDecision.p50)}, max ${
              duration(m.gateDecision.max)
            } (${m.gateDecision.count})`,
            `claim contention: ${m.contention.empty} empty, ${m.contention.conflicts} conflicts`,
            `stalled: ${
              m.stalled.length
                ? m.stalled.map((s) => `${s.ticketId}/${s.phase} (${duration(s.silentMs)})`).join(", ")
                : "none"
            }`,
            "",
            table(["DAY", "PHASES DONE", "TICKETS DONE"], m.throughput.map((d) => [d.day, d.phases, d.tickets])),
            "",
            table(["AGENT", "COMPLETED", "BUSY"], m.agents.map((a) => [a.agentId, a.completed, duration(a.busyMs)])),
          ].join("\n"));
      });
    },
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
    run(c) {
      const limit = int(c.values.limit, "--limit", 1) ?? 50;
      return c.withEngine((e) => {
        const rows = e.audit({
          ticketId: c.values.ticket as string | undefined,
          agentId: c.values.agent as string | undefined,
          since: parseSince(c.values.since as string | undefined, e.now(), "--since"),
          limit,
          latest: true,
        });
        c.emitTable(rows, ["ID", "WHEN", "ACTOR", "ACTION", "ENTITY", "TICKET", "FROM", "TO"], (a) => [
          a.id,
          localTime(a.at),
          a.actor,
          a.action,
          `${a.entityType} ${a.entityId}`,
          a.ticketId,
          a.oldState,
          a.newState,
        ]);
      });
    },
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
    run(c) {
      const since = int(c.values.after, "--after", 0);
      return c.withEngine(async (e) => {
        const ac = new AbortController();
        const stop = () => ac.abort();
        Deno.addSignalListener("SIGINT", stop);
        try {
          const opts = {
            since,
            ticketId: c.values.ticket as string | undefined,
            agentId: c.values.agent as string | undefined,
            signal: ac.signal,
          };
          for await (const a of e.watch(opts)) {
            c.io.out(
              c.json
                ? JSON.stringify(isoDates(a))
                : `${localTime(a.at)}  ${a.actor.padEnd(16)} ${a.action.padEnd(22)} ${a.entityType} ${a.entityId}${
                  a.ticketId ? ` (${a.ticketId})` : ""
                }${a.newState ? ` → ${a.newState}` : ""}`,
            );
          }
        } finally {
          Deno.removeSignalListener("SIGINT", stop);
        }
      });
    },
  },
];
