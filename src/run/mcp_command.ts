/**
 * How an agent started by `baton run` starts its own `baton-mcp`: the
 * compiled binary beside `baton`, or `deno run -A mcp.ts` from a checkout
 * or the published package.
 *
 * @module
 */

/**
 * The command line that starts `baton-mcp` over stdio.
 * @returns command and arguments
 */
export function mcpCommand(): { command: string; args: string[] } {
  if (!Deno.build.standalone) {
    const here = new URL("../../mcp.ts", import.meta.url);
    return { command: Deno.execPath(), args: ["run", "-A", here.protocol === "file:" ? here.pathname : here.href] };
  }
  const exe = Deno.execPath();
  return { command: exe.replace(/baton(\.exe)?$/, "baton-mcp$1"), args: [] };
}
