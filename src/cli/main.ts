/**
 * The `baton` command line: parse arguments with `node:util` `parseArgs`,
 * call the library, print. `cli.ts` is the entrypoint; tests spawn it.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { BatonError, formatLocation } from "../errors.ts";
import type { Engine } from "../engine.ts";
import { duration, isoDates, localTime, paint, table } from "./format.ts";

/** The version printed by `--version`. */
export const VERSION = "0.1.0";

/** Top-level help (kept in tests/snapshots/help.txt and the README). */
export const HELP = `baton ${VERSION} — coordinate many AI coding agents on one repository's backlog

Usage: baton <command> [options]

Setting up
  init [--example NAME]            create .workflow/ from the example, ignore the database in git
  import                           import markdown tickets into the database
  sync                             write status and workflow logs back to the markdown
  new TITLE [--priority P] [--summary TEXT]
                                   write a ticket from .workflow/templates/ticket.md and import it

Looking
  status [TICKET]                  dashboard, or one ticket's phases, gates, dependencies, events
  list [--status S] [--priority P] [--component C] [--agent A] [--blocked]
  blocked                          what cannot proceed, and why
  queue AGENT_TYPE                 available phases for an agent type, in claim order
  ready [--parallel N]             phases that can run side by side without file overlaps
  agents                           registered agents and what they hold
  context PHASE [--budget BYTES]   the assembled context of a phase
  metrics [--since DURATION|DATE]  durations, waits, throughput, bottleneck, contention
  audit [--ticket T] [--agent A] [--since D] [--limit N]
  watch [--ticket T] [--agent A] [--after ID]
                                   follow events as they happen (Ctrl-C stops);
                                   --after replays those after audit ID first

Deciding (humans)
  gates [--all]                    open gates, oldest first
  approve GATE [--notes TEXT] [--by NAME]
  reject GATE --notes TEXT [--changes] [--by NAME]

Working (so a shell script can be an agent)
  claim --agent ID --capabilities T[,T…] [--phase ID] [--key IDEMPOTENCY_KEY]
  start PHASE --agent ID --token TOKEN
  complete PHASE --agent ID --token TOKEN [--summary TEXT] [--artifact PATH]…
  fail PHASE --agent ID --token TOKEN --error TEXT
  release PHASE --agent ID --token TOKEN
  heartbeat AGENT [--progress TEXT]
  dep add BLOCKED BLOCKING [--type completion|design|implementation]
  dep rm BLOCKED BLOCKING
  dep list [TICKET]

Keeping it healthy
  sweep                            release claims whose lease expired
  doctor                           integrity, WAL size, config, orphaned declarations
  backup FILE                      a consistent copy, safe while others write
  restore FILE                     replace the database (refused while others use it)
  demo [--agents N] [--items N]    several processes claim from one database at once

Options for every command
  --repo DIR    the repository (default: found from the current directory)
  --json        one JSON document on stdout (read-only commands)
  -h, --help    help for the command

Exit codes: 0 ok, 1 error, 2 usage, 3 conflict or nothing to claim, 4 not found.
`;

/** Where output goes (tests run the real process; this keeps printing in one place). */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

const stdio: Io = { out: (l) => console.log(l), err: (l) => console.error(l) };

function usage(message: string): BatonError {
  return new BatonError("invalid_argument", message);
}

/** Exit code for an error. */
export function exitCode(e: unknown): number {
  if (!(e instanceof BatonError)) return 1;
  switch (e.code) {
    case "invalid_argument":
      return 2;
    case "claim_conflict":
    case "file_conflict":
    case "stale_token":
    case "nothing_to_claim":
    case "invalid_transition":
    case "forbidden":
    case "dependency_cycle":
      return 3;
    case "not_found":
      return 4;
    default:
      return 1;
  }
}

const COMMON = {
  repo: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Spec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean; default?: unknown }>;

