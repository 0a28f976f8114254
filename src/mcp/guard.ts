/**
 * Engine errors of resource reads and prompts as MCP protocol errors.
 *
 * @module
 */
import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError } from "@modelcontextprotocol/server";
import { BatonError } from "../errors.ts";

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
