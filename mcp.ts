/**
 * `baton-mcp`: the MCP server agents use, over stdio (one process per agent
 * session) or Streamable HTTP (`--http`, many clients). See `baton-mcp --help`
 * and the README's "MCP server" section.
 *
 * As a module it exports {@link main} (what the command runs) and its help.
 *
 * @module
 */
import { main } from "./src/mcp/main.ts";

export { HELP, main } from "./src/mcp/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
