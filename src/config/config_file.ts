/**
 * `config.yaml`: every key optional, every key does something.
 *
 * @module
 */
import { type BatonConfig, ConfigSchema } from "./schema.ts";
import { invalid, locate, parseYaml, validate } from "./yaml.ts";

/**
 * Validates `config.yaml` text.
 *
 * @param text the YAML (empty means all defaults)
 * @param file path for messages
 * @returns the config with defaults filled in
 * @throws {BatonError} `config_invalid` with file, line and field
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config_file.ts";
 * const c = parseConfig("agents:\n  stale_timeout_minutes: 5\n", ".workflow/config.yaml");
 * assert(c.agents.stale_timeout_minutes === 5 && c.database.journal_mode === "wal");
 * ```
 */
export function parseConfig(text: string, file: string): BatonConfig {
  const parsed = parseYaml(text, file);
  if (parsed.value === null || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
    throw invalid(file, "expected a mapping of settings at the top level", { line: 1 });
  }
  const config = validate(ConfigSchema, parsed, file);
  try {
    new RegExp(config.tickets.id_regex);
  } catch (e) {
    const loc = locate(parsed.doc, parsed.lc, ["tickets", "id_regex"]);
    throw invalid(file, `not a valid regular expression: ${(e as Error).message}`, {
      ...loc,
      field: "tickets.id_regex",
    });
  }
  return config;
}
