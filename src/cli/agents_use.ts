/**
 * `baton agents use claude|codex|gemini [--types a,b]` and `baton init
 * --agent NAME`: sends agent types of the workflow to one agent CLI by
 * writing its preset (`agents/presets.ts`): the registry entries in
 * `.workflow/config.yaml`, edited in place so that its comments and every
 * other key stay, and the CLI's own files under `.workflow/agents/`.
 *
 * @module
 */
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap } from "yaml";
import { BatonError } from "../errors.ts";
import { agentPreset, isPresetName, PRESET_NAMES, type PresetEntry } from "../agents/presets.ts";
import { loadWorkflowConfig, parseConfig } from "../config/mod.ts";
import { LANDING_TYPE } from "../config/landing.ts";
import { createRepoFile, readRepoFile } from "../repo/files.ts";
import { encodeLike, replaceIfUnchanged } from "../repo/replace.ts";

const CONFIG = ".workflow/config.yaml";

/** What {@link usePreset} did. */
export interface UseResult {
  /** The preset. */
  preset: string;
  /** The agent types now sent to it. */
  types: string[];
  /**
   * The preset's files: created, already as the preset writes them, merged into the project's own, or kept as the
   * user changed them; `commit`: the agents' worktrees need it committed.
   */
  files: { path: string; status: "created" | "unchanged" | "merged" | "kept"; commit: boolean }[];
  /** How to let the agents run more than git. */
  allowMore: string;
  /** The programs the entries run, which must be on the PATH. */
  needs: string[];
}

/**
 * Sets `agents.registry.<type>` to the preset's entry for each type, in
 * the text of a `config.yaml`. Keys the entry does not set (such as
 * `max_concurrent`) and every comment stay.
 * @param text the file's text ("" for none)
 * @param entry the preset's registry entry
 * @param types the agent types
 * @returns the new text
 * @throws {BatonError} `config_invalid` when the file is not YAML or `agents.registry` is not a map
 */
