/**
 * YAML with locations: parsing that keeps line numbers, and validation
 * errors that say file, line and field.
 *
 * @module
 */
import * as v from "valibot";
import { type Document, LineCounter, parseDocument } from "yaml";
import { BatonError, type ErrorLocation } from "../errors.ts";

/** A parsed YAML document with its line counter. */
export interface ParsedYaml {
  /** The document (for locating nodes). */
  doc: Document;
  /** Offsets to lines. */
  lc: LineCounter;
  /** The plain value. */
  value: unknown;
}

/** A `config_invalid` error at a place in a file. */
export function invalid(file: string, message: string, loc: Omit<ErrorLocation, "file"> = {}): BatonError {
  const where = `${file}${loc.line ? `:${loc.line}` : ""}${loc.field ? ` (${loc.field})` : ""}`;
  return new BatonError("config_invalid", `${where}: ${message}`, { location: { file, ...loc } });
}

/** Parses YAML, keeping what is needed to point at lines. */
export function parseYaml(text: string, file: string): ParsedYaml {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lc.linePos(e.pos[0]);
    throw invalid(file, `not valid YAML: ${e.message.split("\n")[0]}`, { line: pos.line, column: pos.col });
  }
  const value = doc.toJS() ?? {};
  return { doc, lc, value };
}

/** The line and column of a path in a parsed document (its nearest existing parent when missing). */
export function locate(doc: Document, lc: LineCounter, path: (string | number)[]): { line?: number; column?: number } {
  for (let n = path.length; n >= 0; n--) {
    // deno-lint-ignore no-explicit-any
    const node = doc.getIn(path.slice(0, n), true) as any;
    if (node && Array.isArray(node.range)) {
      const pos = lc.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
    if (n === path.length && n > 0) {
      // A missing key: point at its parent mapping.
      continue;
    }
  }
  return {};
}

/** Validates a parsed document against a schema; the first issue becomes a located error. */
export function validate<S extends v.GenericSchema>(
  schema: S,
  parsed: ParsedYaml,
  file: string,
): v.InferOutput<S> {
  const r = v.safeParse(schema, parsed.value, { abortPipeEarly: true });
  if (r.success) return r.output;
  const issue = r.issues[0];
  // deno-lint-ignore no-explicit-any
  const path = (issue.path ?? []).map((p: any) => p.key as string | number);
  const field = path.join(".");
  const loc = locate(parsed.doc, parsed.lc, path);
  let message = issue.message;
  if (issue.type === "strict_object" && issue.input !== undefined) {
    message = `unknown key "${path.at(-1)}"`;
  } else if (issue.type === "union" && issue.issues?.length) {
    message = `${issue.message}; expected one of the documented forms`;
  }
  return (() => {
    throw invalid(file, message, { ...loc, field });
  })();
}
