/**
 * The `baton-mcp` command: argument parsing and the two modes (stdio by
 * default, `--http`). `mcp.ts` is the entrypoint; tests spawn it.
 *
 * Exit codes: 0 after a clean shutdown, 1 when the repository or database
 * cannot be opened, 2 for bad usage (also a non-loopback `--host` without a
 * token).
 *
 * @module
 */
import { type ArgOption, parseArgv } from "../args.ts";
import { BatonError, formatLocation } from "../errors.ts";
import { VERSION } from "../version.ts";
import { stopSignals } from "../signals.ts";
import { isLoopback } from "../net.ts";
import { importLate } from "../late_import.ts";
import { loadWorkflowConfigLate } from "../config/load_late.ts";
import { type EarlyStdin, readStdinEarly } from "./early.ts";

/** `baton-mcp --help`. */
export const HELP: string = `baton-mcp ${VERSION} — the Baton MCP server agents use

Usage:
  baton-mcp [--repo DIR]                 MCP over stdio (what an agent session starts)
  baton-mcp --http [--port N] [--host H] [--token T | --token-file F] [--repo DIR]
                                         Streamable HTTP at http://H:N/mcp for many clients

Options:
  --repo DIR    the repository (default: BATON_REPO, else found from the current directory)
  --http        serve Streamable HTTP instead of stdio
  --port N      HTTP port (default 8765; 0 picks a free one)
  --host H      address to bind (default 127.0.0.1); any other than loopback needs a token
  --token T     require "Authorization: Bearer T" on /mcp (default: env BATON_MCP_TOKEN)
  --token-file F  one token per person: lines "name: token" (# comments); the audit
                records who (the token's holder) for every change made with it
  -h, --help    this help
  --version     the version

HTTP also serves GET /healthz (database and config health, JSON).
Logs go to stderr; over stdio, stdout carries only the protocol.
SIGINT/SIGTERM stop the server after the requests in progress.
`;

/** Thrown for bad usage (exit code 2). */
class UsageError extends Error {}

/** Parsed command line. */
export interface McpArgs {
  repo: string;
  http: boolean;
  host: string;
  port: number;
  token?: string;
  /** Named tokens (holder → token), from `--token-file`. */
  tokens?: Record<string, string>;
}

/** The options `baton-mcp` takes (no arguments besides them). */
export const MCP_OPTIONS: Readonly<Record<string, ArgOption>> = {
  repo: { type: "string" },
  http: { type: "boolean", default: false },
  port: { type: "string" },
  host: { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", default: false },
};

/**
 * Parses the command line.
 * @param args arguments without the program name
 * @param env environment lookup
 * @returns the options, or "help" / "version"
 * @throws {UsageError} on bad usage
 */
export function parseMcpArgs(
  args: string[],
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): McpArgs | "help" | "version" {
  let r;
  try {
    r = parseArgv(args, MCP_OPTIONS, false);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = r.values as
    & {
      [k in "repo" | "port" | "host" | "token" | "token-file"]?: string;
    }
    & { http: boolean; help: boolean; version: boolean };
  if (v.help) return "help";
  if (v.version) return "version";
  if (!v.http) {
    for (const k of ["port", "host", "token", "token-file"] as const) {
      if (v[k] !== undefined) throw new UsageError(`--${k} needs --http (stdio has no port, host or token)`);
    }
  }
  let port = 8765;
  if (v.port !== undefined) {
    port = Number(v.port);
    if (!/^\d+$/.test(v.port) || port > 65535) throw new UsageError(`--port must be 0–65535, got "${v.port}"`);
  }
  const host = v.host ?? "127.0.0.1";
  if (!host.trim()) throw new UsageError("--host must not be empty");
  const token = v.token ?? (v.http ? env("BATON_MCP_TOKEN") : undefined) ?? undefined;
  if (token !== undefined && !/^\S{8,}$/.test(token)) {
    throw new UsageError("the token must be at least 8 characters without spaces");
  }
  const tokens = v["token-file"] !== undefined ? readTokenFile(v["token-file"]) : undefined;
  return {
    repo: v.repo ?? (env("BATON_REPO") || Deno.cwd()),
    http: v.http,
    host,
    port,
    token: token || undefined,
    tokens,
  };
}

/** Reads `name: token` lines (blank lines and `#` comments skipped); refuses bad or repeated ones. */
function readTokenFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new UsageError(`--token-file ${path}: ${(e as Error).message}`);
  }
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const m = /^([^:\s][^:]*?)\s*:\s*(\S{8,})$/.exec(line);
    if (!m) throw new UsageError(`${path}:${i + 1}: expected "name: token" (a token of at least 8 characters)`);
    if (m[1] in out) throw new UsageError(`${path}:${i + 1}: ${m[1]} is given twice`);
    if (seen.has(m[2])) throw new UsageError(`${path}:${i + 1}: this token is given to two people`);
    out[m[1]] = m[2];
    seen.add(m[2]);
  });
  if (!Object.keys(out).length) throw new UsageError(`${path}: no "name: token" lines`);
  return out;
}

