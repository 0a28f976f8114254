/** The compiled SQLite WebAssembly module. */
declare const sqliteWasm: WebAssembly.Module;
export default sqliteWasm;
