/**
 * What reaches the stdio transport: one JSON-RPC message per line. A line
 * the SDK would drop without a word (not JSON, not a JSON-RPC message, a
 * batch: batching left MCP in 2025-06-18) gets the answer HTTP gives, when
 * it carries an id, and one log line otherwise; the client never waits for
 * a reply that will not come.
 *
 * @module
 */
import type { EventEmitter } from "node:events";
import { LineFeed } from "./stdio_pipes.ts";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";

type Id = string | number;
const idOf = (m: unknown): Id | undefined => {
  const id = (m as { id?: unknown } | null)?.id;
  return typeof id === "string" || typeof id === "number" ? id : undefined;
};
const isMessage = (m: unknown): boolean => {
  if (!m || typeof m !== "object" || Array.isArray(m)) return false;
  const o = m as Record<string, unknown>;
  return o.jsonrpc === "2.0" && (typeof o.method === "string" || "result" in o || "error" in o);
};

/**
 * Filters the lines of `input` into a stream for the transport.
 * @param input the raw stdin
 * @param reply sends an error answer to a request id
 * @param log one line per dropped input
 * @returns the stream of well-formed lines
 */
export function filterStdin(
  input: EventEmitter,
  reply: (m: JSONRPCMessage) => void,
  log: (line: string) => void,
): LineFeed {
  const out = new LineFeed();
  let buf = "";
  const refuse = (id: Id | undefined, code: number, message: string, what: string) => {
    if (id !== undefined) reply({ jsonrpc: "2.0", id, error: { code, message } } as JSONRPCMessage);
    else log(`stdio: ignored ${what} (${message})`);
  };
  const line = (raw: string) => {
    const text = raw.replace(/\r$/, "");
    if (!text.trim()) return;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      const id = /"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)/.exec(text)?.[1];
      refuse(
        id === undefined ? undefined : JSON.parse(id),
        -32700,
        "Parse error: the line is not JSON",
        "a line that is not JSON",
      );
      return;
    }
    if (Array.isArray(msg)) {
      const ids = msg.map(idOf).filter((x): x is Id => x !== undefined);
      for (const id of ids) refuse(id, -32600, "Invalid Request: JSON-RPC batches are not part of MCP", "a batch");
      if (!ids.length) log("stdio: ignored a JSON-RPC batch (batches are not part of MCP)");
      return;
    }
    if (!isMessage(msg)) {
      refuse(idOf(msg), -32600, "Invalid Request: not a JSON-RPC 2.0 message", "an invalid message");
      return;
    }
    out.write(text + "\n");
  };
  // One decoder for the stream: a character split across two chunks is decoded whole.
  const decoder = new TextDecoder();
  input.on("data", (chunk: Uint8Array | string) => {
    buf += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      line(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  input.on("end", () => {
    if (buf) line(buf);
    out.end();
  });
  input.on("error", (e: Error) => out.destroy(e));
  return out;
}
