/**
 * No process can freeze every writer (issue 14, part 1): a writer stopped
 * with SIGSTOP inside its transaction makes others end in `database_locked`
 * within the busy timeout (naming the lock), and an HTTP server keeps
 * answering `/healthz` and reads meanwhile, reporting the blocked writer.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";
import { httpSession, startHttp } from "../helpers/mcp_clients.ts";
import { stoppedWriter } from "../helpers/stopped_writer.ts";

const PHASES = "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Build, agent_type: builder}\n";

Deno.test("a writer stopped inside its transaction: others get database_locked within the busy timeout", async () => {
  const repo = await tempRepo({ phases: PHASES, config: "database:\n  busy_timeout_ms: 1500\n" });
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "Claimable" });
  e.close();
  const writer = await stoppedWriter(repo);
  try {
    const t0 = performance.now();
    const out = await baton(["claim", "--agent", "a", "--capabilities", "designer"], { cwd: repo, timeoutMs: 20_000 });
    const took = performance.now() - t0;
    assert.notEqual(out.code, 0);
    assert.match(
      out.stderr,
      /^error: Cannot write to .*baton\.db: another process has held the writer queue \(.*baton\.db-lock\/writer(?:-mutex)?\) for over 1\.5 s/m,
    );
    assert.ok(took < 1500 + 6000, `returned after ${Math.round(took)} ms (process start included)`);
    // Reading still works.
    const list = await baton(["list", "--json"], { cwd: repo });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      JSON.parse(list.stdout).map((t: { id: string }) => t.id),
      ["0001"],
      "the stopped write is not visible",
    );
  } finally {
    await writer.resume();
  }
  // Once the stopped process is gone, writing works again and its transaction never happened.
  const after = await baton(["claim", "--agent", "a", "--capabilities", "designer"], { cwd: repo });
  assert.equal(after.code, 0, after.stderr);
  const e2 = await openEngine(repo);
  assert.deepEqual(e2.listTickets().map((t) => t.id), ["0001"]);
  e2.close();
});

Deno.test("the HTTP server keeps answering /healthz and reads while a writer is stopped, and says so", async () => {
  const repo = await tempRepo({ phases: PHASES, config: "database:\n  busy_timeout_ms: 4000\n" });
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "Claimable" });
  e.close();
  const server = await startHttp(repo);
  const s = await httpSession(server.url);
  const reader = await httpSession(server.url);
  try {
    assert.ok((await s.call("register_agent", { agent_id: "a", capabilities: ["designer"] })).ok);
    const writer = await stoppedWriter(repo);
    try {
      // Waits for the stopped writer, off the event loop (bounded here, so that a hang fails the test).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const claim = Promise.race([
        s.call("claim_phase"),
        new Promise<never>((_, no) => timer = setTimeout(() => no(new Error("claim_phase never returned")), 20_000)),
      ]).finally(() => clearTimeout(timer));
      const samples: number[] = [];
      let reported = "";
      const until = performance.now() + 3000;
      while (performance.now() < until) {
        const t0 = performance.now();
        const r = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(10_000) });
        const body = await r.json();
        samples.push(performance.now() - t0);
        if (body.database.writer) reported = body.database.writer;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(Math.max(...samples) < 1000, `healthz answered in ${samples.map(Math.round).join(", ")} ms`);
      assert.match(reported, /^blocked for \d+\.\d s/);
      const t0 = performance.now();
      const read = await reader.call("get_ticket", { ticket_id: "0001" });
      assert.ok(read.ok, read.text);
      assert.ok(performance.now() - t0 < 1000, "a read answers while the write waits");
      const r = await claim;
      assert.equal(r.ok, false);
      assert.equal(r.data.code, "database_locked", r.text);
      assert.match(r.data.message as string, /writer queue/);
    } finally {
      await writer.resume();
    }
    const again = await s.call("claim_phase");
    assert.ok(again.ok, again.text);
  } finally {
    await reader.close();
    await s.close();
    await server.stop();
  }
});
