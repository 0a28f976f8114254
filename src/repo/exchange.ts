/**
 * Swapping two files' names in one step (Linux `renameat2` with
 * `RENAME_EXCHANGE`), so that a ticket file being replaced is never missing:
 * a shell's `>>` appends to one version or the other instead of creating a
 * file of its own, and a reader never finds nothing there.
 *
 * Loaded only when the process already has FFI permission; elsewhere (no
 * permission, another system, a file system without the call) it says so and
 * the caller replaces the file its portable way.
 *
 * @module
 */

/** `AT_FDCWD`: paths are taken as given. */
const AT_FDCWD = -100;
/** `RENAME_EXCHANGE`. */
const RENAME_EXCHANGE = 2;
/** errno values that mean the call or the flag is not there (EINVAL, ENOSYS, EOPNOTSUPP), or a sandbox's filter
 * refuses it (EPERM): the portable way then. */
const UNSUPPORTED = new Set([1, 22, 38, 95]);
const ENOENT = 2;

const SYMBOLS = {
  renameat2: { parameters: ["i32", "buffer", "i32", "buffer", "u32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null | undefined;

/** Test hook: set `enabled` to false to replace files the portable way. */
export const exchangeOptions = { enabled: true };

function symbols() {
  if (lib !== undefined) return lib;
  lib = null;
  if (Deno.build.os !== "linux") return lib;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state === "granted") {
      lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
    }
  } catch { /* no such library or symbol (glibc before 2.28): the portable way */ }
  return lib;
}

const cstr = (s: string) => new TextEncoder().encode(s + "\0");

/**
 * Whether this process may try to swap names (FFI permission, Linux, enabled); a file system can still refuse.
 * @returns true when {@link exchangeFiles} will try
 * @example
 * ```ts
 * import { canExchange } from "./exchange.ts";
 * console.log(canExchange() ? "names are swapped in one step" : "the portable way");
 * ```
 */
export function canExchange(): boolean {
  return exchangeOptions.enabled && symbols() !== null;
}

/**
 * Swaps the names of two existing files atomically.
 * @param a one file's path
 * @param b the other's
 * @returns true when swapped; false when this process or file system cannot (nothing was done)
 * @throws {Deno.errors.NotFound} when either is missing; an `Error` naming the errno for any other failure
 * @example
 * ```ts
 * import { exchangeFiles } from "./exchange.ts";
 * const d = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${d}/a`, "A");
 * Deno.writeTextFileSync(`${d}/b`, "B");
 * if (exchangeFiles(`${d}/a`, `${d}/b`) && Deno.readTextFileSync(`${d}/a`) !== "B") throw new Error("not swapped");
 * ```
 */
export function exchangeFiles(a: string, b: string): boolean {
  const c = exchangeOptions.enabled ? symbols() : null;
  if (!c) return false;
  if (c.renameat2(AT_FDCWD, cstr(a), AT_FDCWD, cstr(b), RENAME_EXCHANGE) === 0) return true;
  const errno = new Deno.UnsafePointerView(c.__errno_location()!).getInt32();
  if (UNSUPPORTED.has(errno)) return false;
  if (errno === ENOENT) throw new Deno.errors.NotFound(`${a} or ${b} is missing`);
  throw new Error(`renameat2(${a}, ${b}, RENAME_EXCHANGE) failed: errno ${errno}`);
}
