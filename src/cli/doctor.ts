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
  const { openEngineWithoutWriteBack } = await import("../engine/mod.ts");
  let engine;
  try {
    engine = await openEngineWithoutWriteBack(repoDir);
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

/** Two ticket files with one id: neither is imported (the import's own rule, `indexTicketFiles`). */
async function ticketFileCheck(engine: Engine): Promise<HealthCheck> {
  const { indexTicketFiles } = await import("../sync/files.ts");
  const { byId, duplicates } = indexTicketFiles(engine);
  return {
    name: "ticket files",
    ok: duplicates.length === 0,
    detail: duplicates.length
      ? duplicates.map((d) => `id ${d.id} is used by ${d.paths.join(" and ")} (neither is imported)`).join("; ")
      : `${byId.size} ticket file(s), every id used once`,
  };
}
