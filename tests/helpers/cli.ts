/** The `baton` CLI as a real process. */
/** The CLI entry point. */
export const CLI: string = new URL("../../cli.ts", import.meta.url).pathname;

/** What a CLI run printed and how it exited. */
export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `baton ARGS…` as a subprocess (`deno run -A cli.ts`), colours off.
 * @param args the command line
 * @param opts working directory, extra environment, a deadline (the process is killed after it), a command to
 *   run it under (e.g. `["faketime", "-f", "+1h"]`)
 * @returns exit code and output
 */
export async function baton(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; clearEnv?: boolean; timeoutMs?: number; wrap?: string[] } = {},
): Promise<Out> {
  const argv = ["run", "-A", CLI, ...args];
  const [command, ...rest] = opts.wrap ? [...opts.wrap, Deno.execPath(), ...argv] : [Deno.execPath(), ...argv];
  const child = new Deno.Command(command, {
    args: rest,
    cwd: opts.cwd,
    env: { NO_COLOR: "1", ...opts.env },
    clearEnv: opts.clearEnv,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // A command that hangs fails its test instead of freezing the suite, saying where its processes were.
  let hung = "";
  const timer = setTimeout(() => {
    hung = `\n--- killed after ${opts.timeoutMs ?? 120_000} ms; its processes then:\n${processTree(child.pid)}`;
    child.kill("SIGKILL");
  }, opts.timeoutMs ?? 120_000);
  try {
    const o = await child.output();
    return {
      code: o.code,
      stdout: new TextDecoder().decode(o.stdout),
      stderr: new TextDecoder().decode(o.stderr) + hung,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A process and its descendants as `ps` shows them: state, what each waits in (wchan), how long it has run. */
export function processTree(pid: number): string {
  const ps = new Deno.Command("ps", { args: ["-eo", "pid,ppid,pgid,stat,etimes,wchan:24,args"], stdout: "piped" })
    .outputSync();
  const lines = new TextDecoder().decode(ps.stdout).split("\n");
  const children = new Map<number, number[]>();
  for (const l of lines.slice(1)) {
    const [p, pp] = l.trim().split(/\s+/).map(Number);
    if (p) children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const tree = new Set<number>();
  for (const todo = [pid]; todo.length;) {
    const p = todo.pop()!;
    tree.add(p);
    todo.push(...(children.get(p) ?? []));
  }
  return [lines[0], ...lines.slice(1).filter((l) => tree.has(Number(l.trim().split(/\s+/)[0])))].join("\n");
}
