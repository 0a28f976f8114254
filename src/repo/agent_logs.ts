/**
 * Where `baton run` writes each agent's output, and how the CLI and the
 * dashboard find it again: `<logs_dir>/<ticket>-<phase slug>-<agent>.log`.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { repoPath } from "./files.ts";
import { slug } from "./names.ts";

/**
 * The repository's `run.logs_dir`, absolute, links resolved.
 * @param cfg the repository root and its `run.logs_dir`
 * @returns the directory
 * @throws {BatonError} `forbidden` when it leads outside the repository
 */
export function logsDir(cfg: { repoRoot: string; config: { run: { logs_dir: string } } }): string {
  return repoPath(cfg.repoRoot, cfg.config.run.logs_dir);
}

/**
 * A merge batch's log file (the check's output).
 * @param dir the logs directory
 * @param batchId the batch
 * @returns its path
 */
export function mergeLog(dir: string, batchId: number): string {
  return `${dir}/merge-batch-${batchId}.log`;
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
 * Every agent log in the directory, by agent id. A log is named
 * `<ticket>-<phase slug>-<agent id>.log`, and ticket ids, slugs and agent
 * types may all hold hyphens, so the name alone does not say where the agent
 * id starts: the ids the engine knows decide (the longest that ends the
 * name). A log of an agent the engine no longer knows is keyed by its last
 * two segments (`type-1a2b3c`).
 * @param dir the logs directory
 * @param agentIds the agents the engine knows
 * @returns file names by agent id
 */
export function agentLogs(dir: string, agentIds: Iterable<string> = []): Map<string, string> {
  const ids = [...agentIds].sort((a, b) => b.length - a.length);
  const out = new Map<string, string>();
  try {
    for (const f of Deno.readDirSync(dir)) {
      if (!f.isFile || !f.name.endsWith(".log")) continue;
      const stem = f.name.slice(0, -".log".length);
      const agent = ids.find((id) => stem.endsWith(`-${id}`)) ??
        /-([A-Za-z0-9_.]+-[0-9a-f]{6})$/.exec(stem)?.[1];
      if (agent) out.set(agent, f.name);
    }
  } catch { /* no logs yet */ }
  return out;
}

/**
 * Creates the logs directory when missing.
 * @param dir the logs directory (from {@link logsDir})
 */
export function ensureLogsDir(dir: string): void {
  Deno.mkdirSync(dir, { recursive: true });
}

/**
 * Writes one of a session's files beside its log (its prompt, its MCP
 * configuration), readable by its owner only: they carry the claim token.
 * Written under a new name and renamed into place, so a link at the path is
 * replaced, never written through.
 * @param path the file (from {@link logBase})
 * @param text its content
 */
export function writeSessionFile(path: string, text: string): void {
  const tmp = `${path}.${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.new`;
  try {
    Deno.writeTextFileSync(tmp, text, { createNew: true, mode: 0o600 });
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never made, or renamed */ }
    throw e;
  }
}

/**
 * Opens an agent's or a merge batch's log for appending (created when
 * missing). The logs directory was resolved inside the repository; a log in
 * it is Baton's own regular file, never a link to follow (a link to a file
 * outside would have the check's output appended there).
 * @param path the log file (from {@link logBase} or {@link mergeLog})
 * @returns the open file
 * @throws {BatonError} `forbidden` when something other than a regular file (a link) is at the path
 */
export function openLogForAppend(path: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { append: true, createNew: true, mode: 0o600 }); // fails on any entry, a link too
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  return openOwn(path, { append: true });
}

/**
 * An agent log's text from `offset` on, and its size now.
 * @param path the log file
 * @param offset where to start (0: all of it; negative: that many bytes before the end)
 * @returns the text and the size it was read to
 * @throws {BatonError} `forbidden` when the path is a link or not a regular file; `Deno.errors.NotFound` when missing
 */
export function readLogFrom(path: string, offset = 0): { text: string; size: number } {
  const f = openOwn(path, { read: true });
  try {
    const size = f.statSync().size;
    if (offset < 0) offset = Math.max(0, size + offset);
    if (size <= offset) return { text: "", size };
    f.seekSync(offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(size - offset);
    let n = 0;
    while (n < buf.length) {
      const r = f.readSync(buf.subarray(n));
      if (!r) break;
      n += r;
    }
    return { text: new TextDecoder().decode(buf.subarray(0, n)), size: offset + n };
  } finally {
    f.close();
  }
}

/**
 * Opens a file that must be a regular file of its own: `lstat` says so before
 * the open, and the open file is the one `lstat` saw (a link swapped in
 * between is caught by its inode).
 */
function openOwn(path: string, options: Deno.OpenOptions): Deno.FsFile {
  const seen = Deno.lstatSync(path);
  if (!seen.isFile) throw notOwn(path);
  const f = Deno.openSync(path, options);
  const st = f.statSync();
  if (st.ino !== seen.ino || st.dev !== seen.dev) {
    f.close();
    throw notOwn(path);
  }
  return f;
}

function notOwn(path: string): BatonError {
  return new BatonError(
    "forbidden",
    `${path} is a link or not a regular file: Baton reads and writes its logs only as its own files; remove it`,
    { location: { file: path } },
  );
}
