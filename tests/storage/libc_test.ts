/** The C library's functions are bound at first use (`src/storage/libc.ts`): start-up pays only for what it calls. */
import assert from "node:assert/strict";

/** Runs `code` in a fresh `deno run -A` process and returns what it printed as JSON. */
async function inFreshProcess(code: string): Promise<{ bound: string[]; mapped: boolean }> {
  const dir = await Deno.makeTempDir();
  const script = `${dir}/probe.ts`;
  await Deno.writeTextFile(script, code.replaceAll("SRC", new URL("../../src/", import.meta.url).href));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", "--config", new URL("../../deno.json", import.meta.url).pathname, script],
    cwd: dir,
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  await Deno.remove(dir, { recursive: true });
  return JSON.parse(text.trim().split("\n").at(-1)!);
}

Deno.test("a process that only reads a database binds none of the writer mutex's C functions", async () => {
  const r = await inFreshProcess(`
    import { Database } from "SRCstorage/sqlite.ts";
    import { libcBound } from "SRCstorage/libc.ts";
    import { canMapShared } from "SRCstorage/mmap.ts";
    const path = Deno.cwd() + "/r.db";
    const w = await Database.open(path, { journalMode: "wal" });
    w.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    w.close();
    const before = libcBound().length;
    const db = await Database.open(path, { journalMode: "wal" });
    db.get("SELECT x FROM t");
    db.close();
    console.log(JSON.stringify({ bound: libcBound(), mapped: canMapShared(), before }));
  `);
  if (!r.mapped) {
    console.log("no FFI permission or no known C library here: skipping");
    return;
  }
  assert.ok(r.bound.includes("mmap"), `the wal-index is mapped: ${r.bound.join(", ")}`);
  assert.deepEqual(r.bound.filter((n) => n.startsWith("pthread_")), [], `bound: ${r.bound.join(", ")}`);
  assert.ok(r.bound.length < 17, "not every function was bound");
});

Deno.test("a process that writes binds the writer mutex's functions when it first takes the lock", async () => {
  const r = await inFreshProcess(`
    import { Database } from "SRCstorage/sqlite.ts";
    import { libcBound } from "SRCstorage/libc.ts";
    import { canMapShared } from "SRCstorage/mmap.ts";
    const db = await Database.open(Deno.cwd() + "/w.db", { journalMode: "wal" });
    db.exec("CREATE TABLE t(x)");
    const before = libcBound();
    db.transaction(() => db.run("INSERT INTO t VALUES (1)"));
    db.transaction(() => db.run("INSERT INTO t VALUES (2)"));
    db.close();
    console.log(JSON.stringify({ bound: libcBound(), mapped: canMapShared(), before }));
  `);
  if (!r.mapped) {
    console.log("no FFI permission or no known C library here: skipping");
    return;
  }
  assert.ok(r.bound.includes("pthread_mutex_trylock"), `bound: ${r.bound.join(", ")}`);
  assert.equal(new Set(r.bound).size, r.bound.length, "each function bound once");
});
