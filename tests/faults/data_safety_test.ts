/**
 * The data is never silently replaced, and races above the storage (issue
 * 14, parts 3–4): an empty or missing database file is refused, not started
 * afresh; restore takes only a Baton database it knows; corruption surfaces
 * as `database_corrupt` when a damaged page is read (page checksums), and
 * writers stop; backups are checked; concurrent `new` gives distinct
 * tickets; hooks run after the outermost commit; blocking-mode claims look
 * past 50 conflicting candidates.
 */
import assert from "node:assert/strict";
import { backupDatabase, importTickets, newTicket, openEngine, restoreDatabase } from "../../mod.ts";
import { Database } from "../../storage.ts";
import { tempRepo } from "../helpers/repo.ts";
import { baton, CLI } from "../helpers/cli.ts";

const PHASES = "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Build, agent_type: builder}\n";

async function repoWithTickets(n: number, config?: string): Promise<{ repo: string; db: string }> {
  const repo = await tempRepo({ phases: PHASES, config });
  const e = await openEngine(repo);
  e.transaction(() => {
    for (let i = 1; i <= n; i++) e.upsertTicket({ id: String(i).padStart(4, "0"), title: `Ticket number ${i}` });
  });
  const db = e.storageInfo().path;
  e.close();
  return { repo, db };
}

/** Checkpoints everything into the main file (no Baton process may have it open afterwards). */
async function settle(db: string): Promise<void> {
  const d = await Database.open(db);
  d.checkpoint("truncate");
  d.close();
}

/** Sets the schema version through Baton's VFS (the native CLI would leave page 1's checksum stale). */
async function setUserVersion(db: string, v: number): Promise<void> {
  const d = await Database.open(db);
  d.exec(`PRAGMA user_version=${v}`);
  d.checkpoint("truncate");
  d.close();
  await Deno.remove(`${db}-lock`, { recursive: true }).catch(() => {});
}

function sqlite3(db: string, sql: string): string {
  const o = new Deno.Command("sqlite3", { args: [db, sql], stdout: "piped", stderr: "piped" }).outputSync();
  return new TextDecoder().decode(o.stdout).trim();
}

Deno.test("an empty database file is refused, never replaced by a fresh one", async () => {
  const { repo, db } = await repoWithTickets(3);
  await settle(db);
  await Deno.truncate(db, 0);
  for (const cmd of [["status"], ["list"], ["claim", "--agent", "a", "--capabilities", "designer"]]) {
    const out = await baton(cmd, { cwd: repo });
    assert.notEqual(out.code, 0, cmd.join(" "));
    assert.match(out.stderr, /^error: The database .*baton\.db is empty \(0 bytes\).*'baton restore FILE'/m);
  }
  assert.equal(Deno.statSync(db).size, 0, "nothing was written into it");
  const doctor = await baton(["doctor"], { cwd: repo });
  assert.equal(doctor.code, 1);
  assert.match(doctor.stdout, /FAIL\s+database: database_empty: /);
});

Deno.test("a missing database whose -shm and lock files remain is refused; a repository that never had one gets one", async () => {
  const { repo, db } = await repoWithTickets(3);
  await Deno.remove(db);
  const out = await baton(["list"], { cwd: repo });
  assert.notEqual(out.code, 0);
  assert.match(
    out.stderr,
    /is missing, but files of a database in use remain beside it \(.*-shm.*\): it was deleted or moved/,
  );
  await assert.rejects(Deno.stat(db), Deno.errors.NotFound);
  // A repository that never had a database: created on first use.
  const fresh = await tempRepo({ phases: PHASES });
  const first = await baton(["list", "--json"], { cwd: fresh });
  assert.equal(first.code, 0, first.stderr);
  // Baton makes 4 KiB pages, whatever the build's default (8 KiB): half the bytes per WAL frame.
  assert.equal(sqlite3(`${fresh}/.workflow/baton.db`, "PRAGMA page_size; PRAGMA integrity_check;"), "4096\nok");
});

