import assert from "node:assert/strict";
import { LineFeed, StdoutWriter } from "../../src/mcp/stdio_pipes.ts";

const text = (chunks: Uint8Array[]) => chunks.map((c) => new TextDecoder().decode(c)).join("");
const tick = () => new Promise<void>((r) => queueMicrotask(r));

Deno.test("LineFeed: lines written before anyone listens wait for the first listener, in order; then straight through", async () => {
  const feed = new LineFeed();
  assert.equal(feed.write("one\n"), true);
  assert.equal(feed.write("two\n"), true);
  const got: Uint8Array[] = [];
  feed.on("data", (c: Uint8Array) => got.push(c));
  assert.equal(text(got), "", "handed over once the listener is in place");
  await tick();
  assert.equal(text(got), "one\ntwo\n");
  feed.write("three\n");
  assert.equal(text(got), "one\ntwo\nthree\n", "after that, at once");
});

Deno.test("LineFeed: an end before anyone listens comes after the waiting lines; nothing is taken after it", async () => {
  const feed = new LineFeed();
  feed.write("last\n");
  feed.end();
  assert.equal(feed.readableEnded, false, "not ended while a line waits to be read");
  assert.equal(feed.write("late\n"), false);
  const events: string[] = [];
  feed.on("end", () => events.push("end"));
  feed.on("close", () => events.push("close"));
  feed.on("data", (c: Uint8Array) => events.push(text([c])));
  await tick();
  assert.deepEqual(events, ["last\n", "end", "close"]);
  assert.equal(feed.readableEnded, true);
  feed.end();
  assert.deepEqual(events, ["last\n", "end", "close"], "a second end is nothing");
});

Deno.test("LineFeed: destroy reports the error to a listener, then closes", () => {
  const feed = new LineFeed();
  const events: string[] = [];
  feed.on("data", () => events.push("data"));
  feed.on("error", (e: Error) => events.push(`error ${e.message}`));
  feed.on("close", () => events.push("close"));
  feed.destroy(new Error("stdin broke"));
  assert.deepEqual(events, ["error stdin broke", "close"]);
  assert.equal(feed.write("x\n"), false);
  // Without an error listener, destroying does not throw.
  new LineFeed().destroy(new Error("nobody listens"));
});

Deno.test("StdoutWriter: a message is written whole across short writes; a failed write is an error event each time", () => {
  const written: number[] = [];
  // A pipe that takes at most 3 bytes per call.
  const short = new StdoutWriter({
    writeSync(p: Uint8Array) {
      const n = Math.min(3, p.length);
      written.push(...p.subarray(0, n));
      return n;
    },
  });
  assert.equal(short.write('{"id":1}\n'), true);
  assert.equal(new TextDecoder().decode(new Uint8Array(written)), '{"id":1}\n');

  const broken = new StdoutWriter({
    writeSync() {
      throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
    },
  });
  const errors: string[] = [];
  broken.on("error", (e: Error) => errors.push(e.name));
  assert.equal(broken.write("a\n"), false);
  assert.equal(broken.write("b\n"), false);
  assert.deepEqual(errors, ["BrokenPipe", "BrokenPipe"], "every failed write says so: no send waits forever");
  // Without an error listener, a failed write does not throw.
  broken.removeAllListeners("error");
  assert.equal(broken.write("c\n"), false);
});
