/**
 * A writer process stopped inside its write transaction (SIGSTOP): it holds
 * the writer queue and SQLite's write lock until resumed, as a writer frozen
 * by a debugger or a suspended laptop would.
 */
const STUCK = new URL("./stuck_writer.ts", import.meta.url).pathname;

/**
 * Starts a writer, waits until it is inside its transaction, and stops it there.
 * @param repo the repository
 * @returns how to end it (killed, then continued so that it dies)
 */
export async function stoppedWriter(repo: string): Promise<{ resume(): Promise<void> }> {
  const p = new Deno.Command(Deno.execPath(), { args: ["run", "-A", STUCK, repo], stdout: "piped", stderr: "inherit" })
    .spawn();
  const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("in-tx")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the stuck writer exited");
    out += value;
  }
  p.kill("SIGSTOP");
  return {
    async resume() {
      p.kill("SIGKILL");
      p.kill("SIGCONT");
      await p.status;
      reader.releaseLock();
      await p.stdout.cancel().catch(() => {});
    },
  };
}
