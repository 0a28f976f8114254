/**
 * The dashboard's request handler: pages, `/api/` JSON, the SSE stream and
 * the assets, behind the access checks of `security.ts`.
 *
 * Routes:
 * - `GET /`, `/ticket/ID`, `/gates`, `/agents`, `/metrics?since=MS`: pages
 * - `GET /api/board`, `/api/ticket/ID`, `/api/gates`, `/api/agents`, `/api/metrics?since=MS`: their data
 * - `GET /api/events`: server-sent events, one per audit entry of any process
 * - `GET /api/logs/FILE`: a supervisor-run agent's log
 * - `POST /api/gates/ID/approve`, `POST /api/gates/ID/reject` with `{by, notes}`: decisions, in the human's name
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import { BatonError, treatmentOf, withoutPaths, withoutPathsIn } from "../errors.ts";
import { readBody } from "../net.ts";
import { agentsData, boardData, gatesData, logText, mergeData, metricsData, ticketData } from "./api.ts";
import { ASSETS } from "./assets.gen.ts";
import { EventHub } from "./events.ts";
import { MarkdownRenderer } from "./markdown_render.ts";
import { pageHtml } from "./pages.ts";
import { type Access, refuse, TOKEN_COOKIE } from "./security.ts";

/** How the handler is set up. */
export interface DashboardOptions {
  /** Whether the server listens on loopback only (default true). */
  loopback?: boolean;
  /** A token: required beyond loopback. */
  token?: string;
  /** How often the event stream asks the database for changes (ms, default 50). */
  pollMs?: number;
}

/** A dashboard: its handler and what to close. */
export interface Dashboard {
  /** Answers one request. */
  handler(req: Request): Promise<Response>;
  /** Ends the event streams. */
  close(): void;
}

const MAX_BODY = 64 * 1024;
function errorResponse(e: unknown): Response {
  const { code, http } = treatmentOf(e);
  const body = e instanceof BatonError
    // A remote client is not told where the server keeps its files (a lock file in details, a path in the message).
    ? { code, message: withoutPaths(e.message), details: withoutPathsIn(e.details ?? null) }
    : { code, message: "internal error (see the server's log)" };
  if (!(e instanceof BatonError)) console.error(`baton serve: ${e instanceof Error ? e.stack : e}`);
  return Response.json(body, { status: http });
}

function sinceOf(url: URL): number | undefined {
  const s = url.searchParams.get("since");
  if (s === null || s === "") return undefined;
  const n = Number(s);
  // A time a Date holds (±8.64e15 ms): past that the metrics' days cannot be named.
  if (!Number.isFinite(n) || n < 0 || n > 8.64e15) {
    throw new BatonError("invalid_argument", `since must be a time in ms since 1970, not "${s}"`);
  }
  return n;
}

/** A path segment, %-decoded; a malformed encoding is the client's error. */
function segment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new BatonError("invalid_argument", "The path holds a malformed %-encoding");
  }
}

async function decision(req: Request): Promise<{ by: string; notes: string }> {
  // Read no further than the cap, and no longer than the deadline (a stalled body cannot hold the connection).
  const text = await readBody(req, { maxBytes: MAX_BODY });
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new BatonError("invalid_argument", "The request body must be JSON: {by, notes}");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BatonError("invalid_argument", "The request body must be a JSON object: {by, notes}");
  }
  const { by: rawBy, notes } = body as { by?: unknown; notes?: unknown };
  const by = typeof rawBy === "string" ? rawBy.trim() : "";
  if (!by) throw new BatonError("invalid_argument", "A decision needs the deciding human's name (by)");
  if (by.length > 100) throw new BatonError("invalid_argument", "The name is over 100 characters");
  if (notes !== undefined && notes !== null && typeof notes !== "string") {
    throw new BatonError(
      "invalid_argument",
      `notes must be a string, got ${Array.isArray(notes) ? "array" : typeof notes}`,
    );
  }
  return { by, notes: typeof notes === "string" ? notes.trim() : "" };
}

/**
 * Creates the dashboard over an engine.
 * @param engine the repository's engine
 * @param opts loopback or not, the token
 * @returns its handler
 */
