/**
 * The live stream: one `engine.watch()` for the whole server, fanned out to
 * every connected page as server-sent events. It runs only while someone
 * listens.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import type { AuditEntry } from "../engine/types.ts";
import { treatmentOf, withoutPaths } from "../errors.ts";

const enc = new TextEncoder();

/**
 * Bytes of events queued for one page, past which it is let go: a page that
 * stopped reading (or reads far slower than events come) would otherwise
 * hold every event written meanwhile. Its stream ends; the page's
 * EventSource reconnects and fetches what it missed.
 */
const MAX_QUEUED = 1024 * 1024;

/** Events sent between two turns of the event loop, so that the streams drain during a burst. */
const BATCH = 200;

/** Every page's event stream. */
export class EventHub {
  readonly #engine: Engine;
  readonly #pollMs: number;
  readonly #clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  #stop?: AbortController;
  #beat?: ReturnType<typeof setInterval>;

  /**
   * @param engine where the events come from
   * @param pollMs how often the database is asked whether anything changed
   */
  constructor(engine: Engine, pollMs = 50) {
    this.#engine = engine;
    this.#pollMs = pollMs;
  }

  /** Clients connected now. */
  get size(): number {
    return this.#clients.size;
  }

  /**
   * A new stream for one page; it ends when the client goes away (the
   * stream is cancelled). Its first event (`hello`) carries what the page
   * needs from this server process: its CSRF token (a page left open across
   * a restart gets the new one when it reconnects). Same-origin only: no
   * other site can read the stream.
   * @param hello what the first event says
   * @returns the SSE response
   */
  connect(hello: Record<string, string> = {}): Response {
    let ctl: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        ctl = c;
        this.#clients.add(c);
        c.enqueue(enc.encode(`retry: 1000\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`));
        this.#ensure();
      },
      cancel: () => this.#drop(ctl),
    }, new ByteLengthQueuingStrategy({ highWaterMark: MAX_QUEUED }));
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  #send(chunk: string): void {
    const bytes = enc.encode(chunk);
    for (const c of this.#clients) {
      try {
        c.enqueue(bytes);
        if ((c.desiredSize ?? 0) < 0) this.#drop(c); // over MAX_QUEUED: let it go
      } catch {
        this.#clients.delete(c);
      }
    }
  }

  #drop(c: ReadableStreamDefaultController<Uint8Array>): void {
    if (!this.#clients.delete(c)) return;
    try {
      c.close();
    } catch { /* closed already */ }
    if (this.#clients.size === 0) this.close();
  }

  #ensure(): void {
    if (this.#stop) return;
    const stop = this.#stop = new AbortController();
    this.#beat = setInterval(() => this.#send(": keep-alive\n\n"), 15_000);
    (async () => {
      try {
        let sent = 0;
        for await (const a of this.#engine.watch({ pollMs: this.#pollMs, signal: stop.signal })) {
          this.#send(`event: audit\ndata: ${JSON.stringify(brief(a))}\n\n`);
          // A burst (an import writes thousands of rows) would otherwise be queued whole before any is sent.
          if (++sent % BATCH === 0) await new Promise((r) => setTimeout(r, 0));
          if (stop.signal.aborted) break; // the last page went meanwhile
        }
      } catch (e) {
        if (!stop.signal.aborted) {
          // Coded, and without the database's absolute path: every page gets it.
          const message = withoutPaths(e instanceof Error ? e.message : String(e));
          this.#send(`event: error\ndata: ${JSON.stringify({ code: treatmentOf(e).code, message })}\n\n`);
        }
      }
    })();
  }

  /** Stops following (the streams stay open; a new client starts it again). */
  close(): void {
    this.#stop?.abort();
    this.#stop = undefined;
    clearInterval(this.#beat);
  }

  /** Ends every stream. */
  closeAll(): void {
    for (const c of [...this.#clients]) this.#drop(c);
    this.close();
  }
}

function brief(a: AuditEntry) {
  return { id: a.id, at: a.at, action: a.action, ticketId: a.ticketId, entityId: a.entityId, actor: a.actor };
}
