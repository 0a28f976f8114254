/**
 * The dashboard's JSON: what each page shows, built from the Engine API only.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import type { BoardTicket, MergeBatch, Phase } from "../engine/types.ts";
import { BatonError } from "../errors.ts";
import { agentLogs, logsDir, mergeLog, readLogFrom } from "../repo/agent_logs.ts";
import type { MarkdownRenderer } from "./markdown_render.ts";
import { agentToolCalls } from "../agents/stream_events.ts";
import { doneBeforeBaton, isDone, isHeld } from "../engine/state_machine.ts";
import { readRepoTextHead } from "../repo/files.ts";

/** One card of the board. */
export interface Card {
  id: string;
  title: string;
  priority: string | null;
  components: string[];
  /** Where the ticket stands: completed, blocked, or its current phase's status. */
  state: string;
  /** The first phase not done (null: all done). */
  phase: string | null;
  /** Its agent type (null: a human gate). */
  agentType: string | null;
  /** Agents holding its phases now, with since when. */
  holders: { agentId: string; phase: string; since: number }[];
  blocked: boolean;
  /** A gate or review waits for a human. */
  gated: boolean;
}

const list = (v: unknown): string[] => [v].flat().filter((x) => x !== undefined && x !== null && x !== "").map(String);

function card(t: BoardTicket): Card {
  const current = t.phases.find((p) => !isDone(p.status)) ?? null;
  const held = t.phases.filter((p) => isHeld(p.status));
  const gated = t.phases.some((p) => p.status === "awaiting_review");
  const state = t.status === "completed"
    ? "completed"
    : t.blocked
    ? "blocked"
    : held.length
    ? held[0].status
    : gated
    ? "awaiting_review"
    : current?.status ?? "pending";
  return {
    id: t.id,
    title: t.title,
    priority: t.priority,
    components: list(t.metadata.components ?? t.metadata.component),
    state,
    phase: (held[0] ?? current)?.name ?? null,
    agentType: (held[0] ?? current)?.agentType ?? null,
    holders: held.map((p) => ({ agentId: p.claimedBy ?? "?", phase: p.name, since: p.claimedAt ?? 0 })),
    blocked: t.blocked,
    gated,
  };
}

/**
 * The stage of each phase, for the board's "by stage" columns: a parallel
 * group's phases, and the sequential phases the group stands in for, are one
 * stage named after the group; any other phase is a stage of its own.
 */
function stageOf(e: Engine): Map<string, string> {
  const defs = e.cfg.workflow.phases;
  const group = new Map(defs.filter((p) => p.group).map((p) => [p.name, p.group!]));
  return new Map(defs.map((p) => {
    const g = p.group ?? (p.overriddenBy ?? []).map((o) => group.get(o)).find((x) => x !== undefined);
    return [p.name, g ?? p.name];
  }));
}

/**
 * The Board page.
 * @param e the engine
 * @returns the workflow's phases (each with its stage), every card, and the values the filters offer
 */
export function boardData(e: Engine) {
  const cards = e.board().map(card);
  const uniq = (xs: (string | null)[]) => [...new Set(xs.filter((x): x is string => !!x))].sort();
  const stages = stageOf(e);
  return {
    now: e.now(),
    phases: e.cfg.workflow.phases.map((p) => ({
      name: p.name,
      agentType: p.agentType ?? null,
      stage: stages.get(p.name) ?? p.name,
      group: p.group ?? null,
    })),
    cards,
    facets: {
      priorities: e.cfg.config.priority_order.filter((p) => cards.some((c) => c.priority === p))
        .concat(uniq(cards.map((c) => c.priority)).filter((p) => !e.cfg.config.priority_order.includes(p))),
      components: uniq(cards.flatMap((c) => c.components)),
      agentTypes: uniq(e.cfg.workflow.phases.map((p) => p.agentType ?? null)),
      states: uniq(cards.map((c) => c.state)),
    },
  };
}

