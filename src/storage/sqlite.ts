/**
 * A small typed wrapper over WASM SQLite on Baton's VFS: open with the right
 * pragmas, prepared (and cached) statements, `transaction()` with
 * `BEGIN IMMEDIATE` and a busy handler, checkpoints, and coded errors.
 *
 * @module
 */

import { BatonError, type BatonErrorCode } from "../errors.ts";
import { denoBackend, type IoBackend } from "./io.ts";
import { installVfs, sleepSync, vfsLastError, walFrames } from "./vfs.ts";
import { BackgroundCheckpointer, type CheckpointerStats } from "./checkpointer.ts";
import { WriterQueue } from "./writer_queue.ts";
import { loadSqliteWasm, SQLITE, type SqliteExports, type SqliteWasm } from "./wasm.ts";

/** A value SQLite can store. */
export type SqlValue = null | number | bigint | string | Uint8Array;
/** Positional (`?`) or named (`:name`, `$name`, `@name`) parameters. */
export type Params = readonly SqlValue[] | Record<string, SqlValue | undefined>;
/** A result row as a plain object keyed by column name. */
export type Row = Record<string, SqlValue>;

/** With background checkpoints, SQLite's inline automatic checkpoint waits for this many times the threshold. */
const BACKGROUND_SAFETY_FACTOR = 4;
/**
 * WAL writer queue: a process whose transactions come back to back (each
 * begun within HOLD_GAP_MS of the last one's end) keeps its place for up to
 * HOLD_TX transactions or HOLD_MS, and at most until its synchronous job ends.
 * Handing the lock to a sleeping process costs a wake-up and a context switch
 * per transaction, and the next holder's first transaction pays for a cold
 * page cache (SQLite drops it when another process wrote: with 8 processes
 * writing without pause, that first transaction took ~0.6-1.1 ms against
 * ~0.35 for the rest); a burst pays it once. 10 ms against 1 ms: +12-15%
 * claims/s with 8 processes (alternating runs); waiting writers still get
 * their turn within `database.writer_fairness_ms`.
 */
export const HOLD_TX = 256, HOLD_MS = 10, HOLD_GAP_MS = 0.2;
/**
 * With background checkpoints, a writer that finds the WAL at this many times
 * the threshold waits for the thread's checkpoint to end and checkpoints
 * itself: the hard bound when the thread cannot keep up (slow fsync).
 */
const BACKGROUND_HARD_FACTOR = 2 * BACKGROUND_SAFETY_FACTOR;
/** How long a writer at the hard bound waits for the thread's checkpoint before giving up for this commit. */
const HARD_BOUND_WAIT_MS = 5000;
/** How long a writer at the bound waits for readers to leave the WAL so that it can start over. */
const RESTART_WAIT_MS = 200;

/** The page size of the databases Baton creates (bytes). */
export const PAGE_SIZE = 4096;

/** Journal modes Baton supports. */
export type JournalMode = "wal" | "truncate" | "delete";

/** Options for {@link Database.open}. */
export interface OpenOptions {
  /** Journal mode to put the database in (default `wal`). */
  journalMode?: JournalMode;
  /** How long to retry a busy lock before failing, in ms (default 10000). */
  busyTimeoutMs?: number;
  /** Open read-only (never creates). */
  readonly?: boolean;
  /** Create the file when missing (default true unless readonly). */
  create?: boolean;
  /** Override `synchronous` (default NORMAL in WAL, FULL otherwise). */
  synchronous?: "off" | "normal" | "full";
  /** WAL pages before an automatic checkpoint (default 1000). */
  walAutocheckpoint?: number;
  /**
   * WAL mode: run checkpoints in a background thread (started on first
   * need), asked for after a commit leaves `walAutocheckpoint` frames to
   * copy; SQLite's own automatic checkpoint stays on at 4× that, and at 8×
   * a writer waits for the thread and checkpoints itself (default false).
   */
  backgroundCheckpoint?: boolean;
  /** Use another registered VFS (tests: fault injection). */
  vfs?: string;
  /** WAL mode: queue write transactions on a blocking lock file (default true). */
  writerQueue?: boolean;
  /**
   * WAL mode: how long a waiting writer lets writers that find the lock
   * free go first before it claims its turn (ms; default 100; 0: strict
   * turns). See `writer_queue.ts`.
   */
  writerFairnessMs?: number;
}

/**
 * Write transactions of one connection since it opened, and the time they
 * spent waiting for the writer queue and inside `BEGIN … COMMIT`: where the
 * time of many processes writing one file goes (the benchmarks print them).
 */
export interface WriteStats {
  /** Write transactions begun (committed or rolled back). */
  transactions: number;
  /** Of those, how many had to take the writer queue (the first of each turn); the rest kept the place of the one before. */
  turns: number;
  /** Milliseconds spent waiting for the writer queue. */
  waitMs: number;
  /** Milliseconds inside write transactions, from `BEGIN IMMEDIATE` to the end of `COMMIT` or `ROLLBACK`. */
  heldMs: number;
  /** Of `heldMs`, the share of each turn's first transaction (it re-reads what other processes changed). */
  firstOfTurnMs: number;
}

/** Result of {@link Database.checkpoint}. */
export interface CheckpointResult {
  /** True when the checkpoint could not complete because of readers or writers. */
  busy: boolean;
  /** Frames in the WAL. */
  walFrames: number;
  /** Frames copied into the database. */
  checkpointed: number;
}

const RC_CODES: Record<number, BatonErrorCode> = {
  5: "database_locked",
  6: "database_locked",
  8: "database_readonly",
  10: "database_io",
  11: "database_corrupt",
  13: "database_full",
  14: "database_open_failed",
  26: "database_not_a_database",
};

const MAGIC = "SQLite format 3\0";

/**
 * Checks a database path before SQLite touches it, so that a bad path gives a
 * precise coded error and nothing is created or written.
 */
