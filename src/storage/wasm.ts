/**
 * SQLite's WebAssembly build from `@sqlite.org/sqlite-wasm` (the pinned
 * `sqlite3.wasm`), instantiated directly: Baton calls the C API exports and
 * registers its VFS with `sqlite3_vfs_register`, the low-level equivalent of
 * the package's `installVfs`.
 *
 * Why not the package's JavaScript: its ~480 KB Emscripten glue and API
 * bootstrap cost 35–55 ms of every process start (V8 compiling one giant
 * function, Deno's Node compatibility layer, ~300 wrapped functions), which is
 * most of a cold `baton` command. Baton needs about thirty C functions, the
 * heap, and a way to put JS callbacks in the function table; that is all this
 * module provides. The wasm's imports are Emscripten's libc syscalls; SQLite
 * only reaches them through its built-in `unix` VFS, which Baton never uses,
 * so every syscall import answers ENOSYS. The few that matter (clock, time
 * zone, heap growth, stderr) are implemented. `tests/storage/wasm_test.ts` checks the
 * constants and struct layouts below against the build's own description
 * (`sqlite3__wasm_enum_json`) and that every import is one this module knows.
 *
 * @module
 */

// The compiled module, through the module graph (`import source`), which
// `deno compile` embeds; compiled again in every process (no code cache for wasm).
import sqliteWasm from "./sqlite_wasm_module.js";

/** The C API functions Baton calls (pointers are numbers, `sqlite3_int64` is bigint). */
export interface SqliteExports {
  sqlite3_initialize(): number;
  sqlite3_libversion(): number;
  sqlite3_vfs_register(vfs: number, makeDefault: number): number;
  sqlite3_open_v2(filename: number, ppDb: number, flags: number, zVfs: number): number;
  sqlite3_close_v2(db: number): number;
  sqlite3_extended_result_codes(db: number, onoff: number): number;
  /** `sqlite3_db_config` with an int and a pointer argument (the build's non-variadic wrapper). */
  sqlite3__wasm_db_config_ip(db: number, op: number, value: number, out: number): number;
  sqlite3_stmt_status(stmt: number, op: number, reset: number): number;
  sqlite3_busy_handler(db: number, fn: number, arg: number): number;
  sqlite3_errmsg(db: number): number;
  sqlite3_errstr(rc: number): number;
  sqlite3_exec(db: number, sql: number, cb: number, arg: number, errmsg: number): number;
  sqlite3_prepare_v3(db: number, sql: number, n: number, flags: number, ppStmt: number, pzTail: number): number;
  sqlite3_get_autocommit(db: number): number;
  sqlite3_file_control(db: number, zDbName: number, op: number, pArg: number): number;
  sqlite3_changes(db: number): number;
  sqlite3_last_insert_rowid(db: number): bigint;
  sqlite3_reset(stmt: number): number;
  sqlite3_clear_bindings(stmt: number): number;
  sqlite3_step(stmt: number): number;
  sqlite3_finalize(stmt: number): number;
  sqlite3_bind_parameter_index(stmt: number, name: number): number;
  sqlite3_bind_null(stmt: number, i: number): number;
  sqlite3_bind_int(stmt: number, i: number, v: number): number;
  sqlite3_bind_int64(stmt: number, i: number, v: bigint): number;
  sqlite3_bind_double(stmt: number, i: number, v: number): number;
  sqlite3_bind_text(stmt: number, i: number, p: number, n: number, destructor: number): number;
  sqlite3_bind_blob(stmt: number, i: number, p: number, n: number, destructor: number): number;
  sqlite3_column_count(stmt: number): number;
  sqlite3_column_name(stmt: number, i: number): number;
  sqlite3_column_type(stmt: number, i: number): number;
  sqlite3_column_int64(stmt: number, i: number): bigint;
  sqlite3_column_double(stmt: number, i: number): number;
  sqlite3_column_text(stmt: number, i: number): number;
  sqlite3_column_blob(stmt: number, i: number): number;
  sqlite3_column_bytes(stmt: number, i: number): number;
  /** The build's constants and struct layouts as JSON (a C string). */
  sqlite3__wasm_enum_json(): number;
  malloc(n: number): number;
  free(p: number): void;
  __wasm_call_ctors(): void;
  __indirect_function_table: WebAssembly.Table;
}

