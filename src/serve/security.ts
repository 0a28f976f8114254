/**
 * Who may use the dashboard. Loopback by default, where the Host and Origin
 * headers must be local (a DNS-rebinding page cannot read it). Bound beyond
 * loopback it needs a token for everything. A state-changing request needs
 * the token as `Authorization: Bearer`, or, from the dashboard's own pages,
 * the page's CSRF token in `X-Baton-CSRF` with a same-origin `Origin`.
 *
 * @module
 */
import { type BatonErrorCode, ERROR_TABLE } from "../errors.ts";
import { isLoopback, isWellFormedHost } from "../net.ts";

/** How the server was started. */
export interface Access {
  /** Bound to a loopback address. */
  loopback: boolean;
  /** The token, if one was given (required beyond loopback). */
  token?: string;
  /** The CSRF token the pages carry (random per server). */
  csrf: string;
}

/** The cookie a `?token=` visit sets, so that the pages' own requests carry it. */
export const TOKEN_COOKIE = "baton_token";

/** A refusal: its status is its code's, from errors.ts's table. */
function deny(code: BatonErrorCode, message: string): Response {
  return Response.json({ code, message }, { status: ERROR_TABLE[code].http });
}

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k !== name) continue;
    try {
      return decodeURIComponent(v.join("="));
    } catch {
      return undefined; // a malformed %-encoding is no token (it was a 500)
    }
  }
  return undefined;
}

/** Compares secrets in time independent of where they differ. */
function same(a: string | undefined | null, b: string): boolean {
  if (a === undefined || a === null || a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}

function hostName(host: string): string {
  return host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
}

/**
 * Checks one request.
 * @param req the request
 * @param access how the server runs
 * @param writes whether the request changes state
 * @returns a refusal, or null when it may go on
 */
export function refuse(req: Request, access: Access, writes: boolean): Response | null {
  const host = req.headers.get("host") ?? "";
  // "[::1]evil.com" only starts like a loopback address: a Host is a name or a bracketed address, and a port.
  if (!isWellFormedHost(host)) return deny("invalid_argument", `The Host header "${host}" is malformed`);
  if (access.loopback && !isLoopback(hostName(host))) {
    return deny("forbidden", `Host "${host}" is not this machine: the dashboard answers local names only`);
  }
  const origin = req.headers.get("origin");
  if (origin && origin !== "null") {
    let o: URL | undefined;
    try {
      o = new URL(origin);
    } catch { /* refused below */ }
    if (!o || o.host !== host) return deny("forbidden", `Origin "${origin}" is not this dashboard`);
  }
  const bearer = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
  if (access.token) {
    const viaBearer = same(bearer, access.token);
    // `?token=` only opens a page (the server then moves it into a cookie); it never authorizes a change.
    const viaQuery = !writes && same(new URL(req.url).searchParams.get("token"), access.token);
    if (!viaBearer && !viaQuery && !same(cookie(req, TOKEN_COOKIE), access.token)) {
      return deny("unauthorized", "This dashboard needs its token (Authorization: Bearer, or open it with ?token=)");
    }
    if (viaBearer) return null;
  }
  if (writes) {
    if (!same(req.headers.get("x-baton-csrf"), access.csrf)) {
      return deny("csrf", "A change needs the token, or the dashboard page's CSRF token");
    }
    if (!origin) return deny("csrf", "A change from a page must say where it comes from (Origin)");
  }
  return null;
}
