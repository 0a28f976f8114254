/**
 * The two ends the SDK's stdio transport talks to, without node's stream
 * machinery in between. The transport wants a node `Readable` for stdin and
 * a `Writable` for stdout, but uses little of either: `data`, `end`,
 * `close` and `error` events and `pause()` on one side, `write()` and
 * `error` events on the other. Each request used to pass through two
 * `PassThrough` streams on the way in and a `Writable` with its `Buffer`
 * conversion on the way out (~20 µs of every round trip, profiled); these
 * hand a line over as one event and write an answer with one system call.
 *
 * @module
 */
import { EventEmitter } from "node:events";
import { Buffer } from "node:buffer";

const encoder = new TextEncoder();

/**
 * The stdin end: lines the filter let through, delivered as `data` events
 * as they come. As with a `PassThrough`, what is written before anyone
 * listens (the early handshake hands over its buffered input first) waits
 * for the first `data` listener, and `end` comes after it.
 */
export class LineFeed extends EventEmitter {
  /** True once `end` was emitted (the transport checks it when it starts). */
  readableEnded = false;
  /** True once {@link destroy} was called. */
  destroyed = false;
  #waiting: string[] | null = [];
  #endAfterWaiting = false;

  constructor() {
    super();
    this.on("newListener", (event: string) => {
      // Emitted before the listener is added: deliver once it is.
      if (event === "data" && this.#waiting) queueMicrotask(() => this.#flush());
    });
  }

  #flush(): void {
    const waiting = this.#waiting;
    if (!waiting || this.listenerCount("data") === 0) return;
    this.#waiting = null;
    for (const chunk of waiting) this.emit("data", Buffer.from(chunk));
    if (this.#endAfterWaiting) this.#end();
  }

  /**
   * Delivers one chunk (the filter writes one whole line at a time).
   * @param chunk text ending in a newline
   * @returns false after the end
   */
  write(chunk: string): boolean {
    if (this.readableEnded || this.#endAfterWaiting || this.destroyed) return false;
    if (this.#waiting) this.#waiting.push(chunk);
    else this.emit("data", Buffer.from(chunk));
    return true;
  }

  /** Stdin ended: `end`, then `close` (after what waits for a listener). */
  end(): void {
    if (this.readableEnded || this.#endAfterWaiting || this.destroyed) return;
    if (this.#waiting) this.#endAfterWaiting = true;
    else this.#end();
  }

  #end(): void {
    this.readableEnded = true;
    this.emit("end");
    this.emit("close");
  }

  /**
   * Stdin failed: `error` (when anyone listens), then `close`.
   * @param error what failed
   */
  destroy(error?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (error && this.listenerCount("error") > 0) this.emit("error", error);
    this.emit("close");
  }

  /** Nothing to pause: lines are only ever handed over as they come. */
  pause(): this {
    return this;
  }
}

/**
 * The stdout end: each answer written whole, with `Deno.stdout.writeSync`
 * (as node's `process.stdout` does for a pipe in Deno, and as the early
 * handshake answers are written), so answers never interleave. A failed
 * write (the client went away) is an `error` event, which the transport
 * turns into closing.
 */
export class StdoutWriter extends EventEmitter {
  /**
   * @param out where to write (stdout; tests pass their own)
   */
  constructor(private readonly out: { writeSync(p: Uint8Array): number } = Deno.stdout) {
    super();
  }

  /**
   * Writes `chunk` whole.
   * @param chunk one serialized message
   * @returns true when written; false when the write failed (an `error` event says why, every time)
   */
  write(chunk: string | Uint8Array): boolean {
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    try {
      for (let off = 0; off < bytes.length;) off += this.out.writeSync(bytes.subarray(off));
      return true;
    } catch (e) {
      if (this.listenerCount("error") > 0) this.emit("error", e instanceof Error ? e : new Error(String(e)));
      return false;
    }
  }
}
