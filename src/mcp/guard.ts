/**
 * Engine errors of resource reads and prompts as MCP protocol errors.
 *
 * @module
 */
import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError } from "@modelcontextprotocol/server";
import { BatonError, treatmentOf } from "../errors.ts";

/** Maps engine errors of a resource read or prompt to protocol errors (the error table's `rpc`). */
export function guard<T>(uri: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BatonError) {
      const { rpc } = treatmentOf(e);
      if (rpc === ProtocolErrorCode.ResourceNotFound) throw new ResourceNotFoundError(uri, e.message);
      throw new ProtocolError(rpc, `${e.code}: ${e.message}`);
    }
    throw e;
  }
}