export function createDashboard(engine: Engine, opts: DashboardOptions = {}): Dashboard {
  const access: Access = { loopback: opts.loopback ?? true, token: opts.token, csrf: crypto.randomUUID() };
  const hub = new EventHub(engine, opts.pollMs);
  const markdown = new MarkdownRenderer();
  const html = (page: string, title: string, data: unknown) =>
    new Response(pageHtml(page, title, data, access.csrf), {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-security-policy":
          "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        "x-content-type-options": "nosniff",
      },
    });

  async function route(req: Request, url: URL): Promise<Response> {
    const path = url.pathname;
    const ticket = /^\/(?:api\/)?ticket\/([^/]+)$/.exec(path);
    if (req.method === "GET") {
      if (path === "/") return html("board", "Board", boardData(engine));
      if (path === "/gates") return html("gates", "Gates", gatesData(engine));
      if (path === "/agents") return html("agents", "Agents", agentsData(engine));
      if (path === "/metrics") return html("metrics", "Metrics", metricsData(engine, sinceOf(url)));
      if (path === "/merge") return html("merge", "Merge", mergeData(engine));
      if (ticket && !path.startsWith("/api/")) {
        const id = segment(ticket[1]);
        return html("ticket", `Ticket ${id}`, await ticketData(engine, id, markdown));
      }
      if (path === "/api/board") return Response.json(boardData(engine));
      if (ticket) return Response.json(await ticketData(engine, segment(ticket[1]), markdown));
      if (path === "/api/gates") return Response.json(gatesData(engine));
      if (path === "/api/agents") return Response.json(agentsData(engine));
      if (path === "/api/metrics") return Response.json(metricsData(engine, sinceOf(url)));
      if (path === "/api/merge") return Response.json(mergeData(engine));
      if (path === "/api/events") return hub.connect({ csrf: access.csrf });
      const log = /^\/api\/logs\/([^/]+)$/.exec(path);
      if (log) {
        return new Response(logText(engine, segment(log[1])), {
          headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
        });
      }
    }
    const gate = /^\/api\/gates\/(\d+)\/(approve|reject)$/.exec(path);
    if (gate && req.method === "POST") {
      const { by, notes } = await decision(req);
      const actor = { kind: "human" as const, name: by };
      await engine.whenWritable();
      const g = gate[2] === "approve"
        ? engine.approveGate(Number(gate[1]), { actor, notes: notes || undefined })
        : engine.rejectGate(Number(gate[1]), { actor, notes });
      return Response.json(g);
    }
    if (gate || (req.method !== "GET" && readable(path))) {
      const allow = gate ? "POST" : "GET, HEAD";
      return Response.json(
        { code: "method_not_allowed", message: `${path} answers ${allow}, not ${req.method}` },
        { status: 405, headers: { allow } },
      );
    }
    return Response.json({ code: "not_found", message: `No ${req.method} ${path}` }, { status: 404 });
  }

  /** Whether a path is one of the pages or reads (GET). */
  function readable(path: string): boolean {
    return ["/", "/gates", "/agents", "/metrics", "/merge"].includes(path) || /^\/(api\/)?ticket\/[^/]+$/.test(path) ||
      /^\/api\/(board|gates|agents|metrics|merge|events)$/.test(path) || /^\/api\/logs\/[^/]+$/.test(path);
  }

  return {
    async handler(req: Request): Promise<Response> {
      try {
        return await answer(req);
      } catch (e) {
        // Whatever a request holds, the answer is coded JSON (a stack trace stays in the server's log).
        return errorResponse(e);
      }
    },
    close(): void {
      hub.closeAll();
      markdown.close();
    },
  };

  async function answer(req: Request): Promise<Response> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return errorResponse(new BatonError("invalid_argument", "The request's address is malformed (Host or path)"));
    }
    const name = url.pathname.slice("/assets/".length);
    // Own keys only: /assets/constructor is not a file.
    const asset = (req.method === "GET" || req.method === "HEAD") && url.pathname.startsWith("/assets/") &&
      Object.hasOwn(ASSETS, name) &&
      ASSETS[name];
    const writes = req.method !== "GET" && req.method !== "HEAD";
    const refused = refuse(req, access, writes);
    if (refused) return refused;
    if (asset) {
      return new Response(req.method === "HEAD" ? null : asset.body, {
        headers: { "content-type": asset.type, "cache-control": "public, max-age=3600" },
      });
    }
    // Opening the dashboard with ?token= keeps the token in a cookie, out of the address bar.
    if (access.token && url.searchParams.has("token") && !url.pathname.startsWith("/api/")) {
      url.searchParams.delete("token");
      // The same page, on this server: "//evil.com/x" as a path must not become a protocol-relative address.
      const here = "/" + url.pathname.replace(/^[\/\\]+/, "");
      return new Response(null, {
        status: 303,
        headers: {
          location: here + url.search,
          "set-cookie": `${TOKEN_COOKIE}=${encodeURIComponent(access.token)}; Path=/; HttpOnly; SameSite=Strict`,
        },
      });
    }
    if (req.method === "HEAD") {
      // As GET, without the body (what link checkers and `curl -I` ask).
      const r = await route(new Request(req.url, { method: "GET", headers: req.headers }), url);
      await r.body?.cancel();
      return new Response(null, { status: r.status, headers: r.headers });
    }
    return await route(req, url);
  }
}
