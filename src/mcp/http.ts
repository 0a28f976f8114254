/**
 * `baton-mcp --http`: Streamable HTTP for many clients on one engine.
 *
 * - `POST/DELETE /mcp`: 2025-era clients get a session each
 *   (`Mcp-Session-Id`, one server instance per session, so the session
 *   remembers its agent and its own claims); 2026-07-28 clients are served
 *   statelessly by `createMcpHandler` (every request stands alone: it passes
 *   `agent_id`, `phase_id` and the claim `token`). No session can act on
 *   another's claim. `GET /mcp` answers 405: the server sends no
 *   unsolicited messages.
 * - `GET /healthz`: database and configuration health as JSON (no token; the
 *   same Host and Origin checks as `/mcp`).
 * - Bound to 127.0.0.1 unless told otherwise; on a loopback address the Host
 *   and Origin headers must be local (DNS rebinding). With a token, `/mcp`
 *   needs `Authorization: Bearer TOKEN` (401 otherwise). A non-loopback
 *   address without a token is refused by the caller ({@link isLoopback}).
 * - Shutdown: stop accepting, let requests in progress finish, close the
 *   sessions; the caller then closes the engine.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, timingSafeEqual } from "node:crypto";
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  isInitializeRequest,
  isLegacyRequest,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/server";
import type { Engine } from "../engine/mod.ts";
import { createServer } from "./server.ts";
import { httpPrincipal, Inflight, Session } from "./session.ts";
import { health } from "./health.ts";
import { BatonError, type BatonErrorCode, ERROR_TABLE } from "../errors.ts";

/** Options of {@link serveHttp}. */
export interface HttpOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (0: any free port). */
  port: number;
  /** Bearer token required on `/mcp` when set (its holder is "token"). */
  token?: string;
  /** Named bearer tokens: holder → token. A request's holder is recorded in the audit (`via`). */
  tokens?: Record<string, string>;
  /** Log line sink (stderr). */
  log: (line: string) => void;
  /** Sessions idle longer than this are closed (ms; default one hour); at most 1,000 are kept. */
  sessionIdleMs?: number;
  /** How long a shutdown waits for requests in progress (ms). */
  drainMs?: number;
}

