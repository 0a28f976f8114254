/**
 * The MCP resources of the Baton server (JSON): `baton://dashboard`
 * (counts, agents, open gates, stalled and stale work),
 * `baton://ticket/{id}`, `baton://queue/{agent_type}`.
 *
 * @module
 */
import { type McpServer, type ReadResourceResult, ResourceTemplate } from "@modelcontextprotocol/server";
import { isoDates } from "../json.ts";
import type { ToolContext } from "./context.ts";
import { guard } from "./guard.ts";

const JSON_TYPE = "application/json";

function json(uri: URL, data: unknown): ReadResourceResult {
  return { contents: [{ uri: uri.href, mimeType: JSON_TYPE, text: JSON.stringify(isoDates(data), null, 2) }] };
}

const one = (x: string | string[] | undefined): string => decodeURIComponent(Array.isArray(x) ? x[0] ?? "" : x ?? "");

/**
 * Registers the resources.
 * @param mcp the server
 * @param ctx the engine and session state
 */
export function registerResources(mcp: McpServer, ctx: ToolContext): void {
  const { engine } = ctx;

  mcp.registerResource("dashboard", "baton://dashboard", {
    title: "Baton dashboard",
    description: "Tickets and phases by status, agents and what they hold, open gates, stalled and stale work.",
    mimeType: JSON_TYPE,
  }, (uri) => guard(uri.href, () => json(uri, engine.summary())));

  mcp.registerResource(
    "ticket",
    new ResourceTemplate("baton://ticket/{id}", {
      list: () => ({
        resources: engine.listTickets({ status: "active" }).slice(0, 100).map((t) => ({
          uri: `baton://ticket/${encodeURIComponent(t.id)}`,
          name: `${t.id} ${t.title}`,
          mimeType: JSON_TYPE,
        })),
      }),
      complete: {
        id: (value) =>
          engine.listTickets({ status: "active" }).map((t) => t.id).filter((id) => id.startsWith(value)).slice(0, 50),
      },
    }),
    {
      title: "Ticket",
      description: "A ticket with its phases, gates and dependencies.",
      mimeType: JSON_TYPE,
    },
    (uri, vars) => guard(uri.href, () => json(uri, engine.ticket(one(vars.id)))),
  );

  const agentTypes = () => engine.agentTypes().map((t) => t.type);
  mcp.registerResource(
    "queue",
    new ResourceTemplate("baton://queue/{agent_type}", {
      list: () => ({
        resources: agentTypes().map((t) => ({
          uri: `baton://queue/${encodeURIComponent(t)}`,
          name: `queue: ${t}`,
          mimeType: JSON_TYPE,
        })),
      }),
      complete: { agent_type: (value) => agentTypes().filter((t) => t.startsWith(value)) },
    }),
    {
      title: "Queue of an agent type",
      description: "Available phases for an agent type, in the order claims take them.",
      mimeType: JSON_TYPE,
    },
    (uri, vars) =>
      guard(uri.href, () => {
        const type = one(vars.agent_type);
        const info = engine.agentTypes().find((t) => t.type === type);
        return json(uri, {
          agentType: type,
          known: info !== undefined,
          maxConcurrent: info?.maxConcurrent ?? null,
          held: info?.held ?? 0,
          phases: engine.queue(type),
        });
      }),
  );
}
