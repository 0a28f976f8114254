/**
 * `baton doctor`: the configuration, then the database's own checks.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
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
  } finally {
    engine.close();
  }
  return { checks };
}
