/** The C library's functions are bound at first use (`src/storage/libc.ts`): start-up pays only for what it calls. */
import assert from "node:assert/strict";

interface Probe {
  /** The functions bound when the probe ended, and at its `mark()`. */
  bound: string[];
  marked: string[];
  /** Whether this process maps the wal-index at all (FFI permission, a known C library). */
  mapped: boolean;
}

/** Runs `body` in a fresh process (`deno eval`: every permission), with `Database`, `mark()` and a temporary cwd. */
async function inFreshProcess(body: string): Promise<Probe> {
  const dir = await Deno.makeTempDir();
  const src = new URL("../../src/storage/", import.meta.url).href;
  const code = `import { Database } from "${src}sqlite.ts";
     import { libcBound } from "${src}libc.ts";
     import { canMapShared } from "${src}mmap.ts";
     let marked = [];
     const mark = () => marked = libcBound();
     ${body}
     console.log(JSON.stringify({ bound: libcBound(), marked, mapped: canMapShared() }));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", new URL("../../deno.json", import.meta.url).pathname, code],
    cwd: dir,
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  await Deno.remove(dir, { recursive: true });
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

const mutexFunctions = (names: string[]) => names.filter((n) => n.startsWith("pthread_"));

Deno.test("a process that only reads a database binds none of the writer mutex's C functions", async () => {
  const r = await inFreshProcess(`
    const w = await Database.open("r.db", { journalMode: "wal", writerQueue: false });
    w.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    w.close();
    const db = await Database.open("r.db", { journalMode: "wal" });
    db.get("SELECT x FROM t");
    db.close();
  `);
  if (!r.mapped) {
    console.log("no FFI permission or no known C library here: skipping");
    return;
  }
  assert.ok(r.bound.includes("mmap"), `the wal-index is mapped: ${r.bound.join(", ")}`);
  assert.deepEqual(mutexFunctions(r.bound), [], `bound: ${r.bound.join(", ")}`);
});

Deno.test("a process that writes binds the writer mutex's functions when it first takes the lock", async () => {
  const r = await inFreshProcess(`
    const db = await Database.open("w.db", { journalMode: "wal" });
    db.exec("CREATE TABLE t(x)");
    mark();
    db.transaction(() => db.run("INSERT INTO t VALUES (1)"));
    db.transaction(() => db.run("INSERT INTO t VALUES (2)"));
    db.close();
  `);
  if (!r.mapped) {
    console.log("no FFI permission or no known C library here: skipping");
    return;
  }
  assert.deepEqual(mutexFunctions(r.marked), [], "nothing of the mutex before the first transaction");
  assert.ok(r.bound.includes("pthread_mutex_trylock"), `bound: ${r.bound.join(", ")}`);
  assert.equal(new Set(r.bound).size, r.bound.length, "each function bound once");
});
