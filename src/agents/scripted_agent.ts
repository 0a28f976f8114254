/**
 * A scripted agent for `baton run`: a real process that does what an agent
 * session does, over the real protocol, without a model. It starts
 * `baton-mcp` over stdio (from the MCP config `baton run` wrote for it) with
 * the MCP client, reads its context, declares and writes a file named after
 * its phase in its worktree, commits it, and completes the phase.
 *
 * Ticket metadata `scripted` makes it misbehave, to drive every path of the
 * supervisor: `fail`, `exit-early` (exit 0 without completing), `crash`
 * (exit 3), `hang-once` / `hang` (sleep without a word: for SIGKILL or a
 * time limit; `-once` only on the first attempt), `stall` (start, then no
 * progress), `slow:SECONDS`, `conflict` (a group phase writes a file its
 * siblings write too, until it is rework), `breaks-check-once` (its file
 * holds a line `BUG: …` that the demo's check finds, until it is rework:
 * the merge queue's culprit), `commit-late` (completes before committing,
 * then commits and completes again), `linger:SECONDS` (stays that long
 * after completing). `behavior@Phase Name` limits it to one phase.
 *
 * Usage (in `agents.registry.<type>.args`):
 *   deno run -A src/agents/scripted_agent.ts --mcp-config {mcp_config}
 *
 * @module
 */
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { parseArgv } from "../args.ts";

// `baton scripted-agent --mcp-config F` runs this file too: its command name is a positional.
const { values } = parseArgv(Deno.args, { "mcp-config": { type: "string" } });
const configPath = (values["mcp-config"] as string | undefined) ?? Deno.env.get("BATON_MCP_CONFIG");
if (!configPath) {
  console.error("scripted_agent: pass --mcp-config FILE (baton run's {mcp_config})");
  Deno.exit(2);
}
const server = JSON.parse(Deno.readTextFileSync(configPath)).mcpServers.baton as {
  command: string;
  args: string[];
  env: Record<string, string>;
};
const client = new Client({ name: "scripted-agent", version: "1.0.0" });
await client.connect(new StdioClientTransport({ command: server.command, args: server.args, env: server.env }));

async function call(name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const r = await client.callTool({ name, arguments: args });
  const text = (r.content as { type: string; text?: string }[]).map((c) => c.text ?? "").join("");
  if (r.isError) throw new Error(`${name}: ${text}`);
  return r.structuredContent as Record<string, unknown>;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const git = (...args: string[]) => {
  const o = new Deno.Command("git", {
    args: ["-c", "user.name=Scripted Agent", "-c", "user.email=agent@baton.invalid", ...args],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!o.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
};

const ctx = await call("get_context");
const phase = ctx.phase as { id: number; name: string; attempt: number };
const ticket = ctx.ticket as { id: string; title: string; metadata: Record<string, unknown> };
const [behaviorRaw, only] = String(ticket.metadata.scripted ?? "").split("@");
const behavior = only && only !== phase.name ? "" : behaviorRaw;
const slug = phase.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
console.error(
  `scripted agent: ticket ${ticket.id}, phase ${phase.name}, attempt ${phase.attempt}, behavior "${behavior}"`,
);

if (behavior === "crash") {
  console.error("scripted agent: crashing on purpose");
  Deno.exit(3);
}
if (behavior === "hang" || (behavior === "hang-once" && phase.attempt === 1)) {
  console.error(`scripted agent: working on ${phase.name} (this attempt will hang)`);
  for (;;) await sleep(1000);
}
const conflicting = behavior === "conflict" && ctx.reworkNotes === null;
const file = conflicting ? "shared-notes.md" : `${ticket.id}-${slug}.md`;
await call("declare_files", { paths: [file] });
await call("start_phase");
if (behavior === "stall") {
  console.error("scripted agent: started, and now silent");
  for (;;) await sleep(1000);
}
if (behavior.startsWith("slow:")) await sleep(Number(behavior.slice(5)) * 1000);
if (behavior === "exit-early") {
  console.error("scripted agent: leaving without completing");
  Deno.exit(0);
}
if (behavior === "fail") {
  await call("fail_phase", { error: `scripted failure of ${phase.name}` });
  await client.close();
  Deno.exit(0);
}
const bug = behavior === "breaks-check-once" && ctx.reworkNotes === null
  ? "BUG: the last page is off by one (the project's check finds it)\n"
  : "";
Deno.writeTextFileSync(
  file,
  `# ${phase.name} of ${ticket.id}\n\n${ticket.title}: written by ${
    Deno.env.get("BATON_AGENT_ID")
  }, attempt ${phase.attempt}.\n${bug}`,
);
if (behavior === "commit-late") {
  // Completes before committing (run.require_commit refuses it), then commits and completes again.
  try {
    await call("complete_phase", { summary: `${phase.name} done by the scripted agent`, artifacts: [file] });
    console.error("scripted agent: completed without committing");
  } catch (e) {
    console.error(`scripted agent: refused: ${(e as Error).message}`);
  }
}
git("add", file);
git("commit", "-q", "-m", `${ticket.id} ${phase.name}: ${ticket.title}`);
await call("heartbeat", { progress: `${file} written and committed` });
await call("complete_phase", { summary: `${phase.name} done by the scripted agent`, artifacts: [file] });
await client.close();
if (behavior.startsWith("linger:")) {
  // A CLI that takes its time to exit after its work is done.
  console.error("scripted agent: completed; lingering");
  await sleep(Number(behavior.slice(7)) * 1000);
}
