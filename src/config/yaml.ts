/**
 * YAML with locations: parsing that keeps line numbers, validation that
 * reports every problem (not just the first) with its file, line, column
 * and field, and "did you mean" for a misspelt key.
 *
 * @module
 */
import * as v from "valibot";
import { type Document, isAlias, LineCounter, parseDocument, visit } from "yaml";
import { BatonError, type ErrorLocation, formatLocation } from "../errors.ts";

/** A parsed YAML document with its line counter. */
export interface ParsedYaml {
  /** The document (for locating nodes). */
  doc: Document;
  /** Offsets to lines. */
  lc: LineCounter;
  /** The plain value. */
  value: unknown;
}

/** One problem in a configuration file. */
export interface ConfigProblem extends ErrorLocation {
  /** The file, repository-relative. */
  file: string;
  /** What is wrong, and what is expected. */
  message: string;
}

/** The problems found in `.workflow/`, reported together. */
export class Problems {
  /** Every problem so far, in the order found. */
  readonly list: ConfigProblem[] = [];

  /** Records a problem at a place in a file. */
  add(file: string, message: string, loc: Omit<ErrorLocation, "file"> = {}): void {
    this.list.push({ file, ...loc, message });
  }

  /** Whether a problem was recorded in a file. */
  has(file: string): boolean {
    return this.list.some((p) => p.file === file);
  }

  /**
   * Throws one `config_invalid` error listing every problem (its location is
   * the first one's; `details.problems` has them all), when there is any.
   */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const line = (p: ConfigProblem) => `${formatLocation(p)}: ${p.message}`;
    const files = [...new Set(this.list.map((p) => p.file))];
    const message = this.list.length === 1
      ? line(this.list[0])
      : `${this.list.length} problems in ${files.join(" and ")}:\n${this.list.map((p) => `  ${line(p)}`).join("\n")}`;
    const { message: _m, ...first } = this.list[0];
    throw new BatonError("config_invalid", message, { location: first, details: { problems: this.list } });
  }
}

/** Aliases a document may expand before it is refused as a resource exhaustion attack ("billion laughs"). */
const MAX_ALIASES = 100;

/** Parses YAML, keeping what is needed to point at lines; problems are recorded, and null returned. */
export function parseYaml(text: string, file: string, problems: Problems): ParsedYaml | null {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lc.linePos(e.pos[0]);
      problems.add(file, `not valid YAML: ${e.message.split("\n")[0]}`, { line: pos.line, column: pos.col });
    }
    return null;
  }
  try {
    const value = doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {};
    return { doc, lc, value };
  } catch (e) {
    let at: { line?: number; column?: number } = {};
    visit(doc, {
      Alias(_k, node) {
        if (isAlias(node) && node.range) {
          const pos = lc.linePos(node.range[0]);
          at = { line: pos.line, column: pos.col };
          return visit.BREAK;
        }
      },
    });
    problems.add(
      file,
      `refused: its aliases expand too far (over ${MAX_ALIASES}), which only a resource-exhaustion attack needs (${
        (e as Error).message
      })`,
      at,
    );
    return null;
  }
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
  }
  return {};
}

/** A path as people read it: `phases[3].reviews`, `markdown_sync.status_update`. */
export function fieldPath(path: readonly (string | number)[]): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");
}

/** Edit distance of two short strings (for "did you mean"). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/**
 * The known key closest to a misspelt one, when it is close enough to be
 * what was meant.
 * @param key the unknown key
 * @param known the keys allowed there
 * @returns the suggestion, or undefined
 */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const k = key.toLowerCase().replace(/-/g, "_");
  for (const c of known) {
    if (c === key) continue;
    const d = distance(k, c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

// deno-lint-ignore no-explicit-any
type AnySchema = any;

/** The object schema found at `path` inside `schema` (through optional, nullable, array and record), if any. */
function schemaAt(schema: AnySchema, path: readonly (string | number)[]): AnySchema | undefined {
  let s = schema;
  const unwrap = (x: AnySchema): AnySchema => {
    while (x && (x.type === "optional" || x.type === "nullable" || x.type === "nullish")) x = x.wrapped;
    return x;
  };
  for (const k of path) {
    s = unwrap(s);
    if (!s) return undefined;
    if (s.type === "array") s = s.item;
    else if (s.type === "record") s = s.value;
    else if (s.entries && typeof k === "string") s = s.entries[k];
    else return undefined;
  }
  return unwrap(s);
}

/**
 * Validates a parsed document against a schema, recording every issue (with
 * its location, and a "did you mean" for an unknown key).
 * @returns the output, or null when there were issues
 */
export function validate<S extends v.GenericSchema>(
  schema: S,
  parsed: ParsedYaml,
  file: string,
  problems: Problems,
): v.InferOutput<S> | null {
  const r = v.safeParse(schema, parsed.value, { abortPipeEarly: true });
  if (r.success) return r.output;
  const seen = new Set<string>();
  for (const issue of r.issues) {
    // deno-lint-ignore no-explicit-any
    const path = (issue.path ?? []).map((p: any) => p.key as string | number);
    const loc = locate(parsed.doc, parsed.lc, path);
    let message = issue.message;
    // A strict object's unknown key is an issue expecting "never" at that key; a wrong type (a list, a
    // string where the section's mapping goes) is an ordinary type issue.
    if (issue.type === "strict_object" && issue.expected === "never") {
      const known = Object.keys(schemaAt(schema, path.slice(0, -1))?.entries ?? {});
      const hint = didYouMean(String(path.at(-1)), known);
      message = `unknown key "${path.at(-1)}"${hint ? ` (did you mean "${hint}"?)` : ""}; known keys: ${
        known.join(", ")
      }`;
    } else if (issue.type === "union" && issue.issues?.length) {
      message = `${issue.message}; expected one of the documented forms`;
    }
    const key = `${fieldPath(path)}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.add(file, message, { ...loc, field: fieldPath(path) });
  }
  return null;
}
