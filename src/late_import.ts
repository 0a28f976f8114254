/**
 * Importing a module only when it is needed, out of sight of Deno's
 * start-up: before a program's first line runs, Deno walks every module
 * reachable through static imports *and* through dynamic imports it can read
 * (a string literal), npm resolution included. For `baton-mcp`, whose
 * `initialize` answer must come before the engine and the SDK load, that walk
 * cost ~70 ms (docs/benchmarks.md, "Where a cold start goes"). A module
 * imported through {@link importLate} is walked when it is imported.
 *
 * Each use names its module with `new URL("./x.ts", import.meta.url)`, a
 * literal: `tests/layers_test.ts` reads these too, and `deno task compile`
 * lists them with `--include` (the compiler cannot see them either).
 *
 * @module
 */

/**
 * Imports `url` at run time, hidden from Deno's start-up module walk.
 * @param url the module, `new URL("./x.ts", import.meta.url)`
 * @returns the module's namespace (give its type: `importLate<typeof import("./x.ts")>(…)`)
 * @throws whatever importing the module throws
 * @example
 * ```ts
 * import { importLate } from "./late_import.ts";
 * const { VERSION } = await importLate<typeof import("./version.ts")>(new URL("./version.ts", import.meta.url));
 * if (typeof VERSION !== "string") throw new Error("imported");
 * ```
 */
export function importLate<T>(url: URL): Promise<T> {
  return import(url.href);
}
