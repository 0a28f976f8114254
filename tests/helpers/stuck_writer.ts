/**
 * A writer that stops inside its write transaction: opens the repository's
 * engine, begins a transaction, writes, prints `in-tx`, and then waits
 * forever inside it (the test stops it with SIGSTOP, then kills it).
 * Usage: deno run -A stuck_writer.ts REPO
 */
import { openEngine } from "../../mod.ts";
import { sleepSync } from "../../src/storage/sleep.ts";

const engine = await openEngine(Deno.args[0]);
engine.transaction(() => {
  engine.upsertTicket({ id: "9000", title: "Written by a writer that never commits" });
  Deno.stdout.writeSync(new TextEncoder().encode("in-tx\n"));
  for (;;) sleepSync(50);
});