function timeline(p: Phase) {
  return {
    /** Completed before Baton (by an import): no wait, work or timeline to show. */
    imported: doneBeforeBaton(p),
    id: p.id,
    name: p.name,
    group: p.group,
    agentType: p.agentType,
    status: p.status,
    claimedBy: p.claimedBy,
    attempts: p.attempts,
    revisions: p.revisions,
    availableAt: p.availableAt,
    claimedAt: p.claimedAt,
    startedAt: p.startedAt,
    completedAt: p.completedAt,
    waitMs: p.availableAt && p.claimedAt && p.claimedAt >= p.availableAt ? p.claimedAt - p.availableAt : null,
    durationMs: p.claimedAt && p.completedAt ? p.completedAt - p.claimedAt : null,
    summary: p.resultSummary,
    artifacts: p.artifacts,
    error: p.error,
    reworkNotes: p.reworkNotes,
    unmergedBranch: p.unmergedBranch,
  };
}

/**
 * The most of a ticket's file the Ticket page renders. Rendering ordinary
 * markdown takes ~0.9 s per 256 KB and ~11 s for 4 MB here (`mdast`; 64 KB:
 * ~0.3 s); some text takes far longer (see `markdown_render.ts`, which
 * renders off the server's thread within a time limit). Tickets are a few
 * KB, a pasted log can make one megabytes. The rest stays in the file, and
 * the page says so.
 */
export const MARKDOWN_SHOWN_BYTES = 64 * 1024;

/**
 * The Ticket page.
 * @param e the engine
 * @param id the ticket
 * @param markdownRenderer renders its markdown (off the server's thread, within a time limit)
 * @returns its phases as a timeline, gates, dependencies both ways, events, declarations, markdown as HTML (at most
 *   {@link MARKDOWN_SHOWN_BYTES} of the file: `markdownCut` says how much of how much when it is cut)
 * @throws {BatonError} `not_found` for an unknown ticket
 */
export async function ticketData(e: Engine, id: string, markdownRenderer: MarkdownRenderer) {
  const t = e.ticket(id);
  const decl = e.declarations().filter((d) => d.ticketId === id);
  const overlaps = decl.length ? e.checkConflicts(decl.map((d) => d.pattern)).filter((o) => o.ticketId !== id) : [];
  let markdown: string | null = null;
  let markdownCut: { shownBytes: number; fileBytes: number } | null = null;
  if (t.path) {
    try {
      const head = readRepoTextHead(e.cfg.repoRoot, t.path, MARKDOWN_SHOWN_BYTES);
      markdown = await markdownRenderer.render(head.text);
      if (!head.whole) markdownCut = { shownBytes: new TextEncoder().encode(head.text).length, fileBytes: head.size };
    } catch { /* the file is gone, or leads outside the repository: the page says so */ }
  }
  // Why each skipped phase is skipped: the latest reason the audit gives (seeding, or conditions evaluated again).
  const why = new Map<string, string>();
  for (const action of ["phase.seeded", "phase.resolve"]) {
    for (const a of e.audit({ ticketId: id, action })) {
      if (a.newState === "skipped" && typeof a.details?.reason === "string") why.set(a.entityId, a.details.reason);
    }
  }
  return {
    now: e.now(),
    ticket: { id: t.id, title: t.title, status: t.status, priority: t.priority, path: t.path, metadata: t.metadata },
    phases: t.phases.map((p) => ({
      ...timeline(p),
      skipReason: p.status === "skipped" ? why.get(String(p.id)) ?? null : null,
    })),
    gates: t.gates,
    dependencies: t.dependencies,
    dependents: t.dependents,
    events: e.audit({ ticketId: id, limit: 50, latest: true }),
    declarations: decl,
    overlaps,
    markdown,
    markdownCut,
  };
}

/**
 * The Gates page: open gates oldest first, each with what a reviewer needs.
 * @param e the engine
 * @returns the gates with their ticket and the reviewed phases' summaries and artifacts
 */
export function gatesData(e: Engine) {
  return {
    now: e.now(),
    gates: e.gates().map((g) => {
      const t = e.ticket(g.ticketId);
      // What was done for the reviewer to see (the engine says which phases).
      const ids = new Set(e.reviewedBy(g.id).map((p) => p.id));
      return {
        ...g,
        ticket: { id: t.id, title: t.title, priority: t.priority, path: t.path },
        reviewed: t.phases.filter((p) => ids.has(p.id)).map(timeline),
      };
    }),
  };
}

