/**
 * `deno task test`: runs `deno test` with the arguments given, in a
 * temporary directory of its own (`TMPDIR`), and removes that directory
 * when the run ends, passed or failed. The suite makes hundreds of
 * repositories, worktrees, browser profiles and agent homes (~800 MB a
 * run); without this they would stay in /tmp after every run. Processes the
 * tests left running (they carry the run's `TMPDIR`) are ended first.
 *
 * Usage: `deno run -A scripts/test.ts [deno test arguments…]`
 *
 * @module
 */

const root = await Deno.makeTempDir({ prefix: "baton-tests-" });
const child = new Deno.Command(Deno.execPath(), {
  args: ["test", ...Deno.args],
  env: { TMPDIR: root },
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
// A run stopped from the terminal or by CI's timeout stops the tests too, and still cleans up.
const forward = (signal: Deno.Signal) => () => {
  try {
    child.kill(signal);
  } catch { /* it has exited already */ }
};
for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, forward(signal));
const status = await child.status;
// What the tests started and left running (a supervisor, an agent, a server whose test was stopped) carries the run's
// TMPDIR in its environment: ended here, so that no orphan outlives the run (one spun a core for 17 minutes).
for (const pid of leftovers(root)) {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone already */ }
}
try {
  await Deno.remove(root, { recursive: true });
} catch (e) {
  console.error(`could not remove the tests' temporary directory ${root}: ${(e as Error).message}`);
}
Deno.exit(status.code);

/** Processes (Linux: `/proc/PID/environ`) whose environment has `TMPDIR` set to `dir`, this one aside. */
function leftovers(dir: string): number[] {
  const mark = `TMPDIR=${dir}`;
  const out: number[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync("/proc")];
  } catch {
    return out; // not Linux: nothing to look at
  }
  for (const e of entries) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    let env: string[];
    try {
      env = new TextDecoder().decode(Deno.readFileSync(`/proc/${pid}/environ`)).split("\0");
    } catch {
      continue; // gone, or not ours to read
    }
    if (env.includes(mark)) out.push(pid);
  }
  return out;
}