export function withPresetRegistry(text: string, entry: PresetEntry, types: string[]): string {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new BatonError("config_invalid", `${CONFIG}: ${doc.errors[0].message}`);
  if (doc.contents === null) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  for (const path of [["agents"], ["agents", "registry"]]) {
    const node = doc.getIn(path, true);
    if (node === undefined || node === null || (typeof node === "object" && "value" in node && node.value === null)) {
      doc.setIn(path, doc.createNode({}));
    } else if (!isMap(node)) {
      throw new BatonError("config_invalid", `${CONFIG}: ${path.join(".")} must be a map to hold agent types`);
    }
  }
  for (const type of types) {
    let node = doc.getIn(["agents", "registry", type], true);
    if (!isMap(node)) {
      doc.setIn(["agents", "registry", type], doc.createNode({}));
      node = doc.getIn(["agents", "registry", type], true);
    }
    const map = node as YAMLMap;
    if (map.flow) {
      // `{ max_concurrent: 3 } # a comment` grows into a block; the comment stays with what it was beside.
      map.flow = false;
      const first = map.items[0]?.value;
      if (map.comment && isScalar(first) && !first.comment) {
        first.comment = map.comment;
        map.comment = undefined;
      }
    }
    map.set("command", entry.command);
    const args = doc.createNode(entry.args);
    if (isSeq(args)) args.flow = true;
    map.set("args", args);
    map.set("prompt", entry.prompt);
    if (Object.keys(entry.env).length) map.set("env", doc.createNode(entry.env));
    else map.delete("env");
  }
  // `[a, b]` stays `[a, b]` (the yaml package pads flow collections by default): keys it does not own look as written.
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/**
 * Writes a preset into a repository: the registry entries of the chosen
 * agent types (default: every agent type of the workflow) and the CLI's
 * files. A preset file the user changed is kept, and reported.
 * @param repoDir the repository (or a directory inside it)
 * @param name `claude`, `codex` or `gemini`
 * @param types agent types (default: all of the workflow's)
 * @returns what it did
 * @throws {BatonError} `invalid_argument` for an unknown preset or agent type; `config_invalid` for a broken
 *   configuration (nothing is written); `write_conflict` when config.yaml changed while it was written
 */
export function usePreset(repoDir: string, name: string, types?: string[]): UseResult {
  if (!isPresetName(name)) {
    throw new BatonError("invalid_argument", `No preset for "${name}" (presets: ${PRESET_NAMES.join(", ")})`);
  }
  const preset = agentPreset(name);
  const cfg = loadWorkflowConfig(repoDir);
  const root = cfg.repoRoot;
  // The merge queue's landing phases are its worker's, never an agent's: no registry entry for them.
  const workflowTypes = [
    ...new Set(cfg.workflow.phases.map((p) => p.agentType).filter((t): t is string => !!t && t !== LANDING_TYPE)),
  ];
  const chosen = types?.length ? types : workflowTypes;
  const unknown = chosen.filter((t) => !workflowTypes.includes(t));
  if (unknown.length) {
    throw new BatonError(
      "invalid_argument",
      `Not an agent type of the workflow: ${unknown.join(", ")} (its types: ${workflowTypes.join(", ")})`,
    );
  }
  // Each file is replaced only if it still holds the bytes its new text was made from: a human's save in between
  // is a write_conflict, never overwritten.
  const before = readIfAny(root, CONFIG);
  const after = withPresetRegistry(before?.text ?? "", preset.entry, chosen);
  parseConfig(after, CONFIG); // what is written must load
  if (before === null) createRepoFile(root, CONFIG, after);
  else replaceIfUnchanged(root, CONFIG, before.bytes, encodeLike(before.bytes, after));
  const files = preset.files.map((f): UseResult["files"][number] => {
    const read = readIfAny(root, f.path);
    const current = read?.text ?? null;
    const commit = !!f.commit;
    if (current === null) {
      createRepoFile(root, f.path, f.content);
      return { path: f.path, status: "created", commit };
    }
    if (current === f.content) return { path: f.path, status: "unchanged", commit };
    if (!f.merge) return { path: f.path, status: "kept", commit };
    let mine: unknown;
    try {
      mine = JSON.parse(current);
    } catch (e) {
      throw new BatonError("config_invalid", `${f.path} is not JSON (${(e as Error).message}): fix it or remove it`);
    }
    const merged = JSON.stringify(mergeJson(mine, JSON.parse(f.content)), null, 2) + "\n";
    if (merged === current) return { path: f.path, status: "unchanged", commit };
    replaceIfUnchanged(root, f.path, read!.bytes, encodeLike(read!.bytes, merged));
    return { path: f.path, status: "merged", commit };
  });
  return { preset: name, types: chosen, files, allowMore: preset.allowMore, needs: [preset.entry.command, "baton"] };
}

/**
 * Merges a preset's JSON into a file's: objects key by key, arrays gain the
 * preset's items they lack, anything else takes the preset's value.
 * @param mine the file's value
 * @param preset the preset's
 * @returns the merged value
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeJson } from "./agents_use.ts";
 * assert.deepEqual(mergeJson({ a: 1, l: [1] }, { b: 2, l: [1, 2] }), { a: 1, b: 2, l: [1, 2] });
 * ```
 */
export function mergeJson(mine: unknown, preset: unknown): unknown {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  if (isObj(mine) && isObj(preset)) {
    const out: Record<string, unknown> = { ...mine };
    for (const [k, val] of Object.entries(preset)) out[k] = k in mine ? mergeJson(mine[k], val) : val;
    return out;
  }
  if (Array.isArray(mine) && Array.isArray(preset)) {
    const seen = new Set(mine.map((x) => JSON.stringify(x)));
    return [...mine, ...preset.filter((x) => !seen.has(JSON.stringify(x)))];
  }
  return preset;
}

/**
 * The lines `baton agents use` and `baton init --agent` print.
 * @param r what {@link usePreset} did
 * @returns the text
 */
export function useText(r: UseResult): string {
  const title = agentPreset(r.preset).title;
  const lines = [`${r.types.join(", ")} now run ${title} (${CONFIG})`];
  for (const f of r.files) {
    lines.push(
      f.status === "kept"
        ? `kept ${f.path}: it differs from the preset (remove it and run this again to get the preset's)`
        : `${f.status} ${f.path}`,
    );
  }
  const commit = r.files.filter((f) => f.commit).map((f) => f.path);
  if (commit.length) {
    lines.push(`Commit ${commit.join(", ")}: agents read it in their worktrees, which are checked out from git.`);
  }
  lines.push(
    `baton run needs ${
      r.needs[0]
    }, baton and baton-mcp on the PATH (deno task compile builds dist/baton and dist/baton-mcp).`,
    `The agents may edit files in their worktrees and commit with git; to allow more, ${r.allowMore}.`,
  );
  return lines.join("\n");
}

/** A repository file's bytes and their text, or null when it does not exist. */
function readIfAny(root: string, rel: string): { bytes: Uint8Array; text: string } | null {
  try {
    const bytes = readRepoFile(root, rel);
    return { bytes, text: new TextDecoder().decode(bytes) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}