/** A running HTTP server. */
export interface HttpServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8765/mcp`. */
  url: string;
  /** The bound port. */
  port: number;
  /** Open sessions (2025-era clients). */
  sessions(): number;
  /** Stops accepting, drains requests in progress, closes the sessions. */
  shutdown(reason: string): Promise<void>;
}

export { isLoopback } from "../net.ts";
import { isLoopback, isWellFormedHost, readBody, serveGuarded } from "../net.ts";

const MAX_BODY = 4 * 1024 * 1024;
const MAX_SESSIONS = 1000;
/** The most sessions one token's holder keeps open (more push out its own oldest). */
const MAX_SESSIONS_PER_HOLDER = 250;
const sha = (s: string) => createHash("sha256").update(s).digest();

/**
 * A request refused before MCP sees it, treated as errors.ts's table says:
 * its HTTP status, its JSON-RPC code (unless a JSON-RPC error of its own,
 * such as a parse error, is given), and Baton's code in `error.data.code`.
 */
function codedError(
  code: BatonErrorCode,
  message: string,
  opts: { headers?: Record<string, string>; rpc?: number; id?: unknown } = {},
): Response {
  const { http, rpc } = ERROR_TABLE[code];
  return Response.json(
    { jsonrpc: "2.0", error: { code: opts.rpc ?? rpc, message, data: { code } }, id: opts.id ?? null },
    { status: http, headers: opts.headers },
  );
}

/** The key of a JSON-RPC request id (a number and its string are different ids). */
const idKey = (id: unknown) => JSON.stringify(id);

interface LegacySession {
  transport: WebStandardStreamableHTTPServerTransport;
  lastUsed: number;
  /** The ids of the session's requests in progress (their keys): a second request under one of them is refused. */
  inflight: Set<string>;
  /** The holder of the token that opened it: every request of the session must carry that one. */
  holder?: string;
}

/**
 * The sessions of 2025-era clients: one server instance each (so a session
 * remembers its agent), at most {@link MAX_SESSIONS} (the least recently
 * used goes first), idle ones closed by a sweeper.
 */
class LegacySessions {
  readonly #map = new Map<string, LegacySession>();
  readonly #sweeper: ReturnType<typeof setInterval>;

  constructor(
    readonly build: (holder: string | undefined) => ReturnType<typeof createServer>,
    idleMs: number,
  ) {
    this.#sweeper = setInterval(() => {
      const cutoff = Date.now() - idleMs;
      for (const [id, s] of this.#map) {
        if (s.lastUsed < cutoff) {
          this.#map.delete(id);
          void s.transport.close().catch(() => {});
        }
      }
    }, Math.min(60_000, idleMs));
    Deno.unrefTimer(this.#sweeper);
  }

  get size(): number {
    return this.#map.size;
  }

  /** Serves a request of a 2025-era client: its session's, or an `initialize` that opens one. */
  async handle(req: Request, holder: string | undefined, body: string | undefined): Promise<Response> {
    const sid = req.headers.get("mcp-session-id");
    if (sid) {
      const s = this.#map.get(sid);
      if (!s) return codedError("not_found", "Session not found: initialize a new session");
      if (s.holder !== holder) return codedError("forbidden", "Forbidden: this session was opened with another token");
      s.lastUsed = Date.now();
      let message: unknown;
      try {
        message = body === undefined ? undefined : JSON.parse(body);
      } catch { /* the transport answers a parse error */ }
      const id = message !== null && typeof message === "object" && "method" in message && "id" in message
        ? idKey(message.id)
        : undefined;
      if (id === undefined) return await s.transport.handleRequest(req);
      if (s.inflight.has(id)) {
        // The transport keeps one answer slot per id: the first request would never be answered (as on stdio).
        return codedError("invalid_argument", `Invalid Request: id ${id} is already in use by a request in progress`, {
          rpc: -32600,
          id: (message as { id: unknown }).id,
        });
      }
      s.inflight.add(id);
      try {
        return await s.transport.handleRequest(req, { parsedBody: message });
      } finally {
        s.inflight.delete(id);
      }
    }
    if (req.method !== "POST") return codedError("invalid_argument", "Bad Request: no session id");
    let parsed: unknown;
    try {
      // The body was read already, capped (readBody): this parses that text, nothing more arrives.
      parsed = JSON.parse(body ?? "");
    } catch {
      return codedError("invalid_argument", "Parse error", { rpc: -32700 });
    }
    if (!isInitializeRequest(parsed)) {
      return codedError("invalid_argument", "Bad Request: no session id (send initialize first)");
    }
    this.#makeRoom(holder);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) =>
        void this.#map.set(id, { transport, lastUsed: Date.now(), holder, inflight: new Set() }),
      onsessionclosed: (id) => void this.#map.delete(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) this.#map.delete(transport.sessionId);
    };
    await this.build(holder).connect(transport);
    return await transport.handleRequest(req, { parsedBody: parsed });
  }

  /**
   * Room for a new session of `holder`: a holder at its share
   * ({@link MAX_SESSIONS_PER_HOLDER}) loses its own least recently used
   * session; a full server, the least recently used one of the holder with
   * the most. One client opening sessions in a loop pushes out only its own
   * (its client re-initializes if it comes back); without tokens every
   * client is one holder.
   */
  #makeRoom(holder: string | undefined): void {
    const byHolder = new Map<string | undefined, [string, LegacySession][]>();
    for (const e of this.#map) byHolder.set(e[1].holder, [...(byHolder.get(e[1].holder) ?? []), e]);
    let from = byHolder.get(holder) ?? [];
    if (from.length < MAX_SESSIONS_PER_HOLDER) {
      if (this.#map.size < MAX_SESSIONS) return;
      from = [...byHolder.values()].reduce((a, b) => (b.length > a.length ? b : a));
    }
    const [id, s] = from.reduce((a, b) => (b[1].lastUsed < a[1].lastUsed ? b : a));
    this.#map.delete(id);
    void s.transport.close().catch(() => {});
  }

  /** Closes every session and stops the sweeper. */
  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    for (const s of this.#map.values()) await s.transport.close().catch(() => {});
    this.#map.clear();
  }
}

interface Gate {
  loopback: boolean;
  allowedHosts: string[];
  /** Accepted tokens (their hashes) and their holders; empty: no token needed. */
  tokens: { hash: Buffer; holder: string }[];
}

/**
 * Refuses a request with a foreign Host or Origin (on loopback) or without
 * an accepted bearer token; otherwise says whose token it carries.
 */
function admission(req: Request, gate: Gate, needToken = true): Response | { holder?: string } {
  if (gate.loopback) {
    // DNS rebinding: a page elsewhere reaching this port through a name of its own, or from its own origin.
    if (hostHeaderValidationResponse(req, gate.allowedHosts)) {
      return codedError("forbidden", `Forbidden: Host ${req.headers.get("host") ?? "(none)"} is not this machine`);
    }
    if (originValidationResponse(req, localhostAllowedOrigins())) {
      return codedError("forbidden", `Forbidden: Origin ${req.headers.get("origin")} is not this machine`);
    }
  }
  if (!needToken || gate.tokens.length === 0) return {};
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "");
  const given = m ? sha(m[1]) : undefined;
  // Every token compared (in constant time each), whichever matches.
  let holder: string | undefined;
  for (const t of gate.tokens) if (given && timingSafeEqual(given, t.hash)) holder = t.holder;
  if (holder === undefined) {
    return codedError("unauthorized", "Unauthorized: send Authorization: Bearer <token>", {
      headers: { "WWW-Authenticate": 'Bearer realm="baton-mcp"' },
    });
  }
  return { holder };
}

/**
 * Starts the HTTP server.
 *
 * @param engine the open engine (closed by the caller after shutdown)
 * @param opts address, token, logging
 * @returns the running server
 */
export function serveHttp(engine: Engine, opts: HttpOptions): HttpServer {
  const host = opts.host ?? "127.0.0.1";
  const startedAt = Date.now();
  const inflight = new Inflight();
  const onError = (e: unknown, where: string) => opts.log(`${where}: ${e instanceof Error ? e.stack : e}`);
  const named = Object.entries(opts.tokens ?? {}).map(([holder, t]) => ({ hash: sha(t), holder }));
  const gate: Gate = {
    loopback: isLoopback(host),
    allowedHosts: [...new Set([...localhostAllowedHostnames(), host.includes(":") ? `[${host}]` : host])],
    tokens: [...named, ...(opts.token ? [{ hash: sha(opts.token), holder: "token" }] : [])],
  };
  // The holder of the request being served, for the stateless handler's per-request server.
  const requestHolder = new AsyncLocalStorage<string | undefined>();
  let stopping = false;
  const sessions = new LegacySessions(
    // Each session its own identity and claims: one client can never act on another's claim.
    (holder) =>
      createServer(engine, {
        session: Object.assign(new Session(), { principal: httpPrincipal(holder, true) }),
        onError,
      }),
    opts.sessionIdleMs ?? 3_600_000,
  );
  // Stateless requests stand alone: they name their agent and pass their claim token.
  const modern = createMcpHandler(
    () =>
      createServer(engine, {
        session: Object.assign(new Session(), { principal: httpPrincipal(requestHolder.getStore(), false) }),
        onError,
      }),
    {
      legacy: "reject",
      maxRequestBodySize: MAX_BODY,
      onerror: (e) => opts.log(`modern: ${e.message}`),
    },
  );

  async function handle(req: Request): Promise<Response> {
    // A malformed Host or path is the client's error (Deno cannot even build the request's URL from it).
    if (!isWellFormedHost(req.headers.get("host") ?? "")) {
      return codedError("invalid_argument", "Bad Request: malformed Host header");
    }
    let url: URL;
    try {
      url = new URL(req.url);
      decodeURIComponent(url.pathname);
    } catch {
      return codedError("invalid_argument", "Bad Request: malformed request address");
    }
    if (url.pathname === "/healthz") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return codedError("method_not_allowed", `${req.method} /healthz: use GET`, { headers: { Allow: "GET" } });
      }
      // The same Host/Origin check as /mcp: a DNS-rebinding page must not read it (no token needed).
      const foreign = admission(req, gate, false);
      if (foreign instanceof Response) return foreign;
      const h = health(engine, startedAt, sessions.size);
      return Response.json(h, { status: h.ok && !stopping ? 200 : 503 });
    }
    if (url.pathname !== "/mcp") {
      return codedError("not_found", `Not found: ${url.pathname} (the MCP endpoint is /mcp)`);
    }
    const admitted = admission(req, gate);
    if (admitted instanceof Response) return admitted;
    if (stopping) return codedError("unavailable", "baton-mcp is shutting down", { headers: { "Retry-After": "5" } });
    if (req.method !== "POST" && req.method !== "DELETE") {
      // No stream for GET: every answer is the POST's own JSON body.
      return codedError("method_not_allowed", `${req.method} /mcp: use POST (DELETE ends a session)`, {
        headers: { Allow: "POST, DELETE" },
      });
    }
    inflight.enter();
    try {
      // A detached copy: the body read once (capped while it arrives, and within a deadline), and a signal of
      // its own (Deno warns when the SDK watches a served request's signal; responses here are single JSON
      // bodies, nothing to abort).
      let body: string | undefined;
      if (req.body) {
        try {
          body = await readBody(req, { maxBytes: MAX_BODY });
        } catch (e) {
          if (e instanceof BatonError) return codedError(e.code, e.message);
          throw e;
        }
      }
      if (body !== undefined && /^\s*\[/.test(body)) {
        // JSON-RPC batching left MCP in 2025-06-18: refused in every protocol era.
        return codedError("invalid_argument", "Invalid Request: JSON-RPC batches are not part of MCP", { rpc: -32600 });
      }
      const inner = new Request(req.url, { method: req.method, headers: req.headers, body });
      if (await isLegacyRequest(inner, undefined, { maxRequestBodySize: MAX_BODY })) {
        return await sessions.handle(inner, admitted.holder, body);
      }
      return await requestHolder.run(admitted.holder, () => modern.fetch(inner));
    } catch (e) {
      onError(e, "request");
      return codedError("internal", "Internal server error");
    } finally {
      inflight.leave();
    }
  }

  // Deno.serve has no header timeout: serveGuarded closes a connection whose request headers do not arrive in time.
  const server = serveGuarded({
    hostname: host,
    port: opts.port,
    onError: (e) => {
      onError(e, "http");
      return codedError("internal", "Internal server error");
    },
  }, handle);

  const port = server.addr.port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/mcp`,
    port,
    sessions: () => sessions.size,
    async shutdown(reason: string) {
      if (stopping) return;
      stopping = true;
      opts.log(`stopping (${reason})`);
      const finished = server.shutdown();
      const drainMs = opts.drainMs ?? 10_000;
      if (!await inflight.idle(drainMs)) opts.log(`${inflight.count} request(s) still running after ${drainMs} ms`);
      await sessions.closeAll();
      await modern.close().catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([finished, new Promise((r) => timer = setTimeout(r, drainMs))]);
      clearTimeout(timer);
    },
  };
}
