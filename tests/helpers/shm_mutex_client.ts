/**
 * Test helper process: opens the database at `Deno.args[0]` with a busy
 * timeout of `Deno.args[2]` ms, then reads (`read`: prints the row count of
 * `t`) or writes (`write`: inserts a row into `t`, prints the new count).
 * Prints `{"ok":…}` or `{"error":code,"ms":…}` (time since start) on stdout.
 * With `wait` as `Deno.args[3]`: prints "open" once open, and reads or
 * writes when a line arrives on stdin.
 */
import { Database } from "../../src/storage/sqlite.ts";
import type { BatonError } from "../../src/errors.ts";

const [path, what, busy] = Deno.args;
const t0 = performance.now();
try {
  const db = await Database.open(path, { busyTimeoutMs: Number(busy) });
  if (Deno.args[3] === "wait") {
    // Open first; read or write once a line arrives on stdin.
    console.log("open");
    await Deno.stdin.readable.getReader().read();
  }
  if (what === "write") db.transaction(() => db.run("INSERT INTO t(x) VALUES (1)"));
  const n = db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n;
  db.close();
  console.log(JSON.stringify({ ok: n, ms: Math.round(performance.now() - t0) }));
} catch (e) {
  console.log(
    JSON.stringify({
      error: (e as BatonError).code ?? String(e),
      message: (e as Error).message,
      ms: Math.round(performance.now() - t0),
    }),
  );
}
