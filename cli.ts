/**
 * `baton`: the command line for humans running the queue (and for shell
 * scripts acting as agents). See `baton --help`.
 *
 * @module
 */
import { importLate } from "./src/late_import.ts";

if (import.meta.main) {
  // Both imported late (src/late_import.ts): Deno would otherwise walk every module of every command first.
  if (Deno.args[0] === "guard") {
    // Git hooks wait for `baton guard`: it starts without the command table (src/cli/guard_main.ts).
    const { guardMain } = await importLate<typeof import("./src/cli/guard_main.ts")>(
      new URL("./src/cli/guard_main.ts", import.meta.url),
    );
    Deno.exit(await guardMain(Deno.args.slice(1)));
  }
  const { run } = await importLate<typeof import("./src/cli/main.ts")>(new URL("./src/cli/main.ts", import.meta.url));
  Deno.exit(await run(Deno.args));
}
