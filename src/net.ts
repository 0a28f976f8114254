/**
 * Network helpers shared by Baton's HTTP adapters.
 *
 * @module
 */
import { BatonError } from "./errors.ts";

/**
 * Whether a host name or address is the local machine only.
 * @param host a name or IP address (IPv6 with or without brackets)
 * @returns true for localhost, 127.0.0.0/8 and ::1
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Whether a `Host` header is well formed: a name or a bracketed IPv6
 * address, and an optional port. `[::1]evil.com` only starts like a
 * loopback address.
 * @param host the header's value
 * @returns true when well formed
 */
export function isWellFormedHost(host: string): boolean {
  return /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/.test(host);
}

/** The limits of {@link readBody}. */
export interface BodyLimits {
  /** The largest body accepted (bytes). */
  maxBytes: number;
  /**
   * How long the whole body may take to arrive, from the first read (ms;
   * default `BATON_BODY_TIMEOUT_MS`, else 30,000).
   */
  timeoutMs?: number;
}

/**
 * A request's body as text, read no further than its cap and no longer than
 * its deadline. A declared `Content-Length` over the cap is refused before
 * anything is read; a chunked body is cut off as soon as it passes the cap
 * (so a body that never ends costs `maxBytes`); a body that stops arriving
 * (a client that sent its headers and stalls, or trickles) is abandoned at
 * the deadline, so it cannot hold its connection and the handler forever.
 *
 * @param req the request
 * @param limits the cap and the deadline
 * @returns the body, decoded as UTF-8 ("" without one)
 * @throws {BatonError} `payload_too_large` past the cap; `request_timeout` past the deadline
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readBody } from "./net.ts";
 * const req = new Request("http://localhost/", { method: "POST", body: "x".repeat(10) });
 * await assert.rejects(readBody(req, { maxBytes: 4 }), { code: "payload_too_large" });
 * ```
 */
export async function readBody(req: Request, limits: BodyLimits): Promise<string> {
  const { maxBytes } = limits;
  const fromEnv = Number(Deno.env.get("BATON_BODY_TIMEOUT_MS"));
  const timeoutMs = limits.timeoutMs ?? (fromEnv > 0 ? fromEnv : 30_000);
  const tooLarge = () => new BatonError("payload_too_large", `The request body is over ${maxBytes} bytes`);
  if (Number(req.headers.get("content-length")) > maxBytes) throw tooLarge();
  if (!req.body) return "";
  const reader = req.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), timeoutMs));
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === "late") {
        throw new BatonError("request_timeout", `The request body did not arrive within ${timeoutMs / 1000} s`);
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > maxBytes) throw tooLarge();
      text += decoder.decode(next.value, { stream: true });
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    if (e instanceof BatonError) throw e;
    throw new BatonError("invalid_argument", "The request body could not be read (the client went away?)", {
      cause: e,
    });
  } finally {
    clearTimeout(timer);
  }
  return text + decoder.decode();
}

/** How {@link serveGuarded} is set up: where to listen, and the limits on a request's headers. */
export interface GuardedServeOptions {
  /** The address to listen on. */
  hostname: string;
  /** The port (0: any free one). */
  port: number;
  /** Stops the server. */
  signal?: AbortSignal;
  /** Called once listening. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Answers when the handler throws. */
  onError?: (error: unknown) => Response | Promise<Response>;
  /**
   * How long a client may take to send a request's headers, from its
   * connection (ms; default `BATON_HEADER_TIMEOUT_MS`, else 10,000).
   */
  headerTimeoutMs?: number;
  /**
   * How long one write of an answer to its client may take (ms; default
   * `BATON_WRITE_TIMEOUT_MS`, else 30,000): a client that stops reading is
   * disconnected then.
   */
  writeTimeoutMs?: number;
  /** The largest header block accepted (bytes, default 64 KiB); beyond it the answer is 431. */
  maxHeaderBytes?: number;
  /**
   * The most connections open at once (default `BATON_MAX_CONNECTIONS`, else
   * what the process's descriptor limit allows, at most 2,000). At the limit
   * a new connection makes room by closing the oldest one still sending its
   * headers; when every connection is past its headers, it is answered 503.
   */
  maxConnections?: number;
}

/**
 * How many connections fit in the process's open-file limit: each proxied
 * request holds three descriptors (the client's, and both ends of the hop),
 * and the engine, its lock files and the runtime keep some.
 */
function connectionsFitting(): number {
  try {
    const soft = /^Max open files\s+(\d+)/m.exec(Deno.readTextFileSync("/proc/self/limits"))?.[1];
    if (soft) return Math.max(16, Math.min(2000, Math.floor((Number(soft) - 128) / 3)));
  } catch { /* not Linux, or not readable */ }
  return 300; // fits the common default limit of 1,024
}

/** A server started by {@link serveGuarded}. */
export interface GuardedServer {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /** Settles once it has stopped. */
  readonly finished: Promise<void>;
  /** Stops accepting, lets requests in progress finish, then stops. */
  shutdown(): Promise<void>;
}

