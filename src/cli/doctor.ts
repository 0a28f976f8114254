/**
 * `baton doctor`: the configuration, then the database's own checks.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import type { HealthCheck } from "../engine/types.ts";

/**
 * Runs every check; never throws for a failed check.
 * @param repoDir the repository
 * @returns the checks, in order
 */
export async function doctor(repoDir: string): Promise<{ checks: HealthCheck[] }> {
  const checks: HealthCheck[] = [];
  const { loadWorkflowConfig } = await import("../config/load.ts");
  let cfg;
  try {
    cfg = loadWorkflowConfig(repoDir);
    checks.push({ name: "config", ok: true, detail: `${cfg.workflow.phases.length} phases, .workflow/ is valid` });
    if (cfg.foreignSections.length) {
      checks.push({
        name: "config sections",
        ok: true,
        detail: `not Baton's (other tools' settings, ignored): ${cfg.foreignSections.join(", ")}`,
      });
    }
  } catch (e) {
    checks.push({ name: "config", ok: false, detail: (e as Error).message });
    return { checks };
  }
  const { openEngine } = await import("../engine/mod.ts");
  let engine;
  try {
    engine = await openEngine(repoDir);
  } catch (e) {
    checks.push({
      name: "database",
      ok: false,
      detail: e instanceof BatonError ? `${e.code}: ${e.message}` : String(e),
    });
    return { checks };
  }
  try {
    checks.push(...engine.healthChecks());
    checks.push(await ticketFileCheck(engine));
  } finally {
    engine.close();
  }
  return { checks };
}

/** Two ticket files with one id: neither is imported. */
async function ticketFileCheck(engine: Engine): Promise<HealthCheck> {
  const { listTicketFiles } = await import("../sync/files.ts");
  const { ticketIdFromPath } = await import("../markdown/ids.ts");
  const byId = new Map<string, string[]>();
  for (const p of listTicketFiles(engine)) {
    const id = ticketIdFromPath(p, engine.cfg.config.tickets.id_regex);
    if (id) byId.set(id, [...(byId.get(id) ?? []), p]);
  }
  const dups = [...byId].filter(([, paths]) => paths.length > 1);
  return {
    name: "ticket files",
    ok: dups.length === 0,
    detail: dups.length
      ? dups.map(([id, paths]) => `id ${id} is used by ${paths.join(" and ")} (neither is imported)`).join("; ")
      : `${byId.size} ticket file(s), every id used once`,
  };
}
