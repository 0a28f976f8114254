/**
 * What an agent's step costs the shared file is the pages its transaction
 * writes to the WAL: every process waits for the write lock while they are
 * written. A page is written once per transaction however many of its rows
 * change, so an index costs by how many different pages its entries land on.
 * Before migration 14 a claim + complete of the example workflow wrote ~34
 * pages (median 35 here): `phases_queue` moved every phase between status ranges
 * (~6.4 pages) and `audit_action` put each of five audit rows in its action's
 * range (~6.3). Now ~22.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { walFrames } from "../../src/storage/vfs_state.ts";
import { EXAMPLE_PHASES, tempRepo } from "../helpers/repo.ts";

Deno.test("a claim + complete writes at most 25 pages to the WAL (median of 300, 1,210 tickets)", async () => {
  const repo = await tempRepo({ phases: EXAMPLE_PHASES });
  const engine = await openEngine(repo);
  try {
    engine.transaction(() => {
      for (let i = 0; i < 1210; i++) {
        engine.upsertTicket({
          id: String(i).padStart(6, "0"),
          title: `ticket ${i}`,
          metadata: { priority: ["Critical", "High", "Medium", "Low"][i % 4], needs_docs: i % 2 === 0 },
        });
      }
    });
    const path = engine.storageInfo().path;
    const pair = (i: number) => {
      const agentId = `agent-${i % 8}`;
      const c = engine.claimNext({ agentId, capabilities: ["designer"] });
      assert.ok(c, "the queue has work");
      engine.complete(c.phase.id, { agentId, token: c.token, summary: "done" });
    };
    for (let i = 0; i < 200; i++) pair(i); // past the first pages' splits
    const pages: number[] = [];
    for (let i = 0; i < 300; i++) {
      const before = walFrames(path).frames;
      pair(i);
      const after = walFrames(path).frames;
      if (after >= before) pages.push(after - before); // a checkpoint restarted the WAL in between otherwise
    }
    assert.ok(pages.length > 250, `pairs measured: ${pages.length}`);
    pages.sort((a, b) => a - b);
    const median = pages[pages.length >> 1];
    assert.ok(median >= 10, `pages are counted (median ${median})`);
    assert.ok(median <= 25, `median pages per claim + complete: ${median} (before migration 14: 35)`);
  } finally {
    engine.close();
  }
});
