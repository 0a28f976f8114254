/**
 * `deno task test:fast` sets BATON_TEST_FAST=1 to skip the long suites
 * (torture, power loss, I/O fault sweeps, lock model, multi-process
 * soaks); `deno task test`, and so CI, runs everything.
 */
export const skipHeavy: boolean = Deno.env.get("BATON_TEST_FAST") === "1";
