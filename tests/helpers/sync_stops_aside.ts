/**
 * A process that writes a ticket back and stops for good right after setting
 * the file aside (`replaceHooks`), as a `kill -9` at that moment leaves it:
 * `deno run -A sync_stops_aside.ts REPO TICKET MARKER [STEP [PORTABLE]]`. It creates
 * MARKER when it got there, then spins until killed. STEP is where it stops:
 * `aside` (default), `start` (the new text written, the file not set
 * aside yet) or `linked`. With PORTABLE `portable`, it replaces the file the
 * portable way (renamed aside, then the new text linked in), as where names
 * cannot be swapped in one step.
 */
import { openEngine, syncTicket } from "../../mod.ts";
import { replaceHooks } from "../../src/repo/replace.ts";
import { exchangeOptions } from "../../src/repo/exchange.ts";

const [repo, ticket, marker, step = "aside", portable] = Deno.args;
exchangeOptions.enabled = portable !== "portable";
replaceHooks.between = (at) => {
  if (at !== step) return;
  Deno.writeTextFileSync(marker, "");
  for (;;) { /* killed here */ }
};
syncTicket(await openEngine(repo), ticket);
