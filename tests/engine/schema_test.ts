import assert from "node:assert/strict";
import { Database } from "../../src/storage/sqlite.ts";
import { migrate } from "../../src/storage/migrate.ts";
import { latestVersion, migrations } from "../../src/engine/schema/mod.ts";
import { openBatonDatabase } from "../../src/engine/database.ts";
import { openEngine } from "../../mod.ts";
import { migrateAsNewerBaton, tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";

const schemaOf = (db: Database) =>
  db.all<{ type: string; name: string; sql: string }>(
    "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
  ).map((r) => ({ ...r, sql: normalSql(r.sql) }));

/** SQL text with comments and layout removed (`ALTER TABLE … ADD COLUMN` stores `x , y)` where schema.sql says `x,\n  y\n)`; a renamed table's name is quoted). */
const normalSql = (sql: string) =>
  sql.replace(/--[^\n]*/g, "").replace(/\s+/g, " ").replace(/\s*([(),])\s*/g, "$1")
    .replace(/^CREATE TABLE "(\w+)"/, "CREATE TABLE $1").trim();

Deno.test("schema.sql is exactly the migrations applied in order", async () => {
  const dir = await Deno.makeTempDir();
  const a = await openBatonDatabase(`${dir}/a.db`);
  const b = await Database.open(`${dir}/b.db`);
  b.exec(await Deno.readTextFile(new URL("../../schema.sql", import.meta.url)));
  assert.deepEqual(schemaOf(a), schemaOf(b));
  const declared = /user_version\): (\d+)/.exec(await Deno.readTextFile(new URL("../../schema.sql", import.meta.url)));
  assert.equal(Number(declared?.[1]), latestVersion);
  assert.equal(a.get<{ user_version: number }>("PRAGMA user_version")!.user_version, latestVersion);
  assert.equal(a.get<{ n: number }>("SELECT count(*) AS n FROM baton_migrations")!.n, migrations.length);
  a.close();
  b.close();
});

Deno.test("migrations: re-running is a no-op; a newer database is refused", async () => {
  const dir = await Deno.makeTempDir();
  const db = await openBatonDatabase(`${dir}/m.db`);
  assert.deepEqual(migrate(db, migrations), []);
  db.exec(`PRAGMA user_version=${latestVersion + 1}`);
  assert.throws(() => migrate(db, migrations), { code: "migration_failed" });
  db.close();
});

Deno.test("migrations: a failing migration leaves nothing behind", async () => {
  const dir = await Deno.makeTempDir();
  const db = await openBatonDatabase(`${dir}/f.db`);
  const bad = [...migrations, {
    version: latestVersion + 1,
    name: "bad",
    sql: "CREATE TABLE ok_table(x); CREATE TABLE broken(",
  }];
  assert.throws(() => migrate(db, bad), { code: "migration_failed" });
  assert.equal(db.get<{ user_version: number }>("PRAGMA user_version")!.user_version, latestVersion);
  assert.equal(db.get("SELECT name FROM sqlite_schema WHERE name = 'ok_table'"), undefined);
  db.close();
});

