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
import { BatonError, treatmentOf, withoutPaths, withoutPathsIn } from "../errors.ts";
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
 * The text of an error result: `code: message` first (the message may run
 * over several lines), then, when there are any, one line `details: {…}`
 * with the rest as JSON (`details`, `location`). Never bare JSON: a client
 * may read an error's text as structured output (Gemini CLI did, and showed
 * the model "Structured content does not match the tool's output schema"
 * instead of Baton's message). {@link parseErrorText} reads it back.
 * @param body the error's `code`, `message` and the rest
 * @returns the text
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorText } from "./tool.ts";
 * assert.equal(errorText({ code: "not_found", message: "Ticket 9999 does not exist" }), "not_found: Ticket 9999 does not exist");
 * ```
 */
export function errorText(body: Record<string, unknown>): string {
  const { code, message, ...rest } = body;
  const head = `${code}: ${message}`;
  return Object.keys(rest).length ? `${head}\ndetails: ${JSON.stringify(rest)}` : head;
}

/**
 * Reads an error result's text ({@link errorText}) back.
 * @param text the text
 * @returns `code`, `message` and the details' fields; null when the text is not one
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorText, parseErrorText } from "./tool.ts";
 * const body = { code: "forbidden", message: "no", details: { phase: 3 } };
 * assert.deepEqual(parseErrorText(errorText(body)), body);
 * ```
 */
export function parseErrorText(text: string): Record<string, unknown> | null {
  const m = /^([a-z][a-z0-9_]*): ([\s\S]*)$/.exec(text);
  if (!m) return null;
  let message = m[2], rest: Record<string, unknown> = {};
  const at = message.lastIndexOf("\ndetails: ");
  if (at >= 0) {
    try {
      rest = JSON.parse(message.slice(at + "\ndetails: ".length));
      message = message.slice(0, at);
    } catch { /* a message that happens to hold the word */ }
  }
  return { code: m[1], message, ...rest };
}

/**
 * An error result: `isError`, and the text of {@link errorText}. It
 * carries no `structuredContent`: that must match the tool's output
 * schema, which describes success (1.x SDK clients and the Inspector
 * validate it on error results too, and threw instead of showing the
 * error). The code stays machine-readable at the start of the text.
 */
function errorResult(e: unknown): CallToolResult {
  const body = e instanceof BatonError
    ? isoDates(e.toJSON())
    : { code: "internal", message: e instanceof Error ? e.message : String(e) };
  // A client (maybe remote) is not told where the server keeps its files; the server's log has the full message.
  body.message = withoutPaths(String(body.message));
  if (body.details !== undefined) body.details = withoutPathsIn(body.details);
  return { isError: true, content: [{ type: "text", text: errorText(body) }] };
}

/**
 * Arguments some clients add to every tool call on their own, accepted and
 * ignored: Gemini CLI adds `wait_for_previous` to every tool's schema (its
 * system prompt tells the model to set it) and passes it on. Any other
 * unknown argument is still refused (a misspelt `phaseId` must not fall back
 * to the session's phase).
 */
export const CLIENT_INJECTED: readonly string[] = ["wait_for_previous"];

/** Arguments that did not match a tool's input schema: what the handler answers with `invalid_argument`. */
class InvalidArguments {
  constructor(readonly issues: string) {}
}

/** A Standard Schema validation result. */
type Validated = { value?: unknown; issues?: readonly { message: string; path?: readonly unknown[] }[] };

/** Each issue as `field: what is wrong`. */
function describeIssues(issues: NonNullable<Validated["issues"]>): string {
  return issues.map((i) => {
    const path = (i.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p))
      .join(".");
    return path ? `${path}: ${i.message}` : i.message;
  }).join("; ");
}

/**
 * A tool's input schema that drops {@link CLIENT_INJECTED} arguments before
 * validating (its JSON Schema is unchanged), and that hands arguments it
 * refuses to the handler as {@link InvalidArguments}: the SDK's own refusal
 * would be text without Baton's code.
 */
function ignoringInjected<S extends { "~standard": { validate(value: unknown): unknown } }>(s: S): S {
  const std = s["~standard"];
  const judged = (r: Validated): Validated =>
    r.issues?.length ? { value: new InvalidArguments(describeIssues(r.issues)) } : r;
  const validate = (value: unknown) => {
    const kept = typeof value !== "object" || value === null || Array.isArray(value)
      ? value
      : Object.fromEntries(Object.entries(value).filter(([k]) => !CLIENT_INJECTED.includes(k)));
    const r = std.validate(kept) as Validated | Promise<Validated>;
    return r instanceof Promise ? r.then(judged) : judged(r);
  };
  return { ...s, "~standard": { ...std, validate } };
}

/** When each engine last looked at `.workflow/` (ms), and the last problem it said. */
const configLooks = new WeakMap<object, { at: number; said: string }>();

/**
 * Follows edits of `.workflow/` at most once a second (a human raising a lease while agents work: the next heartbeat
 * extends by the new one). Files that do not load are said once on stderr; the session goes on with what it had.
 */
async function followConfig(ctx: ToolContext): Promise<void> {
  const look = configLooks.get(ctx.engine) ?? { at: 0, said: "" };
  configLooks.set(ctx.engine, look);
  if (Date.now() - look.at < 1000) return;
  look.at = Date.now();
  try {
    await ctx.engine.followConfigEdits();
    look.said = "";
  } catch (e) {
    const msg = (e as Error).message;
    if (msg !== look.said) ctx.onError(e, "following an edit of .workflow/ (the server goes on with what it had)");
    look.said = msg;
  }
}

/** Records a `baton run` session's first tool call (never fails the call itself). */
async function firstCall(ctx: ToolContext): Promise<void> {
  ctx.session.called = true;
  const agent = ctx.session.agentId;
  if (!agent) return;
  try {
    await ctx.engine.whenWritable();
    ctx.engine.recordAgentCall(agent, ctx.mcp.server.getClientVersion()?.name?.slice(0, 200));
  } catch (e) {
    ctx.onError(e, "recording the first call");
  }
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
        inputSchema: ignoringInjected(schema(v.strictObject(def.input))),
        outputSchema: schema(v.object(def.output)),
        annotations: def.annotations,
      }, async (args: unknown) => {
        if (args instanceof InvalidArguments) {
          return errorResult(new BatonError("invalid_argument", `Invalid arguments for ${name}: ${args.issues}`));
        }
        const a = args as v.InferOutput<v.StrictObjectSchema<I, undefined>>;
        try {
          await followConfig(ctx);
          if (ctx.session.inherited && !ctx.session.called) await firstCall(ctx);
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
