/**
 * Scripted model servers on loopback, standing in for the vendors' APIs so
 * that the real agent CLIs (Claude Code, Codex, Gemini CLI) can run Baton's
 * protocol with no model: the Anthropic Messages API (streamed as Server-Sent
 * Events, as Claude Code reads it), the OpenAI Responses API (Codex) and the
 * Gemini API (`streamGenerateContent`, Gemini CLI).
 *
 * Each server plays one phase through the CLI's own tools: Baton's
 * `get_context` and `start_phase`, the CLI's file-writing tool (a file named
 * after the ticket and phase, in the worktree the prompt names), its shell
 * tool (`git add` and `git commit`), then `complete_phase`, then a last line
 * of text. It picks the next step by counting the tool results already in
 * the conversation, so many sessions can share one server. A conversation
 * whose first request does not offer Baton's tools gets a text answer and
 * ends (the session started without Baton: what `bench/startup_race.ts`
 * counts).
 *
 * Every request is recorded (`requests`), so that a test can check, for
 * instance, that every session's first request already listed Baton's tools.
 */

/** The vendors' APIs served. */
export type Vendor = "claude" | "codex" | "gemini";

/** One step of the script. */
export type Step =
  | { kind: "baton"; tool: "get_context" | "start_phase" | "complete_phase"; args: Record<string, unknown> }
  | { kind: "write"; path: string; relative: string; content: string }
  | { kind: "shell"; command: string }
  | { kind: "text"; text: string }
  /** The provider's usage or rate limit: HTTP 429 with the vendor's error body (not to be retried). */
  | { kind: "limit" };

/** One request as the server received it. */
export interface Recorded {
  /** When (ms since the epoch). */
  t: number;
  method: string;
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body (null when there was none or it was not JSON). */
  body: unknown;
}

/** What a conversation turn looked like: the tools offered and how far it is. */
export interface Turn {
  /** The names of the tools the request offered (MCP tools as the CLI names them). */
  tools: string[];
  /** Whether Baton's `get_context` was among them. */
  hasBaton: boolean;
  /** Whether the request named Baton's `get_context` anywhere (Claude Code lists deferred tools in a message). */
  mentionsBaton: boolean;
  /** Tool results already in the conversation. */
  results: number;
  /** The text of the conversation's user messages (the prompt among them). */
  userText: string;
}

/** A running scripted model server. */
export interface ModelServer {
  vendor: Vendor;
  /** The base URL a CLI is pointed at (see {@link cliEnv} for the variables). */
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: Recorded[];
  /** The main-loop turns (requests that offered tools), in order. */
  turns(): Turn[];
  /** The first turn of every conversation (no tool result yet). */
  firstTurns(): Turn[];
  close(): Promise<void>;
}

/** What a phase prompt from `baton run` says: ticket, phase, worktree. */
export interface PhaseOfPrompt {
  phaseId: string;
  phase: string;
  ticket: string;
  /** The worktree, when the prompt names one. */
  dir?: string;
}

/**
 * Reads the phase a `baton run` prompt hands over (`src/run/prompt.ts`).
 * @param text the conversation's user text
 * @returns the phase, or null when the text is not such a prompt
 */
export function phaseOfPrompt(text: string): PhaseOfPrompt | null {
  const m = /Your phase: (\d+) "([^"]+)" of ticket (\S+)/.exec(text);
  if (!m) return null;
  const dir = /Commit your work in (\/\S+?)(?: \(git branch [^)]*\))?\.(?:\s|$)/.exec(text)?.[1];
  return { phaseId: m[1], phase: m[2], ticket: m[3], dir };
}

/** The file a phase writes (relative to its worktree). */
export function phaseFile(p: PhaseOfPrompt): string {
  const slug = p.phase.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `${p.ticket}-${slug}.md`;
}

/**
 * The script of one phase.
 * @param p the phase, from the prompt (null: a bare session, which writes `hello.txt`)
 * @param cwd where a bare session works
 * @returns the steps
 */
