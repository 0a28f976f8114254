import assert from "node:assert/strict";
import { Database } from "../../src/storage/sqlite.ts";
import { migrate } from "../../src/storage/migrate.ts";
import { latestVersion, migrations } from "../../src/engine/schema/mod.ts";
import { openBatonDatabase } from "../../src/engine/database.ts";

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
