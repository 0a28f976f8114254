// @ts-self-types="./sqlite_wasm_module.d.ts"
// The compiled SQLite WebAssembly module, imported through the module graph
// (`import source`): `deno compile` embeds it in its binaries. Deno keeps no
// code cache for WebAssembly (denoland/deno#34614): every process compiles it
// again, its functions lazily on first call. Plain JS because TypeScript does
// not parse `import source` yet.
import source sqliteWasm from "@sqlite.org/sqlite-wasm/sqlite3.wasm";
export default sqliteWasm;
