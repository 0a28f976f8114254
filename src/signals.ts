/**
 * Stopping on request: every long-running command (`baton run`, `serve`,
 * `watch`, `status --watch`, `merge`, the demo, `baton-mcp`) stops cleanly on
 * both SIGINT (Ctrl-C) and SIGTERM (a supervisor, `kill`, a container stop).
 *
 * @module
 */

/** What {@link stopSignals} returns. */
export interface StopSignals {
  /** Resolves with the first SIGINT or SIGTERM. */
  first: Promise<Deno.Signal>;
  /** Removes the listeners (call once the server is down). */
  dispose(): void;
}

/**
 * The first SIGINT/SIGTERM asks for a graceful stop; a second one, while that
 * stop is still draining, exits at once (130 or 143, as the default action would).
 *
 * @param log where to say so
 * @returns the first signal, and how to stop listening
 * @throws nothing
 * @example
 * ```ts
 * const signals = stopSignals((line) => console.error(line));
 * signals.dispose();
 * ```
 */
export function stopSignals(log: (line: string) => void): StopSignals {
  const first = Promise.withResolvers<Deno.Signal>();
  let seen = false;
  const added: [Deno.Signal, () => void][] = [];
  for (const s of ["SIGINT", "SIGTERM"] as const) {
    const h = () => {
      if (!seen) {
        seen = true;
        first.resolve(s);
        return;
      }
      log(`${s} again: exiting without waiting`);
      Deno.exit(s === "SIGINT" ? 130 : 143);
    };
    try {
      Deno.addSignalListener(s, h);
      added.push([s, h]);
    } catch { /* not on this platform (SIGTERM on Windows) */ }
  }
  return {
    first: first.promise,
    dispose() {
      for (const [s, h] of added) Deno.removeSignalListener(s, h);
    },
  };
}

/**
 * Calls `fn` on SIGINT and SIGTERM, until the returned function is called.
 * @param fn what a stop request does
 * @returns removes the listeners
 * @throws nothing
 * @example
 * ```ts
 * const ac = new AbortController();
 * const unlisten = onStopSignals(() => ac.abort());
 * unlisten();
 * ```
 */
export function onStopSignals(fn: () => void): () => void {
  const added: Deno.Signal[] = [];
  for (const s of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(s, fn);
      added.push(s);
    } catch { /* not on this platform (SIGTERM on Windows) */ }
  }
  return () => {
    for (const s of added) Deno.removeSignalListener(s, fn);
  };
}
