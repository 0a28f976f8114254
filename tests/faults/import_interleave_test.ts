/**
 * Import never holds the write lock for its whole run (issue 14, part 1):
 * it parses outside any transaction and writes each ticket in its own, so an
 * agent's claims land between the tickets of a long import.
 */
import assert from "node:assert/strict";
import { importTickets, openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { CLI } from "../helpers/cli.ts";

const PHASES = "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Build, agent_type: builder}\n";
const ticket = (id: string) =>
  `# Ticket ${id}: Generated ${id}\n\n## Status\n- [ ] Draft\n- [ ] Design Complete\n- [ ] Done\n\n## Metadata\n` +
  `- **Priority**: Medium\n\n## Summary\n${"Text of the ticket. ".repeat(200)}\n`;

/** `baton import` as a process in the repository. */
function spawnImport(repo: string, output: "piped" | "null"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "import"],
    cwd: repo,
    env: { NO_COLOR: "1" },
    stdout: output,
    stderr: output,
  }).spawn();
}

Deno.test("a long import interleaves with another process's claims", async () => {
  const repo = await tempRepo({ phases: PHASES });
  await Deno.mkdir(`${repo}/tickets`);
  for (let i = 1; i <= 30; i++) {
    await Deno.writeTextFile(`${repo}/tickets/${String(i).padStart(4, "0")}_t.md`, ticket(String(i).padStart(4, "0")));
  }
  const engine = await openEngine(repo);
  importTickets(engine);
  for (let i = 31; i <= 1200; i++) {
    const id = String(i).padStart(4, "0");
    await Deno.writeTextFile(`${repo}/tickets/${id}_t.md`, ticket(id));
  }
  const importer = spawnImport(repo, "piped");
  let done = false;
  const finished = importer.output().then((o) => {
    done = true;
    return o;
  });
  // Claim and complete while the import runs (yielding so the importer's exit is noticed).
  let claims = 0;
  const attempts: { at: number; ms: number; got: boolean }[] = [];
  while (!done) {
    const t0 = performance.now();
    const c = engine.claimNext({ agentId: "agent", capabilities: ["designer"] });
    attempts.push({ at: Math.round(performance.timeOrigin + t0), ms: Math.round(performance.now() - t0), got: !!c });
    if (c) {
      engine.complete(c.phase.id, { agentId: "agent", token: c.token });
      claims++;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const out = await finished;
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(new TextDecoder().decode(out.stdout), /imported 1170/);
  const audit = engine.audit({ limit: 100_000 });
  const seeded = audit.filter((a) => a.action === "ticket.created" && Number(a.ticketId) > 30).map((a) => a.id);
  const claimed = audit.filter((a) => a.action === "phase.claim").map((a) => a.id);
  const during = claimed.filter((id) => id > Math.min(...seeded) && id < Math.max(...seeded));

  assert.ok(claims > 0);
  const at = (id: number) => audit.find((a) => a.id === id)!.at;
  const window = [at(Math.min(...seeded)), at(Math.max(...seeded))];
  const inWindow = attempts.filter((a) => a.at >= window[0] && a.at <= window[1]);
  assert.ok(
    during.length >= 10,
    `${during.length} of ${claimed.length} claims landed between imported tickets; import ${
      window[1] - window[0]
    } ms; ` +
      `${inWindow.length} attempts then (${inWindow.filter((a) => a.got).length} got one, longest ${
        Math.max(0, ...inWindow.map((a) => a.ms))
      } ms); storage ${JSON.stringify(engine.storageInfo())}`,
  );
  engine.close();
});

Deno.test("kill -9 of an import after its tickets were written, before their Blocks: links: the next import makes every link", async () => {
  const repo = await tempRepo({ phases: PHASES });
  await Deno.mkdir(`${repo}/tickets`);
  const n = 300;
  const id = (i: number) => String(i).padStart(4, "0");
  // Each odd ticket blocks the next one: 150 links, made once every file is written.
  for (let i = 1; i <= n; i++) {
    const blocks = i % 2 ? `- **Blocks**: ${id(i + 1)}\n` : "";
    await Deno.writeTextFile(
      `${repo}/tickets/${id(i)}_t.md`,
      ticket(id(i)).replace("## Summary", `${blocks}\n## Summary`),
    );
  }
  const engine = await openEngine(repo);
  try {
    const importer = spawnImport(repo, "null");
    // Killed once its last ticket is written: the links come after (or the first of them, at the latest).
    const deps = () => engine.dependencies().length;
    for (let i = 0; i < 6000 && !engine.ticketFiles([id(n)]).length; i++) await new Promise((r) => setTimeout(r, 5));
    importer.kill("SIGKILL");
    await importer.status;
    assert.equal(engine.ticketFiles().length, n, "every ticket was written before the kill");
    assert.ok(deps() < n / 2, `the kill came before the last link (${deps()} of ${n / 2})`);
    const again = importTickets(engine);
    assert.deepEqual(again.errors, []);
    assert.equal(deps(), n / 2, "every Blocks: link is made");
    assert.equal(engine.ticket(id(2)).phases[0].status, "blocked");
    assert.deepEqual(importTickets(engine).updated, [], "and a third import has nothing left to do");
  } finally {
    engine.close();
  }
});