function parse(args: string[], options: Spec, positionals: [number, number]) {
  let r;
  try {
    // deno-lint-ignore no-explicit-any
    r = parseArgs({ args, options: { ...COMMON, ...options } as any, allowPositionals: true, strict: true });
  } catch (e) {
    throw usage((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ""));
  }
  // deno-lint-ignore no-explicit-any
  const values = r.values as Record<string, any>;
  if (!values.help && (r.positionals.length < positionals[0] || r.positionals.length > positionals[1])) {
    const want = positionals[0] === positionals[1] ? `${positionals[0]}` : `${positionals[0]} to ${positionals[1]}`;
    throw usage(`expected ${want} argument(s), got ${r.positionals.length}`);
  }
  return { values, positionals: r.positionals };
}

function int(v: string | undefined, name: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw usage(`${name} must be an integer ≥ ${min}, got "${v}"`);
  return n;
}

/** `--since 2h` / `3d` / `90m` / an ISO date → ms since the epoch. */
export function parseSince(v: string | undefined, now: number): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(v.trim());
  if (m) {
    const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[m[2] as "s"]!;
    return now - Number(m[1]) * unit;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw usage(`--since must be a duration like 2h, 3d, 30m or a date, got "${v}"`);
  return t;
}

async function engine(values: Record<string, unknown>): Promise<Engine> {
  const { openEngine } = await import("../engine.ts");
  return await openEngine((values.repo as string | undefined) ?? Deno.cwd());
}

async function gitUser(): Promise<string> {
  try {
    const out = await new Deno.Command("git", { args: ["config", "user.name"], stdout: "piped", stderr: "null" })
      .output();
    const name = new TextDecoder().decode(out.stdout).trim();
    if (out.success && name) return name;
  } catch { /* no git */ }
  return Deno.env.get("USER") ?? "unknown";
}

/** Opens the engine for a command, runs it, always closes it; the exit code defaults to 0. */
async function withEngine(
  values: Record<string, unknown>,
  fn: (e: Engine) => number | void | Promise<number | void>,
): Promise<number> {
  const e = await engine(values);
  try {
    return (await fn(e)) ?? 0;
  } finally {
    e.close();
  }
}

function emit(io: Io, json: boolean, value: unknown, human: () => string): void {
  io.out(json ? JSON.stringify(isoDates(value), null, 2) : human());
}

/** {@link emit} for a list shown as a table: one row of cells per item. */
function emitTable<T>(
  io: Io,
  json: boolean,
  rows: T[],
  headers: string[],
  cells: (row: T) => (string | number | null | undefined)[],
): void {
  emit(io, json, rows, () => table(headers, rows.map(cells)));
}

const COMMAND_HELP: Record<string, string> = {};
for (const line of HELP.split("\n")) {
  const m = /^ {2}([a-z]+)(?: ([a-z]+))?\b/.exec(line);
  if (m) {
    const key = m[1] === "dep" ? `dep ${m[2]}` : m[1];
    COMMAND_HELP[m[1]] = (COMMAND_HELP[m[1]] ? COMMAND_HELP[m[1]] + "\n" : "") + line.trim();
    if (m[1] === "dep") COMMAND_HELP[key] = line.trim();
  }
}

/**
 * Runs one `baton` invocation.
 * @param args command line arguments (without the program name)
 * @param io where to print
 * @returns the exit code
 */
