/**
 * `baton doctor`'s checks of `agents.registry`: each entry with a command
 * exists, and an entry for a known CLI runs headless with Baton's tools
 * (`agents/registry_check.ts`).
 *
 * @module
 */
import type { HealthCheck } from "../engine/types.ts";
import type { WorkflowConfig } from "../config/schema.ts";
import { checkAgentEntry, whichCommand } from "../agents/registry_check.ts";
import { readRepoText } from "../repo/files.ts";

/**
 * Each registry entry with a command: it exists, and a known CLI runs headless with Baton's tools.
 * @param cfg the loaded configuration
 * @returns one check per entry with a command
 */
export function registryChecks(cfg: WorkflowConfig): HealthCheck[] {
  const env = {
    which: (c: string) => whichCommand(c),
    readRepoFile: (path: string) => {
      try {
        return readRepoText(cfg.repoRoot, path);
      } catch {
        return null;
      }
    },
  };
  return Object.entries(cfg.config.agents.registry).filter(([, entry]) => entry.command).map(([type, entry]) => {
    const found = checkAgentEntry(entry, env);
    return {
      name: `agent ${type}`,
      ok: !found.some((f) => f.level === "error"),
      detail: found.length
        ? found.map((f) => `${f.level}: ${f.message}`).join("; ")
        : `${entry.command} ${entry.args.join(" ")}`.trim(),
    };
  });
}
