/**
 * Realtime write-back: after each commit that changed phases, the tickets
 * concerned are written back to their markdown, the parts whose timing is
 * `realtime` (`markdown_sync.mode`, or `status_update` and
 * `workflow_log_update` each). Runs after the outermost commit, never inside
 * a transaction.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import { syncTicket } from "./write_back.ts";

/**
 * The after-commit hook that writes the changed tickets back.
 * @param engine the engine (its configuration says what to write)
 * @returns the hook: ticket ids → files written (errors and warnings are reported on stderr)
 */
export function realtimeWriteBack(engine: Engine): (ticketIds: string[]) => void {
  const ms = engine.cfg.config.markdown_sync;
  const parts = { status: ms.status_update === "realtime", log: ms.workflow_log_update === "realtime" };
  return (ids) => {
    const files = new Map(engine.ticketFiles(ids).filter((t) => t.path !== null).map((t) => [t.id, t]));
    for (const id of ids) {
      const file = files.get(id);
      if (!file) continue;
      try {
        // Said where the write happened (the CLI's human, an agent's server log), once: baton sync says it again.
        const said = JSON.stringify((file.ledger as { warnings?: unknown } | null)?.warnings ?? []);
        const { warnings } = syncTicket(engine, id, parts);
        if (JSON.stringify(warnings) === said) continue;
        for (const w of warnings) console.error(`warning: ${w.path}: ${w.message}`);
      } catch (e) {
        console.error(`warning: writing ticket ${id} back to markdown failed: ${(e as Error).message}`);
      }
    }
  };
}