/** Result codes, open flags and other constants Baton uses (values from sqlite3.h). */
export const SQLITE = {
  OK: 0,
  ERROR: 1,
  BUSY: 5,
  NOMEM: 7,
  NOTFOUND: 12,
  FULL: 13,
  CANTOPEN: 14,
  ROW: 100,
  DONE: 101,
  IOERR_READ: 266,
  IOERR_SHORT_READ: 522,
  /** `sqlite3_file_control` op: bytes reserved at the end of each page. */
  FCNTL_RESERVE_BYTES: 38,
  /** A page failed its checksum (SQLITE_IOERR_DATA). */
  IOERR_DATA: 8202,
  IOERR_WRITE: 778,
  IOERR_FSYNC: 1034,
  IOERR_DIR_FSYNC: 1290,
  IOERR_TRUNCATE: 1546,
  IOERR_FSTAT: 1802,
  IOERR_UNLOCK: 2058,
  IOERR_DELETE: 2570,
  IOERR_ACCESS: 3338,
  IOERR_CHECKRESERVEDLOCK: 3594,
  IOERR_LOCK: 3850,
  IOERR_CLOSE: 4106,
  IOERR_SHMLOCK: 5130,
  IOERR_SHMMAP: 5386,
  IOERR_DELETE_NOENT: 5898,
  OPEN_READONLY: 0x1,
  OPEN_READWRITE: 0x2,
  OPEN_CREATE: 0x4,
  OPEN_DELETEONCLOSE: 0x8,
  OPEN_EXCLUSIVE: 0x10,
  OPEN_MAIN_DB: 0x100,
  OPEN_WAL: 0x80000,
  OPEN_EXRESCODE: 0x02000000,
  ACCESS_READWRITE: 1,
  SYNC_DATAONLY: 0x10,
  FCNTL_LOCKSTATE: 1,
  FCNTL_HAS_MOVED: 20,
  IOCAP_POWERSAFE_OVERWRITE: 0x1000,
  PREPARE_PERSISTENT: 0x1,
  /** `sqlite3_db_config` op: plans never depend on bound values (the query planner stability guarantee). */
  DBCONFIG_ENABLE_QPSG: 1007,
  /** `sqlite3_stmt_status` counter: times the statement was compiled again. */
  STMTSTATUS_REPREPARE: 5,
} as const;

/** Byte offsets of the `sqlite3_vfs` (version 2) fields on wasm32. */
export const VFS_LAYOUT = {
  sizeof: 88,
  iVersion: 0,
  szOsFile: 4,
  mxPathname: 8,
  zName: 16,
  xOpen: 24,
  xDelete: 28,
  xAccess: 32,
  xFullPathname: 36,
  xRandomness: 56,
  xSleep: 60,
  xCurrentTime: 64,
  xGetLastError: 68,
  xCurrentTimeInt64: 72,
} as const;

/** Byte offsets of the `sqlite3_io_methods` (version 2) fields on wasm32. */
export const IO_METHODS_LAYOUT = {
  sizeof: 76,
  iVersion: 0,
  xClose: 4,
  xRead: 8,
  xWrite: 12,
  xTruncate: 16,
  xSync: 20,
  xFileSize: 24,
  xLock: 28,
  xUnlock: 32,
  xCheckReservedLock: 36,
  xFileControl: 40,
  xSectorSize: 44,
  xDeviceCharacteristics: 48,
  xShmMap: 52,
  xShmLock: 56,
  xShmBarrier: 60,
  xShmUnmap: 64,
} as const;

/** `sizeof(sqlite3_file)`: just the methods pointer; Baton keeps its state in JS. */
export const FILE_SIZEOF = 4;

