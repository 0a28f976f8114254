/**
 * Loading `.workflow/` fast: the validated configuration is cached in the
 * user's cache directory, keyed by the exact text of both files, so that a
 * command like `baton status` skips loading the YAML parser and the
 * validator (~35 ms) whenever the files have not changed. A cache that cannot
 * be read or written is simply not used.
 *
 * This module never names the full loader (`load.ts`, which brings the YAML
 * parser and the validator): its caller passes it in, so that the CLI and the
 * MCP server can keep it out of Deno's start-up module walk (`load_late.ts`)
 * while the library keeps a literal import of it (`load_cached.ts`).
 *
 * @module
 */
import { readRepoTextIfAny } from "../repo/files.ts";
import { findRepoRoot } from "./repo_root.ts";
import { CONFIG_FORMAT } from "./defaults.ts";
import type { WorkflowConfig } from "./schema.ts";

function cacheFile(repoRoot: string): string | null {
  const base = Deno.env.get("XDG_CACHE_HOME") ?? (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.cache` : null);
  if (!base) return null;
  let h = 0x811c9dc5;
  for (let i = 0; i < repoRoot.length; i++) h = Math.imul(h ^ repoRoot.charCodeAt(i), 0x01000193) >>> 0;
  return `${base}/baton/config-${h.toString(16).padStart(8, "0")}.json`;
}

/** A `.workflow/` file through `repo/files.ts`; anything unusual (too large, leads out) is left to the full load to report. */
function read(repoRoot: string, rel: string): string | null | undefined {
  try {
    return readRepoTextIfAny(repoRoot, rel, 1 << 20);
  } catch {
    return undefined;
  }
}

/**
 * The text of both `.workflow/` files as one string (null for a file that cannot be read): what a long-running
 * process compares to see whether the configuration it loaded is still the repository's.
 * @param repoRoot the repository's root
 * @returns both files' text
 */
export function workflowFilesText(repoRoot: string): string {
  return `${read(repoRoot, ".workflow/config.yaml")}\0${read(repoRoot, ".workflow/phases.yaml")}`;
}

/** Imports the full loader of `.workflow/` (`load.ts`'s `loadWorkflowConfig`), for a cache miss. */
export type FullConfigLoader = () => Promise<(repoRoot: string) => WorkflowConfig>;

/**
 * Like `loadWorkflowConfig`, through the cache.
 *
 * @param start the repository or any directory inside it
 * @param loadFull imports the full loader, called only when the cache misses
 * @returns the validated configuration
 * @throws {BatonError} `config_not_found`, `config_invalid`
 */
export async function loadWorkflowConfigCachedWith(start: string, loadFull: FullConfigLoader): Promise<WorkflowConfig> {
  const repoRoot = findRepoRoot(start);
  const configText = read(repoRoot, ".workflow/config.yaml");
  const phasesText = read(repoRoot, ".workflow/phases.yaml");
  const file = cacheFile(repoRoot);
  if (file && typeof phasesText === "string" && configText !== undefined) {
    try {
      const c = JSON.parse(Deno.readTextFileSync(file));
      if (
        c.format === CONFIG_FORMAT && c.repoRoot === repoRoot && c.config === configText && c.phases === phasesText
      ) {
        return c.result as WorkflowConfig;
      }
    } catch { /* no cache, or unreadable: parse */ }
  }
  const result = (await loadFull())(repoRoot);
  if (file && configText !== undefined && phasesText !== undefined) {
    try {
      Deno.mkdirSync(file.slice(0, file.lastIndexOf("/")), { recursive: true });
      const tmp = `${file}.${Deno.pid}.tmp`;
      Deno.writeTextFileSync(
        tmp,
        JSON.stringify({ format: CONFIG_FORMAT, repoRoot, config: configText, phases: phasesText, result }),
      );
      Deno.renameSync(tmp, file);
    } catch { /* a cache is optional */ }
  }
  return result;
}
