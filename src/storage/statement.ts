/**
 * A prepared statement of a {@link Database}: binding, stepping, rows as
 * objects (one shape per statement), and what it cost (`recompiles`).
 *
 * @module
 */

import { BatonError } from "../errors.ts";
import type { Database } from "./sqlite.ts";
import { SQLITE, type SqliteExports, type SqliteWasm } from "./wasm.ts";

/** A value SQLite can store. */
export type SqlValue = null | number | bigint | string | Uint8Array;
/** Positional (`?`) or named (`:name`, `$name`, `@name`) parameters. */
export type Params = readonly SqlValue[] | Record<string, SqlValue | undefined>;
/** A result row as a plain object keyed by column name. */
export type Row = Record<string, SqlValue>;

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

/** The SQLite module behind a connection. */
let wasmOf: (db: Database) => SqliteWasm;
/** Compiles an evicted statement again and puts it back in its connection's cache. */
let reviveOf: (db: Database, st: Statement) => number;
let granted = false;

/**
 * Gives statements their way into a connection's internals; `Database` calls it once, from its static block (not
 * part of the public API).
 * @param wasm the SQLite module behind a connection
 * @param revive compiles an evicted statement again and puts it back in its connection's cache
 * @throws {Error} when called a second time: nobody else may take the hooks over
 */
export function grantStatementAccess(
  wasm: (db: Database) => SqliteWasm,
  revive: (db: Database, st: Statement) => number,
): void {
  if (granted) throw new Error("statement access was already granted");
  granted = true;
  wasmOf = wasm;
  reviveOf = revive;
}
