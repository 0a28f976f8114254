/**
 * The README's "## MCP server" section: its `.mcp.json` snippets must be
 * valid JSON of the shape Claude Code reads.
 */
import assert from "node:assert/strict";

/**
 * The text of the "## MCP server" section, up to the next `## ` heading.
 * @param markdown the README
 * @returns the section body, or null when there is none
 */
export function mcpSection(markdown: string): string | null {
  return /^## MCP server\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(markdown)?.[1] ?? null;
}

/**
 * Checks every ```json block of the section: `{"mcpServers": {"baton": …}}`,
 * stdio (`command`, `args`) or HTTP (`type: "http"`, the default
 * `http://127.0.0.1:8765/mcp`, an optional bearer header from
 * `${BATON_MCP_TOKEN}`); at least one of each, one running `baton-mcp`.
 *
 * @param section the section body
 * @returns how many snippets were checked
 */
export function checkMcpSnippets(section: string): number {
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m, i) => {
    try {
      return JSON.parse(m[1]);
    } catch (e) {
      throw new Error(`json block ${i + 1} of "## MCP server" does not parse: ${(e as Error).message}`);
    }
  });
  assert.ok(blocks.length >= 2, "a stdio and an HTTP snippet");
  const servers = blocks.map((b) => {
    assert.deepEqual(Object.keys(b), ["mcpServers"]);
    assert.ok(b.mcpServers.baton, "the server is named baton");
    return b.mcpServers.baton;
  });
  const stdio = servers.filter((s) => "command" in s);
  const http = servers.filter((s) => s.type === "http");
  assert.ok(stdio.length >= 1 && http.length >= 1);
  assert.equal(stdio.length + http.length, servers.length, "every snippet is stdio or http");
  for (const s of stdio) {
    assert.equal(typeof s.command, "string");
    assert.ok(s.args === undefined || (Array.isArray(s.args) && s.args.every((a: unknown) => typeof a === "string")));
    assert.ok(!(s.args ?? []).includes("--http"), "stdio snippets run the stdio server");
    assert.ok(s.command === "baton-mcp" || (s.args ?? []).some((a: string) => a.endsWith("mcp.ts")));
  }
  assert.ok(stdio.some((s) => s.command === "baton-mcp"));
  for (const s of http) {
    const url = new URL(s.url);
    assert.equal(url.protocol, "http:");
    assert.equal(url.pathname, "/mcp");
    assert.equal(url.hostname, "127.0.0.1");
    assert.equal(url.port, "8765", "the default port of baton-mcp --http");
    for (const [k, v] of Object.entries(s.headers ?? {})) {
      assert.equal(k, "Authorization");
      assert.equal(v, "Bearer ${BATON_MCP_TOKEN}");
    }
  }
  return blocks.length;
}
