/**
 * Real `baton-mcp` processes driven by the real MCP client, for the MCP tests
 * and the benchmark: stdio sessions (the client spawns the server), an HTTP
 * server process, and a call helper that unpacks tool results.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { parseErrorText } from "../../src/mcp/tool.ts";

/** Path of the entrypoint. */
export const MCP: string = new URL("../../mcp.ts", import.meta.url).pathname;

/** The environment for server processes: ours, without a token that would change their behaviour. */
export function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.BATON_MCP_TOKEN;
  return { ...env, NO_COLOR: "1", ...extra };
}

/** A tool call's outcome. */
export interface Outcome {
  /** True unless the result had `isError`. */
  ok: boolean;
  /** `structuredContent`, or the error body `{code, message}` (parsed from the text) when not ok. */
  data: Record<string, unknown>;
  /** The text content (what a model reads). */
  text: string;
}

/** A connected client and what to stop it with. */
export interface Session {
  client: Client;
  /** Calls a tool; never throws for a tool-level error. */
  call(name: string, args?: Record<string, unknown>): Promise<Outcome>;
  /** The server's stderr so far (stdio sessions). */
  stderr(): string;
  /** The server process id (stdio sessions). */
  pid: number | null;
  close(): Promise<void>;
}

function wrap(client: Client, close: () => Promise<void>, stderr: () => string, pid: number | null): Session {
  return {
    client,
    pid,
    stderr,
    close,
    async call(name, args = {}) {
      const r = await client.callTool({ name, arguments: args });
      const content = r.content as { type: string; text?: string }[];
      const text = content.filter((c) => c.type === "text").map((c) => c.text ?? "").join("\n");
      // An error carries "code: message" in its text (no structuredContent: see src/mcp/tool.ts).
      const parse = () => parseErrorText(text) ?? {}; // the SDK's own errors (input validation) are plain text
      const data = r.isError ? parse() : (r.structuredContent ?? {});
      return { ok: !r.isError, data: data as Record<string, unknown>, text };
    },
  };
}

/**
 * Starts `baton-mcp --repo REPO` over stdio (the client spawns it).
 * @param repo the repository; null to let the server find it from `opts.cwd`
 * @param opts client protocol era (`legacy` = 2025, `auto` negotiates 2026-07-28), working directory, more
 *   environment for the server
 * @returns the session
 */
export async function stdioSession(
  repo: string | null,
  opts: { mode?: "legacy" | "auto"; name?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<Session> {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", MCP, ...(repo === null ? [] : ["--repo", repo])],
    env: serverEnv(opts.env),
    cwd: opts.cwd,
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (chunk: Uint8Array) => err += new TextDecoder().decode(chunk));
  const client = new Client({ name: opts.name ?? "baton-test", version: "1.0.0" }, {
    versionNegotiation: { mode: opts.mode ?? "legacy" },
  });
  await client.connect(transport);
  return wrap(client, () => client.close(), () => err, transport.pid);
}

/** A `baton-mcp --http` process. */
export interface HttpProcess {
  /** The MCP endpoint. */
  url: string;
  /** Base URL (for /healthz). */
  base: string;
  proc: Deno.ChildProcess;
  /** stderr so far. */
  stderr(): string;
  /** Sends a signal (once: a second one would force an immediate exit). */
  signal(signal: Deno.Signal): void;
  /** Sends SIGTERM unless a signal was sent already, and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts `baton-mcp --http --port 0` and waits for its "listening on" line.
 * @param repo the repository
 * @param opts token, extra arguments, extra environment
 * @returns the running process
 */
export async function startHttp(
  repo: string,
  opts: { token?: string; args?: string[]; env?: Record<string, string> } = {},
): Promise<HttpProcess> {
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MCP,
      "--http",
      "--port",
      "0",
      "--repo",
      repo,
      ...(opts.token ? ["--token", opts.token] : []),
      ...(opts.args ?? []),
    ],
    env: serverEnv(opts.env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let err = "";
  const reader = proc.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const listening = /listening on (http:\/\/\S+)/;
  while (!listening.test(err)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`baton-mcp --http exited before listening:\n${err}`);
    err += value;
  }
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      err += value;
    }
  })();
  const stdout = proc.stdout.pipeTo(new WritableStream()); // drained: stdout must stay empty anyway
  const url = listening.exec(err)![1];
  let signalled = false;
  const signal = (s: Deno.Signal) => {
    if (signalled) return;
    signalled = true;
    try {
      proc.kill(s);
    } catch { /* already gone */ }
  };
  return {
    url,
    base: url.replace(/\/mcp$/, ""),
    proc,
    stderr: () => err,
    signal,
    async stop(s: Deno.Signal = "SIGTERM") {
      signal(s);
      const status = await proc.status;
      await pump;
      await stdout;
      return status;
    },
  };
}

/**
 * Connects an MCP client over Streamable HTTP.
 * @param url the MCP endpoint
 * @param opts bearer token, protocol era
 * @returns the session
 */
export async function httpSession(
  url: string,
  opts: { token?: string; mode?: "legacy" | "auto"; name?: string } = {},
): Promise<Session> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: opts.token ? { headers: { Authorization: `Bearer ${opts.token}` } } : undefined,
  });
  const client = new Client({ name: opts.name ?? "baton-test", version: "1.0.0" }, {
    versionNegotiation: { mode: opts.mode ?? "legacy" },
  });
  await client.connect(transport);
  return wrap(
    client,
    async () => {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
    () => "",
    null,
  );
}

/**
 * One agent, single phase after single phase, until nothing is left: what the
 * concurrency tests run in each session.
 * @param s the session
 * @param agentId the agent id
 * @param capabilities its agent types
 * @returns the phases it completed and every error code it saw
 */
export async function drain(
  s: Session,
  agentId: string,
  capabilities: string[],
): Promise<{ completed: number[]; errors: string[] }> {
  const completed: number[] = [];
  const errors: string[] = [];
  const reg = await s.call("register_agent", { agent_id: agentId, capabilities });
  if (!reg.ok) throw new Error(`register_agent failed: ${reg.text}`);
  for (;;) {
    const c = await s.call("claim_phase");
    if (!c.ok) {
      errors.push(String(c.data.code));
      if (c.data.code === "nothing_to_claim" || errors.length > 20) break;
      continue;
    }
    const done = await s.call("complete_phase", { summary: `done by ${agentId}` });
    if (!done.ok) errors.push(String(done.data.code));
    else completed.push(c.data.phaseId as number);
  }
  return { completed, errors };
}
