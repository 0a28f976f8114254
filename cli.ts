/**
 * `baton`: the command line for humans running the queue (and for shell
 * scripts acting as agents). See `baton --help`.
 *
 * @module
 */
import { run } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await run(Deno.args));
}