const log = (line: string) => console.error(`baton-mcp: ${line}`);

/** How long the early handshake waits for the next handshake message before the server loads (ms). */
const HANDSHAKE_GRACE_MS = 150;

/** The repository or its database could not be opened: say why (exit code 1). */
function openFailed(e: unknown): number {
  if (e instanceof BatonError) {
    const where = e.location ? formatLocation(e.location) : "";
    console.error(`error: ${e.message}${where && !e.message.includes(where) ? ` (${where})` : ""}`);
    if (e.code === "config_not_found") console.error("hint: run 'baton init' in the repository, or pass --repo DIR");
    return 1;
  }
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
}

/**
 * Runs `baton-mcp`.
 * @param args command line arguments (without the program name)
 * @returns the exit code
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseMcpArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}`);
    console.error("hint: see 'baton-mcp --help'");
    return 2;
  }
  if (parsed === "help") {
    console.log(HELP.trimEnd());
    return 0;
  }
  if (parsed === "version") {
    console.log(`baton-mcp ${VERSION}`);
    return 0;
  }
  if (parsed.http && !isLoopback(parsed.host) && !parsed.token && !parsed.tokens) {
    console.error(
      `error: refusing to serve on ${parsed.host} without a token: anyone who can reach it could act as any agent. Set --token or BATON_MCP_TOKEN, or bind to 127.0.0.1.`,
    );
    return 2;
  }

  // Over stdio the handshake is answered while the SDK and the engine load (early.ts). The configuration,
  // from its cache, says which tools this server offers, and a repository without one fails first.
  let early: EarlyStdin | undefined;
  if (!parsed.http && Deno.env.get("BATON_MCP_EARLY") !== "0") {
    try {
      const cfg = await loadWorkflowConfigLate(parsed.repo);
      early = readStdinEarly({ allowAgents: cfg.config.gates.allow_agents });
    } catch (e) {
      return openFailed(e);
    }
  }
  // Loading blocks the event loop: the early handshake goes first (a client sends it at once, on connecting).
  await early?.handshake(HANDSHAKE_GRACE_MS);
  // Imported late (late_import.ts): Deno would otherwise walk the engine's, the SDK's and the HTTP server's modules
  // before the first line runs, delaying the early handshake by ~70 ms. The SDK's import starts first and both load
  // together: its modules' loading waits on I/O while the engine's load; started after them, or after the open, it
  // made the first tool answer ~60 ms later (docs/benchmarks.md, bench:mcp, stop 39).
  const stdio = parsed.http
    ? undefined
    : importLate<typeof import("./stdio.ts")>(new URL("./stdio.ts", import.meta.url));
  const { openEngineLate } = await importLate<typeof import("../open/late.ts")>(
    new URL("../open/late.ts", import.meta.url),
  );
  let engine;
  try {
    engine = await openEngineLate(parsed.repo);
  } catch (e) {
    return openFailed(e);
  }

  const signals = stopSignals(log);
  try {
    if (!parsed.http) {
      const { runStdio } = await stdio!;
      const why = await runStdio(engine, { log, stop: signals.first, early });
      if (why !== "stdin closed") log(`stopped (${why})`);
      return 0;
    }
    const { serveHttp } = await importLate<typeof import("./http.ts")>(new URL("./http.ts", import.meta.url));
    let server;
    try {
      server = serveHttp(engine, {
        host: parsed.host,
        port: parsed.port,
        token: parsed.token,
        tokens: parsed.tokens,
        log,
      });
    } catch (e) {
      console.error(`error: cannot listen on ${parsed.host}:${parsed.port}: ${(e as Error).message}`);
      return 1;
    }
    const auth = parsed.tokens
      ? `, ${Object.keys(parsed.tokens).length} named token(s)`
      : parsed.token
      ? ", token required"
      : "";
    log(`listening on ${server.url} (repo ${engine.cfg.repoRoot}${auth})`);
    await server.shutdown(await signals.first);
    log("stopped");
    return 0;
  } finally {
    engine.close();
    signals.dispose();
  }
}
