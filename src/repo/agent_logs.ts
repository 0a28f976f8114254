/**
 * Where `baton run` writes each agent's output, and how the CLI and the
 * dashboard find it again: `<logs_dir>/<ticket>-<phase slug>-<agent>.log`.
 *
 * @module
 */
import { slug } from "./names.ts";

/**
 * The repository's `run.logs_dir`, absolute.
 * @param cfg the repository root and its `run.logs_dir`
 * @returns the directory
 */
export function logsDir(cfg: { repoRoot: string; config: { run: { logs_dir: string } } }): string {
  const d = cfg.config.run.logs_dir;
  return d.startsWith("/") ? d : `${cfg.repoRoot}/${d}`;
}

/**
 * An agent's log files without their extension (`.log`, `.prompt.md`, `.mcp.json` follow).
 * @param dir the logs directory
 * @param ticket the ticket
 * @param phase the phase name
 * @param agentId the agent
 * @returns the path
 */
export function logBase(dir: string, ticket: string, phase: string, agentId: string): string {
  return `${dir}/${ticket}-${slug(phase)}-${agentId}`;
}

/**
 * The log files of a phase's agents, oldest first.
 * @param dir the logs directory
 * @param ticket the ticket
 * @param phase the phase name
 * @returns their paths
 */
export function phaseLogs(dir: string, ticket: string, phase: string): string[] {
  const prefix = `${ticket}-${slug(phase)}-`;
  const out: { path: string; mtime: number }[] = [];
  try {
    for (const f of Deno.readDirSync(dir)) {
      if (f.isFile && f.name.startsWith(prefix) && f.name.endsWith(".log")) {
        const path = `${dir}/${f.name}`;
        out.push({ path, mtime: Deno.statSync(path).mtime?.getTime() ?? 0 });
      }
    }
  } catch { /* no logs yet */ }
  return out.sort((a, b) => a.mtime - b.mtime).map((x) => x.path);
}

/**
 * Every agent log in the directory, by agent id.
 * @param dir the logs directory
 * @returns file names by agent id
 */
export function agentLogs(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    for (const f of Deno.readDirSync(dir)) {
      const agent = f.isFile ? /-([A-Za-z0-9_.-]+-[0-9a-f]{6})\.log$/.exec(f.name)?.[1] : undefined;
      if (agent) out.set(agent, f.name);
    }
  } catch { /* no logs yet */ }
  return out;
}
