/**
 * A process that keeps an engine open while its `-shm` is made unsafe to
 * touch (tests/faults/shm_sigbus_test.ts): it writes once (so the wal-index
 * is mapped), says "ready", waits for a line on stdin (the test has
 * truncated the file or made it immutable meanwhile), writes again, and
 * prints the outcome as one JSON line: `{"ok":true}` or `{"code":…}`. Then
 * it writes once more after a second line (the file is writable again).
 *
 * Usage: shm_unsafe_worker.ts REPO
 */
import { openEngine } from "../../mod.ts";
import { BatonError } from "../../src/errors.ts";
import { shmStats } from "../../src/storage/shm.ts";

const engine = await openEngine(Deno.args[0]);
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
const write = (id: string) => {
  try {
    engine.upsertTicket({ id, title: `Ticket ${id}` });
    return { ok: true, dropped: shmStats.mappingsDropped };
  } catch (e) {
    return { code: e instanceof BatonError ? e.code : "uncoded", message: String((e as Error).message) };
  }
};
console.log(JSON.stringify({ ready: true, ...write("0001"), mapped: shmStats.mappedRegions }));
await lines.read();
console.log(JSON.stringify(write("0002")));
await lines.read();
console.log(JSON.stringify(write("0003")));
engine.close();
