/**
 * Ticket templates: `{{name}}` placeholders filled once.
 *
 * @module
 */
import { escapeLineStart } from "./escape.ts";

/**
 * Fills `{{name}}` placeholders (spaces inside the braces allowed, names of
 * letters, digits, `_`, `-` and `.`). Unknown placeholders are left as
 * written, and values are inserted as-is, once (a value containing `{{x}}` is
 * not expanded again), except that a value starting a line is escaped where
 * it would open a block there (`escape.ts`). Single braces are not placeholders: ticket templates
 * use `{Your comments on the design}` as instructions to humans.
 *
 * @param template the template text
 * @param values placeholder name → value
 * @returns the filled text
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderTemplate } from "./template.ts";
 * assert(renderTemplate("# Ticket {{id}}: {{ title }} {{other}} {kept}", { id: "0090", title: "Cache" }) ===
 *   "# Ticket 0090: Cache {{other}} {kept}");
 * ```
 */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(
    /\{\{\s*([\w.-]+)\s*\}\}/g,
    (whole, name: string, at: number) => {
      if (!Object.hasOwn(values, name)) return whole;
      // A value that starts a line could open a block there (a heading, a checkbox): it stays text.
      const lineStart = template.lastIndexOf("\n", at - 1) + 1;
      return /^[ \t]*$/.test(template.slice(lineStart, at)) ? escapeLineStart(values[name]) : values[name];
    },
  );
}
