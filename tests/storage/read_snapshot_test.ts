/**
 * `Database.read`: the statements of one read see one snapshot while
 * another connection commits between them (real files, WAL, two
 * connections), and the engine's queries run inside one.
 */
import assert from "node:assert/strict";
import { Database } from "../../src/storage/sqlite.ts";
import type { BatonError } from "../../src/errors.ts";
import { openEngine } from "../../mod.ts";
import { coreOf } from "../../src/engine/api/base.ts";
import { tempRepo } from "../../src/testing.ts";

const count = (db: Database) => db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n;

Deno.test("Database.read: one snapshot across statements while another connection commits", async () => {
  const path = `${await Deno.makeTempDir({ prefix: "baton-read-" })}/r.db`;
  const a = await Database.open(path);
  const b = await Database.open(path);
  try {
    a.exec("CREATE TABLE t(x)");
    a.run("INSERT INTO t VALUES (1)");
    // Without read(): each statement its own snapshot; b's commit in between shows.
    const loose = [count(a), (b.run("INSERT INTO t VALUES (2)"), count(a))];
    assert.deepEqual(loose, [1, 2]);
    // With read(): the second statement sees what the first saw.
    const snap = a.read(() => [count(a), (b.run("INSERT INTO t VALUES (3)"), count(a))]);
    assert.deepEqual(snap, [2, 2]);
    assert.equal(count(a), 3, "after the read, the newest state");
    // Nested reads and reads inside a transaction just run.
    assert.equal(a.read(() => a.read(() => count(a))), 3);
    assert.equal(a.transaction(() => (a.run("INSERT INTO t VALUES (4)"), a.read(() => count(a)))), 4);
    // A write inside a read is refused, and nothing is written; the read still ends.
    assert.throws(
      () => a.read(() => a.transaction(() => a.run("INSERT INTO t VALUES (5)"))),
      (e) => (e as BatonError).code === "internal",
    );
    assert.equal(count(b), 4);
    assert.equal(a.inTransaction, false);
    b.run("INSERT INTO t VALUES (6)"); // a holds no read lock any more: b's write and a's next read go through
    assert.equal(count(a), 5);
    // An error inside a read ends the read transaction too.
    assert.throws(() => a.read(() => a.get("SELECT * FROM missing")));
    b.run("INSERT INTO t VALUES (7)");
    assert.equal(count(a), 6);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("engine queries read one snapshot: a ticket's status and phases as one commit left them", async () => {
  const repo = await tempRepo({ phases: "phases:\n  - {name: Implementation, agent_type: implementer}\n" });
  const reader = await openEngine(repo);
  const writer = await openEngine(repo);
  try {
    writer.upsertTicket({ id: "0042", title: "Cache" });
    const c = writer.claim(writer.ticket("0042").phases[0].id, { agentId: "a", capabilities: ["implementer"] });
    // The other process completes the phase (and so the ticket) right after the reader's first statement.
    const db = coreOf(reader).db;
    const get = db.get.bind(db);
    let interfered = false;
    db.get = ((sql: string, params?: unknown) => {
      const r = get(sql, params as never);
      if (!interfered) {
        interfered = true;
        writer.complete(c.phase.id, { agentId: "a", token: c.token });
      }
      return r;
    }) as typeof db.get;
    const t = reader.ticket("0042");
    db.get = get;
    assert.ok(interfered, "the write happened during the read");
    assert.equal(t.status === "completed", t.phases.every((p) => p.status === "completed"), JSON.stringify(t));
    assert.equal(reader.ticket("0042").status, "completed", "the next read sees the commit");
  } finally {
    reader.close();
    writer.close();
  }
});
