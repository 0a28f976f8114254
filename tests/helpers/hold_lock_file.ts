/**
 * Test helper process: holds an exclusive `flock` on the file `Deno.args[0]`,
 * as a process stopped (`SIGSTOP`) while it held that lock would: until it is
 * killed, or for `Deno.args[1]` ms when given. Prints "locked" once it holds
 * it.
 */
const f = Deno.openSync(Deno.args[0], { read: true, write: true });
f.lockSync(true);
console.log("locked");
if (Deno.args[1] !== undefined) {
  await new Promise((r) => setTimeout(r, Number(Deno.args[1])));
  f.unlockSync();
} else {
  // Keeps the process (and its lock) alive until it is killed.
  setInterval(() => {}, 60_000);
}
