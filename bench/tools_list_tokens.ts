/**
 * The size of `tools/list` in tokens, approximated as characters ÷ 4 (the
 * JSON a client receives and hands to its model on every session), for a
 * repository as `baton init` makes it, and with the gate tools
 * (`gates.allow_agents`, printed for information). Fails (exit 1) when the
 * default list is 4,000 tokens or more: tools are added under that budget
 * (issue 22).
 *
 * Usage: deno run -A bench/tools_list_tokens.ts
 */
import { tempRepo } from "../src/testing.ts";
import { stdioSession } from "../tests/helpers/mcp_clients.ts";

const BUDGET = 4000;
const PHASES = "phases:\n  - name: Build\n    agent_type: implementer\n";

let over = false;
for (const [label, config] of [["default", ""], ["gates.allow_agents", "gates:\n  allow_agents: true\n"]]) {
  const repo = await tempRepo({ phases: PHASES, config });
  const s = await stdioSession(repo);
  try {
    const list = await s.client.listTools();
    const chars = JSON.stringify(list).length;
    const tokens = Math.round(chars / 4);
    if (label === "default") over = tokens >= BUDGET;
    console.log(
      `tools/list (${label}): ${list.tools.length} tools, ${chars} characters ≈ ${tokens} tokens (characters ÷ 4); ` +
        (label === "default" ? `budget ${BUDGET}: ${tokens < BUDGET ? "ok" : "OVER"}` : "(not budgeted)"),
    );
  } finally {
    await s.close();
  }
}
if (over) Deno.exit(1);
