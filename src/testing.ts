/**
 * Helpers for tests and examples: a throw-away repository with a
 * `.workflow/`, and optionally some tickets.
 *
 * @module
 */

/** The workflow of {@link tempRepo} when none is given: design, a human review, implementation. */
export const EXAMPLE_WORKFLOW: string = `phases:
  - {name: Design, agent_type: designer}
  - {name: Design Review, agent_type: null}
  - {name: Implementation, agent_type: implementer}
`;

/** What {@link tempRepo} writes. */
export interface TempRepoOptions {
  /** `.workflow/phases.yaml` (default {@link EXAMPLE_WORKFLOW}). */
  phases?: string;
  /** `.workflow/config.yaml` (default: none, every setting at its default). */
  config?: string;
  /** Files to write, path (repository-relative) → content, e.g. ticket markdown. */
  files?: Record<string, string>;
}

/**
 * Creates a repository in a new temporary directory.
 *
 * @param opts the workflow, the config, and other files
 * @returns the repository's absolute path
 * @throws {Deno.errors.PermissionDenied} without write permission to the temp directory
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tempRepo } from "./testing.ts";
 * const repo = await tempRepo({ files: { "tickets/0001_a.md": "# Ticket 0001: A\n" } });
 * assert(Deno.statSync(`${repo}/.workflow/phases.yaml`).isFile);
 * ```
 */
export async function tempRepo(opts: TempRepoOptions = {}): Promise<string> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "baton-repo-" }));
  await Deno.mkdir(`${dir}/.workflow`);
  await Deno.writeTextFile(`${dir}/.workflow/phases.yaml`, opts.phases ?? EXAMPLE_WORKFLOW);
  if (opts.config !== undefined) await Deno.writeTextFile(`${dir}/.workflow/config.yaml`, opts.config);
  for (const [path, text] of Object.entries(opts.files ?? {})) {
    const full = `${dir}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
  return dir;
}
