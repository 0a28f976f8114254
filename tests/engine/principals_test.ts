/**
 * Agents belong to the principal that registered them (issue 26, item 4;
 * src/engine/principals.ts), at the library level: the MCP tests drive the
 * same rules through real HTTP clients.
 */
import assert from "node:assert/strict";
import { BatonError } from "../../mod.ts";
import { engineFor } from "../helpers/repo.ts";

const PHASES = "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Build, agent_type: builder}\n";

const forbidden = (fn: () => unknown) =>
  assert.throws(fn, (e) => e instanceof BatonError && e.code === "forbidden" && /belongs to/.test(e.message));

Deno.test("principals: another principal cannot register, heartbeat or claim as an agent; its claim token lets it resume", async () => {
  const { engine: e } = await engineFor({ phases: PHASES });
  e.upsertTicket({ id: "0001", title: "A" });
  e.upsertTicket({ id: "0002", title: "B" });
  const c = e.withPrincipal("dana", () => e.claimNext({ agentId: "d1", capabilities: ["designer"] })!);
  e.withPrincipal("priya", () => {
    forbidden(() => e.registerAgent("d1", ["builder"]));
    forbidden(() => e.heartbeat("d1", { progress: "x" }));
    forbidden(() => e.claimNext({ agentId: "d1", capabilities: ["designer"] }));
    forbidden(() => e.claim(c.phase.id + 2, { agentId: "d1", capabilities: ["designer"] }));
    e.heartbeat("d1", { token: c.token }); // the claim token vouches
    e.complete(c.phase.id, { agentId: "d1", token: c.token, summary: "resumed" });
  });
  assert.deepEqual(e.agent("d1")!.capabilities, ["designer"]);
  // The same principal, and local callers (no principal), may.
  e.withPrincipal("dana", () => e.heartbeat("d1"));
  e.registerAgent("d1", ["designer", "builder"]);
  // An agent a local process registered is not a remote principal's either.
  e.registerAgent("local-1", ["designer"]);
  e.withPrincipal("priya", () => forbidden(() => e.heartbeat("local-1")));
  e.close();
});

Deno.test("principals: an idempotent claim replay is not handed to another principal", async () => {
  const { engine: e } = await engineFor({ phases: PHASES });
  e.upsertTicket({ id: "0001", title: "A" });
  const c = e.withPrincipal(
    "dana",
    () => e.claimNext({ agentId: "d1", capabilities: ["designer"], idempotencyKey: "k" })!,
  );
  e.withPrincipal("priya", () => {
    forbidden(() => e.claimNext({ agentId: "d1", capabilities: ["designer"], idempotencyKey: "k" }));
  });
  assert.equal(
    e.withPrincipal("dana", () => e.claimNext({ agentId: "d1", capabilities: ["designer"], idempotencyKey: "k" }))!
      .token,
    c.token,
  );
  e.close();
});

Deno.test("a completion with another's token is refused as stale_token, without Baton looking into the holder's worktree (its uncommitted work is not the caller's business)", async () => {
  const { openEngine } = await import("../../mod.ts");
  const { tempRepo } = await import("../helpers/repo.ts");
  const { git } = await import("../../src/repo/git.ts");
  const repo = await tempRepo({ phases: "phases:\n  - {name: Build, agent_type: builder}\n" });
  git(repo, "init", "-q", "-b", "main");
  git(repo, "-c", "user.email=a@b", "-c", "user.name=A", "commit", "-q", "--allow-empty", "-m", "root");
  const e = await openEngine(repo);
  e.upsertTicket({ id: "0001", title: "A" });
  const c = e.claimNext({ agentId: "holder", capabilities: ["builder"] })!;
  const wt = `${repo}/wt`;
  git(repo, "worktree", "add", "-q", "-b", "baton/0001", wt);
  e.recordAgentWorkspace("holder", { dir: wt, base: git(wt, "rev-parse", "HEAD") });
  await Deno.writeTextFile(`${wt}/secret-draft.txt`, "not committed yet\n");
  assert.throws(
    () => e.complete(c.phase.id, { agentId: "holder", token: "made-up", summary: "x" }),
    (err: unknown) => err instanceof BatonError && err.code === "stale_token" && !/secret-draft/.test(err.message),
  );
  // The holder itself is told what to commit.
  assert.throws(
    () => e.complete(c.phase.id, { agentId: "holder", token: c.token, summary: "x" }),
    (err: unknown) =>
      err instanceof BatonError && err.code === "commit_required" && /secret-draft\.txt/.test(err.message),
  );
  e.close();
});

Deno.test("names: an agent id or a human's name that would show as more than one line, as nothing, or reordered is refused, and nothing is recorded (ops helper d4, dashboard helper r7)", async () => {
  const { engine } = await engineFor();
  try {
    engine.upsertTicket({ id: "0001", title: "Cache" });
    const c = engine.claimNext({ agentId: "d1", capabilities: ["designer"] })!;
    engine.complete(c.phase.id, { agentId: "d1", token: c.token });
    const gate = engine.gates()[0];
    engine.upsertTicket({ id: "0002", title: "Queue" }); // work a claim would take
    const audit = engine.audit().length;
    const forged = "impl-9\n999  2026-12-07 23:37  human:dana";
    const bad = [
      forged,
      "dana\u001b[2J",
      "bel\u0007",
      "nul\u0000",
      "\u200b\u200b",
      "dana\u202egnp",
      "x".repeat(300),
      "dana\u0085human:eve",
      "\u009b2J",
    ];
    for (const id of bad) {
      assert.throws(() => engine.registerAgent(id, ["designer"]), { code: "invalid_argument" }, JSON.stringify(id));
      assert.throws(() => engine.claimNext({ agentId: id, capabilities: ["designer"] }), { code: "invalid_argument" });
      for (const decide of [() => engine.approveGate(gate.id, { actor: { kind: "human", name: id } })]) {
        assert.throws(decide, { code: "invalid_argument" }, JSON.stringify(id));
      }
      assert.throws(
        () => engine.rejectGate(gate.id, { actor: { kind: "human", name: id }, notes: "redo" }),
        { code: "invalid_argument" },
      );
    }
    assert.equal(engine.audit().length, audit, "nothing recorded");
    assert.equal(engine.gates()[0].status, "open");
    // Names people have pass: accents, scripts, emoji, spaces inside.
    for (const name of ["Dana Ødegård", "李华", "Zoë 🚀", "o'neil-2"]) {
      engine.registerAgent(`agent ${name}`, ["designer"]);
    }
    engine.approveGate(gate.id, { actor: { kind: "human", name: "Dana Ødegård" } });
  } finally {
    engine.close();
  }
});