function indexOfHeaderEnd(bytes: Uint8Array, from: number): number {
  for (let i = Math.max(0, from - 3); i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/** Bytes as a string of one char per byte (true Latin-1: TextDecoder's "latin1" is windows-1252, which is not). */
function bytesText(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** The reverse of {@link bytesText}. */
function textBytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** `p`, or a rejection once `ms` have passed without it settling. */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error(`no progress in ${ms} ms`)), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function writeAll(w: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await w.write(bytes.subarray(at));
}

/** A header block with `Connection: close` in place of the connection headers it had. */
function closing(headers: string): Uint8Array {
  const lines = headers.split("\r\n").filter((l, i) => i === 0 || !/^(connection|keep-alive)\s*:/i.test(l));
  lines.push("Connection: close");
  return textBytes(lines.join("\r\n") + "\r\n\r\n");
}

/**
 * Copies the server's answers to the client, each header block saying
 * `Connection: close` (so that the client opens a new connection for its
 * next request), and returns once the final answer is whole: when it
 * declares its length, as soon as that much body has passed (the server may
 * keep the connection open to drain a request body it refused, while the
 * client is blocked sending it); otherwise when the server closes (a
 * stream, such as server-sent events), or when the client hangs up on such a
 * stream (`clientGone`: its connection ended), which frees its connection
 * slot at once instead of at the stream's next write.
 */
async function relayResponse(
  from: Deno.Conn,
  to: Deno.Conn,
  writeTimeoutMs: number,
  clientGone: Promise<unknown>,
): Promise<void> {
  // A client that stops reading its answer (the slow-loris of the answer) holds a write here, and with it the
  // connection, the hop and whatever the server queues behind them: past the deadline the connection ends.
  const send = (bytes: Uint8Array) => within(writeAll(to, bytes), writeTimeoutMs);
  const buf = new Uint8Array(64 * 1024);
  let pending = ""; // received, not yet sent: the header block in progress (latin1, one char per byte)
  let remaining: number | null = null; // body bytes still to come; null: until the server closes
  let inBody = false;
  const gone = clientGone.then(() => "gone" as const);
  for (;;) {
    const reading = from.read(buf).catch(() => null);
    // A stream runs until one side ends it: the client hanging up ends it too.
    const n = inBody && remaining === null ? await Promise.race([reading, gone]) : await reading;
    if (n === "gone") return;
    if (n === null) {
      if (pending) await send(textBytes(pending)).catch(() => {});
      return;
    }
    if (inBody) {
      await send(buf.subarray(0, n));
      if (remaining !== null && (remaining -= n) <= 0) return;
      continue;
    }
    pending += bytesText(buf.subarray(0, n));
    for (;;) {
      const end = pending.indexOf("\r\n\r\n");
      if (end < 0) break;
      const headers = pending.slice(0, end);
      pending = pending.slice(end + 4);
      await send(closing(headers));
      if (/^HTTP\/1\.[01] 1\d\d/.test(headers)) continue; // 100 Continue: the answer follows
      inBody = true;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
      if (length && !/\r\ntransfer-encoding:/i.test(headers)) remaining = Number(length[1]);
      const body = textBytes(pending);
      pending = "";
      await send(body);
      if (remaining !== null && (remaining -= body.length) <= 0) return;
      break;
    }
    if (!inBody && pending.length > 256 * 1024) {
      // Not an answer this relay can read: pass it on as it is, until the server closes.
      await send(textBytes(pending));
      pending = "";
      inBody = true;
    }
  }
}

/**
 * `Deno.serve` with a deadline on each request's headers. Deno's server has
 * none: a client that opens a connection and sends part of a request line
 * holds a socket for as long as it likes (slow-loris), and a few thousand
 * such clients use up the process's descriptors. Here a front accepts each
 * TCP connection, waits at most `headerTimeoutMs` for the whole header block
 * of its request (closing the connection otherwise), and then hands the
 * connection to `Deno.serve` listening on a private Unix socket. Each
 * connection carries one request (`Connection: close` is set), so every
 * request meets the deadline; on loopback a new connection costs tens of
 * microseconds.
 *
 * @param opts where to listen, the limits
 * @param handler the request handler
 * @returns the running server
 * @throws whatever `Deno.listen` throws (address in use, permission)
 * @example
 * ```ts
 * import { serveGuarded } from "./net.ts";
 * const server = serveGuarded({ hostname: "127.0.0.1", port: 0 }, () => new Response("ok"));
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * console.assert((await res.text()) === "ok");
 * await server.shutdown();
 * ```
 */
export function serveGuarded(
  opts: GuardedServeOptions,
  handler: (req: Request) => Response | Promise<Response>,
): GuardedServer {
  const fromEnv = Number(Deno.env.get("BATON_HEADER_TIMEOUT_MS"));
  const headerTimeoutMs = opts.headerTimeoutMs ?? (fromEnv > 0 ? fromEnv : 10_000);
  const maxHeaderBytes = opts.maxHeaderBytes ?? 64 * 1024;
  const writeFromEnv = Number(Deno.env.get("BATON_WRITE_TIMEOUT_MS"));
  const writeTimeoutMs = opts.writeTimeoutMs ?? (writeFromEnv > 0 ? writeFromEnv : 30_000);
  const maxFromEnv = Number(Deno.env.get("BATON_MAX_CONNECTIONS"));
  const maxConnections = opts.maxConnections ?? (maxFromEnv > 0 ? maxFromEnv : connectionsFitting());
  const listener = Deno.listen({ hostname: opts.hostname, port: opts.port });
  const dir = Deno.makeTempDirSync({ prefix: "baton-http-" });
  Deno.chmodSync(dir, 0o700);
  const path = `${dir}/socket`;
  const inner = Deno.serve({ path, onListen: () => {}, onError: opts.onError }, handler);
  const conns = new Set<Deno.Conn>();
  /**
   * Connections still sending their headers, oldest first, each with what
   * closes it: a shutdown closes them at once, and a new connection at the
   * limit closes the oldest.
   */
  const arriving = new Map<Deno.Conn, () => void>();
  const forwards = new Set<Promise<void>>();
  let stopped = false;

  const forward = async (conn: Deno.Conn) => {
    conns.add(conn);
    let up: Deno.Conn | undefined;
    const closeBoth = () => {
      for (const c of [conn, up]) {
        try {
          c?.close();
        } catch { /* closed */ }
      }
      conns.delete(conn);
      arriving.delete(conn);
    };
    arriving.set(conn, closeBoth);
    const timer = setTimeout(closeBoth, headerTimeoutMs);
    try {
      let buf = new Uint8Array(4096);
      let len = 0;
      let end = -1;
      while (end < 0) {
        if (len === buf.length) {
          if (buf.length >= maxHeaderBytes) {
            clearTimeout(timer);
            await writeAll(
              conn,
              new TextEncoder().encode(
                "HTTP/1.1 431 Request Header Fields Too Large\r\n" +
                  "Connection: close\r\nContent-Length: 0\r\n\r\n",
              ),
            ).catch(() => {});
            return closeBoth();
          }
          const bigger = new Uint8Array(Math.min(buf.length * 2, maxHeaderBytes));
          bigger.set(buf);
          buf = bigger;
        }
        const n = await conn.read(buf.subarray(len));
        if (n === null) return closeBoth();
        const from = len;
        len += n;
        end = indexOfHeaderEnd(buf.subarray(0, len), from);
      }
      clearTimeout(timer);
      arriving.delete(conn);
      // One request per connection: the next one meets the deadline on a connection of its own.
      const head = bytesText(buf.subarray(0, end)).split("\r\n")
        .filter((line, i) => i === 0 || !/^(connection|keep-alive)\s*:/i.test(line));
      head.push("Connection: close");
      up = await Deno.connect({ transport: "unix", path });
      const headBytes = textBytes(head.join("\r\n"));
      await writeAll(up, headBytes);
      await writeAll(up, buf.subarray(end, len)); // the blank line, and any body bytes that came with the headers
      const clientEnded = conn.readable.pipeTo(up.writable, { preventClose: true }).catch(() => {});
      await relayResponse(up, conn, writeTimeoutMs, clientEnded);
    } catch {
      /* the client or the server went away */
    } finally {
      clearTimeout(timer);
      arriving.delete(conn);
      closeBoth();
    }
  };

  const accepting = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (stopped || e instanceof Deno.errors.BadResource) break; // closed
        // Out of descriptors (EMFILE), or a connection reset before it was accepted: accepting again later
        // must still work (this loop used to end here, and the server never answered again).
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (stopped) {
        conn.close();
        continue;
      }
      if (conns.size >= maxConnections) {
        // Full: the oldest connection still sending its headers makes room (many stalled clients cannot keep
        // others out); when every one is past its headers, this one is refused.
        const oldest = arriving.entries().next().value;
        if (oldest) {
          oldest[1]();
        } else {
          void writeAll(
            conn,
            new TextEncoder().encode(
              "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
            ),
          ).catch(() => {}).finally(() => {
            try {
              conn.close();
            } catch { /* closed */ }
          });
          continue;
        }
      }
      const f = forward(conn);
      forwards.add(f);
      void f.finally(() => forwards.delete(f));
    }
  })();

  const shutdown = async () => {
    if (stopped) return await inner.finished;
    stopped = true;
    try {
      listener.close();
    } catch { /* closed */ }
    await accepting;
    for (const close of [...arriving.values()]) close();
    await inner.shutdown();
    // The answers in flight reach their clients (bounded: a stream the server ended may still be relaying).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(forwards), new Promise((r) => timer = setTimeout(r, 5_000))]);
    clearTimeout(timer);
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    Deno.removeSync(dir, { recursive: true });
  };
  opts.signal?.addEventListener("abort", () => void shutdown(), { once: true });
  const addr = listener.addr as Deno.NetAddr;
  opts.onListen?.(addr);
  return { addr, finished: inner.finished, shutdown };
}
