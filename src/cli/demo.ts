/**
 * `baton demo`: runs the main-job demo of the supervisor (`src/demo/main_demo.ts`)
 * and shows what it produced the way a person would look at it: the status
 * dashboard, the metrics, one ticket's synced markdown, the git log of a
 * ticket branch, and the main branch where the merge queue landed the work.
 *
 * @module
 */
import type { CommandContext } from "./command.ts";
import { dashboard } from "./dashboard.ts";
import { paint } from "./format.ts";
import { onStopSignals } from "../signals.ts";
import { readRepoText } from "../repo/files.ts";

/**
 * Runs the demo and prints its outcome.
 * @param c the command's context (`--keep`)
 * @returns 0 when the end state is right, else 1
 */
export async function mainDemo(c: CommandContext): Promise<number> {
  const { runMainDemo } = await import("../demo/main_demo.ts");
  const self = new URL("../../cli.ts", import.meta.url).pathname;
  const agent = Deno.build.standalone
    ? { command: Deno.execPath(), args: ["scripted-agent"] }
    : { command: Deno.execPath(), args: ["run", "-A", self, "scripted-agent"] };
  const serving = c.values.serve === true;
  const stop = new AbortController();
  let served: Promise<void> | undefined;
  const r = await runMainDemo({
    agent,
    print: c.io.out,
    onReady: serving
      ? async (engine) => {
        // The dashboard on the demo's repository, live while the agents work.
        const { serveDashboard } = await import("../serve/mod.ts");
        served = serveDashboard(engine, {
          port: 8766,
          signal: stop.signal,
          onListen: (url) => c.io.out(`dashboard: ${url} (live while the demo runs; Ctrl-C ends it afterwards)`),
        }).finished;
      }
      : undefined,
  });
  const out = (...lines: string[]) => c.io.out(lines.join("\n"));
  try {
    const e = r.engine;
    out(
      "",
      paint(`The board after ${r.seconds.toFixed(1)} s (${r.spawned} agents started)`, "bold"),
      dashboard(e).text,
    );
    const m = e.metrics();
    out(
      "",
      paint("Metrics", "bold"),
      ...m.phases.map((p) =>
        `  ${p.phase.padEnd(16)} ${String(p.completed).padStart(2)} done, rework ${p.rework}, failures ${
          (p.failureRate * 100).toFixed(0)
        }%`
      ),
      `  bottleneck: ${m.bottleneck ? m.bottleneck.phase : "none"}; claim contention: ${m.contention.lost} lost`,
    );
    const t = e.ticket(r.reworkedTicket);
    if (t.path) {
      out("", paint(`Ticket ${t.id}'s markdown, synced (${t.path})`, "bold"));
      c.io.out(readRepoText(r.repo, t.path).trimEnd());
    }
    const log = new Deno.Command("git", {
      args: ["log", "--graph", "--format=%h %s", "baton/0002"],
      cwd: r.repo,
      stdout: "piped",
    }).outputSync();
    out("", paint("git log of ticket 0002's branch (a parallel group, merged back)", "bold"));
    c.io.out(new TextDecoder().decode(log.stdout).trimEnd());
    const landed = new Deno.Command("git", {
      args: ["log", "--first-parent", "--format=%h %s", "-n", "12", "main"],
      cwd: r.repo,
      stdout: "piped",
    }).outputSync();
    out(
      "",
      paint(
        `main, where the merge queue landed the work (${r.merged.batches} batches; ${r.merged.culprits} culprit sent back)`,
        "bold",
      ),
    );
    c.io.out(new TextDecoder().decode(landed.stdout).trimEnd());
    if (r.problems.length) {
      c.io.err(`error: the demo's end state is wrong: ${r.problems.join("; ")}`);
      return 1;
    }
    out(
      "",
      `All ${e.listTickets().length} tickets landed on main, where the check passes; the rejected design of ` +
        `${r.reworkedTicket} was reworked once; ${r.culprit}'s implementation broke the check, was sent back by the ` +
        "merge queue with the check's output, reworked and landed; no phase was ever held by two agents.",
    );
    return 0;
  } finally {
    if (served) {
      c.io.out("the dashboard stays up on the finished demo: Ctrl-C ends it");
      const unlisten = onStopSignals(() => stop.abort());
      await served;
      unlisten();
    }
    r.engine.close();
    if (c.values.keep || served) c.io.out(`kept the repository: ${r.repo}`);
    else await r.remove();
  }
}
