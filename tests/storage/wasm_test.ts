// The SQLite wasm loader (src/storage/wasm.ts) against the build's own
// description of itself: constants, struct layouts, imports. If the pinned
// package ever changes under us, these fail before anything subtle does.
import assert from "node:assert/strict";
import {
  FILE_SIZEOF,
  IO_METHODS_LAYOUT,
  loadSqliteWasm,
  SQLITE,
  unknownImports,
  VFS_LAYOUT,
} from "../../src/storage/wasm.ts";
import { Database } from "../../src/storage/sqlite.ts";

Deno.test("wasm: every constant Baton uses has the build's value", async () => {
  const wasm = await loadSqliteWasm();
  const groups = wasm.describe() as Record<string, unknown>;
  const all = new Map<string, number>();
  for (const [group, v] of Object.entries(groups)) {
    if (group === "structs" || typeof v !== "object" || v === null) continue;
    for (const [k, n] of Object.entries(v as Record<string, unknown>)) if (typeof n === "number") all.set(k, n);
  }
  for (const [name, value] of Object.entries(SQLITE)) {
    assert.equal(all.get(`SQLITE_${name}`), value, `SQLITE_${name}`);
  }
  assert.equal(wasm.cstrToJs(wasm.x.sqlite3_libversion()), "3.54.1");
});

Deno.test("wasm: struct layouts match the build", async () => {
  const wasm = await loadSqliteWasm();
  const structs = new Map(wasm.describe().structs.map((s) => [s.name, s]));
  const check = (name: string, layout: Record<string, number>) => {
    const s = structs.get(name)!;
    assert.ok(s, name);
    for (const [field, off] of Object.entries(layout)) {
      if (field === "sizeof") assert.equal(s.sizeof, off, `${name} sizeof`);
      else assert.equal(s.members[field]?.offset, off, `${name}.${field}`);
    }
  };
  check("sqlite3_vfs", VFS_LAYOUT);
  check("sqlite3_io_methods", IO_METHODS_LAYOUT);
  assert.equal(structs.get("sqlite3_file")!.sizeof, FILE_SIZEOF);
});

Deno.test("wasm: every import of the module is implemented or a known syscall stub", () => {
  const unknown = unknownImports();
  assert.deepEqual(unknown, []);
});

Deno.test("wasm: function table slots are reused; a bad signature is refused", async () => {
  const wasm = await loadSqliteWasm();
  const a = wasm.installFunction("i(pi)", () => 0);
  wasm.uninstallFunction(a);
  const b = wasm.installFunction("i(pi)", () => 0);
  assert.equal(b, a);
  wasm.uninstallFunction(b);
  assert.throws(() => wasm.installFunction("x(q)", () => 0), /Bad function signature/);
});

Deno.test("wasm: the heap grows for large values, and reads back intact", async () => {
  const db = await Database.open(`${await Deno.makeTempDir()}/big.db`);
  try {
    const before = db.heapBytes();
    const blob = new Uint8Array(24 << 20).map((_, i) => i * 7);
    db.exec("CREATE TABLE b(x BLOB)");
    db.run("INSERT INTO b VALUES (?)", [blob]);
    const back = db.get<{ x: Uint8Array }>("SELECT x FROM b")!.x;
    assert.ok(db.heapBytes() > before);
    assert.equal(back.length, blob.length);
    assert.ok(back.every((v, i) => v === blob[i]));
  } finally {
    db.close();
  }
});

Deno.test("wasm: SQLite's 'localtime' follows the process time zone", async () => {
  // A zone with DST, in a child process so the TZ applies from the start.
  const script = `
    import { Database } from ${JSON.stringify(new URL("../../src/storage/sqlite.ts", import.meta.url).href)};
    const db = await Database.open(Deno.args[0]);
    const q = (t) => db.get("SELECT datetime(?, 'unixepoch', 'localtime') AS d", [t]).d;
    console.log(JSON.stringify([q(1767225600), q(1782864000), q(0)]));`;
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/tz.js`, script);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      `${dir}/tz.js`,
      `${dir}/tz.db`,
    ],
    env: { TZ: "America/New_York" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  // 2026-01-01T00:00Z is 19:00 EST the day before; 2026-07-01T00:00Z is 20:00 EDT.
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [
    "2025-12-31 19:00:00",
    "2026-06-30 20:00:00",
    "1969-12-31 19:00:00",
  ]);
});

Deno.test("page checksums: the WebAssembly functions agree with the reference sums, page by page (property)", async () => {
  const { CHECKSUM_WASM, pageSums } = await import("../../src/storage/vfs_checksums.ts");
  const memory = new WebAssembly.Memory({ initial: 2 });
  const m = new WebAssembly.Instance(new WebAssembly.Module(CHECKSUM_WASM as BufferSource), { e: { m: memory } })
    .exports as unknown as { verify(p: number, n: number): number; stamp(p: number, n: number): void };
  const heap = new Uint8Array(memory.buffer);
  for (let i = 0; i < 300; i++) {
    const n = [512, 1024, 4096, 8192, 65536][i % 5];
    const p = 8 * Math.floor(Math.random() * 8); // SQLite's page buffers are 8-byte aligned
    const page = heap.subarray(p, p + n);
    crypto.getRandomValues(page.subarray(0, Math.min(n, 65536)).subarray(0, Math.min(n, 65536)));
    m.stamp(p, n);
    const [s1, s2] = pageSums(page);
    const tail = new DataView(memory.buffer, p + n - 8, 8);
    assert.deepEqual([tail.getUint32(0, true), tail.getUint32(4, true)], [s1, s2]);
    assert.equal(m.verify(p, n), 1);
    page[Math.floor(Math.random() * (n - 8))] ^= 1 << (i % 8); // one bit flipped anywhere in the content
    assert.equal(m.verify(p, n), 0);
  }
});