export function phaseScript(p: PhaseOfPrompt | null, cwd = "."): Step[] {
  const relative = p ? phaseFile(p) : "hello.txt";
  const dir = p?.dir ?? cwd;
  const what = p ? `${p.phase} of ${p.ticket}` : "hello";
  return [
    { kind: "baton", tool: "get_context", args: {} },
    { kind: "baton", tool: "start_phase", args: {} },
    { kind: "write", path: `${dir}/${relative}`, relative, content: `# ${what}\n\nWritten through the agent CLI.\n` },
    { kind: "shell", command: `git add ${relative} && git commit -q -m "${what}"` },
    { kind: "baton", tool: "complete_phase", args: { summary: `${what}: done`, artifacts: [relative] } },
    { kind: "text", text: "Done: the phase is complete." },
  ];
}

const NO_BATON = "Baton's tools are missing from this session: stopping.";

/** How one vendor's wire format reads a turn and writes a step. */
interface Wire {
  /** Whether a request is a main-loop turn (offers tools), and what it says. */
  turn(path: string, body: Record<string, unknown>): Turn | null;
  /** The answer to a request that is not a turn (null: 404). */
  other(method: string, path: string, body: Record<string, unknown> | null): Response | null;
  /** The streamed (or not) answer of one step (a limit is answered alike for every wire). */
  answer(step: Exclude<Step, { kind: "limit" }>, body: Record<string, unknown>, path: string, n: number): Response;
}

