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
import { gitRun } from "../repo/git.ts";

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
    committedRepoFile: (path: string) => {
      const r = gitRun(cfg.repoRoot, ["show", `HEAD:${path}`], { raw: true });
      return r.ok ? r.stdout : null;
    },
  };
  const registry = cfg.config.agents.registry;
  const workflowTypes = [...new Set(cfg.workflow.phases.map((p) => p.agentType).filter((t): t is string => !!t))];
  const fallbacks = new Set(Object.values(registry).map((e) => e.fallback).filter(Boolean));
  // An entry no phase of the workflow asks for (nor another entry's fallback) is never run: a typo, most likely.
  const unused: HealthCheck[] = Object.keys(registry).filter((t) => !workflowTypes.includes(t) && !fallbacks.has(t))
    .map((type) => {
      const suggestion = nearest(type, workflowTypes);
      return {
        name: `agent ${type}`,
        ok: false,
        detail: `agents.registry.${type} is no phase's agent type (the workflow's: ${workflowTypes.join(", ")})` +
          (suggestion ? `; did you mean ${suggestion}?` : "") + ": baton run never runs it",
      };
    });
  return [
    ...Object.entries(registry).filter(([, entry]) => entry.command).map(([type, entry]) => {
      const found = checkAgentEntry(entry, env);
      return {
        name: `agent ${type}`,
        ok: !found.some((f) => f.level === "error"),
        detail: found.length
          ? found.map((f) => `${f.level}: ${f.message}`).join("; ")
          : `${entry.command} ${entry.args.join(" ")}`.trim(),
      };
    }),
    ...unused,
  ];
}

/** The name among `names` within two edits of `name` (a typo's likely meaning), if one is. */
function nearest(name: string, names: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const cur = [i];
      for (let j = 1; j <= b.length; j++) {
        cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
      prev = cur;
    }
    return prev[b.length];
  };
  return names.map((n) => ({ n, d: distance(name, n) })).filter((x) => x.d <= 2).sort((x, y) => x.d - y.d)[0]?.n;
}