function preflight(path: string, create: boolean, readonly: boolean): void {
  let st: Deno.FileInfo | undefined;
  try {
    st = Deno.statSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new BatonError("database_open_failed", `Cannot open database ${path}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  if (!st && !create) throw new BatonError("database_open_failed", `Cannot open database ${path}: file not found`);
  if (st?.isDirectory) throw new BatonError("database_open_failed", `Cannot open database ${path}: it is a directory`);
  if (st && !readonly) {
    try {
      Deno.openSync(path, { read: true, write: true }).close();
    } catch (e) {
      throw new BatonError(
        "database_readonly",
        `Cannot open database ${path} for writing: the file is read-only (${(e as Error).message})`,
        { cause: e },
      );
    }
  }
  if (st && st.size > 0) checkHeader(path, st.size);
  const lockDir = `${path}-lock`;
  try {
    Deno.mkdirSync(lockDir, { recursive: true });
    if (!readonly) Deno.openSync(`${lockDir}/pending`, { read: true, write: true, create: true }).close();
  } catch (e) {
    throw new BatonError(
      "database_open_failed",
      `Cannot open database ${path}: cannot create its lock files in ${lockDir} (${(e as Error).message})`,
      { cause: e },
    );
  }
}

/**
 * Whether another connection has the database open: it holds the WAL's
 * dead-man switch (`X-lock/shm-dms`) or the rollback-mode `shared` lock
 * file (shared). Probed with a non-blocking exclusive lock, released at once.
 */
function inUse(path: string): boolean {
  for (const name of ["shm-dms", "shared"]) {
    let f: Deno.FsFile | undefined;
    try {
      f = Deno.openSync(`${path}-lock/${name}`, { read: true, write: true });
      if (!f.tryLockSync(true)) return true;
      f.unlockSync();
    } catch {
      /* no such lock file: nobody uses it that way */
    } finally {
      f?.close();
    }
  }
  return false;
}

/** Rejects files that are not SQLite databases, or visibly truncated ones (when nobody has them open). */
function checkHeader(path: string, size: number): void {
  const head = new Uint8Array(100);
  let n = 0;
  const f = Deno.openSync(path, { read: true });
  try {
    while (n < 100) {
      const r = f.readSync(head.subarray(n));
      if (!r) break;
      n += r;
    }
  } finally {
    f.close();
  }
  if (n < 100 || new TextDecoder().decode(head.subarray(0, 16)) !== MAGIC) {
    throw new BatonError("database_not_a_database", `Cannot open database ${path}: the file is not an SQLite database`);
  }
  const dv = new DataView(head.buffer);
  const rawPage = dv.getUint16(16);
  const pageSize = rawPage === 1 ? 65536 : rawPage;
  const pages = dv.getUint32(28);
  const valid = dv.getUint32(92) === dv.getUint32(24);
  // A crash mid-commit (rollback journal) or mid-checkpoint (WAL) can leave
  // the header ahead of the file; SQLite repairs that from the journal or
  // the WAL when it opens. Only a file with neither is truncated for good.
  const sizeOf = (p: string) => {
    try {
      return Deno.statSync(p).size;
    } catch {
      return 0;
    }
  };
  const repairable = sizeOf(`${path}-wal`) > 0 || sizeOf(`${path}-journal`) > 0;
  // A database another connection has open can look short for a moment (a checkpoint writes page 1, with the new
  // page count, before the pages past the old end); the verdict is only safe when nobody uses it.
  if (valid && pages > 0 && size < pages * pageSize && !repairable && !inUse(path)) {
    throw new BatonError(
      "database_corrupt",
      `Cannot open database ${path}: it is truncated (its header says ${pages} pages of ${pageSize} bytes, the file has ${size} bytes)`,
    );
  }
}

let modulePromise: Promise<SqliteWasm> | undefined;
const installed = new Set<string>();

/**
 * Loads the WASM SQLite module once per process and installs the Baton VFS.
 *
 * @returns the SQLite module
 */
export function loadSqlite(): Promise<SqliteWasm> {
  modulePromise ??= (async () => {
    const wasm = await loadSqliteWasm();
    installVfs(wasm, "baton", denoBackend);
    installed.add("baton");
    return wasm;
  })();
  return modulePromise;
}

/**
 * Registers an extra VFS over another I/O backend (tests use this for fault
 * injection and power-loss simulation).
 *
 * @param name the VFS name
 * @param io the backend
 * @returns the name, for {@link OpenOptions.vfs}
 */
export async function registerVfs(name: string, io: IoBackend): Promise<string> {
  const wasm = await loadSqlite();
  if (!installed.has(name)) {
    installVfs(wasm, name, io);
    installed.add(name);
  }
  return name;
}

/** Turns an SQLite result code into a coded {@link BatonError}. */
export function sqliteError(rc: number, message: string, path?: string): BatonError {
  const primary = rc & 0xff;
  // A page that fails its checksum (IOERR_DATA) is corruption, not an I/O failure.
  const code = rc === SQLITE.IOERR_DATA ? "database_corrupt" : RC_CODES[primary] ?? "database_error";
  // The extended code says which kind (e.g. 517 = BUSY_SNAPSHOT, 266 = IOERR_READ).
  const where = path ? ` (${path}; SQLite code ${rc})` : ` (SQLite code ${rc})`;
  if (code === "database_corrupt") {
    return new BatonError(
      code,
      `${message}${where}. ${CORRUPT_HINT}`,
      { details: { sqliteCode: rc } },
    );
  }
  return new BatonError(code, `${message}${where}`, { details: { sqliteCode: rc } });
}

/** What to do about a corrupt database: in every corruption error. */
export const CORRUPT_HINT =
  "The database is corrupt; Baton stops writing to it. Recover: stop the agents, keep this file aside, " +
  "then 'baton restore FILE' from your last good backup (make backups with 'baton backup FILE')";

/**
 * A prepared statement. Reuse it; the database caches them by SQL text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Database } from "@baton/baton/storage";
 * const db = await Database.open(`${await Deno.makeTempDir()}/s.db`);
 * db.exec("CREATE TABLE t(x)");
 * const insert = db.prepare("INSERT INTO t VALUES (?)");
 * for (const x of [1, 2, 3]) insert.run([x]);
 * assert(db.prepare("SELECT sum(x) AS s FROM t").get<{ s: number }>()!.s === 6);
 * db.close();
 * ```
 */
export class Statement {
  #db: Database;
  #p: number;
  #names: string[] | undefined;
  #build: RowBuilder | undefined;
  #col: ((i: number) => SqlValue) | undefined;
  #paramIndex = new Map<string, number>();
  /** The SQL text. */
  readonly sql: string;

  /**
   * Wraps a prepared statement (use {@link Database.prepare}).
   * @param db owning database
   * @param p statement pointer
   * @param sql the SQL text
   */
  constructor(db: Database, p: number, sql: string) {
    this.#db = db;
    this.#p = p;
    this.sql = sql;
  }

  /**
   * How many times SQLite compiled this statement again behind its back (a schema change, or a plan that depended on
   * a bound value): each costs about as much as preparing it. 0 for a statement evicted from the cache.
   * @returns the count since it was prepared
   */
  get recompiles(): number {
    return this.#p ? wasmOf(this.#db).x.sqlite3_stmt_status(this.#p, SQLITE.STMTSTATUS_REPREPARE, 0) : 0;
  }

  #bind(params: Params | undefined): void {
    if (!this.#p) this.#p = reviveOf(this.#db, this); // evicted from the cache while held: compile it again
    const x = wasmOf(this.#db).x;
    x.sqlite3_reset(this.#p);
    x.sqlite3_clear_bindings(this.#p);
    if (!params) return;
    if (Array.isArray(params)) {
      for (let i = 0; i < params.length; i++) this.#bindOne(i + 1, params[i], x);
    } else {
      for (const [k, v] of Object.entries(params)) {
        if (v === undefined) continue;
        let idx: number = this.#paramIndex.get(k) ?? -1;
        if (idx === -1) {
          idx = 0;
          for (const prefix of [":", "$", "@"]) {
            const [name] = this.#db.scratchText(prefix + k + "\0");
            idx = x.sqlite3_bind_parameter_index(this.#p, name);
            if (idx) break;
          }
          this.#paramIndex.set(k, idx);
        }
        if (idx === 0) {
          throw new BatonError("database_error", `Unknown SQL parameter "${k}" in: ${this.sql}`);
        }
        this.#bindOne(idx, v, x);
      }
    }
  }

  #bindOne(i: number, v: SqlValue | undefined, x: SqliteExports): void {
    let rc: number;
    if (v === null || v === undefined) rc = x.sqlite3_bind_null(this.#p, i);
    else if (typeof v === "number") {
      // 32-bit integers (ids, counts, flags) without a BigInt: one allocation less per bound value.
      if ((v | 0) === v) rc = x.sqlite3_bind_int(this.#p, i, v);
      else {
        rc = Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER
          ? x.sqlite3_bind_int64(this.#p, i, BigInt(v))
          : x.sqlite3_bind_double(this.#p, i, v);
      }
    } else if (typeof v === "bigint") rc = x.sqlite3_bind_int64(this.#p, i, v);
    else if (typeof v === "string") {
      const [ptr, n] = this.#db.scratchText(v);
      rc = x.sqlite3_bind_text(this.#p, i, ptr, n, -1 /* SQLITE_TRANSIENT: SQLite copies */);
    } else if (typeof v === "boolean") rc = x.sqlite3_bind_int(this.#p, i, v ? 1 : 0);
    else if (v instanceof Uint8Array) {
      const ptr = this.#db.scratch(v.byteLength);
      wasmOf(this.#db).heap8u().set(v, ptr);
      rc = x.sqlite3_bind_blob(this.#p, i, ptr, v.byteLength, -1);
    } else throw new BatonError("database_error", `Cannot bind a value of type ${typeof v}`);
    if (rc !== 0) throw this.#db.error(rc, "bind");
  }

  #columns(): string[] {
    if (!this.#names) {
      const s = wasmOf(this.#db);
      const n = s.x.sqlite3_column_count(this.#p);
      this.#names = [];
      for (let i = 0; i < n; i++) this.#names.push(s.cstrToJs(s.x.sqlite3_column_name(this.#p, i)));
    }
    return this.#names;
  }

  /** Column `i` of the current row as a JS value. */
  #column(i: number): SqlValue {
    const s = wasmOf(this.#db);
    const x = s.x;
    const p = this.#p;
    switch (x.sqlite3_column_type(p, i)) {
      case 1: { // INTEGER
        const d = x.sqlite3_column_double(p, i);
        return Number.isSafeInteger(d) ? d : x.sqlite3_column_int64(p, i);
      }
      case 2:
        return x.sqlite3_column_double(p, i);
      case 3: {
        const ptr = x.sqlite3_column_text(p, i);
        const n = x.sqlite3_column_bytes(p, i);
        return n === 0 ? "" : utf8(s.heap8u(), ptr, n);
      }
      case 4: {
        const ptr = x.sqlite3_column_blob(p, i);
        const n = x.sqlite3_column_bytes(p, i);
        return s.heap8u().slice(ptr, ptr + n);
      }
      default:
        return null;
    }
  }

  #row(): Row {
    if (!this.#build) {
      this.#build = rowBuilder(this.#columns());
      this.#col = (i) => this.#column(i);
    }
    return this.#build(this.#col!);
  }

  #step(): boolean {
    const rc = wasmOf(this.#db).x.sqlite3_step(this.#p);
    if (rc === 100) return true;
    if (rc === 101) return false;
    const err = this.#db.error(rc, `step of "${this.sql.length > 60 ? this.sql.slice(0, 57) + "..." : this.sql}"`);
    wasmOf(this.#db).x.sqlite3_reset(this.#p);
    throw err;
  }

  /**
   * Runs the statement and returns every row.
   * @param params bound parameters
   * @returns rows as objects
   */
  all<T = Row>(params?: Params): T[] {
    this.#bind(params);
    const out: T[] = [];
    try {
      while (this.#step()) out.push(this.#row() as T);
    } finally {
      wasmOf(this.#db).x.sqlite3_reset(this.#p);
    }
    return out;
  }

  /**
   * Runs the statement and returns the first row, if any.
   * @param params bound parameters
   * @returns the first row or undefined
   */
  get<T = Row>(params?: Params): T | undefined {
    this.#bind(params);
    try {
      return this.#step() ? this.#row() as T : undefined;
    } finally {
      wasmOf(this.#db).x.sqlite3_reset(this.#p);
    }
  }

  /**
   * Runs the statement for its effect.
   * @param params bound parameters
   * @returns rows changed and the last inserted rowid
   */
  run(params?: Params): { changes: number; lastInsertRowid: number } {
    this.#bind(params);
    try {
      while (this.#step()) { /* drain RETURNING rows */ }
    } finally {
      wasmOf(this.#db).x.sqlite3_reset(this.#p);
    }
    const x = wasmOf(this.#db).x;
    return {
      changes: x.sqlite3_changes(this.#db.pointer),
      lastInsertRowid: Number(x.sqlite3_last_insert_rowid(this.#db.pointer)),
    };
  }

  /** Releases the statement. */
  finalize(): void {
    if (this.#p) {
      wasmOf(this.#db).x.sqlite3_finalize(this.#p);
      this.#p = 0;
    }
  }
}

const decoder = new TextDecoder();

/**
 * UTF-8 text at `ptr` as a string. Short ASCII text (ids, names, states: most
 * of what Baton reads) is built in JS: `TextDecoder` costs a call into the
 * runtime per string (~190 ns against ~85).
 */
function utf8(heap: Uint8Array, ptr: number, n: number): string {
  if (n <= 24) {
    let out = "";
    for (let k = ptr; k < ptr + n; k++) {
      const b = heap[k];
      if (b > 0x7f) return decoder.decode(heap.subarray(ptr, ptr + n));
      out += String.fromCharCode(b);
    }
    return out;
  }
  return decoder.decode(heap.subarray(ptr, ptr + n));
}

/** Makes one row of a statement from its columns' values. */
type RowBuilder = (col: (i: number) => SqlValue) => Row;

/**
 * A row maker for one statement's columns: an object literal with the
 * column names as keys, compiled once per statement. Every row of the
 * statement then has one shape, built without a keyed store per column
 * (~40 ns each, measured). Duplicate names keep the last value, as the
 * assignments did; a column named `__proto__` (which a literal would take
 * as the prototype) falls back to assignments.
 */
function rowBuilder(names: readonly string[]): RowBuilder {
  if (names.includes("__proto__")) {
    return (col) => {
      const row: Row = {};
      for (let i = 0; i < names.length; i++) {
        Object.defineProperty(row, names[i], { value: col(i), enumerable: true, writable: true, configurable: true });
      }
      return row;
    };
  }
  const fields = names.map((n, i) => `${JSON.stringify(n)}: c(${i})`).join(", ");
  return new Function("c", `return { ${fields} };`) as RowBuilder;
}

/** The SQLite module behind a connection (for {@link Statement}; not part of the public API). */
let wasmOf: (db: Database) => SqliteWasm;
/** Compiles an evicted statement again and puts it back in its connection's cache (for {@link Statement}). */
let reviveOf: (db: Database, st: Statement) => number;
/** Prepared statements a connection keeps (least recently used ones beyond this are finalized). */
export const STATEMENT_CACHE_SIZE = 256;
/**
 * Busy-wait backoff in ms for the n-th retry: 0.5 ms growing ×1.5 up to 4 ms
 * (jittered ±50% by the caller). Measured with 6 processes contending
 * (bench/storage.ts): 2× the throughput of sub-0.1 ms polling, which mostly
 * woke processes to find the lock still taken.
 */
const backoffMs = (n: number) => Math.min(4, 0.5 * 1.5 ** n);

/**
 * Sleeps the n-th jittered backoff of a busy wait; returns the time to count
 * against the busy timeout: the time slept, capped at the sleep asked for +
 * 10 ms, so that a virtual machine paused mid-wait (its clock then jumps)
 * does not turn into an instant "database is locked".
 */
function busyPause(n: number): number {
  const ms = backoffMs(n) * (0.5 + Math.random());
  const t = performance.now();
  sleepSync(ms);
  return Math.min(performance.now() - t, ms + 10);
}
const encoder = new TextEncoder();

/**
 * One connection to a database file through the Baton VFS. Open as many as
 * needed, in as many processes as needed: they coordinate through the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Database } from "@baton/baton/storage";
 * const path = `${await Deno.makeTempDir()}/d.db`;
 * const a = await Database.open(path);
 * const b = await Database.open(path);
 * a.exec("CREATE TABLE t(x)");
 * a.transaction(() => a.run("INSERT INTO t VALUES (?)", [42]));
 * assert(b.get<{ x: number }>("SELECT x FROM t")!.x === 42);
 * a.close();
 * b.close();
 * ```
 */
export class Database {
  #sqlite3: SqliteWasm;
  /** The database path. */
  readonly path: string;
  /** The journal mode in effect. */
  readonly journalMode: JournalMode;
  #p: number;
  #cache = new Map<string, Statement>();
  static {
    wasmOf = (db) => db.#sqlite3;
    reviveOf = (db, st) => {
      const p = db.#compile(st.sql);
      db.#remember(st.sql, st);
      return p;
    };
  }
  #busyWaited = 0;
  /** A shorter busy timeout for one call (a checkpoint that must not stall its writer). */
  #busyLimitMs: number | undefined;
  #busyTimeoutMs: number;
  #txDepth = 0;
  #busyFn: number;
  #writerQueue: boolean;
  #writerFairnessMs: number | undefined;
  #checkpointer?: BackgroundCheckpointer;
  #ckptThreshold = 0;
  /** How many times this connection waited for a lock held by another (contention). */
  busyRetries = 0;

  private constructor(
    sqlite3: SqliteWasm,
    p: number,
    path: string,
    journalMode: JournalMode,
    busyTimeoutMs: number,
    writerQueue: boolean,
  ) {
    this.#sqlite3 = sqlite3;
    this.#p = p;
    this.path = path;
    this.journalMode = journalMode;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#writerQueue = journalMode === "wal" && writerQueue;
    // A busy handler with short, jittered sleeps: SQLite's default sleeps
    // grow to 100 ms, far too coarse for transactions of a fraction of a ms.
    // The timeout counts time spent waiting here (see busyPause).
    this.#busyFn = sqlite3.installFunction("i(pi)", (_arg: number, n: number) => {
      this.busyRetries++;
      if (n === 0) this.#busyWaited = 0;
      if (this.#busyWaited >= (this.#busyLimitMs ?? this.#busyTimeoutMs)) return 0;
      this.#busyWaited += busyPause(n);
      return 1;
    });
    sqlite3.x.sqlite3_busy_handler(p, this.#busyFn, 0);
  }

  #scratchPtr = 0;
  #scratchCap = 0;

  /** A reusable WASM buffer of at least n bytes (valid until the next call). */
  scratch(n: number): number {
    if (n > this.#scratchCap) {
      const wasm = this.#sqlite3;
      if (this.#scratchPtr) wasm.dealloc(this.#scratchPtr);
      this.#scratchCap = Math.max(4096, n * 2);
      this.#scratchPtr = wasm.alloc(this.#scratchCap);
    }
    return this.#scratchPtr;
  }

  /** Encodes a string as UTF-8 into the scratch buffer: [pointer, bytes]. */
  scratchText(s: string): [number, number] {
    let ptr = this.scratch(s.length * 3 + 1);
    const heap = this.#sqlite3.heap8u();
    const r = encoder.encodeInto(s, heap.subarray(ptr, ptr + this.#scratchCap));
    if (r.read! < s.length) {
      ptr = this.scratch(s.length * 3 + 1);
      return [ptr, encoder.encodeInto(s, this.#sqlite3.heap8u().subarray(ptr, ptr + this.#scratchCap)).written!];
    }
    return [ptr, r.written!];
  }

  #outSlot = 0;

  /** A 4-byte out-parameter slot of this connection (for `sqlite3_stmt**`). */
  #outPtr(): number {
    if (!this.#outSlot) this.#outSlot = this.#sqlite3.alloc(4);
    this.#sqlite3.poke32(this.#outSlot, 0);
    return this.#outSlot;
  }

  /**
   * Bytes of WebAssembly memory this process's SQLite uses now (it only grows).
   * @returns the size of the WASM heap
   */
  heapBytes(): number {
    return this.#sqlite3.memory.buffer.byteLength;
  }

  /** The raw `sqlite3*` pointer. */
  get pointer(): number {
    return this.#p;
  }

  /**
   * Opens (and by default creates) a database file through the Baton VFS,
   * then applies the pragmas Baton relies on.
   *
   * @param path database file path
   * @param options journal mode, busy timeout, read-only...
   * @returns the open database
   * @throws {BatonError} `database_not_a_database`, `database_corrupt`,
   *   `database_readonly`, `database_open_failed`, `database_locked`
   */
  static async open(path: string, options: OpenOptions = {}): Promise<Database> {
    const wasm = await loadSqlite();
    const readonly = options.readonly ?? false;
    const create = !readonly && (options.create ?? true);
    const flags = (readonly ? SQLITE.OPEN_READONLY : SQLITE.OPEN_READWRITE) |
      (create ? SQLITE.OPEN_CREATE : 0) | SQLITE.OPEN_EXRESCODE;
    // The pre-flight looks at the real filesystem; a custom VFS (tests) has its own.
    // ":memory:" is SQLite's private in-memory database: no file, no locks, no journal mode to set.
    const inMemory = path === ":memory:";
    if (!inMemory && (!options.vfs || options.vfs === "baton")) preflight(path, create, readonly);
    let p = 0;
    let rc: number;
    vfsLastError.message = "";
    const zPath = wasm.allocCString(path);
    const zVfs = wasm.allocCString(options.vfs ?? "baton");
    const pp = wasm.alloc(4);
    try {
      wasm.poke32(pp, 0);
      rc = wasm.x.sqlite3_open_v2(zPath, pp, flags, zVfs);
      p = wasm.peek32(pp);
    } finally {
      wasm.dealloc(pp);
      wasm.dealloc(zVfs);
      wasm.dealloc(zPath);
    }
    if (rc !== 0) {
      const msg = wasm.cstrToJs(p ? wasm.x.sqlite3_errmsg(p) : wasm.x.sqlite3_errstr(rc));
      if (p) wasm.x.sqlite3_close_v2(p);
      const why = vfsLastError.message ? `: ${vfsLastError.message}` : "";
      throw sqliteError(rc, `Cannot open database ${path}: ${msg}${why}`);
    }
    wasm.x.sqlite3_extended_result_codes(p, 1);
    // Plans never depend on the values bound. Without this, SQLite 3.54 marks a statement with an ORDER BY and an
    // equality on a parameter (`WHERE ticket_id = ? ORDER BY seq`) to be compiled again at every new binding: ten
    // statements of a claim + complete were, ~20-40 µs each. Baton's queries name their indexes and never need a plan
    // chosen per value.
    wasm.x.sqlite3__wasm_db_config_ip(p, SQLITE.DBCONFIG_ENABLE_QPSG, 1, 0);
    const want = options.journalMode ?? "wal";
    const db = new Database(
      wasm,
      p,
      path,
      want,
      options.busyTimeoutMs ?? 10_000,
      (options.writerQueue ?? true) && !inMemory && (!options.vfs || options.vfs === "baton"),
    );
    db.#writerFairnessMs = options.writerFairnessMs;
    try {
      db.#configure(want, options, readonly);
    } catch (e) {
      db.close();
      throw e;
    }
    return db;
  }

  #configure(want: JournalMode, options: OpenOptions, readonly: boolean): void {
    // Reading the schema first turns "not a database" and corruption into
    // errors now, before any pragma tries to write.
    this.get("SELECT count(*) AS n FROM sqlite_schema");
    this.exec("PRAGMA foreign_keys=ON");
    if (!readonly && this.path !== ":memory:") {
      // A new database gets 4 KiB pages, whatever the build's default (8 KiB in the pinned sqlite-wasm): every
      // changed page is a WAL frame, checksummed and written, so a page twice as large doubles a commit's bytes.
      if (this.get<{ page_count: number }>("PRAGMA page_count")!.page_count === 0) {
        this.exec(`PRAGMA page_size=${PAGE_SIZE}`);
      }
      const cur = String(this.get<{ journal_mode: string }>("PRAGMA journal_mode")?.journal_mode ?? "");
      if (cur !== want) {
        // Switching writes page 1 after reading it, and SQLite does not call
        // the busy handler for that read-to-write upgrade: a process creating
        // the same new database at this moment fails it at once. Retry.
        const got = this.#retryBusy(() =>
          String(this.get<{ journal_mode: string }>(`PRAGMA journal_mode=${want}`)?.journal_mode ?? "")
        );
        if (got !== want) {
          throw new BatonError("database_error", `Cannot switch ${this.path} to journal_mode=${want} (still ${got})`);
        }
      }
      const sync = options.synchronous ?? (want === "wal" ? "normal" : "full");
      this.exec(`PRAGMA synchronous=${sync}`);
      if (want === "wal") {
        const pages = options.walAutocheckpoint ?? 1000;
        if (options.backgroundCheckpoint && pages > 0 && this.#writerQueue) {
          this.exec(`PRAGMA wal_autocheckpoint=${pages * BACKGROUND_SAFETY_FACTOR}`);
          this.#ckptThreshold = pages;
          this.#checkpointer = new BackgroundCheckpointer(this.path, () => {
            // The thread could not run: checkpoint inline again, as without it.
            this.#checkpointer = undefined;
            if (this.#p) this.exec(`PRAGMA wal_autocheckpoint=${pages}`);
          });
        } else {
          this.exec(`PRAGMA wal_autocheckpoint=${pages}`);
          this.#ckptThreshold = pages;
        }
        // After a checkpoint resets the WAL, truncate it back to what the
        // automatic checkpoint lets it reach (4 MiB at least): truncating on
        // every reset would cost a metadata sync each time.
        const bound = this.#checkpointer ? pages * BACKGROUND_SAFETY_FACTOR : pages;
        const pageSize = this.get<{ page_size: number }>("PRAGMA page_size")!.page_size;
        this.exec(`PRAGMA journal_size_limit=${Math.max(4 << 20, 2 * bound * (pageSize + 24))}`);
      }
    }
  }

  /** Runs `fn` again while it fails with SQLITE_BUSY, pausing as the busy handler does, up to the busy timeout. */
  #retryBusy<T>(fn: () => T): T {
    let waited = 0;
    for (let n = 0;; n++) {
      try {
        return fn();
      } catch (e) {
        const rc = (e as BatonError).details?.sqliteCode;
        if (typeof rc !== "number" || (rc & 0xff) !== 5 || waited >= this.#busyTimeoutMs) throw e;
        waited += busyPause(n);
      }
    }
  }

  /** Builds a coded error from the connection's last error. */
  error(rc: number, what: string): BatonError {
    let msg = this.#sqlite3.cstrToJs(this.#sqlite3.x.sqlite3_errmsg(this.#p));
    if (rc === SQLITE.IOERR_DATA && vfsLastError.message) msg += `: ${vfsLastError.message}`;
    const e = sqliteError(rc, `SQLite ${what} failed: ${msg}`, this.path);
    if (e.code === "database_corrupt") this.#corrupt = e; // a writer that met corruption stops writing
    return e;
  }

  /** The corruption this connection met (it writes no more), if any. */
  #corrupt: BatonError | undefined;

  /**
   * Prepares (or fetches from the cache) a statement.
   * @param sql one SQL statement
   * @returns the statement
   */
  prepare(sql: string): Statement {
    let st = this.#cache.get(sql);
    if (st) {
      // Most recently used last: eviction takes the first.
      this.#cache.delete(sql);
      this.#cache.set(sql, st);
      return st;
    }
    st = new Statement(this, this.#compile(sql), sql);
    this.#remember(sql, st);
    return st;
  }

  #compile(sql: string): number {
    const wasm = this.#sqlite3;
    const [zSql, n] = this.scratchText(sql);
    const pp = this.#outPtr();
    const rc = wasm.x.sqlite3_prepare_v3(this.#p, zSql, n, SQLITE.PREPARE_PERSISTENT, pp, 0);
    if (rc !== 0) throw this.error(rc, "prepare");
    const p = wasm.peek32(pp);
    if (!p) throw new BatonError("database_error", `Empty SQL statement: ${sql}`);
    return p;
  }

  /** Caches a statement; beyond {@link STATEMENT_CACHE_SIZE}, the least recently used one is finalized. */
  #remember(sql: string, st: Statement): void {
    this.#cache.set(sql, st);
    if (this.#cache.size <= STATEMENT_CACHE_SIZE) return;
    const [oldSql, old] = this.#cache.entries().next().value!;
    this.#cache.delete(oldSql);
    old.finalize(); // a caller still holding it gets it compiled again on its next use
  }

  /** Prepared statements in this connection's cache. */
  get cachedStatements(): number {
    return this.#cache.size;
  }

  /** Times SQLite compiled this connection's cached statements again since they were prepared ({@link Statement.recompiles}). */
  get statementRecompiles(): number {
    let n = 0;
    for (const st of this.#cache.values()) n += st.recompiles;
    return n;
  }

  /**
   * Runs one or more statements with no parameters and no results.
   * @param sql SQL text
   */
  exec(sql: string): void {
    const [zSql] = this.scratchText(sql + "\0");
    const rc = this.#sqlite3.x.sqlite3_exec(this.#p, zSql, 0, 0, 0);
    if (rc !== 0) throw this.error(rc, "exec");
  }

  /** Shorthand for `prepare(sql).all(params)`. */
  all<T = Row>(sql: string, params?: Params): T[] {
    return this.prepare(sql).all<T>(params);
  }

  /** Shorthand for `prepare(sql).get(params)`. */
  get<T = Row>(sql: string, params?: Params): T | undefined {
    return this.prepare(sql).get<T>(params);
  }

  /** Shorthand for `prepare(sql).run(params)`. */
  run(sql: string, params?: Params): { changes: number; lastInsertRowid: number } {
    return this.prepare(sql).run(params);
  }

  /** True while inside {@link transaction}. */
  get inTransaction(): boolean {
    return this.#txDepth > 0;
  }

  /**
   * Runs `fn` inside one read transaction (`BEGIN … COMMIT`): every statement
   * in it sees the same snapshot of the database, whatever other connections
   * commit meanwhile, and SQLite takes its locks once instead of once per
   * statement. Inside a transaction (or another `read`), it just runs `fn`.
   * `fn` must not write: a {@link transaction} inside throws.
   *
   * @param fn the reads; must be synchronous
   * @returns what fn returned
   * @throws whatever fn threw, or `database_locked` after the busy timeout
   */
  read<T>(fn: () => T): T {
    if (this.#txDepth > 0 || this.#reading || this.#sqlite3.x.sqlite3_get_autocommit(this.#p) === 0) return fn();
    this.prepare("BEGIN").run();
    this.#reading = true;
    try {
      return fn();
    } finally {
      this.#reading = false;
      if (this.#sqlite3.x.sqlite3_get_autocommit(this.#p) === 0) {
        try {
          this.prepare("COMMIT").run();
        } catch {
          this.exec("ROLLBACK"); // a read transaction has nothing to lose
        }
      }
    }
  }

  /** Inside {@link read}. */
  #reading = false;

  /**
   * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` (the write lock is taken up
   * front, so the transaction never fails half-way with SQLITE_BUSY). Nested
   * calls become savepoints. Rolls back when `fn` throws.
   *
   * @param fn the work; must be synchronous
   * @returns what fn returned
   * @throws whatever fn threw, or `database_locked` after the busy timeout
   */
  transaction<T>(fn: () => T): T {
    if (this.#reading) {
      throw new BatonError("internal", "A write inside a read transaction (Database.read): nothing was written");
    }
    if (this.#txDepth > 0) {
      const name = `sp${this.#txDepth}`;
      this.exec(`SAVEPOINT ${name}`);
      const queued = this.#afterCommit.length;
      this.#txDepth++;
      try {
        const r = fn();
        this.exec(`RELEASE ${name}`);
        return r;
      } catch (e) {
        this.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
        this.#afterCommit.length = queued; // what the rolled-back part queued never happens
        throw e;
      } finally {
        this.#txDepth--;
      }
    }
    if (this.#corrupt) {
      throw new BatonError("database_corrupt", `Not writing to ${this.path}: ${this.#corrupt.message}`, {
        details: this.#corrupt.details,
      });
    }
    const began = performance.now();
    let committed = false;
    // Outside a transaction this connection is in the queue only when it kept its place after the last one.
    const kept = this.#inQueue;
    const queued = kept || this.#enterWriterQueue();
    const inside = performance.now();
    try {
      this.prepare("BEGIN IMMEDIATE").run();
      this.#txDepth = 1;
      try {
        const r = fn();
        this.prepare("COMMIT").run();
        if (this.#checkpointer) this.#askForCheckpoint(this.#checkpointer);
        else if (this.#ckptThreshold > 0) this.#restartIfStuck();
        committed = true;
        return r;
      } catch (e) {
        if (this.#sqlite3.x.sqlite3_get_autocommit(this.#p) === 0) {
          try {
            this.exec("ROLLBACK");
          } catch { /* the original error matters more */ }
        }
        throw e;
      } finally {
        this.#txDepth = 0;
      }
    } finally {
      this.#countWrite(began, inside, queued && !kept);
      if (queued) this.#afterWrite(began);
      const after = this.#afterCommit.splice(0);
      if (committed) { for (const f of after) this.#runAfterCommit(f); }
    }
  }

  #afterCommit: (() => void)[] = [];

  /**
   * Runs `fn` once the outermost transaction commits (at once outside a
   * transaction); never when it rolls back, nor when the savepoint that
   * queued it does. Errors `fn` throws are reported on stderr: the commit
   * is done and stands.
   *
   * @param fn the work, e.g. writing files that reflect the committed state
   */
  afterCommit(fn: () => void): void {
    if (this.#txDepth === 0) this.#runAfterCommit(fn);
    else this.#afterCommit.push(fn);
  }

  #runAfterCommit(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      console.error(`warning: after-commit work failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** When this connection's current stay in the writer queue began, and its transactions since (see HOLD_TX). */
  #holdSince = 0;
  #holdCount = 0;
  #holdReleaseQueued = false;
  /** Held by {@link reserveWrite} until the job that asked ends. */
  #reserved = false;
  #lastTxEnd = -Infinity;

  /** After a queued transaction: keep the writer queue for the next one of a burst, or leave it. */
  #afterWrite(began: number): void {
    if (this.#reserved) return; // reserveWrite's timer gives the place up
    const now = performance.now();
    const burst = began - this.#lastTxEnd < HOLD_GAP_MS;
    this.#lastTxEnd = now;
    if (this.#holdCount++ === 0) this.#holdSince = now;
    if (!burst || this.#holdCount >= HOLD_TX || now - this.#holdSince >= HOLD_MS || !this.#p) {
      this.#releaseQueue();
      return;
    }
    if (!this.#holdReleaseQueued) {
      // Whatever happens, the lock goes when this synchronous job ends.
      this.#holdReleaseQueued = true;
      queueMicrotask(() => {
        this.#holdReleaseQueued = false;
        this.#releaseQueue();
      });
    }
  }

  #releaseQueue(): void {
    this.#holdCount = 0;
    this.#leaveWriterQueue();
  }

  #queue: WriterQueue | undefined;
  /** This connection holds the writer queue lock. */
  #inQueue = false;
  /** Write transactions of this process currently inside the writer queue. */
  static #queuedInProcess = 0;
  /** Since when a write of this connection has been waiting for the queue (0: none), for health reports. */
  #queueWaitSince = 0;

  /**
   * WAL mode: writers of every process line up on one lock file before
   * `BEGIN IMMEDIATE` (see `writer_queue.ts`). Safe against deadlock: a
   * waiter holds no write lock, WAL readers never block a writer, and a
   * process already queued (another connection of this thread is
   * mid-transaction) skips the queue instead of waiting on itself. The wait
   * honours the busy timeout.
   *
   * @returns true when this connection took its place
   * @throws {BatonError} `database_locked` when the busy timeout passed first
   */
  #enterWriterQueue(): boolean {
    if (!this.#writerQueue || Database.#queuedInProcess > 0) return false;
    this.#queue ??= new WriterQueue(this.path, this.#writerFairnessMs);
    this.#queueWaitSince = performance.now();
    let r: "held" | "timeout" | "unavailable";
    try {
      r = this.#queue.enter(this.#busyTimeoutMs);
    } finally {
      this.#queueWaitSince = 0;
    }
    return this.#queued(r);
  }

  #queued(r: "held" | "timeout" | "unavailable"): boolean {
    if (r === "timeout") {
      throw new BatonError(
        "database_locked",
        `Cannot write to ${this.path}: another process has held the writer queue (${this.#queue!.lockFile}) for over ${
          this.#busyTimeoutMs / 1000
        } s; it may be stopped or stuck in a transaction`,
        { details: { lock: this.#queue!.lockFile, waitedMs: this.#busyTimeoutMs } },
      );
    }
    if (r === "unavailable") return false; // the queue is an optimisation; SQLite's own locking still decides
    Database.#queuedInProcess++;
    this.#inQueue = true;
    return true;
  }

  /**
   * Waits for this connection's turn to write without blocking the event
   * loop, so that a server keeps answering while another process holds the
   * write lock. The next {@link transaction} then starts without waiting for
   * other Baton writers. The place is given up when the current job ends if
   * no transaction used it.
   *
   * @returns when it is this connection's turn
   * @throws {BatonError} `database_locked` after the busy timeout
   */
  async reserveWrite(): Promise<void> {
    if (!this.#writerQueue || this.#inQueue || Database.#queuedInProcess > 0 || this.#txDepth > 0) return;
    this.#queue ??= new WriterQueue(this.path, this.#writerFairnessMs);
    this.#queueWaitSince = performance.now();
    let r: "held" | "timeout" | "unavailable";
    try {
      r = await this.#queue.enterAsync(this.#busyTimeoutMs);
    } finally {
      this.#queueWaitSince = 0;
    }
    if (this.#inQueue || Database.#queuedInProcess > 0) {
      // Another call of this process got in meanwhile (it skipped the queue): do not hold two places.
      if (r === "held") this.#queue.leave();
      return;
    }
    if (!this.#queued(r)) return;
    // Kept for every transaction of the job that asked (a heartbeat, then the call itself).
    this.#reserved = true;
    setTimeout(() => {
      this.#reserved = false;
      if (this.#txDepth === 0) this.#releaseQueue();
    }, 0);
  }

  #writes: WriteStats = { transactions: 0, turns: 0, waitMs: 0, heldMs: 0, firstOfTurnMs: 0 };

  #countWrite(began: number, inside: number, newTurn: boolean): void {
    const held = performance.now() - inside;
    const w = this.#writes;
    w.transactions++;
    w.heldMs += held;
    w.waitMs += inside - began;
    if (newTurn) {
      w.turns++;
      w.firstOfTurnMs += held;
    }
  }

  /**
   * This connection's write transactions so far, and where their time went.
   *
   * @returns a copy of the counters
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Database } from "@baton/baton/storage";
   * const db = await Database.open(`${await Deno.makeTempDir()}/w.db`);
   * db.transaction(() => db.exec("CREATE TABLE t(x)"));
   * assert.equal(db.writeStats().transactions, 1);
   * db.close();
   * ```
   */
  writeStats(): WriteStats {
    return { ...this.#writes };
  }

  /** How long a write of this connection has been waiting for the writer queue (0: not waiting), in ms. */
  get writeWaitMs(): number {
    return this.#queueWaitSince ? performance.now() - this.#queueWaitSince : 0;
  }

  #leaveWriterQueue(): void {
    if (!this.#inQueue) return;
    this.#inQueue = false;
    Database.#queuedInProcess--;
    this.#queue?.leave();
  }

  /**
   * Checkpoints the WAL into the database file.
   * @param mode PASSIVE (never waits), FULL, RESTART or TRUNCATE (also empties the WAL file)
   * @returns frame counts and whether it was blocked
   */
  checkpoint(mode: "passive" | "full" | "restart" | "truncate" = "passive"): CheckpointResult {
    const r = this.get<{ busy: number; log: number; checkpointed: number }>(`PRAGMA wal_checkpoint(${mode})`);
    return { busy: r?.busy === 1, walFrames: r?.log ?? 0, checkpointed: r?.checkpointed ?? 0 };
  }

  /** After a commit: asks the background thread for a checkpoint when due. Never throws (the commit is done). */
  #askForCheckpoint(ckpt: BackgroundCheckpointer): void {
    try {
      // The thread copies the bulk, a threshold at a time. Under a steady
      // stream of writes it never quite catches up (writers add frames while
      // it syncs), so the WAL starts over when SQLite's own checkpoint, at 4×
      // the threshold, copies what is left: asking the thread more often near
      // that bound only multiplied its fsyncs (8 processes: 2.3× as many
      // checkpoints, ~20% fewer claims/s).
      const { frames, backfilled, checkpointing } = walFrames(this.path);
      const t = this.#ckptThreshold;
      if (frames >= BACKGROUND_HARD_FACTOR * t && frames > backfilled) {
        // SQLite's own checkpoint skips while the thread holds the checkpoint
        // lock, so a writer faster than the thread's syncs would grow the WAL
        // without end: push back on the writer instead, as inline mode does.
        const until = Date.now() + HARD_BOUND_WAIT_MS;
        while (this.checkpoint("passive").busy && Date.now() < until) sleepSync(2);
        return;
      }
      if (frames >= BACKGROUND_HARD_FACTOR * t) {
        // Everything is copied, but the WAL cannot start over while readers
        // use it, and with many processes reading there is always one: it
        // would grow without end (a soak reached 275 MB). A RESTART
        // checkpoint waits for those readers (new ones read the database
        // file) — a few milliseconds, bounded here so the writer never stalls.
        this.#restartWal(RESTART_WAIT_MS);
        return;
      }
      // Another process's thread is at it already: asking ours would only
      // find the checkpoint lock taken, or copy a few frames for two fsyncs.
      if (checkpointing) return;
      if (frames - backfilled >= t) ckpt.request();
      else if (frames >= t / 2) ckpt.warm();
    } catch { /* the safety bound still checkpoints */ }
  }

  /**
   * Inline checkpoints: SQLite's own copies the frames, but the WAL starts
   * over only when no reader uses it; at the bound, a RESTART waits for them
   * (briefly). Never throws.
   */
  #restartIfStuck(): void {
    try {
      const { frames, backfilled } = walFrames(this.path);
      if (frames >= BACKGROUND_HARD_FACTOR * this.#ckptThreshold && frames === backfilled) {
        this.#restartWal(RESTART_WAIT_MS);
      }
    } catch { /* the next commit tries again */ }
  }

  /** A RESTART checkpoint whose wait for readers is cut short at `limitMs`. Never throws. */
  #restartWal(limitMs: number): void {
    this.#busyLimitMs = limitMs;
    try {
      this.checkpoint("restart");
    } catch {
      /* busy: the next commit at the bound tries again */
    } finally {
      this.#busyLimitMs = undefined;
    }
  }

  /** Counters of the background checkpoint thread, or null when checkpoints run inline. */
  backgroundCheckpoints(): CheckpointerStats | null {
    return this.#checkpointer?.stats() ?? null;
  }

  /**
   * Reserves `n` bytes at the end of every page; with 8, the Baton VFS keeps
   * a checksum of each page there and verifies it on every read, so that a
   * damaged page is caught when it is read (`database_corrupt`). Takes
   * effect on a new database before its first write, or on the next `VACUUM`.
   * @param n bytes to reserve (0–255; SQLite never lowers it)
   * @returns the value in effect afterwards
   */
  setReserveBytes(n: number): number {
    const x = this.#sqlite3.x;
    const p = this.#outPtr();
    this.#sqlite3.poke32(p, n);
    const [zMain] = this.scratchText("main\0");
    const rc = x.sqlite3_file_control(this.#p, zMain, SQLITE.FCNTL_RESERVE_BYTES, p);
    if (rc !== 0) throw this.error(rc, "reserve bytes");
    return this.#sqlite3.peek32(p);
  }

  /** Bytes reserved at the end of each page (8: page checksums are on). */
  get reserveBytes(): number {
    return this.setReserveBytes(-1); // a negative value only reads it
  }

  /** `PRAGMA integrity_check`: "ok" or the problems found. */
  integrityCheck(): string {
    return this.all<{ integrity_check: string }>("PRAGMA integrity_check").map((r) => r.integrity_check).join("\n");
  }

  /** Closes the connection (finalizing cached statements). Idempotent. */
  close(): void {
    if (!this.#p) return;
    this.#checkpointer?.close();
    this.#releaseQueue();
    for (const st of this.#cache.values()) st.finalize();
    this.#cache.clear();
    const rc = this.#sqlite3.x.sqlite3_close_v2(this.#p);
    this.#p = 0;
    this.#sqlite3.uninstallFunction(this.#busyFn);
    this.#sqlite3.dealloc(this.#scratchPtr);
    this.#scratchPtr = 0;
    this.#sqlite3.dealloc(this.#outSlot);
    this.#outSlot = 0;
    this.#queue?.close();
    this.#queue = undefined;
    if (rc !== 0) throw sqliteError(rc, "Closing the database failed", this.path);
  }
}
