/**
 * Tools as data: a tool is its name, description, input and output
 * schemas, annotations and handler; {@link tool} turns one into something
 * `createServer` registers. Registration adds what every tool does: strict
 * arguments, an output schema, the implicit heartbeat, and errors as
 * `isError` results (never thrown out of a handler).
 *
 * @module
 */
import * as v from "valibot";
import type { CallToolResult, McpServer, ToolAnnotations } from "@modelcontextprotocol/server";
import { BatonError, treatmentOf, withoutPaths } from "../errors.ts";
import { isoDates } from "../json.ts";
import type { ToolContext } from "./context.ts";
import { schema } from "./schemas.ts";

/** A tool ready to register. */
export interface Tool {
  /** Its name in `tools/list`. */
  readonly name: string;
  /** Registers it on a server, with the session's context. */
  register(mcp: McpServer, ctx: ToolContext): void;
}

/** Annotations of a read-only tool. */
export const READ: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

/** Annotations of a tool that writes. */
export const write = (idempotent: boolean, destructive = false): ToolAnnotations => ({
  readOnlyHint: false,
  destructiveHint: destructive,
  idempotentHint: idempotent,
  openWorldHint: false,
});

/** Text + structured result. */
function ok(data: Record<string, unknown>): CallToolResult {
  const out = isoDates(data);
  return { content: [{ type: "text", text: JSON.stringify(out) }], structuredContent: out };
}

/**
 * An error result: `isError`, and the text `{"code", "message", "details"?}`.
 * It carries no `structuredContent`: that must match the tool's output
 * schema, which describes success (1.x SDK clients and the Inspector
 * validate it on error results too, and threw instead of showing the
 * error). The code stays machine-readable in the text's JSON, which every
 * client passes on.
 */
function errorResult(e: unknown): CallToolResult {
  const body = e instanceof BatonError
    ? isoDates(e.toJSON())
    : { code: "internal", message: e instanceof Error ? e.message : String(e) };
  // A client (maybe remote) is not told where the server keeps its files; the server's log has the full message.
  body.message = withoutPaths(String(body.message));
  return { isError: true, content: [{ type: "text", text: JSON.stringify(body) }] };
}

/** What a tool definition says. */
export interface ToolDef<I extends v.ObjectEntries, O extends v.ObjectEntries> {
  /** For the model: what it does, and what to call next. */
  description: string;
  /** Its arguments (a strict object: unknown arguments are refused). */
  input: I;
  /** Its result's fields (more are allowed). */
  output: O;
  /** Hints for clients. */
  annotations: ToolAnnotations;
  /** False when the engine call itself refreshes the heartbeat (read-only tools never do). */
  touch?: boolean;
  /** The work. */
  handler(
    ctx: ToolContext,
    args: v.InferOutput<v.StrictObjectSchema<I, undefined>>,
  ): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/**
 * Defines a tool.
 * @param name its name
 * @param def description, schemas, annotations, handler
 * @returns the tool
 */
export function tool<I extends v.ObjectEntries, O extends v.ObjectEntries>(name: string, def: ToolDef<I, O>): Tool {
  return {
    name,
    register(mcp, ctx) {
      mcp.registerTool(name, {
        description: def.description,
        inputSchema: schema(v.strictObject(def.input)),
        outputSchema: schema(v.object(def.output)),
        annotations: def.annotations,
      }, async (args: unknown) => {
        const a = args as v.InferOutput<v.StrictObjectSchema<I, undefined>>;
        try {
          if (!def.annotations.readOnlyHint) {
            // Wait for other processes' writers off the event loop: reads and /healthz keep answering.
            await ctx.engine.whenWritable();
          }
          // The session's principal owns the agents it registers; audit rows record it as `via`.
          return ok(
            await ctx.engine.withPrincipal(ctx.session.principal, () => {
              // A call that writes counts as a heartbeat; a read-only call writes nothing at all.
              if (!def.annotations.readOnlyHint && def.touch !== false) {
                ctx.touch(ctx.knownAgent((a as { agent_id?: string }).agent_id));
              }
              return def.handler(ctx, a);
            }),
          );
        } catch (e) {
          if (treatmentOf(e).report) ctx.onError(e, `tool ${name}`);
          return errorResult(e);
        }
      });
    },
  };
}