type Json = Record<string, unknown>;
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v as Json[] : []);
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const sse = (events: [string | null, unknown][]) =>
  new Response(
    events.map(([ev, data]) => `${ev ? `event: ${ev}\n` : ""}data: ${JSON.stringify(data)}\n\n`).join(""),
    { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
  );
const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : arr(content).map((b) => (typeof b.text === "string" ? b.text : b.type === "input_text" ? String(b.text) : ""))
      .join("\n");

/** Anthropic Messages API (Claude Code): tools `mcp__baton__*`, `Write`, `Bash`. */
const anthropic: Wire = {
  turn(path, body) {
    if (!path.startsWith("/v1/messages") || path.includes("count_tokens")) return null;
    const tools = arr(body.tools).map((t) => String(t.name));
    if (!tools.length) return null;
    let results = 0, userText = "";
    for (const m of arr(body.messages)) {
      if (m.role !== "user") continue;
      userText += textOf(m.content) + "\n";
      results += arr(m.content).filter((b) => b.type === "tool_result").length;
    }
    return { tools, hasBaton: tools.includes("mcp__baton__get_context"), mentionsBaton: false, results, userText };
  },
  other(method, path) {
    if (method === "POST" && path.startsWith("/v1/messages/count_tokens")) return json(200, { input_tokens: 100 });
    if (method === "POST" && path.startsWith("/v1/messages")) return null; // a side request: answered as text
    return json(404, { type: "error", error: { type: "not_found_error", message: `no route ${method} ${path}` } });
  },
  answer(step, body, _path, n) {
    let block: Json;
    if (step.kind === "text") block = { type: "text", text: step.text };
    else {
      const [name, input] = step.kind === "baton"
        ? [`mcp__baton__${step.tool}`, step.args]
        : step.kind === "write"
        ? ["Write", { file_path: step.path, content: step.content }]
        : ["Bash", { command: step.command, description: "commit the work" }];
      block = { type: "tool_use", id: `toolu_${n}`, name, input };
    }
    const stop = block.type === "tool_use" ? "tool_use" : "end_turn";
    const usage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const message = { id: `msg_${n}`, type: "message", role: "assistant", model: body.model, usage };
    if (!body.stream) return json(200, { ...message, content: [block], stop_reason: stop, stop_sequence: null });
    const start = block.type === "tool_use" ? { ...block, input: {} } : { type: "text", text: "" };
    const delta = block.type === "tool_use"
      ? { type: "input_json_delta", partial_json: JSON.stringify(block.input) }
      : { type: "text_delta", text: block.text };
    return sse([
      ["message_start", {
        type: "message_start",
        message: { ...message, content: [], stop_reason: null, stop_sequence: null },
      }],
      ["content_block_start", { type: "content_block_start", index: 0, content_block: start }],
      ["content_block_delta", { type: "content_block_delta", index: 0, delta }],
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      ["message_delta", {
        type: "message_delta",
        delta: { stop_reason: stop, stop_sequence: null },
        usage: { output_tokens: 5 },
      }],
      ["message_stop", { type: "message_stop" }],
    ]);
  },
};

/** OpenAI Responses API (Codex): MCP tools in the `mcp__baton` namespace, `apply_patch`, `exec_command`. */
const openai: Wire = {
  turn(path, body) {
    if (path !== "/v1/responses") return null;
    const tools = arr(body.tools).flatMap((t) =>
      t.type === "namespace" ? arr(t.tools).map((x) => `${t.name}.${x.name}`) : [String(t.name ?? t.type)]
    );
    const input = arr(body.input);
    const results = input.filter((i) => i.type === "function_call_output" || i.type === "custom_tool_call_output")
      .length;
    const userText = input.filter((i) => i.role === "user").map((i) => textOf(i.content)).join("\n");
    return { tools, hasBaton: tools.includes("mcp__baton.get_context"), mentionsBaton: false, results, userText };
  },
  other(method, path) {
    if (method === "GET" && path.startsWith("/v1/models")) {
      return json(200, { object: "list", data: [{ id: "scripted", object: "model", owned_by: "baton-tests" }] });
    }
    return json(404, { error: { message: `no route ${method} ${path}` } });
  },
  answer(step, body, _path, n) {
    let item: Json;
    if (step.kind === "baton") {
      item = {
        type: "function_call",
        id: `fc_${n}`,
        call_id: `call_${n}`,
        namespace: "mcp__baton",
        name: step.tool,
        arguments: JSON.stringify(step.args),
        status: "completed",
      };
    } else if (step.kind === "shell") {
      item = {
        type: "function_call",
        id: `fc_${n}`,
        call_id: `call_${n}`,
        name: "exec_command",
        arguments: JSON.stringify({ cmd: step.command }),
        status: "completed",
      };
    } else if (step.kind === "write") {
      const lines = step.content.replace(/\n$/, "").split("\n").map((l) => `+${l}`).join("\n");
      const patch = `*** Begin Patch\n*** Add File: ${step.relative}\n${lines}\n*** End Patch\n`;
      const tool = arr(body.tools).find((t) => t.name === "apply_patch");
      item = tool?.type === "custom"
        ? { type: "custom_tool_call", id: `ctc_${n}`, call_id: `call_${n}`, name: "apply_patch", input: patch }
        : tool
        ? { type: "function_call", id: `fc_${n}`, call_id: `call_${n}`, name: "apply_patch", arguments: "" }
        : { type: "function_call", id: `fc_${n}`, call_id: `call_${n}`, name: "exec_command", arguments: "" };
      if (tool?.type === "function") item.arguments = JSON.stringify({ input: patch });
      else if (!tool) {
        // A model without apply_patch writes through the shell.
        item.arguments = JSON.stringify({ cmd: `cat > ${step.relative} <<'BATON_EOF'\n${step.content}BATON_EOF` });
      }
      item.status = "completed";
    } else {
      item = {
        type: "message",
        id: `msg_${n}`,
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: step.text, annotations: [] }],
      };
    }
    const base = {
      id: `resp_${n}`,
      object: "response",
      created_at: Math.floor(Date.now() / 1000),
      model: body.model,
      status: "in_progress",
      output: [],
    };
    const events: [string, Json][] = [
      ["response.created", { type: "response.created", response: base }],
      ["response.output_item.added", { type: "response.output_item.added", output_index: 0, item }],
      ["response.output_item.done", { type: "response.output_item.done", output_index: 0, item }],
      ["response.completed", {
        type: "response.completed",
        response: {
          ...base,
          status: "completed",
          output: [item],
          usage: {
            input_tokens: 10,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: 5,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: 15,
          },
        },
      }],
    ];
    return sse(events);
  },
};

