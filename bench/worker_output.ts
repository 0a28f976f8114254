/**
 * What a bench's worker process writes on stdout: a line `ready` once it is
 * set to go (engine open, warm-up done), then its results. Shared by
 * `bench/engine.ts` and `bench/storage.ts`.
 *
 * @module
 */

/**
 * Reads a worker's stdout.
 * @param stream the worker's stdout
 * @returns `ready`, settled at the line "ready" (rejected if the output ends first), and `text`, everything else the
 *   worker wrote, once its stdout ends
 */
export function readWorkerOutput(stream: ReadableStream<Uint8Array>): { ready: Promise<void>; text: Promise<string> } {
  let settle!: (e?: Error) => void;
  const ready = new Promise<void>((resolve, reject) => settle = (e) => e ? reject(e) : resolve());
  const text = (async () => {
    let s = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      s += decoder.decode(chunk, { stream: true });
      if (/^ready$/m.test(s)) settle();
    }
    settle(new Error("a worker ended before it was ready")); // ignored once ready
    return s.replace(/^ready\n/m, "");
  })();
  return { ready, text };
}
