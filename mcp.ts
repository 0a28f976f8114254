/**
 * `baton-mcp`: the MCP server agents use, over stdio (one process per agent
 * session) or Streamable HTTP (`--http`, many clients). See `baton-mcp --help`
 * and the README's "MCP server" section.
 *
 * As a module it exports {@link createServer}, the builder both transports
 * (and the tests) use.
 *
 * @module
 */
import { main } from "./src/mcp/main.ts";

export { createServer, type ServerOptions } from "./src/mcp/server.ts";
export { ClaimMemory, Session } from "./src/mcp/session.ts";
export { HELP, main } from "./src/mcp/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
