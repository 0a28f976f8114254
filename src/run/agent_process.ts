/**
 * One agent process under `baton run`: its command line with placeholders
 * filled, its environment (the inherited claim), its prompt on stdin or in
 * a file, its output in a log file, the tails of its stderr and stdout, and
 * its time limit (SIGTERM, then SIGKILL after a grace period).
 *
 * Each agent runs in a session (and process group) of its own: a terminal's
 * Ctrl-C reaches the supervisor only, which decides what its agents get; a
 * signal the supervisor sends reaches the agent's whole group (the CLI, its
 * `baton-mcp`, the tools it runs).
 *
 * @module
 */
import type { AgentTypeConfig } from "../config/schema.ts";
import { openLogForAppend, writeSessionFile } from "../repo/agent_logs.ts";

/** Lines of stderr kept for a failed attempt's context. */
export const TAIL_LINES = 40;
/** The characters kept of one line (its start: an error's first words say what it is); a longer line is cut. */
const LINE_CHARS = 4_000;
/** The most a tail gives (UTF-8 bytes, its end): well within what the engine takes as a failure's text. */
export const TAIL_BYTES = 16 * 1024;

/** The last lines of one of an agent's streams, each line and the whole bounded whatever the agent prints. */
class StreamTail {
  #lines: string[] = [];
  #partial = "";
  #cut = false;

  /** Adds what the stream printed. */
  add(text: string): void {
    const parts = text.split("\n");
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) {
        this.#lines.push(this.#line());
        this.#partial = "";
        this.#cut = false;
      }
      if (this.#cut) continue; // the rest of a line already cut
      this.#partial += parts[i];
      if (this.#partial.length > LINE_CHARS) {
        this.#partial = this.#partial.slice(0, LINE_CHARS);
        this.#cut = true;
      }
    }
    if (this.#lines.length > TAIL_LINES) this.#lines.splice(0, this.#lines.length - TAIL_LINES);
  }

  #line(): string {
    return this.#cut ? `${this.#partial} […]` : this.#partial;
  }

  /** The last lines, at most {@link TAIL_BYTES} of them (their end). */
  text(): string {
    const all = [...this.#lines, ...(this.#partial ? [this.#line()] : [])].slice(-TAIL_LINES).join("\n");
    const bytes = new TextEncoder().encode(all);
    if (bytes.length <= TAIL_BYTES) return all;
    // Cut at a byte: the character it split decodes as U+FFFD, dropped with the rest of its line.
    const end = new TextDecoder().decode(bytes.subarray(bytes.length - TAIL_BYTES));
    return end.slice(end.indexOf("\n") + 1);
  }
}

/** What the placeholders of `args` stand for. */
export interface Placeholders {
  /** The repository's root (where `.workflow/` is). */
  repo: string;
  prompt_file: string;
  ticket: string;
  phase: string;
  worktree: string;
  agent_id: string;
  mcp_config: string;
}

/**
 * Fills `{name}` placeholders (unknown ones are kept as written).
 * @param arg one argument
 * @param values the placeholders
 * @returns the argument
 */
export function fill(arg: string, values: Placeholders): string {
  return arg.replace(/\{([a-z_]+)\}/g, (m, k: string) => (k in values ? values[k as keyof Placeholders] : m));
}

/**
 * Fills the placeholders of an entry's environment values.
 * @param env the entry's `env`
 * @param values the placeholders
 * @returns the environment
 */
export function fillEnv(env: Record<string, string>, values: Placeholders): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, fill(v, values)]));
}

/** A running agent. */
export class AgentProcess {
  readonly child: Deno.ChildProcess;
  readonly startedAt = Date.now();
  #err = new StreamTail();
  #out = new StreamTail();
  #lastOutputAt = Date.now();
  #timer?: ReturnType<typeof setTimeout>;
  #killTimer?: ReturnType<typeof setTimeout>;
  /** Why the supervisor ended it, if it did ("timed out", "stalled", "stopped"). */
  endedBy?: string;
  /** Resolves with the exit code once its output is written. */
  readonly done: Promise<Deno.CommandStatus>;

