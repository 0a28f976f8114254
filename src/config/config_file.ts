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
  return /^(?:strict_|loose_)?object$/.test(s?.type ?? "") && s.entries ? s.entries : null;
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

/** Every path `config.yaml` names, as written (before validation, so that they are checked even when
 * something else in the file is wrong). */
function configPaths(raw: Record<string, unknown>): { field: (string | number)[]; value: string }[] {
  const section = (k: string) => (raw[k] && typeof raw[k] === "object" ? raw[k] as Record<string, unknown> : {});
  const out: { field: (string | number)[]; value: string }[] = [];
  const one = (s: string, k: string) => {
    const v = section(s)[k];
    if (typeof v === "string") out.push({ field: [s, k], value: v });
  };
  one("database", "path");
  one("tickets", "directory");
  one("run", "worktree_dir");
  one("run", "logs_dir");
  const always = section("context").always_include;
  if (Array.isArray(always)) {
    always.forEach((value, i) =>
      typeof value === "string" && out.push({ field: ["context", "always_include", i], value })
    );
  }
  return out;
}

/** Checks what the schema cannot: paths inside the repository, a valid id regex. */
function checkConfig(raw: Record<string, unknown>, parsed: ParsedYaml, file: string, problems: Problems): void {
  for (const { field, value } of configPaths(raw)) {
    if (!staysInside(value)) {
      problems.add(file, `"${value}" leaves the repository: paths here are relative to it and stay inside it`, {
        ...locate(parsed.doc, parsed.lc, field),
        field: fieldPath(field),
      });
    }
  }
  const idRegex = (raw.tickets as Record<string, unknown> | undefined)?.id_regex;
  if (typeof idRegex !== "string") return;
  try {
    new RegExp(idRegex);
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
  const before = problems.list.length;
  const out = validate(ConfigSchema, { ...parsed, value }, file, problems);
  checkConfig(value, parsed, file, problems);
  if (!out || problems.list.length > before) return { config: null, foreign };
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
  return { config, foreign };
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
