/**
 * `deno task test`: runs `deno test` with the arguments given, in a
 * temporary directory of its own (`TMPDIR`), and removes that directory
 * when the run ends, passed or failed. The suite makes hundreds of
 * repositories, worktrees, browser profiles and agent homes (~800 MB a
 * run); without this they would stay in /tmp after every run.
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
try {
  await Deno.remove(root, { recursive: true });
} catch (e) {
  console.error(`could not remove the tests' temporary directory ${root}: ${(e as Error).message}`);
}
Deno.exit(status.code);
