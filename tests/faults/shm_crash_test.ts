/**
 * A process killed while it publishes a commit's wal-index changes must
 * leave the commit either wholly visible or wholly invisible to every other
 * connection, old and new, and the writes after it must stay consistent.
 */
import assert from "node:assert/strict";
import { Database } from "../../src/storage/sqlite.ts";

const worker = new URL("../helpers/shm_crash_worker.ts", import.meta.url).pathname;
const ROWS = 40;

/** Runs the worker: `warmups` commits of `sql`, then one more that dies after its k-th wal-index write. */
function crash(path: string, k: number, warmups: number, sql: string): Promise<Deno.CommandOutput> {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", worker, path, String(k), String(warmups), sql],
    stdout: "piped",
    stderr: "piped",
  }).output();
}

/** Every row of `t` has the same version: no commit is half seen. */
function versions(db: Database): { lo: number; hi: number } {
  return db.get<{ lo: number; hi: number }>("SELECT min(v) AS lo, max(v) AS hi FROM t")!;
}

Deno.test({
  name: "wal-index: a writer killed mid-publish never leaves a commit half visible (old and new connections)",
  sanitizeResources: false,
  fn: async () => {
    let died = 0;
    for (let k = 1; k <= 8; k++) {
      const dir = await Deno.makeTempDir({ prefix: "baton-shm-crash-" });
      const path = `${dir}/t.db`;
      // This connection stays open throughout: it keeps the wal-index alive (no reset, no rebuild from the WAL).
      const hold = await Database.open(path, { journalMode: "wal" });
      try {
        hold.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER NOT NULL, pad BLOB)");
        // One row per page, so a commit changes ROWS pages whose wal-index hash slots spread over every hash page.
        hold.transaction(() => {
          for (let i = 0; i < ROWS; i++) hold.run("INSERT INTO t VALUES (?, 0, zeroblob(3000))", [i]);
        });
        assert.deepEqual(versions(hold), { lo: 0, hi: 0 });
        const out = await crash(path, k, 3, "UPDATE t SET v = v + 1");
        const said = new TextDecoder().decode(out.stdout).trim();
        if (said === "survived") break;
        assert.equal(out.signal, "SIGKILL", `worker k=${k}: ${new TextDecoder().decode(out.stderr)}`);
        died++;
        const fresh = await Database.open(path, { journalMode: "wal" });
        try {
          const a = versions(fresh);
          assert.equal(a.lo, a.hi, `k=${k}: a new connection sees a torn commit (${a.lo}..${a.hi})`);
          assert.ok(a.lo === 3 || a.lo === 4, `k=${k}: version ${a.lo}`);
          const b = versions(hold);
          assert.deepEqual(b, a, `k=${k}: the old connection and a new one disagree`);
          // Writes after the crash build on one consistent state, seen alike by everyone.
          hold.transaction(() => hold.run("UPDATE t SET v = v + 10"));
          fresh.transaction(() => fresh.run("UPDATE t SET v = v + 100"));
          const later = await Database.open(path, { journalMode: "wal" });
          try {
            for (const db of [hold, fresh, later]) assert.deepEqual(versions(db), { lo: a.lo + 110, hi: a.lo + 110 });
            assert.equal(later.integrityCheck(), "ok");
          } finally {
            later.close();
          }
        } finally {
          fresh.close();
        }
      } finally {
        hold.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
    assert.ok(died >= 2, `the worker died mid-publish only ${died} time(s)`);
  },
});

Deno.test({
  name: "wal-index: hash entries a killed writer left behind are cleared by the next writer, not read as live",
  sanitizeResources: false,
  fn: async () => {
    let exercised = false;
    for (let k = 1; k <= 6 && !exercised; k++) {
      const dir = await Deno.makeTempDir({ prefix: "baton-shm-leftover-" });
      const path = `${dir}/t.db`;
      // Built in rollback mode, so that the WAL and its wal-index start empty: the frames below are the first.
      const setup = await Database.open(path, { journalMode: "delete" });
      setup.exec("PRAGMA page_size=4096");
      setup.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER NOT NULL, pad BLOB)");
      setup.transaction(() => {
        for (let i = 0; i < 1000; i++) setup.run("INSERT INTO t VALUES (?, 0, zeroblob(3000))", [i]);
      });
      // Row i is on the i-th leaf page in b-tree order.
      const leaves = setup.all<{ pageno: number }>(
        "SELECT pageno FROM dbstat WHERE name = 't' AND pagetype = 'leaf' ORDER BY path",
      ).map((r) => r.pageno);
      setup.close();
      // wal.c hashes page P to slot (P * 383) & 8191, so page P + 770 hashes two slots before P. A leftover
      // entry of P at an even slot s then sits right after the slots page Z = P + 770 takes next: s-2, s-1
      // (one 32-bit word of the wal-index, apart from the leftover's).
      const rowOf = new Map(leaves.map((p, i) => [p, i]));
      const a = leaves.findIndex((p) => p % 2 === 0 && rowOf.has(p + 770));
      assert.ok(a >= 0);
      const z = rowOf.get(leaves[a] + 770)!;
      const hold = await Database.open(path, { journalMode: "wal" });
      try {
        assert.equal(hold.get<{ v: number }>("SELECT v FROM t WHERE id = ?", [z])!.v, 0);
        const out = await crash(path, k, 0, `UPDATE t SET v = v + 1 WHERE id = ${a}`);
        if (new TextDecoder().decode(out.stdout).trim() === "survived") break;
        assert.equal(out.signal, "SIGKILL", new TextDecoder().decode(out.stderr));
        // The case under test: the dead writer's hash entry for its frame 1 is in the file, its header is not.
        const shm = new DataView(Deno.readFileSync(`${path}-shm`).buffer);
        const mxFrame = shm.getUint32(16, true);
        const leftover = shm.getUint16(16384 + ((leaves[a] * 383) & 8191) * 2, true);
        if (!(mxFrame === 0 && leftover === 1)) continue;
        exercised = true;
        // The old connection writes page Z twice, as frames 1 and 2 (where the dead writer's frame 1 was).
        hold.transaction(() => hold.run("UPDATE t SET v = 1 WHERE id = ?", [z]));
        hold.transaction(() => hold.run("UPDATE t SET v = 2 WHERE id = ?", [z]));
        const fresh = await Database.open(path, { journalMode: "wal" });
        try {
          assert.equal(
            fresh.get<{ v: number }>("SELECT v FROM t WHERE id = ?", [z])!.v,
            2,
            `k=${k}: page Z read stale`,
          );
          assert.equal(
            fresh.get<{ v: number }>("SELECT v FROM t WHERE id = ?", [a])!.v,
            0,
            `k=${k}: a dead commit shows`,
          );
          assert.equal(fresh.integrityCheck(), "ok");
        } finally {
          fresh.close();
        }
      } finally {
        hold.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
    assert.ok(exercised, "no cut point left the dead writer's hash entry without its header");
  },
});
