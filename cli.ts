/**
 * `baton`: the command line for humans running the queue (and for shell
 * scripts acting as agents). See `baton --help`.
 *
 * @module
 */
if (import.meta.main) {
  if (Deno.args[0] === "guard") {
    // Git hooks wait for `baton guard`: it starts without the command table (src/cli/guard_main.ts).
    const { guardMain } = await import("./src/cli/guard_main.ts");
    Deno.exit(await guardMain(Deno.args.slice(1)));
  }
  const { run } = await import("./src/cli/main.ts");
  Deno.exit(await run(Deno.args));
}
