/**
 * Loading a repository's `.workflow/`: `config.yaml` (optional) and
 * `phases.yaml` (required), validated together; every problem in either
 * file is reported in one error.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { readConfig } from "./config_file.ts";
import { readPhases } from "./phases.ts";
import { withLandingPhase } from "./landing.ts";
import { findRepoRoot } from "./repo_root.ts";
import type { WorkflowConfig } from "./schema.ts";
import { Problems } from "./yaml.ts";
import { readRepoTextIfAny } from "../repo/files.ts";

/** The most of a `.workflow/` file Baton reads: far beyond any real workflow, and not 50 MB of YAML per command. */
export const CONFIG_MAX_BYTES = 1 << 20;

/** A `.workflow/` file's text through `repo/files.ts` (null when missing); too large or outside the repository is a problem. */
function readText(repoRoot: string, rel: string, problems: Problems): string | null {
  try {
    return readRepoTextIfAny(repoRoot, rel, CONFIG_MAX_BYTES);
  } catch (e) {
    if (e instanceof BatonError) {
      problems.add(rel, e.message.replace(`${rel} `, ""));
      return null;
    }
    throw e;
  }
}

/**
 * Loads and validates `.workflow/config.yaml` (optional) and
 * `.workflow/phases.yaml` (required) for the repository containing `start`.
 *
 * @param start the repository or any directory inside it
 * @returns the validated configuration
 * @throws {BatonError} `config_not_found`, `config_invalid` (every problem of both files, each located)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWorkflowConfig } from "@baton/baton";
 * import { tempRepo } from "@baton/baton/testing";
 * const repo = await tempRepo({ config: "github:\n  repo: a/b\n" });
 * const cfg = loadWorkflowConfig(repo);
 * assert.deepEqual(cfg.foreignSections, ["github"]);
 * ```
 */
export function loadWorkflowConfig(start: string): WorkflowConfig {
  const repoRoot = findRepoRoot(start);
  const workflowDir = `${repoRoot}/.workflow`;
  const rel = (name: string) => `.workflow/${name}`;
  const problems = new Problems();
  const configText = readText(repoRoot, rel("config.yaml"), problems);
  const { config, foreign } = readConfig(configText ?? "", rel("config.yaml"), problems);
  const phasesText = readText(repoRoot, rel("phases.yaml"), problems);
  if (phasesText === null && !problems.has(rel("phases.yaml"))) {
    problems.add(rel("phases.yaml"), "missing: the workflow's phases are required");
  }
  const read = phasesText === null ? null : readPhases(phasesText, rel("phases.yaml"), problems);
  // With a merge queue, every ticket ends with the landing phase (landing.ts).
  const workflow = read && config
    ? withLandingPhase(read, config, problems, { phases: rel("phases.yaml"), config: rel("config.yaml") })
    : read;
  if (config && workflow) {
    for (const name of Object.keys(config.leases.per_phase)) {
      if (!workflow.phases.some((p) => p.name === name)) {
        problems.add(rel("config.yaml"), `lease for unknown phase "${name}"`, { field: `leases.per_phase.${name}` });
      }
    }
  }
  problems.throwIfAny();
  return { repoRoot, workflowDir, config: config!, workflow: workflow!, foreignSections: foreign };
}
