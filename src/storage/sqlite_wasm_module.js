// @ts-self-types="./sqlite_wasm_module.d.ts"
// The compiled SQLite WebAssembly module, imported through the module graph
// (`import source`): Deno caches the compiled code between runs and embeds it
// in `deno compile` binaries. Plain JS because TypeScript does not parse
// `import source` yet.
import source sqliteWasm from "@sqlite.org/sqlite-wasm/sqlite3.wasm";
export default sqliteWasm;
