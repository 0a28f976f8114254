/**
 * `baton serve` as a process, for the dashboard's browser tests.
 */
import { CLI } from "./cli.ts";

/** `baton serve --port 0` as a process; resolves with its address. */
export async function serve(
  repo: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<{ url: string; stop(): Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "serve", "--port", "0", ...extra],
    cwd: repo,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const deadline = Date.now() + 30_000;
  while (!/on (http:\S+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done || Date.now() > deadline) throw new Error(`baton serve did not start: ${out}`);
    out += value;
  }
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return {
    url: /on (http:\S+)/.exec(out)![1],
    async stop() {
      child.kill("SIGINT");
      await child.status;
      await child.stderr.cancel().catch(() => {});
    },
  };
}
