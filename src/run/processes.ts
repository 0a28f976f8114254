/**
 * Whether an agent's process still runs, for a supervisor that starts again
 * after a crash: it records each agent's process (host, pid, start time) when
 * it spawns it, and releases at once the claims of its agents whose process
 * is gone. A pid the system gave to another process since is told apart by
 * its start time (Linux `/proc/PID/stat`); where that cannot be read, a
 * process is never judged gone, and its lease ends as usual.
 *
 * @module
 */
import type { AgentProcessInfo } from "../engine/types.ts";

/**
 * The start time of a process, as `/proc/PID/stat` gives it (clock ticks
 * since boot), or null when it cannot be read (no such process, a zombie,
 * not Linux).
 * @param pid the process id
 * @returns the start time, or null
 */
export function processStart(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime field 22.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // A zombie (exited, not yet reaped by its parent) or a dead task is gone.
    if (fields[0] === "Z" || fields[0] === "X" || fields[0] === "x") return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * This process's description of an agent process it just spawned.
 * @param pid the agent's process id
 * @returns host, pid and start time
 */
export function describeProcess(pid: number): AgentProcessInfo {
  return { host: Deno.hostname(), pid, pidStart: processStart(pid) };
}

/**
 * Whether a recorded process is certainly gone: on this host, its pid is
 * free or belongs to a process started at another time.
 * @param p the recorded process
 * @returns true when gone; false when it runs or cannot be told (another host, no start time recorded or readable)
 */
export function processGone(p: AgentProcessInfo): boolean {
  if (p.host !== Deno.hostname() || p.pidStart === null) return false;
  if (!canReadProc()) return false;
  return processStart(p.pid) !== p.pidStart;
}

/** Whether `/proc` describes processes here (it does on Linux). */
function canReadProc(): boolean {
  return processStart(Deno.pid) !== null;
}
