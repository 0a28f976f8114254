/**
 * Ticket ids: from file names (`tickets.id_regex`), from references in
 * dependency lines (links, bare ids), and content hashes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { BatonError } from "../errors.ts";

const regexCache = new Map<string, RegExp>();

export function compile(idRegex: string): RegExp {
  let re = regexCache.get(idRegex);
  if (!re) {
    try {
      re = new RegExp(idRegex);
    } catch (e) {
      throw new BatonError("invalid_argument", `Invalid id regex ${JSON.stringify(idRegex)}: ${(e as Error).message}`);
    }
    regexCache.set(idRegex, re);
  }
  return re;
}

export function basename(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i >= 0 ? path.slice(i + 1) : path;
}

export function idOf(name: string, re: RegExp): string | null {
  const m = re.exec(name);
  if (!m) return null;
  const id = m[1] ?? m[0];
  return id === "" ? null : id;
}

/**
 * Reads a ticket id from a path's file name with the configured regex.
 *
 * @param path the ticket's path; only its file name (basename) is matched
 * @param idRegex the regex; its first capture group is the id (else the whole match)
 * @returns the id, or null when the file name does not match
 * @throws {BatonError} `invalid_argument` when `idRegex` is not a valid regex
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ticketIdFromPath } from "./ids.ts";
 * import { DEFAULT_ID_REGEX } from "../config/defaults.ts";
 * assert(ticketIdFromPath("tickets/0056k_python_wheels.md", DEFAULT_ID_REGEX) === "0056k");
 * assert(ticketIdFromPath("tickets/debug/D0001_crash.md", DEFAULT_ID_REGEX) === "D0001");
 * assert(ticketIdFromPath("tickets/README.md", DEFAULT_ID_REGEX) === null);
 * ```
 */
export function ticketIdFromPath(path: string, idRegex: string): string | null {
  return idOf(basename(path), compile(idRegex));
}

/**
 * SHA-256 of a ticket's text (UTF-8, exactly as given), as lowercase hex: the
 * `contentHash` of {@link parseTicket}. Synchronous (`node:crypto`, native),
 * so an importer can skip unchanged tickets before parsing them.
 *
 * @param text the ticket's markdown
 * @returns 64 hex digits
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentHash } from "./ids.ts";
 * assert(contentHash("") === "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * ```
 */
export function contentHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The source of a regex's first capturing group (null when it has none):
 * the part of `tickets.id_regex` that is the id itself.
 */
export function captureGroupSource(source: string): string | null {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(" && (source[i + 1] !== "?" || (source[i + 2] === "<" && !"=!".includes(source[i + 3])))) {
      const start = source[i + 1] === "?" ? source.indexOf(">", i) + 1 : i + 1;
      let depth = 1, cls = false;
      for (let j = start; j < source.length; j++) {
        const d = source[j];
        if (d === "\\") j++;
        else if (cls) cls = d !== "]";
        else if (d === "[") cls = true;
        else if (d === "(") depth++;
        else if (d === ")" && --depth === 0) return source.slice(start, j);
      }
      return null;
    }
  }
  return null;
}

const bareCache = new Map<string, RegExp>();

/**
 * The regex a bare id (`0078`, `0052b`, written without its file name) must
 * match: the capture group of `tickets.id_regex`, anchored; the whole regex
 * when it has no group.
 */
export function bareIdRegex(idRegex: RegExp): RegExp {
  let re = bareCache.get(idRegex.source);
  if (!re) {
    const group = captureGroupSource(idRegex.source);
    re = group === null ? idRegex : new RegExp(`^(?:${group})$`);
    bareCache.set(idRegex.source, re);
  }
  return re;
}

/** Ticket ids in a dependency value: links (target file name, else text) and bare ids. */
export function refs(value: string, re: RegExp): { ids: string[]; bad: string[] } {
  const ids: string[] = [];
  const bad: string[] = [];
  const rest = value.replace(/<!--.*?-->/g, "").replace(
    /\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g,
    (whole, label: string, target: string) => {
      const file = basename(target.replace(/[#?].*$/, ""));
      const got = (file ? idOf(file, re) : null) ?? wordsToIds(label, re)[0] ?? null;
      if (got) ids.push(got);
      else bad.push(whole);
      return ",";
    },
  );
  for (const token of rest.replace(/\([^()]*\)/g, " ").split(/[,;]|\s+and\s+|\s+&\s+/i)) {
    const t = token.replace(/[`*]/g, "").trim();
    if (t === "" || /^(?:none|n\/?a|-+|\u2014|\u2013|tbd|nothing|no)\.?$/i.test(t)) continue;
    const got = wordsToIds(t, re);
    if (got.length > 0) ids.push(...got);
    else bad.push(t);
  }
  return { ids, bad };
}

export function wordsToIds(text: string, re: RegExp): string[] {
  const out: string[] = [];
  const bare = bareIdRegex(re);
  for (const w of text.split(/\s+/)) {
    const clean = basename(w.replace(/^[#(["']+/, "").replace(/[)\]"'.,;:!?]+$/, ""));
    // A file name (`0078_cache.md`) by the id regex; a bare id (`0078`) by its capture group.
    const got = clean ? idOf(clean, re) ?? (bare.test(clean) ? clean : null) : null;
    if (got) out.push(got);
  }
  return out;
}
