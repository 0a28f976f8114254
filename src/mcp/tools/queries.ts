/**
 * The query tools: tickets, what is blocked, what can run side by side,
 * metrics, the audit trail.
 *
 * @module
 */
import * as v from "valibot";
import { parseSince } from "../../duration.ts";
import { capabilitiesArg, GateOut, Obj, PhaseOut, sinceArg } from "../schemas.ts";
import { READ, type Tool, tool } from "../tool.ts";

/** The tools. */
export const QUERY_TOOLS: Tool[] = [
  tool("get_ticket", {
    description: "A ticket with its phases, gates and dependencies.",
    input: { ticket_id: v.pipe(v.string(), v.minLength(1)) },
    output: {
      id: v.string(),
      title: v.string(),
      status: v.string(),
      phases: v.array(PhaseOut),
      gates: v.array(GateOut),
    },
    annotations: READ,
    handler: (ctx, a) => ({ ...ctx.engine.ticket(a.ticket_id) }),
  }),

  tool("list_tickets", {
    description: "Tickets in priority order, with their current phase; filter by status, priority, component, agent.",
    input: {
      status: v.optional(v.picklist(["active", "completed"])),
      priority: v.optional(v.string()),
      component: v.optional(v.string()),
      agent: v.optional(v.pipe(v.string(), v.description("holding a phase"))),
      blocked: v.optional(v.boolean()),
      limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)), 100),
    },
    output: { tickets: v.array(Obj), total: v.number() },
    annotations: READ,
    handler(ctx, a) {
      const rows = ctx.engine.listTickets({
        status: a.status,
        priority: a.priority,
        component: a.component,
        agent: a.agent,
        blocked: a.blocked,
      });
      return { tickets: rows.slice(0, a.limit), total: rows.length };
    },
  }),

  tool("list_blocked", {
    description: "What cannot proceed, and why: open gates, dependencies, retry backoffs, failures.",
    input: {},
    output: { items: v.array(Obj) },
    annotations: READ,
    handler: (ctx) => ({ items: ctx.engine.blocked() }),
  }),

  tool("ready_parallel", {
    description: "Up to n available phases that can run side by side without file overlaps (for planners).",
    input: {
      n: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)), 5),
      capabilities: v.optional(capabilitiesArg),
    },
    output: { phases: v.array(Obj) },
    annotations: READ,
    handler: (ctx, a) => ({
      phases: ctx.engine.readyParallel(a.n, a.capabilities).map((p) => ({
        id: p.id,
        ticketId: p.ticketId,
        name: p.name,
        agentType: p.agentType,
        paths: p.paths,
        pathsKnown: p.pathsKnown,
      })),
    }),
  }),

  tool("get_metrics", {
    description: "Phase durations and waits, throughput, bottleneck, contention, stalled work.",
    input: { since: sinceArg },
    output: { phases: v.array(Obj), workInProgress: Obj },
    annotations: READ,
    handler: (ctx, a) => ({ ...ctx.engine.metrics({ since: parseSince(a.since, ctx.engine.now()) }) }),
  }),

  tool("get_audit_log", {
    description:
      "Audit entries, oldest first: the latest `limit` by default; since (a time) or after_id (a cursor) page forward.",
    input: {
      ticket_id: v.optional(v.string()),
      actor: v.optional(v.pipe(v.string(), v.description("agent id, or human:NAME"))),
      since: sinceArg,
      after_id: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
      limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)), 50),
    },
    output: { entries: v.array(Obj), lastId: v.nullable(v.number()) },
    annotations: READ,
    handler(ctx, a) {
      const f = { ticketId: a.ticket_id, agentId: a.actor, limit: a.limit };
      const entries = a.since !== undefined
        ? ctx.engine.audit({ ...f, since: parseSince(a.since, ctx.engine.now()) })
        : a.after_id !== undefined
        ? ctx.engine.events({ ...f, since: a.after_id })
        : ctx.engine.audit({ ...f, latest: true });
      return { entries, lastId: entries.length ? entries[entries.length - 1].id : null };
    },
  }),
];
