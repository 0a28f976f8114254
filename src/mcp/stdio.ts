/**
 * `baton-mcp` over stdio: one connection per process (each agent session
 * starts its own server), both protocol eras (`serveStdio`). stdout carries
 * the protocol only; logs go to stderr.
 *
 * Shutdown: when the client closes stdin, or on SIGINT/SIGTERM. On a signal,
 * requests already received are answered (new ones are refused), then the
 * transport and the engine close.
 *
 * @module
 */
import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
} from "@modelcontextprotocol/server";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import type { Engine } from "../engine/mod.ts";
import { createServer } from "./server.ts";
import { ClaimMemory, Session } from "./session.ts";
import { filterStdin } from "./stdio_filter.ts";
import process from "node:process";
import { EventEmitter } from "node:events";
import type { Readable, Writable } from "node:stream";
import type { EarlyStdin } from "./early.ts";
import { StdoutWriter } from "./stdio_pipes.ts";

/** Options of {@link runStdio}. */
export interface StdioOptions {
  /** Log line sink (stderr). */
  log: (line: string) => void;
  /** Resolves when the server must stop (a signal). */
  stop: Promise<string>;
  /** How long a shutdown waits for requests in progress (ms). */
  drainMs?: number;
  /** The environment (default: the process's): `BATON_AGENT_ID`, `BATON_PHASE_ID`, `BATON_CLAIM`. */
  env?: (name: string) => string | undefined;
  /** Stdin as read since the process started, with the handshake already answered (`early.ts`). */
  early?: EarlyStdin;
}

/** The variables of an inherited claim (the token under its new name, then its old one). */
const CLAIM_VARS = { agentId: "BATON_AGENT_ID", phase: "BATON_PHASE_ID", token: ["BATON_CLAIM", "BATON_CLAIM_TOKEN"] };

/**
 * The claim an agent started by `baton run` inherits: its agent id, phase
 * and claim token from the environment (`BATON_AGENT_ID`, `BATON_PHASE_ID`,
 * `BATON_CLAIM`, or the older `BATON_CLAIM_TOKEN`), all three or none. A
 * partial claim (some client dropped a variable on the way) is no claim,
 * and `warn` says what is missing: the session would otherwise act as
 * nobody, silently.
 * @param env reads a variable
 * @param warn told about a partial or malformed claim
 * @returns the claim, or null
 */
export function inheritedClaim(
  env: (name: string) => string | undefined,
  warn: (line: string) => void = () => {},
): { agentId: string; phaseId: number; token: string } | null {
  const agentId = env(CLAIM_VARS.agentId), phase = env(CLAIM_VARS.phase);
  const token = CLAIM_VARS.token.map((n) => env(n)).find((v) => v);
  const found = { [CLAIM_VARS.agentId]: agentId, [CLAIM_VARS.phase]: phase, BATON_CLAIM: token };
  const missing = Object.entries(found).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length === 3) return null;
  if (missing.length) {
    warn(
      `WARNING: partial claim in the environment: ${missing.join(", ")} missing (got ${
        Object.keys(found).filter((k) => !missing.includes(k)).join(", ")
      }). This session holds no phase: its client did not pass every variable to baton-mcp ` +
        "(Codex: list them in env_vars; Gemini CLI drops names containing TOKEN, KEY or SECRET).",
    );
    return null;
  }
  if (!/^\d+$/.test(phase!)) {
    warn(`WARNING: BATON_PHASE_ID must be a phase id (a number), got "${phase}": this session holds no phase.`);
    return null;
  }
  return { agentId: agentId!, phaseId: Number(phase), token: token! };
}

type Id = string | number;

/**
 * Serves MCP on stdin/stdout until the client goes away or `opts.stop` resolves.
 *
 * @param engine the open engine (closed by the caller)
 * @param opts logging, the stop signal, drain timeout
 * @returns why it stopped
 */
