/**
 * A small typed wrapper over WASM SQLite on Baton's VFS: open with the right
 * pragmas, prepared (and cached) statements, `transaction()` with
 * `BEGIN IMMEDIATE` and a busy handler, checkpoints, and coded errors.
 *
 * @module
 */

import { BatonError } from "../errors.ts";
import { denoBackend, type IoBackend } from "./io.ts";
import { sleepSync } from "./sleep.ts";
import { installVfs, lastWalWrite, vfsLastError, walFrames } from "./vfs.ts";
import { BackgroundCheckpointer, type CheckpointerStats } from "./checkpointer.ts";
import { WriterQueue } from "./writer_queue.ts";
import { loadSqliteWasm, SQLITE, type SqliteWasm } from "./wasm.ts";
import { grantStatementAccess, type Params, type Row, Statement } from "./statement.ts";
import { sqliteError } from "./sqlite_errors.ts";
import { preflight } from "./open_checks.ts";

export { type Params, type Row, type SqlValue, Statement } from "./statement.ts";
export { CORRUPT_HINT, sqliteError } from "./sqlite_errors.ts";

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
/**
 * How long the commit that carries the WAL past a wait point at the hard bound waits for the checkpoint lock before
 * giving up (capped, with the restart wait after it, at a quarter of the busy timeout).
 */
const HARD_BOUND_WAIT_MS = 5000;
/** How long a writer at the bound waits for readers to leave the WAL so that it can start over. */
const RESTART_WAIT_MS = 200;
/**
 * The same wait at twice the bound. Readers whose transactions overlap
 * without a gap (long queries from several processes) keep old snapshots
 * for good, and no checkpoint can copy past the oldest or start the WAL
 * over: it grew without end (issue 21's soak: 140 MB). While the writer
 * waits it holds its place in the writer queue, so no frame is added and
 * the readers that started before it drain.
 */
const RESTART_HARD_WAIT_MS = 2000;
/** One RESTART attempt's wait for a lock (the loop in `#restartWal` retries until its limit). */
const RESTART_TRY_MS = 20;

/** The page size of the databases Baton creates (bytes). */
export const PAGE_SIZE = 4096;

/** Journal modes Baton supports. */
export type JournalMode = "wal" | "truncate" | "delete";

/**
 * Where a connection's checkpoints run (see `OpenOptions.checkpoint`).
 *
 * `auto` exists because a checkpoint thread pays off only for a connection
 * that writes most of the WAL: it costs a process 100–200 ms of CPU to start
 * (a Deno worker, its own SQLite, its own connection) and keeps the fsyncs
 * out of that writer's transactions. Where several processes write one
 * database, each started its own thread: fresh, 8 processes ran ~15% slower
 * than with inline checkpoints (decision 049), and with `auto` 8 warmed
 * processes ran +41% (decision 050). A connection counts the frames it
 * appends and the frames others appended between its transactions; it
 * checkpoints itself once others' share passes one half and goes back to
 * its thread when it falls below one quarter.
 */
