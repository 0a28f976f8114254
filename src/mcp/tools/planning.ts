/**
 * The planner's tool: creating tickets in one transaction; and the agent's:
 * filing what it found while working (`report_issue`).
 *
 * @module
 */
import * as v from "valibot";
import { Obj } from "../schemas.ts";
import { type Tool, tool, write } from "../tool.ts";
import { BatonError } from "../../errors.ts";

const DepIn = v.strictObject({
  on: v.pipe(v.string(), v.minLength(1), v.description("ticket id, or ref of this batch")),
  type: v.optional(v.picklist(["completion", "design", "implementation"])),
});

/** The tools. */
export const PLANNING_TOOLS: Tool[] = [
  tool("create_tickets", {
    description:
      "Create tickets in one transaction (all or none), e.g. a decomposition; dependencies may name tickets of the batch by ref. Ids are generated unless given.",
    input: {
      tickets: v.pipe(
        v.array(v.strictObject({
          title: v.pipe(v.string(), v.minLength(1)),
          ref: v.optional(v.string()),
          id: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/))),
          priority: v.optional(v.string()),
          metadata: v.optional(v.record(v.string(), v.unknown())),
          dependencies: v.optional(v.array(DepIn)),
          parent_id: v.optional(v.string()),
        })),
        v.minLength(1),
        v.maxLength(200),
      ),
      write_files: v.optional(
        v.pipe(v.boolean(), v.description("also write each ticket's markdown from the template")),
      ),
    },
    output: { created: v.array(Obj) },
    annotations: write(false),
    async handler(ctx, a) {
      const items = a.tickets.map((t) => ({
        title: t.title,
        ref: t.ref,
        id: t.id,
        priority: t.priority,
        metadata: t.metadata,
        dependencies: t.dependencies,
        parentId: t.parent_id,
      }));
      const actor = ctx.knownAgent() ?? "mcp";
      // The markdown modules load only when a planner asks for files (they are not needed to start the server). Either
      // way, no ticket takes an id a ticket file already uses.
      const created = a.write_files
        ? (await import("../../sync/new_ticket.ts")).createTicketsWithFiles(ctx.engine, items, actor)
        : ctx.engine.createTickets(items, actor, (await import("../../sync/files.ts")).ticketFilesById(ctx.engine));
      return {
        created: created.map((t) => ({
          id: t.id,
          title: t.title,
          priority: t.priority,
          path: t.path,
          dependencies: t.dependencies.map((d) => ({
            on: d.dependsOn,
            type: d.type,
            satisfied: d.satisfiedAt !== null,
          })),
          phases: t.phases.map((p) => ({ id: p.id, name: p.name, status: p.status })),
        })),
      };
    },
  }),

  tool("report_issue", {
    description: "File a ticket for a problem found outside your phase, linked to your ticket (discovered-from).",
    input: {
      title: v.pipe(v.string(), v.minLength(1)),
      summary: v.optional(v.string()),
      from: v.optional(v.string()),
    },
    output: { id: v.string() },
    annotations: write(false),
    async handler(ctx, a) {
      const agent = ctx.knownAgent();
      const current = agent ? ctx.claims.current(agent) : undefined;
      const from = a.from ?? (current !== undefined ? ctx.engine.phase(current).ticketId : undefined);
      if (!from) {
        throw new BatonError("invalid_argument", "Say which ticket you found this on (from), or claim a phase first");
      }
      const { newTicket } = await import("../../sync/new_ticket.ts");
      const t = newTicket(ctx.engine, {
        title: a.title,
        summary: a.summary,
        discoveredFrom: from,
        actor: agent ?? "mcp",
      });
      return { id: t.id, path: t.path, discovered_from: from };
    },
  }),
];