export async function run(args: string[], io: Io = stdio): Promise<number> {
  try {
    return await dispatch(args, io);
  } catch (e) {
    if (e instanceof BatonError) {
      const where = e.location ? formatLocation(e.location) : "";
      io.err(`error: ${e.message}${where && !e.message.includes(where) ? ` (${where})` : ""}`);
      if (e.code === "config_not_found") io.err("hint: run 'baton init' in the repository first");
      if (e.code === "invalid_argument") io.err("hint: see 'baton --help'");
      return exitCode(e);
    }
    io.err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  // Global options may also come before the command: `baton --repo DIR status`.
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && (argv[i] === "--repo" || argv[i].startsWith("--repo=") || argv[i] === "--json")) {
    leading.push(argv[i]);
    if (argv[i] === "--repo" && i + 1 < argv.length) leading.push(argv[++i]);
    i++;
  }
  const args = [...argv.slice(i, i + 1), ...argv.slice(i + 1), ...leading];
  const [command, ...rest] = args;
  if (command === undefined) {
    io.err(HELP);
    return 2;
  }
  if (command === "--help" || command === "-h" || command === "help") {
    io.out(HELP);
    return 0;
  }
  if (command === "--version" || command === "-V") {
    io.out(VERSION);
    return 0;
  }
  const help = () => {
    io.out(
      `Usage:\n  baton ${COMMAND_HELP[command] ?? command}\n\nOptions for every command: --repo DIR, --json, -h/--help`,
    );
    return 0;
  };
  switch (command) {
    case "init": {
      const { values } = parse(rest, { example: { type: "string" } }, [0, 0]);
      if (values.help) return help();
      const { init } = await import("./init.ts");
      const r = await init((values.repo as string | undefined) ?? Deno.cwd(), values.example);
      emit(io, values.json, r, () =>
        [
          `created ${r.created.join(", ") || "nothing (everything already exists)"}`,
          r.skipped.length ? `kept existing ${r.skipped.join(", ")}` : "",
          r.gitignore ? `added the database files to ${r.gitignore}` : "",
          "",
          "Register baton-mcp with your agents, e.g. in .mcp.json:",
          r.mcpJson,
        ].filter((l, i) => l !== "" || i === 3).join("\n"));
      return 0;
    }
    case "import": {
      const { values } = parse(rest, {}, [0, 0]);
      if (values.help) return help();
      return await withEngine(values, async (e) => {
        const { importTickets } = await import("../tickets.ts");
        const tty = !values.json && Deno.stderr.isTerminal();
        const r = importTickets(e, {
          onProgress: tty
            ? (done, total) => {
              const width = 30, filled = Math.round((done / Math.max(1, total)) * width);
              Deno.stderr.writeSync(
                new TextEncoder().encode(`\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total}`),
              );
              if (done === total) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
            }
            : undefined,
        });
        emit(io, values.json, r, () =>
          [
            `imported ${r.imported.length}, updated ${r.updated.length}, unchanged ${r.unchanged.length}, skipped ${r.skipped.length}, errors ${r.errors.length}`,
            ...r.errors.map((x) => `error: ${x.path}${x.line ? `:${x.line}` : ""}: ${x.message}`),
            ...r.skipped.map((x) => `skipped: ${x.path}: ${x.message}`),
            ...r.warnings.map((x) => `warning: ${x.path}${x.line ? `:${x.line}` : ""}: ${x.message}`),
          ].join("\n"));
        return r.errors.length ? 1 : 0;
      });
    }
    case "sync": {
      const { values } = parse(rest, {}, [0, 0]);
      if (values.help) return help();
      return await withEngine(values, async (e) => {
        const { syncAll } = await import("../tickets.ts");
        const r = syncAll(e);
        emit(io, values.json, r, () =>
          [
            `written ${r.written.length}, unchanged ${r.unchanged.length}, errors ${r.errors.length}`,
            ...r.errors.map((x) => `error: ${x.path}: ${x.message}`),
            ...r.warnings.map((x) => `warning: ${x.path}${x.line ? `:${x.line}` : ""}: ${x.message}`),
          ].join("\n"));
        return r.errors.length ? 1 : 0;
      });
    }
    case "new": {
      const { values, positionals } = parse(rest, { priority: { type: "string" }, summary: { type: "string" } }, [
        1,
        1,
      ]);
      if (values.help) return help();
      return await withEngine(values, async (e) => {
        const { newTicket } = await import("../tickets.ts");
        const t = newTicket(e, { title: positionals[0], priority: values.priority, summary: values.summary });
        emit(io, values.json, t, () => `created ticket ${t.id}: ${t.path}`);
      });
    }
    case "status": {
      const { values, positionals } = parse(rest, {}, [0, 1]);
      if (values.help) return help();
      return await withEngine(values, async (e) => {
        if (positionals[0]) {
          const t = e.ticket(positionals[0]);
          const events = e.audit({ ticketId: t.id }).slice(-10);
          emit(io, values.json, { ...t, events }, () =>
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
                  p.claimedBy && ["claimed", "running"].includes(p.status) ? p.claimedBy : "",
                  p.attempts,
                  localTime(p.completedAt),
                ]),
              ),
              "",
              "Gates: " + (t.gates.length ? "" : "none"),
              ...(t.gates.length
                ? [
                  table(
                    ["GATE", "PHASE", "KIND", "STATUS", "OPENED", "DECIDED BY", "NOTES"],
                    t.gates.map((
                      g,
                    ) => [g.id, g.phaseName, g.kind, g.status, localTime(g.openedAt), g.decidedBy, g.notes]),
                  ),
                ]
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
        } else {
          const { dashboard } = await import("./dashboard.ts");
          const d = dashboard(e);
          emit(io, values.json, d.data, () => d.text);
        }
      });
    }
    case "list": {
      const { values } = parse(rest, {
        status: { type: "string" },
        priority: { type: "string" },
        component: { type: "string" },
        agent: { type: "string" },
        blocked: { type: "boolean" },
      }, [0, 0]);
      if (values.help) return help();
      if (values.status && !["active", "completed"].includes(values.status)) {
        throw usage(`--status must be active or completed, got "${values.status}"`);
      }
      return await withEngine(values, (e) => {
        const rows = e.listTickets({
          status: values.status,
          priority: values.priority,
          component: values.component,
          agent: values.agent,
          blocked: values.blocked,
        });
        emitTable(
          io,
          values.json,
          rows,
          ["ID", "TITLE", "STATUS", "PRIORITY", "AT PHASE", "BLOCKED"],
          (r) => [r.id, r.title, r.status, r.priority, r.phase, r.blocked ? "yes" : ""],
        );
      });
    }
    case "blocked": {
      const { values } = parse(rest, {}, [0, 0]);
      if (values.help) return help();
      return await withEngine(values, (e) => {
        const rows = e.blocked();
        emitTable(
          io,
          values.json,
          rows,
          ["TICKET", "PHASE", "REASON", "SINCE", "DETAIL"],
          (b) => [b.ticketId, b.phaseName, b.reason, localTime(b.since), b.detail],
        );
      });
    }
    case "queue": {
      const { values, positionals } = parse(rest, {}, [1, 1]);
      if (values.help) return help();
      return await withEngine(values, (e) => {
        const rows = e.queue(positionals[0]);
        emitTable(
          io,
          values.json,
          rows,
          ["PHASE ID", "TICKET", "PHASE", "ATTEMPTS", "AVAILABLE SINCE"],
          (p) => [p.id, p.ticketId, p.name, p.attempts, localTime(p.availableAt)],
        );
      });
    }
    case "ready": {
      const { values } = parse(rest, { parallel: { type: "string" }, capabilities: { type: "string" } }, [0, 0]);
      if (values.help) return help();
      const n = int(values.parallel, "--parallel", 1) ?? 10;
      return await withEngine(values, (e) => {
        const rows = e.readyParallel(n, values.capabilities?.split(",").map((s: string) => s.trim()).filter(Boolean));
        emitTable(
          io,
          values.json,
          rows,
          ["PHASE ID", "TICKET", "PHASE", "AGENT TYPE", "PATHS"],
          (p) => [p.id, p.ticketId, p.name, p.agentType, p.pathsKnown ? p.paths.join(" ") : "(unknown)"],
        );
      });
    }
    case "agents": {
      const { values } = parse(rest, {}, [0, 0]);
      if (values.help) return help();
      return await withEngine(values, (e) => {
        const rows = e.agents();
        const types = e.agentTypes();
        emit(io, values.json, { agents: rows, types }, () =>
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
    }
    case "context": {
      const { values, positionals } = parse(rest, { budget: { type: "string" } }, [1, 1]);
      if (values.help) return help();
      const id = int(positionals[0], "PHASE", 1)!;
      return await withEngine(values, (e) => {
        const ctx = e.context({ phaseId: id }, { budgetBytes: int(values.budget, "--budget", 100) });
        emit(io, values.json, ctx, () => JSON.stringify(isoDates(ctx), null, 2));
      });
    }
    case "metrics": {
      const { values } = parse(rest, { since: { type: "string" } }, [0, 0]);
      if (values.help) return help();
      return await withEngine(values, (e) => {
        const m = e.metrics({ since: parseSince(values.since, e.now()) });
        emit(io, values.json, m, () =>
          [
            table(
              ["PHASE", "DONE", "CLAIM→DONE p50", "p90", "max", "WAIT p50", "FAIL", "RETRY", "REWORK"],
              m.phases.map((
                p,
              ) => [
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
    }
    case "audit": {
      const { values } = parse(rest, {
        ticket: { type: "string" },
        agent: { type: "string" },
        since: { type: "string" },
        limit: { type: "string" },
      }, [0, 0]);
      if (values.help) return help();
      return await withEngine(values, (e) => {
        const rows = e.audit({
          ticketId: values.ticket,
          agentId: values.agent,
          since: parseSince(values.since, e.now()),
        });
        const limit = int(values.limit, "--limit", 1) ?? 50;
        const last = rows.slice(-limit);
        emitTable(io, values.json, last, ["ID", "WHEN", "ACTOR", "ACTION", "ENTITY", "TICKET", "FROM", "TO"], (
          a,
        ) => [
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
    }
    case "watch": {
      const { values } = parse(rest, {
        ticket: { type: "string" },
        agent: { type: "string" },
        after: { type: "string" },
      }, [0, 0]);
      if (values.help) return help();
      const since = int(values.after, "--after", 0);
      const e = await engine(values);
      const ac = new AbortController();
      const stop = () => ac.abort();
      Deno.addSignalListener("SIGINT", stop);
      try {
        for await (const a of e.watch({ since, ticketId: values.ticket, agentId: values.agent, signal: ac.signal })) {
          io.out(
            values.json
              ? JSON.stringify(isoDates(a))
              : `${localTime(a.at)}  ${a.actor.padEnd(16)} ${a.action.padEnd(22)} ${a.entityType} ${a.entityId}${
                a.ticketId ? ` (${a.ticketId})` : ""
              }${a.newState ? ` → ${a.newState}` : ""}`,
          );
        }
      } finally {
        Deno.removeSignalListener("SIGINT", stop);
        e.close();
      }
      return 0;
    }
    case "gates": {
      const { values } = parse(rest, { all: { type: "boolean" } }, [0, 0]);
      if (values.help) return help();
      return await withEngine(values, (e) => {
        const rows = e.gates({ status: values.all ? "all" : "open" });
        emitTable(
          io,
          values.json,
          rows,
          ["GATE", "TICKET", "PHASE", "KIND", "STATUS", "OPENED", "WAITING", "SUMMARY"],
          (
            g,
          ) => [
            g.id,
            g.ticketId,
            g.phaseName,
            g.kind,
            g.status,
            localTime(g.openedAt),
            g.status === "open" ? duration(e.now() - g.openedAt) : "",
            g.summary,
          ],
        );
      });
    }
    case "approve":
    case "reject": {
      const { values, positionals } = parse(rest, {
        notes: { type: "string" },
        by: { type: "string" },
        changes: { type: "boolean" },
      }, [1, 1]);
      if (values.help) return help();
      const id = int(positionals[0], "GATE", 1)!;
      if (command === "reject" && !values.notes) throw usage("reject needs --notes saying what to change");
      const by = values.by ?? await gitUser();
      return await withEngine(values, (e) => {
        const actor = { kind: "human" as const, name: by };
        const g = command === "approve"
          ? e.approveGate(id, { actor, notes: values.notes })
          : e.rejectGate(id, { actor, notes: values.notes });
        emit(io, values.json, g, () => `gate ${g.id} (${g.phaseName} of ticket ${g.ticketId}) ${g.status} by ${by}`);
      });
    }
    case "claim": {
      const { values } = parse(rest, {
        agent: { type: "string" },
        capabilities: { type: "string" },
        phase: { type: "string" },
        key: { type: "string" },
      }, [0, 0]);
      if (values.help) return help();
      if (!values.agent) throw usage("claim needs --agent ID");
      const caps = values.capabilities?.split(",").map((s: string) => s.trim()).filter(Boolean) ?? [];
      return await withEngine(values, (e) => {
        const c = values.phase
          ? e.claim(int(values.phase, "--phase", 1)!, {
            agentId: values.agent,
            capabilities: caps.length ? caps : undefined,
            idempotencyKey: values.key,
          })
          : (() => {
            if (!caps.length) throw usage("claim needs --capabilities (or --phase)");
            return e.claimNext({ agentId: values.agent, capabilities: caps, idempotencyKey: values.key });
          })();
        if (!c) throw new BatonError("nothing_to_claim", `Nothing to claim for ${caps.join(", ")}`);
        emit(io, values.json, c, () =>
          [
            `claimed phase ${c.phase.id}: "${c.phase.name}" of ticket ${c.ticket.id} (${c.ticket.title})`,
            `token ${c.token}`,
            `lease until ${localTime(c.leaseExpiresAt)}`,
            c.reworkNotes ? `reviewer notes: ${c.reworkNotes}` : "",
            c.overlaps.length
              ? `warning: overlaps ${c.overlaps.map((o) => `${o.otherPattern} (${o.agentId})`).join(", ")}`
              : "",
          ].filter(Boolean).join("\n"));
      });
    }
    case "start":
    case "complete":
    case "fail":
    case "release": {
      const { values, positionals } = parse(rest, {
        agent: { type: "string" },
        token: { type: "string" },
        summary: { type: "string" },
        artifact: { type: "string", multiple: true },
        error: { type: "string" },
        reason: { type: "string" },
      }, [1, 1]);
      if (values.help) return help();
      const id = int(positionals[0], "PHASE", 1)!;
      if (!values.agent || !values.token) throw usage(`${command} needs --agent and --token`);
      if (command === "fail" && !values.error) throw usage("fail needs --error TEXT");
      return await withEngine(values, (e) => {
        const req = { agentId: values.agent, token: values.token };
        const p = command === "start"
          ? e.start(id, req)
          : command === "complete"
          ? e.complete(id, { ...req, summary: values.summary, artifacts: values.artifact })
          : command === "fail"
          ? e.fail(id, { ...req, error: values.error })
          : e.release(id, { ...req, reason: values.reason });
        emit(
          io,
          values.json,
          p,
          () => `phase ${p.id} "${p.name}" of ticket ${p.ticketId} is ${p.status.replace("_", " ")}`,
        );
      });
    }
    case "heartbeat": {
      const { values, positionals } = parse(rest, { progress: { type: "string" } }, [1, 1]);
      if (values.help) return help();
      return await withEngine(values, (e) => {
        e.heartbeat(positionals[0], values.progress);
        emit(io, values.json, { agent: positionals[0], at: e.now() }, () => `heartbeat recorded for ${positionals[0]}`);
      });
    }
    case "dep": {
      const [sub, ...more] = rest;
      if (sub === "add" || sub === "rm") {
        const { values, positionals } = parse(more, { type: { type: "string" } }, [2, 2]);
        if (values.help) return help();
        const type = values.type ?? "completion";
        if (!["completion", "design", "implementation"].includes(type)) {
          throw usage(`--type must be completion, design or implementation, got "${type}"`);
        }
        return await withEngine(values, async (e) => {
          if (sub === "add") {
            e.addDependency(positionals[0], positionals[1], type, { kind: "human", name: await gitUser() });
          } else e.removeDependency(positionals[0], positionals[1], { kind: "human", name: await gitUser() });
          emit(
            io,
            values.json,
            { ticket: positionals[0], dependsOn: positionals[1], type, removed: sub === "rm" },
            () =>
              sub === "add"
                ? `${positionals[0]} now waits for ${positionals[1]} (${type})`
                : `${positionals[0]} no longer waits for ${positionals[1]}`,
          );
        });
      }
      if (sub === "list") {
        const { values, positionals } = parse(more, {}, [0, 1]);
        if (values.help) return help();
        return await withEngine(values, (e) => {
          const rows = e.dependencies(positionals[0]);
          emitTable(
            io,
            values.json,
            rows,
            ["TICKET", "DEPENDS ON", "TYPE", "STATE"],
            (d) => [d.ticketId, d.dependsOn, d.type, d.satisfiedAt ? "satisfied" : "waiting"],
          );
        });
      }
      if (sub === "--help" || sub === "-h") return help();
      throw usage(`dep needs add, rm or list${sub ? `, got "${sub}"` : ""}`);
    }
    case "sweep": {
      const { values } = parse(rest, {}, [0, 0]);
      if (values.help) return help();
      return await withEngine(values, (e) => {
        const n = e.sweepStale();
        emit(io, values.json, { released: n }, () => `released ${n} stale claim(s)`);
      });
    }
    case "doctor": {
      const { values } = parse(rest, {}, [0, 0]);
      if (values.help) return help();
      const { doctor } = await import("./doctor.ts");
      const r = await doctor((values.repo as string | undefined) ?? Deno.cwd());
      emit(
        io,
        values.json,
        r,
        () =>
          r.checks.map((c) => `${c.ok ? paint("ok  ", "green") : paint("FAIL", "red")}  ${c.name}: ${c.detail}`).join(
            "\n",
          ),
      );
      return r.checks.every((c) => c.ok) ? 0 : 1;
    }
    case "backup":
    case "restore": {
      const { values, positionals } = parse(rest, {}, [1, 1]);
      if (values.help) return help();
      const { backup, restore } = await import("./backup.ts");
      const repo = (values.repo as string | undefined) ?? Deno.cwd();
      const r = command === "backup" ? await backup(repo, positionals[0]) : await restore(repo, positionals[0]);
      emit(io, values.json, r, () => r.message);
      return 0;
    }
    case "demo": {
      const { values } = parse(rest, {
        agents: { type: "string", default: "4" },
        items: { type: "string", default: "200" },
        "journal-mode": { type: "string", default: "wal" },
      }, [0, 0]);
      if (values.help) return help();
      const agents = int(values.agents, "--agents", 1)!;
      if (agents > 64) throw usage(`--agents must be at most 64, got ${agents}`);
      const items = int(values.items, "--items", 0)!;
      const mode = values["journal-mode"];
      if (!["wal", "truncate", "delete"].includes(mode)) {
        throw usage(`--journal-mode must be wal, truncate or delete, got "${mode}"`);
      }
      const { runDemo } = await import("../demo.ts");
      const self = new URL("../../cli.ts", import.meta.url).pathname;
      const r = await runDemo({
        agents,
        items,
        mode,
        print: io.out,
        spawnAgent: (path, agent) =>
          new Deno.Command(Deno.execPath(), {
            args: Deno.build.standalone
              ? ["demo-agent", path, agent, mode]
              : ["run", "-A", self, "demo-agent", path, agent, mode],
            stdout: "null",
            stderr: "piped",
          }),
      });
      return r.duplicates === 0 && r.integrity === "ok" ? 0 : 1;
    }
    case "demo-agent": {
      const [path, agent, mode] = rest;
      const { demoAgent } = await import("../demo.ts");
      await demoAgent(path, agent, mode as "wal");
      return 0;
    }
    default:
      throw usage(`unknown command "${command}"`);
  }
}