export type CheckpointMode = "inline" | "background" | "auto";

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
   * WAL mode: where checkpoints run (default `inline`).
   * - `inline`: SQLite's automatic checkpoint, in the commit that leaves
   *   `walAutocheckpoint` frames in the WAL.
   * - `background`: a thread (started on first need) is asked for one after
   *   a commit leaves `walAutocheckpoint` frames to copy; SQLite's own stays
   *   on at 4× that, and at 8× a writer waits for the thread and checkpoints
   *   itself.
   * - `auto`: `background` while this connection writes most of what goes
   *   into the WAL; while other connections write more of it between its
   *   transactions, it runs the checkpoint itself, right after it leaves
   *   the writer queue, so that the others write while it syncs (see
   *   {@link CheckpointMode}).
   */
  checkpoint?: CheckpointMode;
  /** Use another registered VFS (tests: fault injection). */
  vfs?: string;
  /** WAL mode: queue write transactions on a blocking lock file (default true with Baton's own VFS, false with another). */
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
  /** Times this connection, finding the WAL at its bound (8× the checkpoint threshold), started it over. */
  walRestarts: number;
  /**
   * Times it waited there for readers to leave the WAL and gave up (a reader kept an old snapshot throughout). A
   * connection waits only when its commit carries the WAL past a wait point (every 8 thresholds), so these counts,
   * summed over every connection of every process, are one wait per 8 thresholds written.
   */
  walRestartsGivenUp: number;
  /** Times such a wait ended on an error other than busy (the next wait point tries again). */
  walRestartErrors: number;
  /** Milliseconds spent in those waits, successful or not (after the commit, in the writer queue). */
  walRestartWaitMs: number;
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
    grantStatementAccess((db) => db.#sqlite3, (db, st) => {
      const p = db.#compile(st.sql);
      db.#remember(st.sql, st);
      return p;
    });
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
  /** With `checkpoint: "auto"`: whether this connection checkpoints itself now, because others write most of the WAL. */
  #sharedWriter = false;
  /** `checkpoint: "auto"`: `#sharedWriter` follows who writes the WAL. */
  #ckptAuto = false;
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
      (options.writerQueue ?? (!options.vfs || options.vfs === "baton")) && !inMemory,
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
        const mode = options.checkpoint ?? "inline";
        if (mode !== "inline" && pages > 0 && this.#writerQueue) {
          this.#ckptThreshold = pages;
          // `auto` starts as a shared writer: until this connection has written, it is not known to write alone.
          this.#ckptAuto = mode === "auto";
          this.#sharedWriter = this.#ckptAuto;
          this.exec(`PRAGMA wal_autocheckpoint=${pages * BACKGROUND_SAFETY_FACTOR}`);
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
        committed = true;
        if (this.#checkpointer) this.#askForCheckpoint(this.#checkpointer);
        // Inline checkpoints: SQLite's own copies the frames no reader still needs, but the WAL starts over only once
        // every frame is copied and no reader uses it; at a wait point, RESTART checkpoints wait for the readers.
        else if (this.#ckptThreshold > 0) this.#restartWal();
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
      else this.#checkpointIfDue();
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

  #writes: WriteStats = {
    transactions: 0,
    turns: 0,
    waitMs: 0,
    heldMs: 0,
    firstOfTurnMs: 0,
    walRestarts: 0,
    walRestartsGivenUp: 0,
    walRestartErrors: 0,
    walRestartWaitMs: 0,
  };

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
    this.#checkpointIfDue();
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
      const { frames, backfilled, checkpointing, ownFrames, otherFrames } = walFrames(this.path);
      const t = this.#ckptThreshold;
      // At the hard bound, only the commit that carried the WAL past a wait point waits: a checkpoint lock that is
      // never released (its holder stopped mid-checkpoint) would otherwise stall every commit after it.
      const passed = frames >= BACKGROUND_HARD_FACTOR * t ? this.#passedWaitPoint() : undefined;
      if (passed) {
        const began = performance.now();
        if (frames > backfilled) {
          // SQLite's own checkpoint skips while the thread holds the checkpoint
          // lock, so a writer faster than the thread's syncs would grow the WAL
          // without end: push back on the writer instead, as inline mode does.
          const until = began + Math.min(HARD_BOUND_WAIT_MS, this.#busyTimeoutMs / 4);
          while (this.checkpoint("passive").busy && performance.now() < until) sleepSync(2);
        }
        // The WAL cannot start over while readers use it, and with many
        // processes reading there is always one: it would grow without end (a
        // soak reached 275 MB). A RESTART checkpoint waits for those readers
        // (new ones read the database file), bounded so the writer never stalls
        // for long: the push-back and this wait share one limit.
        this.#restartWal(passed, performance.now() - began);
        return;
      }
      // Another process's thread is at it already: asking ours would only
      // find the checkpoint lock taken, or copy a few frames for two fsyncs.
      if (checkpointing) return;
      if (this.#ckptAuto && this.#inlineWhileShared(ownFrames, otherFrames)) {
        // Not inside the transaction (SQLite's own automatic checkpoint
        // would run in COMMIT): once this connection leaves the writer
        // queue, so that the others write while it syncs.
        if (frames - backfilled >= t) this.#ckptDue = true;
        return;
      }
      if (frames - backfilled >= t) ckpt.request();
      else if (frames >= t / 2) ckpt.warm();
    } catch { /* the safety bound still checkpoints */ }
  }

  /**
   * With `checkpoint: "auto"`: decides, from who wrote the WAL lately,
   * whether this connection checkpoints itself (true) or asks its thread:
   * itself once others' frames outnumber its own, its thread again once
   * they fall below a quarter of all.
   */
  #inlineWhileShared(own: number, others: number): boolean {
    this.#sharedWriter = this.#sharedWriter ? 3 * others >= own : others > own;
    return this.#sharedWriter;
  }

  /** A checkpoint this connection runs itself once it has left the writer queue (`checkpoint: "auto"`, shared WAL). */
  #ckptDue = false;

  /** Runs the due checkpoint, outside any transaction of this connection. Never throws. */
  #checkpointIfDue(): void {
    if (!this.#ckptDue || this.#txDepth > 0 || !this.#p) return;
    this.#ckptDue = false;
    try {
      this.checkpoint("passive");
    } catch { /* the next one, or SQLite's own at 4× the threshold, copies these frames */ }
  }

  /**
   * The WAL frames the commit just made appended, when they carried the WAL
   * past a wait point (every 8 thresholds), from the WRITE hold that ended
   * with it: its own, not what the process's other connections last saw (an
   * idle one keeps the count of a WAL that has started over since). A map
   * lookup: this runs after every commit with inline checkpoints.
   */
  #passedWaitPoint(): { before: number; after: number } | undefined {
    const point = BACKGROUND_HARD_FACTOR * this.#ckptThreshold;
    const last = lastWalWrite(this.path);
    return last && Math.floor(last.after / point) > Math.floor(last.before / point) ? last : undefined;
  }

  /**
   * Starts the WAL over when the commit just made carried it past a wait
   * point: every 8 thresholds of frames (the bound), so that each point is
   * passed by one commit of one connection, whichever process made it.
   * There it runs RESTART checkpoints until one succeeds,
   * for {@link RESTART_WAIT_MS} at most at the bound and
   * {@link RESTART_HARD_WAIT_MS} at the later points (never more than a
   * quarter of the busy timeout: writers queued behind this one wait too).
   * One attempt copies what no reader still needs and waits for one lock
   * (the first reader slot it finds held, say); the next finds the readers
   * that have left since. So readers that overlap without a gap are waited
   * for once per 8 thresholds written, and a reader that never leaves (a
   * stopped process) costs one wait per 8 thresholds, not one per commit nor
   * one per writer. Never throws.
   */
  #restartWal(last = this.#passedWaitPoint(), spentMs = 0): void {
    if (!last) return;
    const point = BACKGROUND_HARD_FACTOR * this.#ckptThreshold;
    const limitMs = Math.min(
      last.after >= 2 * point ? RESTART_HARD_WAIT_MS : RESTART_WAIT_MS,
      this.#busyTimeoutMs / 4 - spentMs,
    );
    const began = performance.now(), until = began + limitMs;
    try {
      for (;;) {
        const left = until - performance.now();
        this.#busyLimitMs = Math.max(1, Math.min(RESTART_TRY_MS, left));
        try {
          if (!this.checkpoint("restart").busy) {
            this.#writes.walRestarts++;
            return;
          }
        } catch (e) {
          // Busy: try again while time is left. Anything else is not the readers (SQLITE_LOCKED, also
          // `database_locked`, is this connection's own statement still running, which waiting does not end).
          const rc = e instanceof BatonError
            ? Number((e.details as { sqliteCode?: number } | undefined)?.sqliteCode)
            : NaN;
          if ((rc & 0xff) !== SQLITE.BUSY) {
            this.#writes.walRestartErrors++;
            return;
          }
        } finally {
          this.#busyLimitMs = undefined;
        }
        if (left <= RESTART_TRY_MS) break;
        sleepSync(1);
      }
      this.#writes.walRestartsGivenUp++;
    } finally {
      this.#writes.walRestartWaitMs += performance.now() - began;
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
    this.#ckptDue = false; // the writers that stay copy these frames (the last one to close, all of them)
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