Deno.test("migrations: several processes migrating one new database at once apply each step once", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/race.db`;
  const script = `
    import { openBatonDatabase } from ${JSON.stringify(new URL("../../src/engine/database.ts", import.meta.url).href)};
    const db = await openBatonDatabase(${JSON.stringify(path)});
    db.close();
  `;
  const procs = Array.from(
    { length: 4 },
    () => new Deno.Command(Deno.execPath(), { args: ["eval", script], stderr: "piped", stdout: "null" }).output(),
  );
  for (const out of await Promise.all(procs)) {
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  }
  const db = await Database.open(path);
  assert.deepEqual(
    db.all<{ version: number }>("SELECT version FROM baton_migrations ORDER BY version").map((r) => r.version),
    migrations.map((m) => m.version),
  );
  db.close();
});

Deno.test("migrations: a database made by another build (its migration recorded under another name) is refused, unchanged; doctor names it", async () => {
  // e866dcf's migration 21 (clock_wall) was replaced under the same number (clock_boot): its databases lacked the
  // new columns, and every write failed later while doctor said "ok".
  const otherBuild = [...migrations.slice(0, 20), {
    version: 21,
    name: "clock_wall",
    sql: "ALTER TABLE clock ADD COLUMN wall INTEGER NOT NULL DEFAULT 0;",
  }];
  const dir = await Deno.makeTempDir();
  const path = `${dir}/other.db`;
  const made = await Database.open(path);
  migrate(made, otherBuild);
  made.close();
  await assert.rejects(openBatonDatabase(path), (e: Error & { code?: string }) => {
    assert.equal(e.code, "migration_failed");
    assert.match(
      e.message,
      /Nothing was changed: the database .* was made by another build of Baton: its migration 21 is "clock_wall", this Baton's is "clock_boot"/,
    );
    return true;
  });
  const after = await Database.open(path);
  assert.equal(after.get<{ user_version: number }>("PRAGMA user_version")!.user_version, 21, "nothing applied");
  after.close();

  // One that a Baton before this check migrated anyway: doctor says so, with a non-zero exit.
  const repo = await tempRepo({});
  const e = await openEngine(repo);
  const dbPath = e.storageInfo().path;
  e.close();
  const db = await Database.open(dbPath);
  db.run("UPDATE baton_migrations SET name = 'clock_wall' WHERE version = 21");
  db.close();
  const doctor = await baton(["doctor"], { cwd: repo });
  assert.notEqual(doctor.code, 0, doctor.stdout);
  assert.match(
    doctor.stdout + doctor.stderr,
    /schema.*made by another build of Baton: its migration 21 is "clock_wall"/,
  );
});

/**
 * Each landed migration's SQL, by SHA-256. Migrations are append-only: a database that has a migration never gets it
 * again, so a migration changed after it landed leaves every such database without the change. A new migration adds
 * its line here; a changed one fails this test (add a new migration instead).
 */
const LANDED = [
  "1 meta 840ed1c7ad545860",
  "2 engine eb231c28c6d65ed8",
  "3 coordination 1725eabcd7a6465f",
  "4 held_index 1050324801a5f280",
  "5 drop_meta ae3717a44e90671a",
  "6 markdown_ledger 0b98472f76365502",
  "7 gate_withdrawn 94a473c9468663c1",
  "8 escalations 4a0ce970fe0018a1",
  "9 clock_and_principals c0ae414e1c3a84fc",
  "10 agent_processes 7979b50c556bed2a",
  "11 merge_queue d7e25638cbf0c8b4",
  "12 merge_fenced ad498426b2f5cd35",
  "13 tickets_parent_index 5d887f795471c223",
  "14 write_lean_indexes 5e4416e6906c2c5e",
  "15 retention_indexes 32a8ca335935fd50",
  "16 gates_ticket_index e0be4076b411703c",
  "17 merge_item_ranges ff9ec7219936c4bb",
  "18 merge_check_process cfe8563c62392abc",
  "19 phase_unmerged_branch e0fe377507083906",
  "20 merge_item_tip 80e3617f8c862c4e",
  "21 clock_boot bdc005ea108a9150",
  "22 merge_target_red 878550361ced211e",
  "23 clock_boot_at ac6c86d664d2f8b3",
  "24 clock_mark aa3aa0b3a788c21b",
];

Deno.test("migrations are append-only: no landed migration's name or SQL changes", async () => {
  const digest = async (s: string) =>
    [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)))]
      .map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 16);
  const now = await Promise.all(migrations.map(async (m) => `${m.version} ${m.name} ${await digest(m.sql)}`));
  assert.deepEqual(now.slice(0, LANDED.length), LANDED, "a landed migration changed: add a new one instead");
  assert.deepEqual(
    now.slice(LANDED.length),
    [],
    `new migrations: add their lines to LANDED:\n${now.slice(LANDED.length).join("\n")}`,
  );
});

Deno.test("a process whose database a newer Baton migrates while it runs writes nothing more (database_newer), reads on", async () => {
  const repo = await tempRepo({ phases: "phases:\n  - {name: Design, agent_type: designer}\n" });
  const old = await openEngine(repo); // a long-lived baton-mcp of this version
  old.upsertTicket({ id: "0001", title: "A" });
  const c = old.claimNext({ agentId: "agent", capabilities: ["designer"] })!;
  await migrateAsNewerBaton(old.storageInfo().path); // a newer Baton's first command
  for (const write of [() => old.heartbeat("agent", { phaseIds: [c.phase.id] }), () => old.sweepStale()]) {
    assert.throws(write, (e: Error & { code?: string }) => {
      assert.equal(e.code, "database_newer");
      assert.match(
        e.message,
        new RegExp(`upgraded to schema version ${latestVersion + 1} by a newer Baton while this process ran`),
      );
      return true;
    });
  }
  assert.equal(old.ticket("0001").phases[0].status, "claimed", "reads go on");
  old.close();
});

Deno.test("every migration changes the main schema (what lets a running older Baton notice it)", async () => {
  // sql/clock.ts readClock reads the version again when SQLite recompiled its statement: a change of the schema
  // cookie. A migration of rows alone, of temporary tables, or `IF NOT EXISTS` of what exists would go unseen.
  const db = await Database.open(`${await Deno.makeTempDir()}/steps.db`);
  const cookie = () => db.get<{ schema_version: number }>("PRAGMA schema_version")!.schema_version;
  for (let i = 1; i <= migrations.length; i++) {
    const before = cookie();
    migrate(db, migrations.slice(0, i));
    assert.ok(cookie() > before, `migration ${i} (${migrations[i - 1].name}) changes no schema`);
  }
  db.close();
});
