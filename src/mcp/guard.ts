/**
 * Engine errors of resource reads and prompts as MCP protocol errors, and
 * the implicit heartbeat of such calls.
 *
 * @module
 */
import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError } from "@modelcontextprotocol/server";
import { BatonError } from "../errors.ts";
import type { ToolContext } from "./context.ts";

/** Maps engine errors of a resource read or prompt to protocol errors. */
export function guard<T>(uri: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BatonError) {
      if (e.code === "not_found") throw new ResourceNotFoundError(uri, e.message);
      throw new ProtocolError(
        e.code === "invalid_argument" ? ProtocolErrorCode.InvalidParams : ProtocolErrorCode.InternalError,
        `${e.code}: ${e.message}`,
      );
    }
    throw e;
  }
}

/** Runs `fn` as a call by the session's agent (an implicit heartbeat first). */
export function touched<T>(ctx: ToolContext, fn: () => T): T {
  ctx.touch(ctx.knownAgent());
  return fn();
}
