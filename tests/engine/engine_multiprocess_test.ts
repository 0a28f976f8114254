import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { skipHeavy } from "../helpers/heavy.ts";
import { tempRepo } from "../helpers/repo.ts";

const worker = new URL("../helpers/claim_worker.ts", import.meta.url).pathname;

for (const mode of ["wal", "truncate"] as const) {
  Deno.test(`8 processes claiming from one database (${mode}) to exhaustion never produce a duplicate`, {
    ignore: skipHeavy,
  }, async () => {
    const repo = await tempRepo({
      phases: "phases:\n  - {name: Build, agent_type: worker}\n  - {name: Check, agent_type: worker}\n",
      config: `database:\n  journal_mode: ${mode}\n`,
    });
    const tickets = mode === "wal" ? 300 : 100;
    const engine = await openEngine(repo);
    engine.transaction(() => {
      for (let i = 0; i < tickets; i++) {
        engine.upsertTicket({ id: `T${String(i).padStart(4, "0")}`, title: `ticket ${i}` });
      }
    });
    const procs = Array.from({ length: 8 }, (_, i) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", worker, repo, `agent-${i}`, "worker"],
        stdout: "piped",
        stderr: "piped",
      }).output());
    const outs = await Promise.all(procs);
    const claimed: string[] = [];
    for (const o of outs) {
      assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
      claimed.push(...new TextDecoder().decode(o.stdout).split("\n").filter((l) => l.trim() !== ""));
    }
    assert.equal(claimed.length, tickets * 2, "every phase claimed");
    assert.equal(new Set(claimed).size, claimed.length, "no phase claimed twice");
    const perAgent = outs.map((o) => new TextDecoder().decode(o.stdout).split("\n").filter((l) => l).length);
    console.log(`${mode}: claims per process ${perAgent.join(", ")}`);
    assert.ok(perAgent.filter((n) => n > 0).length >= 2, "several processes really competed");
    const done = engine.listTickets({ status: "completed" }).length;
    assert.equal(done, tickets);
    const claims = engine.audit({}).filter((a) => a.action === "phase.claim").length;
    assert.equal(claims, tickets * 2, "one claim per phase in the audit trail");
    engine.close();
  });
}
