/**
 * Baton's version, printed by `baton --version`, `baton-mcp --version`, the
 * MCP `initialize` answer and `/healthz`. Kept equal to `deno.json`'s
 * `version` by a test.
 *
 * @module
 */

/** The version of this Baton. */
export const VERSION = "0.1.0";
