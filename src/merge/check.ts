/**
 * The merge queue's check: the configured commands, run in order in the
 * candidate's worktree by `sh -c`, each within the time limit. Green when
 * every command exits 0. The output of all of them goes to the batch's log
 * file, and its tail comes back for the rework notes of a culprit.
 *
 * @module
 */
import { openLogForAppend } from "../repo/agent_logs.ts";

/** What a run of the check said. */
export interface CheckResult {
  /** Every command exited 0 in time. */
  green: boolean;
  /** The command that failed (red). */
  failed: string | null;
  /** How long the run took (ms). */
  ms: number;
  /** The tail of the output (stdout and stderr as they came). */
  tail: string;
  /** Whether a command ran over the time limit. */
  timedOut: boolean;
  /** Whether the run was stopped (its signal aborted): neither green nor red. */
  stopped?: boolean;
}

/** How long the output of a finished command is still read (ms), for a process that escaped its group. */
const DRAIN_MS = 2_000;

/** Kills a command's process group (the command and what it started); a group already gone is fine. */
function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch { /* no process left in it */ }
}

/** How much of the output is kept in memory (the whole of it is in the log file). */
const TAIL_BYTES = 8192;

/**
 * Runs the check.
 * @param commands the check's commands
 * @param opts the worktree, the time limit, the log file, more environment, the stop signal, who is told of
 *   each command's process group
 * @returns green or red, the command that failed, the time, the output's tail
 */
export async function runCheck(
  commands: string[],
  opts: {
    cwd: string;
    timeoutMs: number;
    logFile: string;
    env: Record<string, string>;
    signal?: AbortSignal;
    /** Told each command's process group leader once spawned, and null once its group was killed. */
    onProcess?: (pid: number | null) => void;
  },
): Promise<CheckResult> {
  const started = performance.now();
  const log = openLogForAppend(opts.logFile);
  let tail = "";
  const keep = (chunk: Uint8Array) => {
    tail = (tail + new TextDecoder().decode(chunk)).slice(-TAIL_BYTES);
  };
  try {
    for (const cmd of commands) {
      if (opts.signal?.aborted) {
        return { green: false, failed: null, ms: performance.now() - started, tail, timedOut: false, stopped: true };
      }
      const header = new TextEncoder().encode(`$ ${cmd}\n`);
      await log.write(header);
      keep(header);
      const child = new Deno.Command("sh", {
        args: ["-c", cmd],
        cwd: opts.cwd,
        env: opts.env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        // Its own process group: the time limit, and the end of the command, reach what it started too.
        detached: true,
      }).spawn();
      opts.onProcess?.(child.pid);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, opts.timeoutMs);
      const stop = () => killGroup(child.pid); // a stopped worker stops its check (its own group: no Ctrl-C reaches it)
      opts.signal?.addEventListener("abort", stop, { once: true });
      const readers = [child.stdout.getReader(), child.stderr.getReader()];
      const pumps = readers.map(async (r) => {
        for (let x = await r.read(); !x.done; x = await r.read()) {
          await log.write(x.value);
          keep(x.value);
        }
      });
      const status = await child.status;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", stop);
      // What the command left running (a server it started, a child that outlived the limit) holds the pipes
      // open: it is killed, and what escaped its group gets a moment before its output is no longer waited for.
      killGroup(child.pid);
      opts.onProcess?.(null);
      let drainTimer: ReturnType<typeof setTimeout> | undefined;
      const drained = await Promise.race([
        Promise.all(pumps).then(() => true),
        new Promise<false>((r) => drainTimer = setTimeout(r, DRAIN_MS, false)),
      ]);
      clearTimeout(drainTimer);
      if (!drained) {
        for (const r of readers) await r.cancel().catch(() => {});
        await Promise.allSettled(pumps);
      }
      if (opts.signal?.aborted) {
        return { green: false, failed: cmd, ms: performance.now() - started, tail, timedOut: false, stopped: true };
      }
      if (timedOut || !status.success) {
        const why = new TextEncoder().encode(
          timedOut ? `(over the time limit of ${opts.timeoutMs / 1000} s)\n` : `(exit ${status.code})\n`,
        );
        await log.write(why);
        keep(why);
        return { green: false, failed: cmd, ms: performance.now() - started, tail, timedOut };
      }
    }
    return { green: true, failed: null, ms: performance.now() - started, tail, timedOut: false };
  } finally {
    log.close();
  }
}
