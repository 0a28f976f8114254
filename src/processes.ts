/**
 * Processes a crashed Baton process left behind, told apart from the ones
 * the system started since. A supervisor records each agent's process (host,
 * pid, start time) when it spawns it, and releases at once the claims of its
 * agents whose process is gone; the merge worker records its check's process
 * group, and the next worker ends a group its killed predecessor left
 * running. A pid the system gave to another process since is told apart by
 * its start time (Linux `/proc/PID/stat`); where that cannot be read, a
 * process is never judged gone (and never killed), and its lease ends as
 * usual.
 *
 * @module
 */

/** Where a process runs: host, pid and start time (the engine's `ProcessInfo` has this shape). */
export interface ProcessInfo {
  /** The host name. */
  host: string;
  /** The process id there. */
  pid: number;
  /** The process's start time as the system reports it (null when unknown): a reused pid is another process. */
  pidStart: string | null;
}

/** `/proc/PID/stat`'s fields after the command name (state is [0], the process group [2], the start time [19]). */
function statFields(pid: number): string[] | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name may hold spaces and parentheses: the fields start after its last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/**
 * The start time of a process, as `/proc/PID/stat` gives it (clock ticks
 * since boot), or null when it cannot be read (no such process, a zombie,
 * not Linux).
 * @param pid the process id
 * @returns the start time, or null
 */
export function processStart(pid: number): string | null {
  const fields = statFields(pid);
  // A zombie (exited, not yet reaped by its parent) or a dead task is gone.
  if (!fields || fields[0] === "Z" || fields[0] === "X" || fields[0] === "x") return null;
  return fields[19] ?? null;
}

/**
 * When a process started, in ms since the epoch (the boot time `/proc/stat`
 * gives plus its start in clock ticks of 1/100 s), or null when there is no
 * such process (or not Linux).
 * @param pid the process id
 * @returns the time, or null
 */
export function processStartedAt(pid: number): number | null {
  const ticks = processStart(pid);
  if (ticks === null) return null;
  try {
    const btime = /^btime (\d+)$/m.exec(Deno.readTextFileSync("/proc/stat"))?.[1];
    return btime === undefined ? null : Number(btime) * 1000 + Number(ticks) * 10;
  } catch {
    return null;
  }
}

/**
 * This process's description of an agent process it just spawned.
 * @param pid the agent's process id
 * @returns host, pid and start time
 */
export function describeProcess(pid: number): ProcessInfo {
  return { host: Deno.hostname(), pid, pidStart: processStart(pid) };
}

/**
 * Whether a recorded process is certainly gone: on this host, its pid is
 * free or belongs to a process started at another time.
 * @param p the recorded process
 * @returns true when gone; false when it runs or cannot be told (another host, no start time recorded or readable)
 */
export function processGone(p: ProcessInfo): boolean {
  if (p.host !== Deno.hostname() || p.pidStart === null) return false;
  if (!canReadProc()) return false;
  return processStart(p.pid) !== p.pidStart;
}

/**
 * Whether a process of this host known only by its pid (no start time recorded) is certainly gone: `/proc`
 * describes processes here and has no such pid. Never this process.
 * @param pid the process id
 * @returns true when gone; false when it runs, or where it cannot be told
 */
export function pidGone(pid: number): boolean {
  return pid !== Deno.pid && canReadProc() && processStart(pid) === null;
}

/** Whether a process's environment holds `entry` (`NAME=value`); with no entry asked for, true. */
function environHas(pid: number, entry: string | undefined): boolean {
  if (entry === undefined) return true;
  try {
    return Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0").includes(entry);
  } catch {
    return false; // not ours to read, or gone
  }
}

/** Whether `/proc` describes processes here (it does on Linux). */
function canReadProc(): boolean {
  return processStart(Deno.pid) !== null;
}

/**
 * Kills what is left of a process group a crashed process started (a merge
 * check run as the leader of its own group): the leader when it is still the
 * recorded process, and every process of the group started since it (its
 * children outlive it). Nothing is killed on another host, without a start
 * time, or when the leader's pid now names a process started at another time
 * (the group id was given out again). Once the leader is gone, its pid may
 * have been given to a new group's leader that left too (a daemon that
 * forked twice): then only members whose environment holds `opts.environ`
 * (a variable the recorded process set, e.g. `BATON_MERGE_BATCH=7`) are
 * taken for its children.
 * @param leader the group's leader as it was recorded when spawned
 * @param opts `environ`: what a member's environment must hold when the leader is gone; `graceMs`: how long
 *   members have after SIGTERM before SIGKILL (default 2 s)
 * @returns how many processes were ended
 */
export function killProcessGroup(
  leader: ProcessInfo,
  opts: { environ?: string; graceMs?: number } = {},
): number {
  if (leader.host !== Deno.hostname() || leader.pidStart === null || !canReadProc()) return 0;
  const now = processStart(leader.pid);
  if (now !== null && now !== leader.pidStart) return 0;
  const leaderGone = now === null;
  const since = Number(leader.pidStart);
  const members: { pid: number; start: string }[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === Deno.pid) continue;
    const f = statFields(pid);
    if (!f || f[0] === "Z" || Number(f[2]) !== leader.pid || !(Number(f[19]) >= since)) continue;
    if (leaderGone && !environHas(pid, opts.environ)) continue;
    members.push({ pid, start: f[19] });
  }
  // SIGTERM first, so that what they were doing ends cleanly (git removes its index.lock; a SIGKILL in the middle of
  // a commit left it, and every later attempt in that worktree failed on it); SIGKILL for what is left after a grace.
  const running = (m: { pid: number; start: string }) => {
    const f = statFields(m.pid);
    return f !== null && f[0] !== "Z" && f[19] === m.start;
  };
  const signal = (ms: typeof members, sig: Deno.Signal) => {
    for (const m of ms) {
      try {
        Deno.kill(m.pid, sig);
      } catch { /* gone meanwhile */ }
    }
  };
  signal(members, "SIGTERM");
  const until = Date.now() + (opts.graceMs ?? 2000);
  let left = members.filter(running);
  const tick = new Int32Array(new SharedArrayBuffer(4));
  while (left.length && Date.now() < until) {
    Atomics.wait(tick, 0, 0, 20);
    left = left.filter(running);
  }
  signal(left, "SIGKILL");
  return members.length;
}

/** This machine's boot as `machineTime` read it first (undefined: not read yet; null: not known here). */
let boot: { id: string; up: number; at: number } | null | undefined;

/**
 * This machine's boot and the time since it, in ms: the host name and the
 * kernel's boot id (`/proc/sys/kernel/random/boot_id`), and the uptime
 * (`/proc/uptime`), read once, then carried on by this process's monotonic
 * clock. Neither the process's wall clock nor `faketime` changes it. The
 * engine's shared clock trusts time that passed on it (`engine/clock.ts`).
 * @returns `{ boot: "HOST BOOT-ID", ms }`, or null where `/proc` does not say (not Linux)
 * @example
 * ```ts
 * import { machineTime } from "./processes.ts";
 * const t = machineTime();
 * if (t) console.log(`up ${Math.round(t.ms / 1000)} s (${t.boot})`);
 * ```
 */
export function machineTime(): { boot: string; ms: number } | null {
  if (boot === undefined) {
    try {
      const id = Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim();
      const up = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]) * 1000;
      boot = id && Number.isFinite(up) ? { id: `${Deno.hostname()} ${id}`, up, at: performance.now() } : null;
    } catch {
      boot = null;
    }
  }
  return boot && { boot: boot.id, ms: Math.floor(boot.up + (performance.now() - boot.at)) };
}
