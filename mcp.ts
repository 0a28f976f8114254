/**
 * `baton-mcp`: the MCP server agents use. Not built yet: it arrives with the
 * MCP issue, on top of the workflow engine. Until then it says so and exits
 * with status 2 rather than pretending to serve.
 *
 * @module
 */
if (import.meta.main) {
  console.error(
    "error: baton-mcp is not available in this release yet (the MCP server lands with the workflow engine)",
  );
  Deno.exit(2);
}