  /**
   * Spawns the agent.
   * @param spec the registry entry
   * @param values the placeholders
   * @param env the agent's extra environment
   * @param prompt the prompt (written to `values.prompt_file` too)
   * @param log the log file
   * @param graceMs how long a terminated agent gets before SIGKILL
   */
  constructor(
    spec: AgentTypeConfig & { command: string },
    values: Placeholders,
    env: Record<string, string>,
    prompt: string,
    log: string,
    readonly graceMs: number,
  ) {
    writeSessionFile(values.prompt_file, prompt);
    const child = this.child = new Deno.Command(spec.command, {
      args: spec.args.map((a) => fill(a, values)),
      cwd: values.worktree,
      env: { ...fillEnv(spec.env, values), ...env },
      stdin: spec.prompt === "stdin" ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      // setsid(): its own session and process group, out of reach of the terminal's Ctrl-C.
      detached: true,
    }).spawn();
    if (spec.prompt === "stdin") {
      const w = child.stdin.getWriter();
      void w.write(new TextEncoder().encode(prompt)).then(() => w.close()).catch(() => {});
    }
    const file = openLogForAppend(log);
    const header = `--- ${new Date().toISOString()} ${values.agent_id}: ${spec.command} ${
      spec.args.join(" ")
    } (in ${values.worktree})\n`;
    file.writeSync(new TextEncoder().encode(header));
    const pump = async (stream: ReadableStream<Uint8Array>, isErr: boolean) => {
      const dec = new TextDecoder();
      for await (const chunk of stream) {
        this.#lastOutputAt = Date.now();
        file.writeSync(chunk);
        this.#keep(dec.decode(chunk, { stream: true }), isErr);
      }
    };
    const out = pump(child.stdout, false), err = pump(child.stderr, true);
    this.done = (async () => {
      const status = await child.status;
      await Promise.allSettled([out, err]);
      clearTimeout(this.#timer);
      clearTimeout(this.#killTimer);
      if (this.endedBy) await this.#endGroup();
      file.writeSync(
        new TextEncoder().encode(`--- exited with code ${status.code}${status.signal ? ` (${status.signal})` : ""}\n`),
      );
      file.close();
      return status;
    })();
    const max = spec.max_runtime_minutes;
    if (max !== undefined) this.#timer = setTimeout(() => this.terminate("timed out"), max * 60_000);
  }

  #keep(text: string, isErr: boolean): void {
    (isErr ? this.#err : this.#out).add(text);
  }

  /** The last lines of its stderr (each line, and the whole, bounded). */
  tail(): string {
    return this.#err.text();
  }

  /** The last lines of its stdout (each line, and the whole, bounded). */
  stdoutTail(): string {
    return this.#out.text();
  }

  /** When it last wrote anything. */
  get lastOutputAt(): number {
    return this.#lastOutputAt;
  }

  /**
   * Ends it: SIGTERM, then SIGKILL after the grace period.
   * @param why recorded as {@link endedBy}
   */
  terminate(why: string): void {
    this.endedBy ??= why;
    this.signal("SIGTERM");
    this.#killTimer ??= setTimeout(() => this.signal("SIGKILL"), this.graceMs);
  }

  /**
   * After the supervisor ended the agent: what else runs in its group (its
   * `baton-mcp`, a tool) gets the grace period to go, then SIGKILL.
   */
  async #endGroup(): Promise<void> {
    const alive = () => {
      try {
        Deno.kill(-this.child.pid, "SIGCONT"); // signal nothing: is anyone left in the group?
        return true;
      } catch {
        return false;
      }
    };
    for (const end = Date.now() + this.graceMs; alive() && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (alive()) this.signal("SIGKILL");
  }

  /**
   * Sends a signal to the agent's process group (its CLI and whatever that
   * started), or to the agent alone when the group is gone.
   * @param sig the signal
   */
  signal(sig: Deno.Signal): void {
    try {
      Deno.kill(-this.child.pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch { /* gone */ }
    }
  }
}
