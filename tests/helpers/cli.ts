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
  // A command that hangs fails its test instead of freezing the suite.
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
  try {
    const o = await child.output();
    return { code: o.code, stdout: new TextDecoder().decode(o.stdout), stderr: new TextDecoder().decode(o.stderr) };
  } finally {
    clearTimeout(timer);
  }
}