Deno.test("a database of a newer schema is refused with database_newer", async () => {
  const { repo, db } = await repoWithTickets(1);
  await setUserVersion(db, 999);
  const out = await baton(["list"], { cwd: repo });
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /schema version 999, newer than this Baton knows/);
});

Deno.test("restore takes only a Baton database this Baton knows, and says what it held", async () => {
  const { repo, db } = await repoWithTickets(4);
  const dir = await Deno.makeTempDir();
  const empty = `${dir}/empty.db`;
  await Deno.writeFile(empty, new Uint8Array());
  const foreign = `${dir}/users.db`;
  sqlite3(foreign, "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ann');");
  const newer = `${dir}/newer.db`;
  const good = `${dir}/good.db`;
  await backupDatabase(repo, good);
  await Deno.copyFile(good, newer);
  await setUserVersion(newer, 999);
  for (
    const [file, code, re] of [
      [empty, "database_empty", /empty\.db is empty/],
      [foreign, "database_not_a_database", /users\.db is an SQLite database, but not Baton's \(its tables: users\)/],
      [newer, "database_newer", /newer\.db has schema version 999/],
    ] as const
  ) {
    await assert.rejects(restoreDatabase(repo, file), (e: { code: string; message: string }) => {
      assert.equal(e.code, code);
      assert.match(e.message, re);
      assert.ok(!e.message.includes("baton-restore-"), "the error names the user's file, not a temporary copy");
      return true;
    });
  }
  const e = await openEngine(repo);
  assert.equal(e.listTickets().length, 4, "nothing was replaced");
  e.close();
  const out = await baton(["restore", good], { cwd: repo });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /restored .* from .*good\.db: 4 ticket\(s\), schema version \d+, last activity 20/);
  void db;
});

Deno.test("a damaged page is caught when read: database_corrupt with the recovery steps, and writers stop", async () => {
  const { repo, db } = await repoWithTickets(400);
  await settle(db);
  // Damage one byte in the middle of page 1 (the schema, which every command reads), past its header.
  const pageSize = Number(sqlite3(db, "PRAGMA page_size"));
  const f = await Deno.open(db, { read: true, write: true });
  const at = pageSize / 2;
  const one = new Uint8Array(1);
  await f.seek(at, Deno.SeekMode.Start);
  await f.read(one);
  one[0] ^= 0x5a;
  await f.seek(at, Deno.SeekMode.Start);
  await f.write(one);
  f.close();
  const before = await Deno.readFile(db);
  for (
    const cmd of [["status"], ["list"], ["claim", "--agent", "a", "--capabilities", "designer"], ["import"], ["sync"]]
  ) {
    const out = await baton(cmd, { cwd: repo });
    assert.notEqual(out.code, 0, `${cmd.join(" ")}: ${out.stdout}`);
    assert.match(
      out.stderr,
      /page checksum mismatch at offset \d+ \(page \d+\).*The database is corrupt; Baton stops writing to it/,
    );
    assert.match(out.stderr, /'baton restore FILE'/);
  }
  assert.deepEqual(await Deno.readFile(db), before, "nothing was written into the damaged file");
  const doctor = await baton(["doctor"], { cwd: repo });
  assert.equal(doctor.code, 1);
  assert.match(
    doctor.stdout,
    /FAIL\s+(?:database|integrity): database_corrupt: .*page checksum mismatch.*baton restore FILE/,
  );
  const backup = await baton(["backup", `${await Deno.makeTempDir()}/b.db`], { cwd: repo });
  assert.notEqual(backup.code, 0);
  assert.match(backup.stderr, /corrupt/);
});

Deno.test("backup refuses to produce a corrupt copy and leaves no file behind", async () => {
  const { repo, db } = await repoWithTickets(400);
  await settle(db);
  const size = Deno.statSync(db).size;
  const f = await Deno.open(db, { read: true, write: true });
  await f.seek(Math.floor(size / 2 / 8192) * 8192 + 100, Deno.SeekMode.Start);
  await f.write(new Uint8Array(8192 - 200).fill(0xee)); // 8 KB flipped at the midpoint
  f.close();
  const target = `${await Deno.makeTempDir()}/backup.db`;
  await assert.rejects(backupDatabase(repo, target), { code: "database_corrupt" });
  await assert.rejects(Deno.stat(target), Deno.errors.NotFound);
});