/** Gemini API (Gemini CLI): tools `mcp_baton_*`, `write_file`, `run_shell_command`. */
const gemini: Wire = {
  turn(path, body) {
    if (!/\/models\/[^:]+:(stream)?generateContent/i.test(path)) return null;
    const tools = arr(body.tools).flatMap((t) => arr(t.functionDeclarations).map((f) => String(f.name)));
    if (!tools.length) return null;
    let results = 0, userText = "";
    for (const c of arr(body.contents)) {
      for (const p of arr(c.parts)) {
        if (p.functionResponse) results++;
        else if (c.role === "user" && typeof p.text === "string") userText += p.text + "\n";
      }
    }
    return { tools, hasBaton: tools.includes("mcp_baton_get_context"), mentionsBaton: false, results, userText };
  },
  other(method, path, body) {
    if (/:countTokens$/.test(path)) return json(200, { totalTokens: 100 });
    if (/:(stream)?generateContent/i.test(path)) {
      // A side request without tools (the next-speaker check asks for JSON).
      const cfg = (body?.generationConfig ?? {}) as Json;
      const text = cfg.responseMimeType === "application/json" ? "{}" : "ok";
      return gemini.answer({ kind: "text", text }, body ?? {}, path, 0);
    }
    return json(404, { error: { code: 404, message: `no route ${method} ${path}`, status: "NOT_FOUND" } });
  },
  answer(step, _body, path, n) {
    // Real Gemini models set `wait_for_previous` on every call (Gemini CLI's system prompt asks for it).
    const part = step.kind === "baton"
      ? { functionCall: { name: `mcp_baton_${step.tool}`, args: { ...step.args, wait_for_previous: true } } }
      : step.kind === "write"
      ? { functionCall: { name: "write_file", args: { file_path: step.path, content: step.content } } }
      : step.kind === "shell"
      ? { functionCall: { name: "run_shell_command", args: { command: step.command, description: "commit" } } }
      : { text: step.text };
    const model = /\/models\/([^:]+):/.exec(path)?.[1] ?? "scripted";
    const chunk = {
      candidates: [{ content: { role: "model", parts: [part] }, finishReason: "STOP", index: 0 }],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
      modelVersion: model,
      responseId: `resp_${n}`,
    };
    return /:streamGenerateContent/i.test(path) ? sse([[null, chunk]]) : json(200, chunk);
  },
};

const WIRES: Record<Vendor, Wire> = { claude: anthropic, codex: openai, gemini };

/** Each vendor's answer to a request over the account's limit, as its API words it. */
const LIMITED: Record<Vendor, () => Response> = {
  claude: () =>
    json(429, {
      type: "error",
      error: { type: "rate_limit_error", message: "This request would exceed your account's rate limit." },
    }, { "retry-after": "60", "x-should-retry": "false" }),
  codex: () =>
    json(429, {
      error: { type: "usage_limit_reached", message: "The usage limit has been reached", resets_in_seconds: 3600 },
    }),
  gemini: () =>
    json(429, {
      error: { code: 429, message: "Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED" },
    }),
};

/**
 * Starts a scripted model server on 127.0.0.1 (a free port).
 * @param vendor whose API it speaks
 * @param opts `script` replaces the phase script (given the phase the prompt names)
 * @returns the server
 */
export function startModelServer(
  vendor: Vendor,
  opts: { script?: (p: PhaseOfPrompt | null) => Step[] } = {},
): ModelServer {
  const wire = WIRES[vendor];
  const requests: Recorded[] = [];
  const turns: Turn[] = [];
  let n = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const path = url.pathname + url.search;
    const raw = await req.text();
    let body: Json | null = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch { /* not JSON */ }
    requests.push({ t: Date.now(), method: req.method, path, headers: Object.fromEntries(req.headers), body });
    n++;
    const turn = body && req.method === "POST" ? wire.turn(url.pathname, body) : null;
    if (!turn) {
      return wire.other(req.method, path, body) ??
        wire.answer({ kind: "text", text: "ok" }, body ?? {}, url.pathname, n);
    }
    turn.mentionsBaton = turn.hasBaton || raw.includes("mcp__baton__get_context") ||
      raw.includes("mcp_baton_get_context");
    turns.push(turn);
    let step: Step;
    if (turn.results === 0 && !turn.hasBaton) step = { kind: "text", text: NO_BATON };
    else {
      const p = phaseOfPrompt(turn.userText);
      const script = opts.script ? opts.script(p) : phaseScript(p);
      step = script[Math.min(turn.results, script.length - 1)];
    }
    return step.kind === "limit" ? LIMITED[vendor]() : wire.answer(step, body!, url.pathname, n);
  });
  const port = (server.addr as Deno.NetAddr).port;
  const base = `http://127.0.0.1:${port}`;
  return {
    vendor,
    url: vendor === "codex" ? `${base}/v1` : base,
    port,
    requests,
    turns: () => [...turns],
    firstTurns: () => turns.filter((t) => t.results === 0),
    close: () => server.shutdown(),
  };
}
