/**
 * The Baton MCP server: `createServer(engine, options)` builds one
 * `McpServer` with the tools (`tools/`, as data), the resources
 * (`resources.ts`) and the prompts (`prompts.ts`). The stdio and HTTP entrypoints and the tests all
 * build their servers here.
 *
 * Every tool declares an output schema and answers with `structuredContent`
 * and the same JSON as text. Domain failures (a `BatonError`) come back as
 * `isError: true` with the text `{code, message, details?}` and no
 * `structuredContent` (it would not match the output schema); any other
 * failure is logged and reported as `internal`, never thrown out of the handler.
 * Arguments are checked by the input schemas before a handler runs.
 *
 * @module
 */
import { McpServer } from "@modelcontextprotocol/server";
import type { Engine } from "../engine/mod.ts";
import { serverInstructions } from "../engine/protocol.ts";
import { VERSION } from "../version.ts";
import { registerPrompts } from "./prompts.ts";
import { registerResources } from "./resources.ts";
import { toolContext } from "./context.ts";
import { ClaimMemory, Session } from "./session.ts";
import type { Tool } from "./tool.ts";
import { AGENT_TOOLS } from "./tools/agent.ts";
import { PHASE_TOOLS } from "./tools/phase.ts";
import { GATE_TOOLS } from "./tools/gates.ts";
import { PLANNING_TOOLS } from "./tools/planning.ts";
import { QUERY_TOOLS } from "./tools/queries.ts";

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** This connection's state (default: a new session). */
  session?: Session;
  /** The session's claim tokens (default: a new memory). */
  claims?: ClaimMemory;
  /** Where unexpected (non-domain) errors are reported; default: stderr. */
  onError?: (error: unknown, where: string) => void;
}

/**
 * The tools a server offers: every agent, query and planning tool, and the
 * gate tools when `gates.allow_agents` is on.
 * @param engine the engine (its configuration decides the gate tools)
 * @returns the tools, in `tools/list` order
 */
export function toolsFor(engine: Engine): Tool[] {
  return [
    ...AGENT_TOOLS,
    ...PHASE_TOOLS,
    ...QUERY_TOOLS,
    ...PLANNING_TOOLS,
    ...(engine.cfg.config.gates.allow_agents ? GATE_TOOLS : []),
  ];
}

/**
 * Builds the MCP server over an engine.
 *
 * @param engine the open engine (shared by every session of the process)
 * @param options session state, shared claim memory, error sink
 * @returns the server, ready to connect to a transport
 */
export function createServer(engine: Engine, options: ServerOptions = {}): McpServer {
  const onError = options.onError ??
    ((e: unknown, where: string) => console.error(`baton-mcp: ${where}: ${e instanceof Error ? e.stack : e}`));
  const mcp = new McpServer(
    { name: "baton", version: VERSION, title: "Baton" },
    {
      // Nothing here changes while a session runs (tools and prompts are fixed; tickets are read through the
      // resource template), and no notifications could reach stateless HTTP clients: nothing is announced.
      capabilities: {
        tools: { listChanged: false },
        resources: { listChanged: false },
        prompts: { listChanged: false },
      },
      instructions: serverInstructions(),
    },
  );
  const ctx = toolContext(engine, mcp, options.session ?? new Session(), options.claims ?? new ClaimMemory(), onError);
  for (const t of toolsFor(engine)) t.register(mcp, ctx);
  registerResources(mcp, ctx);
  registerPrompts(mcp, ctx);
  return mcp;
}
