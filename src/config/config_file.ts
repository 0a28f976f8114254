/**
 * `config.yaml`: every key optional, every key does something. The file is
 * often shared with other tools: top-level sections that are not Baton's
 * are ignored (and listed, for `baton doctor`); inside Baton's sections an
 * unknown key is an error, with a "did you mean" when one is close. An empty
 * section means its defaults.
 *
 * @module
 */
import { type BatonConfig, ConfigSchema, type Timing } from "./schema.ts";
import { fieldPath, locate, type ParsedYaml, parseYaml, Problems, validate } from "./yaml.ts";

/** What {@link readConfig} found: the config, and the sections left to other tools. */
export interface ReadConfig {
  /** The config with every default filled in (null when there were problems). */
  config: BatonConfig | null;
  /** Top-level sections that are not Baton's. */
  foreign: string[];
}

/** The object schema under optional/nullable wrappers, or null when it is not one (records, scalars). */
function objectEntries(schema: unknown): Record<string, unknown> | null {
  let s = schema as { type?: string; wrapped?: unknown; entries?: Record<string, unknown> };
  while (s && (s.type === "optional" || s.type === "nullable" || s.type === "nullish")) s = s.wrapped as typeof s;
  return s?.type === "object" && s.entries ? s.entries : null;
}

/**
 * Drops null values where the schema expects a section or a nested mapping, so that `key:` alone means
 * its defaults. Values inside records (`status_map: {Draft: null}`) keep their null.
 */
function emptyMeansDefaults(value: Record<string, unknown>, entries: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(value)) {
    const sub = objectEntries(entries[k]);
    if (!sub) continue;
    if (v === null) delete value[k];
    else if (typeof v === "object" && !Array.isArray(v)) emptyMeansDefaults(v as Record<string, unknown>, sub);
  }
}

/**
 * Whether a configured path stays inside the repository: relative, and no
 * `..` that climbs above the root.
 * @param p the path as written
 * @returns true when it stays inside
 */
export function staysInside(p: string): boolean {
  if (/^(?:[/\\~]|[A-Za-z]:)/.test(p)) return false;
  let depth = 0;
  for (const seg of p.split(/[/\\]+/)) {
    if (seg === "..") depth--;
    else if (seg !== "." && seg !== "") depth++;
    if (depth < 0) return false;
  }
  return true;
}

/** Every path `config.yaml` names, with where it is written. */
function configPaths(c: BatonConfig): { field: (string | number)[]; value: string }[] {
  return [
    { field: ["database", "path"], value: c.database.path },
    { field: ["tickets", "directory"], value: c.tickets.directory },
    ...c.context.always_include.map((value, i) => ({ field: ["context", "always_include", i], value })),
  ];
}

/** Checks what the schema cannot: paths inside the repository, a valid id regex. */
function checkConfig(c: BatonConfig, parsed: ParsedYaml, file: string, problems: Problems): void {
  for (const { field, value } of configPaths(c)) {
    if (!staysInside(value)) {
      problems.add(file, `"${value}" leaves the repository: paths here are relative to it and stay inside it`, {
        ...locate(parsed.doc, parsed.lc, field),
        field: fieldPath(field),
      });
    }
  }
  try {
    new RegExp(c.tickets.id_regex);
  } catch (e) {
    problems.add(file, `not a valid regular expression: ${(e as Error).message}`, {
      ...locate(parsed.doc, parsed.lc, ["tickets", "id_regex"]),
      field: "tickets.id_regex",
    });
  }
}

/**
 * Reads `config.yaml` text, recording every problem.
 * @param text the YAML (empty means all defaults)
 * @param file path for messages
 * @param problems where problems go
 * @returns the config (null when there were problems) and the foreign sections
 */
export function readConfig(text: string, file: string, problems: Problems): ReadConfig {
  const parsed = parseYaml(text, file, problems);
  if (!parsed) return { config: null, foreign: [] };
  if (parsed.value === null || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
    problems.add(file, "expected a mapping of settings at the top level", { line: 1 });
    return { config: null, foreign: [] };
  }
  const value = { ...(parsed.value as Record<string, unknown>) };
  const foreign = Object.keys(value).filter((k) => !(k in ConfigSchema.entries));
  for (const k of foreign) delete value[k];
  emptyMeansDefaults(value, ConfigSchema.entries);
  const out = validate(ConfigSchema, { ...parsed, value }, file, problems);
  if (!out) return { config: null, foreign };
  const ms = out.markdown_sync;
  const part = (explicit: Timing | undefined, write: boolean): Timing => explicit ?? (write ? ms.mode : "off");
  const config: BatonConfig = {
    ...out,
    markdown_sync: {
      mode: ms.mode,
      status_update: part(ms.status_update, ms.write_status),
      workflow_log_update: part(ms.workflow_log_update, ms.write_workflow_log),
    },
  };
  const before = problems.list.length;
  checkConfig(config, parsed, file, problems);
  return { config: problems.list.length > before ? null : config, foreign };
}

/**
 * Validates `config.yaml` text.
 *
 * @param text the YAML (empty means all defaults)
 * @param file path for messages
 * @returns the config with defaults filled in
 * @throws {BatonError} `config_invalid` listing every problem, each with file, line, column and field
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "@baton/baton";
 * const c = parseConfig("agents:\n  stale_timeout_minutes: 5\ngithub:\n  repo: a/b\n", ".workflow/config.yaml");
 * assert(c.agents.stale_timeout_minutes === 5 && c.database.journal_mode === "wal");
 * assert.throws(() => parseConfig("agents:\n  stale_timeout_minute: 5\n", ".workflow/config.yaml"), /did you mean/);
 * ```
 */
export function parseConfig(text: string, file: string): BatonConfig {
  const problems = new Problems();
  const { config } = readConfig(text, file, problems);
  problems.throwIfAny();
  return config!;
}
