/** Shared mappings of the wal-index (`src/storage/mmap.ts`), against plain file I/O. */
import assert from "node:assert/strict";
import { canMapShared, mapShared, sharedMappingOptions } from "../../src/storage/mmap.ts";
import { INTACT_RECHECK_MS } from "../../src/storage/libc.ts";

Deno.test("mapShared: writes through a mapping are file content, and file writes show in the mapping", () => {
  if (!canMapShared()) {
    console.log("no FFI permission or no known C library here: skipping");
    return;
  }
  const path = Deno.makeTempFileSync();
  Deno.writeFileSync(path, new Uint8Array(2 * 32768));
  const m = mapShared(path, 32768, 32768);
  assert.ok(m, "the mapping failed");
  try {
    m.bytes.set([1, 2, 3, 4], 100);
    const onDisk = Deno.readFileSync(path);
    assert.deepEqual([...onDisk.subarray(32768 + 100, 32768 + 104)], [1, 2, 3, 4]);
    assert.equal(onDisk[100], 0, "the mapping starts at its offset");
    const f = Deno.openSync(path, { read: true, write: true });
    f.seekSync(32768 + 200, Deno.SeekMode.Start);
    f.writeSync(new Uint8Array([9, 8]));
    f.close();
    assert.deepEqual([...m.bytes.subarray(200, 202)], [9, 8]);
  } finally {
    m.unmap();
    m.unmap(); // idempotent
  }
});

Deno.test("mapShared: a missing file, or mapping switched off, gives null (callers use file I/O)", () => {
  assert.equal(mapShared("/nonexistent/baton-mmap-test", 0, 32768), null);
  sharedMappingOptions.enabled = false;
  try {
    const path = Deno.makeTempFileSync();
    Deno.writeFileSync(path, new Uint8Array(32768));
    assert.equal(canMapShared(), false);
    assert.equal(mapShared(path, 0, 32768), null);
  } finally {
    sharedMappingOptions.enabled = true;
  }
});

Deno.test("a process that cannot map (no FFI permission) shares a live WAL database with one that maps", async () => {
  if (!canMapShared()) {
    console.log("this process cannot map either: skipping");
    return;
  }
  const { Database } = await import("../../src/storage/sqlite.ts");
  const { shmStats } = await import("../../src/storage/shm.ts");
  const dir = await Deno.makeTempDir();
  const db = await Database.open(`${dir}/x.db`, { journalMode: "wal" });
  try {
    const mapped0 = shmStats.mappedRegions;
    db.exec("CREATE TABLE t(x INTEGER)");
    db.run("INSERT INTO t VALUES (1)");
    assert.ok(shmStats.mappedRegions > mapped0, "this process did not map its wal-index");
    const worker = new URL("../helpers/no_ffi_worker.ts", import.meta.url).pathname;
    let rows = 1;
    for (const value of [2, 3]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", "--allow-write", worker, `${dir}/x.db`, String(value)],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const seen = JSON.parse(new TextDecoder().decode(out.stdout));
      rows++;
      assert.deepEqual(seen, { n: rows, mapped: 0, file: 1 }, "the child saw every row, through file I/O");
      // This connection sees the child's commit through its mapping, and commits on top of it.
      assert.equal(db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n, rows);
      db.run("INSERT INTO t VALUES (?)", [value * 10]);
      rows++;
    }
    assert.deepEqual(db.all<{ x: number }>("SELECT x FROM t ORDER BY rowid").map((r) => r.x), [1, 2, 20, 3, 30]);
    assert.equal(db.integrityCheck(), "ok");
  } finally {
    db.close();
  }
});

const chattr = (flag: string, path: string) =>
  new Deno.Command("chattr", { args: [flag, path], stderr: "null" }).outputSync().success;

/** Until the mapping's last look is older than its trust window (a condition on the clock, not a sleep of a guessed length). */
function pastTrustWindow(): void {
  const until = performance.now() + INTACT_RECHECK_MS;
  while (performance.now() <= until) { /* spin: the window is a millisecond */ }
}

Deno.test("mapShared: intact asks a reader only that the file covers the mapping, a writer also that it may be written", () => {
  if (!canMapShared()) {
    console.log("no FFI permission or no known C library here: skipping");
    return;
  }
  const path = Deno.makeTempFileSync();
  Deno.writeFileSync(path, new Uint8Array(32768));
  if (!chattr("+i", path)) {
    console.log("chattr +i is not available here (not root, or a file system without it): skipped");
    return;
  }
  chattr("-i", path);
  const m = mapShared(path, 0, 32768);
  assert.ok(m, "the mapping failed");
  try {
    assert.ok(m.intact() && m.intact(false));
    // Made immutable: a write to the mapping would be SIGBUS, a read is not.
    assert.ok(chattr("+i", path));
    pastTrustWindow();
    assert.equal(m.intact(false), true, "a reader may still read an immutable file's mapping");
    assert.equal(m.intact(true), false, "a writer may not write it");
    assert.equal(m.intact(false), true);
    assert.equal(m.bytes[100], 0); // reading it is safe
    assert.ok(chattr("-i", path));
    pastTrustWindow();
    assert.equal(m.intact(), true, "writable again");
    // Truncated: neither may touch it (a page past the end of a file faults either way).
    Deno.truncateSync(path, 0);
    pastTrustWindow();
    assert.equal(m.intact(false), false);
    assert.equal(m.intact(true), false);
  } finally {
    chattr("-i", path);
    m.unmap();
  }
});