const ENOSYS = 52;
const WASM_PAGE = 65536;
const HEAP_MAX = 2 ** 31;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Wasm value types for the signature letters sqlite-wasm also uses: i32/pointer, i64, f64, f32. */
const VALTYPE: Record<string, number> = { i: 0x7f, p: 0x7f, j: 0x7e, d: 0x7c, f: 0x7d };

/**
 * A one-function wasm module that imports a JS function with the given
 * signature and exports it as a real wasm function, which (unlike a JS
 * function) can be stored in the function table. Signatures look like
 * `"i(ppij)"`: result letter, then parameter letters (`v` = no result).
 */
function adapterModule(signature: string): WebAssembly.Module {
  const m = /^([vijpdf])\(([ijpdf]*)\)$/.exec(signature);
  if (!m) throw new Error(`Bad function signature "${signature}"`);
  const params = [...m[2]].map((c) => VALTYPE[c]);
  const results = m[1] === "v" ? [] : [VALTYPE[m[1]]];
  const E = 0x65; // "e"
  const F = 0x66; // "f"
  const type = [1, 0x60, params.length, ...params, results.length, ...results]; // one function type
  const imp = [1, 1, E, 1, F, 0, 0]; // one import, "e"."f", a function of type 0
  const exp = [1, 1, F, 0, 0]; // one export, "f", function 0
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const header = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]; // "\0asm", version 1
  return new WebAssembly.Module(
    new Uint8Array([...header, ...section(1, type), ...section(2, imp), ...section(7, exp)]),
  );
}

/** The instantiated SQLite module: its C API, its heap, and its function table. */
export class SqliteWasm {
  /** The wasm exports (the C API). */
  readonly x: SqliteExports;
  /** The wasm linear memory. */
  readonly memory: WebAssembly.Memory;
  #heap: Uint8Array;
  #adapters = new Map<string, WebAssembly.Module>();
  #freeSlots: number[] = [];

  /**
   * @param x the exports
   * @param memory the memory the module was instantiated with
   */
  constructor(x: SqliteExports, memory: WebAssembly.Memory) {
    this.x = x;
    this.memory = memory;
    this.#heap = new Uint8Array(memory.buffer);
  }

