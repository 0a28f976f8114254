/**
 * Test helper process: holds an exclusive `flock` on the file `Deno.args[0]`
 * until it is killed, as a process stopped (`SIGSTOP`) while it held that
 * lock would. Prints "locked" once it holds it.
 */
const f = Deno.openSync(Deno.args[0], { read: true, write: true });
f.lockSync(true);
console.log("locked");
// Keeps the process (and its lock) alive until it is killed.
setInterval(() => {}, 60_000);
