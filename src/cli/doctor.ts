/** `baton doctor`: configuration, database integrity, WAL size, orphaned declarations. */
import { BatonError } from "../errors.ts";

/** One check's outcome. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * Runs every check; never throws for a failed check.
 * @param repoDir the repository
 * @returns the checks
 */
export async function doctor(repoDir: string): Promise<{ checks: Check[] }> {
  const checks: Check[] = [];
  const { loadWorkflowConfig } = await import("../config.ts");
  let cfg;
  try {
    cfg = loadWorkflowConfig(repoDir);
    checks.push({ name: "config", ok: true, detail: `${cfg.workflow.phases.length} phases, .workflow/ is valid` });
  } catch (e) {
    checks.push({ name: "config", ok: false, detail: (e as Error).message });
    return { checks };
  }
  const { openEngine } = await import("../engine.ts");
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
    const integrity = engine.db.integrityCheck();
    checks.push({ name: "integrity", ok: integrity === "ok", detail: integrity });
    const version = engine.db.get<{ user_version: number }>("PRAGMA user_version")!.user_version;
    checks.push({ name: "schema", ok: true, detail: `version ${version}` });
    let wal = 0;
    try {
      wal = Deno.statSync(`${engine.db.path}-wal`).size;
    } catch { /* no WAL */ }
    const limit = 64 * 1024 * 1024;
    checks.push({
      name: "wal",
      ok: wal < limit,
      detail: `${(wal / 1024 / 1024).toFixed(1)} MB${
        wal >= limit ? " (run 'baton sweep' and check for long readers)" : ""
      }`,
    });
    const orphaned = engine.db.all<{ id: number; pattern: string; agent_id: string }>(
      `SELECT d.id, d.pattern, d.agent_id FROM file_declarations d JOIN phases p ON p.id = d.phase_id
       WHERE d.released_at IS NULL AND p.status NOT IN ('claimed', 'running')`,
    );
    checks.push({
      name: "declarations",
      ok: orphaned.length === 0,
      detail: orphaned.length
        ? `${orphaned.length} declaration(s) of phases no longer held: ${
          orphaned.map((o) => `${o.pattern} (${o.agent_id})`).join(", ")
        }`
        : "no orphaned file declarations",
    });
    const stale = engine.db.get<{ n: number }>(
      "SELECT count(*) AS n FROM phases WHERE status IN ('claimed', 'running') AND lease_expires_at < ?",
      [engine.now()],
    )!.n;
    checks.push({
      name: "leases",
      ok: stale === 0,
      detail: stale ? `${stale} claim(s) past their lease (run 'baton sweep')` : "no expired leases",
    });
  } finally {
    engine.close();
  }
  return { checks };
}