  /** The heap as bytes. Call afresh after anything that may allocate: growth replaces the buffer. */
  heap8u(): Uint8Array {
    // Growing the (unshared) memory detaches the old buffer, and a view of a detached buffer has length 0: a
    // cheaper test than reading `memory.buffer` (~19 ns) on every call.
    if (this.#heap.length === 0) this.#heap = new Uint8Array(this.memory.buffer);
    return this.#heap;
  }

  /**
   * Allocates n bytes on the SQLite heap.
   * @throws {RangeError} when the heap is exhausted
   */
  alloc(n: number): number {
    const p = this.x.malloc(Math.max(1, n));
    if (!p) throw new RangeError(`SQLite heap exhausted allocating ${n} bytes`);
    return p;
  }

  /** Frees a pointer from {@link alloc}. */
  dealloc(p: number): void {
    if (p) this.x.free(p);
  }

  /** Copies a string into a new NUL-terminated UTF-8 buffer (free it with {@link dealloc}). */
  allocCString(s: string): number {
    const bytes = encoder.encode(s);
    const p = this.alloc(bytes.length + 1);
    const heap = this.heap8u();
    heap.set(bytes, p);
    heap[p + bytes.length] = 0;
    return p;
  }

  /** Reads a NUL-terminated UTF-8 string. */
  cstrToJs(p: number): string {
    if (!p) return "";
    const heap = this.heap8u();
    const end = heap.indexOf(0, p);
    return decoder.decode(heap.subarray(p, end < 0 ? heap.length : end));
  }

  /** Reads an int32 (or a pointer). */
  peek32(p: number): number {
    return new DataView(this.memory.buffer).getInt32(p, true);
  }

  /** Writes an int32 (or a pointer). */
  poke32(p: number, v: number): void {
    new DataView(this.memory.buffer).setInt32(p, v, true);
  }

  /** Writes an int64. */
  poke64(p: number, v: bigint): void {
    new DataView(this.memory.buffer).setBigInt64(p, v, true);
  }

  /** Writes a double. */
  pokeF64(p: number, v: number): void {
    new DataView(this.memory.buffer).setFloat64(p, v, true);
  }

  /**
   * Puts a JS function into the function table so C can call it.
   * @param signature e.g. `"i(pi)"` (see {@link adapterModule})
   * @param fn the function; it must not throw (C cannot unwind it)
   * @returns the function pointer
   */
  // deno-lint-ignore no-explicit-any
  installFunction(signature: string, fn: (...args: any[]) => any): number {
    let mod = this.#adapters.get(signature);
    if (!mod) this.#adapters.set(signature, mod = adapterModule(signature));
    const wrapped = new WebAssembly.Instance(mod, { e: { f: fn } }).exports.f;
    const table = this.x.__indirect_function_table;
    const slot = this.#freeSlots.pop() ?? table.grow(1);
    table.set(slot, wrapped as (...args: unknown[]) => unknown);
    return slot;
  }

  /** Removes a function installed with {@link installFunction}. */
  uninstallFunction(slot: number): void {
    this.x.__indirect_function_table.set(slot, null);
    this.#freeSlots.push(slot);
  }

  /** The build's own description of its constants and struct layouts (tests compare against it). */
  describe(): {
    structs: { name: string; sizeof: number; members: Record<string, { offset: number }> }[];
    [group: string]: unknown;
  } {
    return JSON.parse(this.cstrToJs(this.x.sqlite3__wasm_enum_json()));
  }
}

/** Import names that are Emscripten syscalls answered with ENOSYS (see the module comment). */
const isStubbedImport = (module: string, name: string): boolean =>
  (module === "env" && (name.startsWith("__syscall_") || name === "_mmap_js" || name === "_munmap_js")) ||
  (module === "wasi_snapshot_preview1" && name.startsWith("fd_"));

/** The import object, and the imports it answers with an error (none for the pinned build). */
function imports(memory: WebAssembly.Memory): { imports: WebAssembly.Imports; unknown: string[] } {
  const dv = () => new DataView(memory.buffer);
  const tzOffsets = (year: number) => [
    new Date(year, 0, 1).getTimezoneOffset(),
    new Date(year, 6, 1).getTimezoneOffset(),
  ];
  const writeCString = (p: number, s: string, max: number) => {
    const bytes = encoder.encode(s).subarray(0, max - 1);
    const heap = new Uint8Array(memory.buffer);
    heap.set(bytes, p);
    heap[p + bytes.length] = 0;
  };
  const env: Record<string, unknown> = {
    memory,
    emscripten_date_now: () => Date.now(),
    emscripten_get_now: () => performance.now(),
    emscripten_get_heap_max: () => HEAP_MAX,
    emscripten_resize_heap(requested: number): number {
      const want = requested >>> 0;
      if (want > HEAP_MAX) return 0;
      // Grow by at least a fifth to keep the number of growths small.
      const have = memory.buffer.byteLength;
      const target = Math.min(HEAP_MAX, Math.max(want, Math.ceil(have * 1.2)));
      try {
        memory.grow(Math.ceil((target - have) / WASM_PAGE));
        return 1;
      } catch {
        return 0;
      }
    },
    // POSIX tzset(): seconds west of UTC for standard time, whether DST exists, zone names.
    _tzset_js(timezone: number, daylight: number, stdName: number, dstName: number): void {
      const [winter, summer] = tzOffsets(new Date().getFullYear());
      dv().setUint32(timezone, Math.max(winter, summer) * 60, true);
      dv().setInt32(daylight, winter !== summer ? 1 : 0, true);
      const name = (off: number) =>
        `UTC${off > 0 ? "-" : "+"}${String(Math.floor(Math.abs(off) / 60)).padStart(2, "0")}${
          String(Math.abs(off) % 60).padStart(2, "0")
        }`;
      writeCString(stdName, name(Math.max(winter, summer)), 17);
      writeCString(dstName, name(Math.min(winter, summer)), 17);
    },
    // localtime_r(): fills a struct tm (nine int32 fields, then tm_gmtoff) for a time_t.
    _localtime_js(time: bigint, tm: number): void {
      const d = new Date(Number(time) * 1000);
      const [winter, summer] = tzOffsets(d.getFullYear());
      const yday = Math.round(
        (Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) -
          Date.UTC(d.getFullYear(), 0, 1)) / 86_400_000,
      );
      const isDst = winter !== summer && d.getTimezoneOffset() === Math.min(winter, summer);
      const fields = [
        d.getSeconds(),
        d.getMinutes(),
        d.getHours(),
        d.getDate(),
        d.getMonth(),
        d.getFullYear() - 1900,
        d.getDay(),
        yday,
        isDst ? 1 : 0,
        -d.getTimezoneOffset() * 60,
      ];
      const view = dv();
      fields.forEach((v, i) => view.setInt32(tm + 4 * i, v, true));
    },
  };
  const wasi: Record<string, unknown> = {
    clock_time_get(clock: number, _precision: bigint, out: number): number {
      const ms = clock === 0 ? Date.now() : performance.now();
      dv().setBigUint64(out, BigInt(Math.round(ms * 1e6)), true);
      return 0;
    },
    // An empty environment: SQLite reads none of it outside the unix VFS.
    environ_sizes_get(count: number, size: number): number {
      dv().setUint32(count, 0, true);
      dv().setUint32(size, 0, true);
      return 0;
    },
    environ_get: () => 0,
    // stdout/stderr only (SQLite's own diagnostics, if it ever prints any).
    fd_write(fd: number, iov: number, iovcnt: number, written: number): number {
      if (fd !== 1 && fd !== 2) return ENOSYS;
      const view = dv();
      let total = 0;
      for (let i = 0; i < iovcnt; i++) {
        const p = view.getUint32(iov + 8 * i, true);
        const n = view.getUint32(iov + 8 * i + 4, true);
        Deno.stderr.writeSync(new Uint8Array(memory.buffer, p, n).slice());
        total += n;
      }
      dv().setUint32(written, total, true);
      return 0;
    },
  };
  const unknown: string[] = [];
  for (const imp of WebAssembly.Module.imports(sqliteWasm)) {
    const table = imp.module === "env" ? env : wasi;
    if (imp.kind !== "function" || imp.name in table) continue;
    if (!isStubbedImport(imp.module, imp.name)) {
      // A new import means a different build than the one pinned: fail loudly the moment it is used.
      unknown.push(`${imp.module}.${imp.name}`);
      table[imp.name] = () => {
        throw new Error(`The SQLite wasm called an import Baton does not provide: ${imp.module}.${imp.name}`);
      };
    } else table[imp.name] = imp.module === "env" ? () => -ENOSYS : () => ENOSYS;
  }
  return { imports: { env, wasi_snapshot_preview1: wasi } as WebAssembly.Imports, unknown };
}

/**
 * Imports of the wasm module that Baton neither implements nor answers as an
 * unused syscall (tests expect none).
 * @returns `module.name` of each
 */
export function unknownImports(): string[] {
  return imports(new WebAssembly.Memory({ initial: 1 })).unknown;
}

let loading: Promise<SqliteWasm> | undefined;

/**
 * Instantiates the SQLite module once per process and initialises SQLite.
 * @returns the module
 * @throws {Error} when SQLite fails to initialise
 */
export function loadSqliteWasm(): Promise<SqliteWasm> {
  loading ??= (async () => {
    // 8 MiB to start, as the package's glue does; the heap grows on demand.
    const memory = new WebAssembly.Memory({ initial: 128, maximum: HEAP_MAX / WASM_PAGE });
    const instance = await WebAssembly.instantiate(sqliteWasm, imports(memory).imports);
    const x = instance.exports as unknown as SqliteExports;
    x.__wasm_call_ctors();
    const rc = x.sqlite3_initialize();
    if (rc !== 0) throw new Error(`sqlite3_initialize failed with code ${rc}`);
    return new SqliteWasm(x, memory);
  })();
  return loading;
}
