/**
 * Following the audit trail as it is written, by this or any other process.
 *
 * @module
 */
import type { Core } from "./core.ts";
import { events } from "./queries.ts";
import { lastAuditId } from "./sql/audit.ts";
import { dataVersion } from "./sql/maintenance.ts";
import type { AuditEntry, WatchOptions } from "./types.ts";

/** Resolves after `ms`, or at once when the signal aborts (the listener is removed either way). */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * `Engine.watch`: polls cheaply. `PRAGMA data_version` tells when another
 * connection committed, and only then are new rows read.
 */
export async function* watch(core: Core, opts: WatchOptions = {}): AsyncGenerator<AuditEntry> {
  let since = opts.since ?? lastAuditId(core.db);
  let version = -1, commits = -1;
  while (!opts.signal?.aborted) {
    // Another connection's commits change data_version; this engine's own (a dashboard's decision) do not.
    const v = dataVersion(core.db);
    if (v !== version || core.commits !== commits) {
      version = v;
      commits = core.commits;
      for (;;) {
        const rows = events(core, { since, ticketId: opts.ticketId, agentId: opts.agentId, limit: 500 });
        for (const r of rows) {
          since = r.id;
          yield r;
        }
        if (rows.length < 500) break;
      }
    }
    await pause(opts.pollMs ?? 100, opts.signal);
  }
}
