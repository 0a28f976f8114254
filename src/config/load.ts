/**
 * Loading a repository's `.workflow/`: `config.yaml` (optional) and
 * `phases.yaml` (required), validated together.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { parseConfig } from "./config_file.ts";
import { parsePhases } from "./phases.ts";
import { findRepoRoot } from "./repo_root.ts";
import type { WorkflowConfig } from "./schema.ts";
import { invalid } from "./yaml.ts";

/**
 * Loads and validates `.workflow/config.yaml` (optional) and
 * `.workflow/phases.yaml` (required) for the repository containing `start`.
 *
 * @param start the repository or any directory inside it
 * @returns the validated configuration
 * @throws {BatonError} `config_not_found`, `config_invalid`
 */
export function loadWorkflowConfig(start: string): WorkflowConfig {
  const repoRoot = findRepoRoot(start);
  const workflowDir = `${repoRoot}/.workflow`;
  const rel = (name: string) => `.workflow/${name}`;
  let configText = "";
  try {
    configText = Deno.readTextFileSync(`${workflowDir}/config.yaml`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const config = parseConfig(configText, rel("config.yaml"));
  let phasesText: string;
  try {
    phasesText = Deno.readTextFileSync(`${workflowDir}/phases.yaml`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new BatonError("config_invalid", `${rel("phases.yaml")}: missing: the workflow's phases are required`, {
        location: { file: rel("phases.yaml") },
      });
    }
    throw e;
  }
  const workflow = parsePhases(phasesText, rel("phases.yaml"));
  for (const name of Object.keys(config.leases.per_phase)) {
    if (!workflow.phases.some((p) => p.name === name)) {
      throw invalid(rel("config.yaml"), `lease for unknown phase "${name}"`, { field: `leases.per_phase.${name}` });
    }
  }
  return { repoRoot, workflowDir, config, workflow };
}
