/** Signal handling shared by the stdio and HTTP modes. */

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
