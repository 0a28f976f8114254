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
  checks.push(...(await import("./doctor_agents.ts")).registryChecks(cfg));
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

/**
 * The ticket files: two with one id (neither is imported, the import's own
 * rule, `indexTicketFiles`), empty ones, and what an interrupted write left
 * behind (`*.baton-new-*`, `*.baton-old-*`; `*.baton-conflict-*` keeps a
 * human's edit that crossed a write-back).
 */
async function ticketFileCheck(engine: Engine): Promise<HealthCheck> {
  const { indexTicketFiles } = await import("../sync/files.ts");
  const { listRepoFiles, readRepoFile } = await import("../repo/files.ts");
  const { byId, duplicates } = indexTicketFiles(engine);
  const problems = duplicates.map((d) => `id ${d.id} is used by ${d.paths.join(" and ")} (neither is imported)`);
  const root = engine.cfg.repoRoot;
  for (const path of listRepoFiles(root, engine.cfg.config.tickets.directory)) {
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (/\.baton-(?:new|old)-\d+/.test(name)) problems.push(`${path} was left by an interrupted write: remove it`);
    else if (/\.baton-conflict-\d+$/.test(name)) {
      problems.push(`${path} keeps an edit made while Baton wrote the file back: merge it, then remove it`);
    } else if (name.endsWith(".md")) {
      try {
        if (readRepoFile(root, path).length === 0) problems.push(`${path} is empty: a ticket needs at least its title`);
      } catch { /* unreadable: import reports it */ }
    }
  }
  return {
    name: "ticket files",
    ok: problems.length === 0,
    detail: problems.length ? problems.join("; ") : `${byId.size} ticket file(s), every id used once`,
  };
}