export async function runStdio(engine: Engine, opts: StdioOptions): Promise<string> {
  const claims = new ClaimMemory();
  // One process serves one session. Started by `baton run`, it inherits the agent and its claim.
  const session = new Session();
  const inherited = inheritedClaim(opts.env ?? ((n) => Deno.env.get(n)), opts.log);
  if (inherited) {
    session.agentId = inherited.agentId;
    session.inherited = true;
    claims.remember(inherited.agentId, inherited.phaseId, inherited.token);
  }
  const onError = (e: unknown, where: string) => opts.log(`${where}: ${e instanceof Error ? e.stack : e}`);
  // Bad input gets an answer (or a log line), never silence: see stdio_filter.ts.
  // Early input (what was read while the server loaded) goes through the filter as stdin would; the filter
  // listens before anything is handed over.
  const fed = opts.early ? new EventEmitter() : undefined;
  // The transport uses a few events and methods of node streams; these two provide them directly
  // (stdio_pipes.ts), hence the casts.
  const wire: StdioServerTransport = new StdioServerTransport(
    filterStdin(fed ?? process.stdin, (m) => void wire.send(m).catch(() => {}), opts.log) as unknown as Readable,
    new StdoutWriter() as unknown as Writable,
  );
  if (fed) opts.early!.attach({ write: (c) => fed.emit("data", c), end: () => fed.emit("end") });
  if (opts.early) {
    // The answers to the handshake requests answered early are not sent twice.
    const answered = opts.early.answered;
    const write = wire.send.bind(wire);
    wire.send = (m: JSONRPCMessage) => {
      const id = (m as { id?: Id }).id;
      const n = id === undefined ? 0 : answered.get(id) ?? 0;
      if (n > 0 && (isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m))) {
        if (n === 1) answered.delete(id!);
        else answered.set(id!, n - 1);
        return Promise.resolve();
      }
      return write(m);
    };
  }
  const handle = serveStdio(() => createServer(engine, { claims, session, onError }), {
    transport: wire,
    onerror: (e) => opts.log(`transport: ${e.message.split("\n")[0]}`),
  });

  // Answers that are not the server's (refusals of this wrapper) bypass the bookkeeping below.
  const send = wire.send.bind(wire);
  // Requests received and not answered yet, to drain them on a signal.
  const pending = new Set<Id>();
  let drained: (() => void) | undefined;
  let stopping = false;
  const receive = wire.onmessage!;
  wire.onmessage = (m: JSONRPCMessage) => {
    if (isJSONRPCRequest(m)) {
      if (stopping) {
        void send({ jsonrpc: "2.0", id: m.id, error: { code: -32603, message: "baton-mcp is shutting down" } })
          .catch(() => {});
        return;
      }
      if (pending.has(m.id)) {
        // A second request under the id of one in progress: the SDK would answer only one of them, and the
        // client could not tell which answer is whose. Refused at once; the first goes on.
        void send({
          jsonrpc: "2.0",
          id: m.id,
          error: {
            code: -32600,
            message: `Invalid Request: id ${JSON.stringify(m.id)} is already in use by a request in progress`,
          },
        }).catch(() => {});
        return;
      }
      pending.add(m.id);
    }
    receive(m);
  };
  wire.send = async (m: JSONRPCMessage) => {
    try {
      await send(m);
    } finally {
      if ((isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m)) && m.id !== undefined && m.id !== null) {
        pending.delete(m.id);
        if (pending.size === 0) drained?.();
      }
    }
  };

  const stop = Promise.withResolvers<string>();
  const closeWire = wire.onclose;
  wire.onclose = () => {
    closeWire?.();
    stop.resolve("stdin closed");
  };
  opts.stop.then((s) => stop.resolve(s));

  const why = await stop.promise;
  stopping = true;
  if (pending.size > 0 && why !== "stdin closed") {
    const done = new Promise<void>((r) => drained = r);
    const timeout = opts.drainMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = await Promise.race([
      done.then(() => false),
      new Promise<boolean>((r) => timer = setTimeout(() => r(true), timeout)),
    ]);
    clearTimeout(timer);
    if (late) opts.log(`${pending.size} request(s) still unanswered after ${timeout} ms`);
  }
  await handle.close().catch((e) => opts.log(`close: ${e}`));
  return why;
}
