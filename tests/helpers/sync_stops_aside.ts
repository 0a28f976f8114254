/**
 * A process that writes a ticket back and stops for good right after setting
 * the file aside (`replaceHooks`), as a `kill -9` at that moment leaves it:
 * `deno run -A sync_stops_aside.ts REPO TICKET MARKER [STEP]`. It creates
 * MARKER when it got there, then spins until killed. STEP is where it stops:
 * `aside` (default), or `start` (the new text written, the file not set
 * aside yet).
 */
import { openEngine, syncTicket } from "../../mod.ts";
import { replaceHooks } from "../../src/repo/replace.ts";

const [repo, ticket, marker, step = "aside"] = Deno.args;
replaceHooks.between = (at) => {
  if (at !== step) return;
  Deno.writeTextFileSync(marker, "");
  for (;;) { /* killed here */ }
};
syncTicket(await openEngine(repo), ticket);
