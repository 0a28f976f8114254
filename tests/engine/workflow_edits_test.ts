/**
 * A human edits `.workflow/phases.yaml` while tickets are half done: what
 * the engine decides about a ticket's phases the workflow no longer names
 * the same way (a gate renamed or removed, the phases it reviews renamed).
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";

const PHASES = `phases:
  - {name: Design, agent_type: designer}
  - {name: Design Review, agent_type: null}
  - {name: Implementation, agent_type: implementer}
`;
const dana = { kind: "human" as const, name: "dana" };

/** A ticket whose Design is done and whose Design Review gate is open; then phases.yaml becomes `edited`. */
async function gateOpenThenEdited(edited: string) {
  const repo = await tempRepo({ phases: PHASES });
  let engine = await openEngine(repo);
  engine.upsertTicket({ id: "0001", title: "Cache" });
  const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
  engine.complete(c.phase.id, { agentId: "d1", token: c.token, summary: "a hash map" });
  const gate = engine.gates()[0];
  assert.equal(gate.phaseName, "Design Review");
  engine.close();
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, edited);
  engine = await openEngine(repo);
  return { engine, gate };
}

for (
  const [what, edited] of [
    ["the gate renamed", PHASES.replace("Design Review", "Architecture Review")],
    ["the gate removed", PHASES.replace("  - {name: Design Review, agent_type: null}\n", "")],
    ["the phase it reviews renamed", PHASES.replace("{name: Design,", "{name: Architecture,")],
  ]
) {
  Deno.test(`reject: a gate whose workflow changed (${what}) still sends the work it reviewed back with the notes`, async () => {
    const { engine, gate } = await gateOpenThenEdited(edited);
    try {
      engine.rejectGate(gate.id, { actor: dana, notes: "use a B-tree" });
      const t = engine.ticket("0001");
      const design = t.phases.find((p) => p.name === "Design")!;
      assert.equal(design.status, "available", JSON.stringify(t.phases.map((p) => [p.name, p.status])));
      assert.equal(design.reworkNotes, "use a B-tree");
      assert.equal(t.phases.find((p) => p.name === "Design Review")!.status, "pending");
      assert.deepEqual(engine.gates(), [], "no gate opens again before the rework");
      const c = engine.claimNext({ agentId: "d2", capabilities: ["designer"] })!;
      assert.equal(c.phase.name, "Design");
    } finally {
      engine.close();
    }
  });
}