Deno.test("six concurrent `baton new` give six distinct tickets and six files", async () => {
  const repo = await tempRepo({ phases: PHASES });
  await Deno.mkdir(`${repo}/tickets`);
  const e0 = await openEngine(repo);
  e0.close();
  const runs = await Promise.all(Array.from({ length: 6 }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "new", `Concurrent ticket ${i}`, "--json"],
      cwd: repo,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output()));
  for (const r of runs) assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  const ids = runs.map((r) => JSON.parse(new TextDecoder().decode(r.stdout)).id).sort();
  assert.equal(new Set(ids).size, 6, ids.join(","));
  const files = [...Deno.readDirSync(`${repo}/tickets`)].map((f) => f.name).sort();
  assert.equal(files.length, 6, files.join(","));
  const e = await openEngine(repo);
  assert.deepEqual(
    e.listTickets().map((t) => t.title).sort(),
    Array.from({ length: 6 }, (_, i) => `Concurrent ticket ${i}`),
  );
  const again = importTickets(e);
  assert.equal(again.unchanged.length, 6);
  assert.deepEqual(again.skipped, []);
  assert.deepEqual(again.duplicates, []);
  e.close();
});

Deno.test("after-commit hooks run after the outermost commit, never for work that rolls back", async () => {
  const repo = await tempRepo({ phases: PHASES, config: "markdown_sync:\n  mode: realtime\n" });
  await Deno.mkdir(`${repo}/tickets`);
  const file = `${repo}/tickets/0001_a.md`;
  const text = "# Ticket 0001: A\n\n## Status\n- [ ] Draft\n- [ ] Design Complete\n- [ ] Done\n";
  await Deno.writeTextFile(file, text);
  const engine = await openEngine(repo);
  importTickets(engine);
  const c = engine.claimNext({ agentId: "d", capabilities: ["designer"] })!;
  const claimed = await Deno.readTextFile(file); // the claim itself was written back (its Started line)
  assert.throws(() =>
    engine.transaction(() => {
      engine.complete(c.phase.id, { agentId: "d", token: c.token });
      throw new Error("the caller changes its mind");
    })
  );
  assert.equal(await Deno.readTextFile(file), claimed, "rolled back: nothing written to the markdown");
  assert.equal(engine.ticket("0001").phases[0].status, "claimed");
  engine.transaction(() => {
    engine.complete(c.phase.id, { agentId: "d", token: c.token });
    assert.equal(Deno.readTextFileSync(file), claimed, "not before the outer commit");
  });
  assert.match(await Deno.readTextFile(file), /- \[x\] Design Complete/, "written once committed");
  engine.close();
  void newTicket;
});

Deno.test("blocking mode: a free candidate behind 200 conflicting ones is claimed", async () => {
  const repo = await tempRepo({ phases: PHASES, config: "file_conflicts:\n  mode: blocking\n" });
  const e = await openEngine(repo);
  e.transaction(() => {
    for (let i = 1; i <= 200; i++) {
      e.upsertTicket({
        id: String(i).padStart(4, "0"),
        title: `Busy ${i}`,
        metadata: { priority: "High", paths: ["src/core/**"] },
      });
    }
    e.upsertTicket({ id: "0999", title: "Free", metadata: { priority: "Low", paths: ["docs/free.md"] } });
    e.upsertTicket({ id: "0000", title: "Holder", metadata: { priority: "Critical", paths: ["src/core/x.ts"] } });
  });
  const h = e.claimNext({ agentId: "holder", capabilities: ["designer"] })!;
  assert.equal(h.ticket.id, "0000");
  e.declareFiles(h.phase.id, { agentId: "holder", token: h.token, paths: ["src/core/x.ts"] });
  const c = e.claimNext({ agentId: "other", capabilities: ["designer"] });
  assert.equal(c?.ticket.id, "0999");
  e.close();
});