/**
 * The Agents page.
 * @param e the engine
 * @returns agents with holds, heartbeat ages and (for those holding work) their last tool calls, stalled and stale
 *   work, escalations, supervisor logs
 */
export function agentsData(e: Engine) {
  const s = e.summary();
  const dir = logsDir(e.cfg);
  const logs = agentLogs(dir, s.agents.map((a) => a.id));
  // The live view: what each agent holding work did last, from its CLI's event stream (read from the log's tail).
  let read = 0;
  const tools = (a: { holds: unknown[] }, file: string | undefined) => {
    if (!file || !a.holds.length || read++ >= LIVE_AGENTS) return [];
    try {
      return agentToolCalls(readLogFrom(`${dir}/${file}`, -LIVE_LOG_BYTES).text, 5);
    } catch {
      return [];
    }
  };
  return {
    now: e.now(),
    staleAfterMs: e.cfg.config.agents.stale_timeout_minutes * 60_000,
    agents: s.agents.map((a) => ({ ...a, log: logs.get(a.id) ?? null, tools: tools(a, logs.get(a.id)) })),
    stalled: s.stalled,
    stale: s.stale,
    escalations: s.escalations,
    runs: [...logs].map(([agentId, file]) => ({ agentId, file })).sort((a, b) => a.file.localeCompare(b.file)),
    types: e.agentTypes(),
  };
}

/** How many working agents' logs the Agents page reads for their last tool calls. */
const LIVE_AGENTS = 50;

/** How much of the candidate's check output the Merge page shows while it runs (and of a log, for tool calls). */
const LIVE_LOG_BYTES = 16 * 1024;

/**
 * The Merge page: the queue, the batch being built with its check's output
 * so far, the latest batches, flaky checks, and the last 30 days' figures.
 * @param e the engine
 * @returns `{configured: false}` without a `merge:` section
 */
export function mergeData(e: Engine) {
  const cfg = e.cfg.config.merge;
  if (!cfg) return { configured: false as const };
  const s = e.mergeStatus({ recent: 20 });
  // Claim tokens stay with the worker: the page shows what happened, not how to act for it.
  const batch = (b: MergeBatch) => ({ ...b, items: b.items.map(({ token: _token, ...item }) => item) });
  const status = { ...s, building: s.building && batch(s.building), recent: s.recent.map(batch) };
  let liveLog: string | null = null;
  if (status.building) {
    try {
      liveLog = readLogFrom(mergeLog(logsDir(e.cfg), status.building.id), -LIVE_LOG_BYTES).text;
    } catch { /* not started yet */ }
  }
  return {
    configured: true as const,
    now: e.now(),
    target: cfg.target,
    check: cfg.check,
    strategy: cfg.strategy,
    batchSize: cfg.batch_size,
    status,
    liveLog,
    metrics: e.mergeMetrics(e.now() - 30 * 86_400_000),
  };
}

/**
 * One supervisor-run agent's log.
 * @param e the engine
 * @param file its file name (from the Agents page)
 * @returns the last 256 KB of it
 * @throws {BatonError} `not_found` for a file that is not an agent log
 */
export function logText(e: Engine, file: string): string {
  const dir = logsDir(e.cfg);
  if (!/^[A-Za-z0-9_.-]+\.log$/.test(file) || ![...agentLogs(dir).values()].includes(file)) {
    throw new BatonError("not_found", `No agent log "${file}"`);
  }
  const { text } = readLogFrom(`${dir}/${file}`);
  return text.length > 256 * 1024 ? text.slice(-256 * 1024) : text;
}

/**
 * The Metrics page.
 * @param e the engine
 * @param since the window's start (ms), or undefined for all time
 * @returns `metrics({since})`, its work in progress over time as the chart's series
 */
export function metricsData(e: Engine, since?: number) {
  const m = e.metrics({ since });
  return { now: e.now(), metrics: m, wip: m.workInProgressOverTime };
}
