/** Raw HTTP/1.1 over TCP for tests that must send exactly the bytes they mean (chunked bodies, stalls). */

/**
 * Writes all of `bytes` (a write may take only part).
 * @param conn the connection
 * @param bytes what to write
 * @returns false once the server closed
 */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
  for (let at = 0; at < bytes.length;) {
    const n = await conn.write(bytes.subarray(at)).catch(() => -1);
    if (n < 0) return false;
    at += n;
  }
  return true;
}

/**
 * A chunked body of `mb` MB in 64 KB chunks (HTTP/1.1 chunked framing).
 * @param mb its size
 */
export async function* chunked(mb: number): AsyncIterable<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const enc = new TextEncoder();
  for (let i = 0; i < mb * 16; i++) {
    yield enc.encode(`${chunk.length.toString(16)}\r\n`);
    yield chunk;
    yield enc.encode("\r\n");
  }
  yield enc.encode("0\r\n\r\n");
}
