/**
 * `baton serve`: the web dashboard for the humans next to the agents. One
 * more adapter over the Engine API: the board, a ticket's timeline, the
 * gates (decided in the human's name), the agents, the metrics, live over
 * server-sent events fed by `engine.watch()`.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import { BatonError } from "../errors.ts";
import { isLoopback, serveGuarded } from "../net.ts";
import { createDashboard } from "./handler.ts";

export { createDashboard, type Dashboard, type DashboardOptions } from "./handler.ts";

/** Options of {@link serveDashboard}. */
export interface ServeOptions {
  /** Port (default 8766; 0 picks a free one). */
  port?: number;
  /** Address (default 127.0.0.1). */
  host?: string;
  /** Token: required beyond loopback. */
  token?: string;
  /** Stops the server. */
  signal?: AbortSignal;
  /** Told the address once listening. */
  onListen?: (url: string) => void;
}

/**
 * Serves the dashboard until the signal aborts.
 * @param engine the repository's engine
 * @param opts where to listen, the token
 * @returns the server's address and a promise of its end
 * @throws {BatonError} `invalid_argument` when bound beyond loopback without a token
 */
export function serveDashboard(engine: Engine, opts: ServeOptions = {}): { url: string; finished: Promise<void> } {
  const host = opts.host ?? "127.0.0.1";
  const loopback = isLoopback(host);
  if (!loopback && !opts.token) {
    throw new BatonError(
      "invalid_argument",
      `Serving the dashboard on ${host} (beyond this machine) needs a token: pass --token or set BATON_SERVE_TOKEN`,
    );
  }
  const dash = createDashboard(engine, { loopback, token: opts.token });
  let url = "";
  // Deno.serve has no header timeout: serveGuarded closes a connection whose request headers do not arrive in time.
  const server = serveGuarded({
    hostname: host,
    port: opts.port ?? 8766,
    onListen: ({ port }) => {
      url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;
      opts.onListen?.(url);
    },
  }, dash.handler);
  opts.signal?.addEventListener("abort", () => {
    dash.close();
    void server.shutdown();
  }, { once: true });
  return { url: url || `http://${host}:${server.addr.port}/`, finished: server.finished };
}
