/**
 * Import: markdown → database. One bad file never stops it; unchanged
 * files (same content hash and path) are not even parsed; the database
 * stays authoritative for the status of tickets it already has.
 *
 * Every file is read and parsed first, outside any transaction; then each
 * ticket is written in a transaction of its own, so agents' claims go on
 * while a large import runs.
 *
 * @module
 */
import type { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import type { TicketDetail } from "../engine/types.ts";
import { contentHash } from "../markdown/ids.ts";
import { parseTicket } from "../markdown/parse_ticket.ts";
import type { ParsedTicket } from "../markdown/types.ts";
import { type FileProblem, indexTicketFiles, parseOptions, readTicketText } from "./files.ts";

/** Warnings with the same message, and where they were (the first few files). */
export interface WarningGroup {
  /** The message. */
  message: string;
  /** How many times it was found. */
  count: number;
  /** The first files it was found in (at most 5). */
  paths: string[];
}

/** What an import did. */
export interface ImportResult {
  /** Ids of tickets created. */
  imported: string[];
  /** Ids of tickets whose file changed. */
  updated: string[];
  /** Ids of tickets whose file did not change (not even parsed, unless warnings were asked for). */
  unchanged: string[];
  /** Files not imported, with the reason (duplicates, names without an id). */
  skipped: FileProblem[];
  /** Files that could not be imported. */
  errors: FileProblem[];
  /** Content problems of files that were imported. */
  warnings: FileProblem[];
  /** The warnings grouped by message, most frequent first. */
  warningGroups: WarningGroup[];
  /** Ids found in more than one file: none of those files was imported. */
  duplicates: { id: string; paths: string[] }[];
}

/** Options of {@link importTickets}. */
export interface ImportOptions {
  /** Called as files are written: `(done, total)`. */
  onProgress?: (done: number, total: number) => void;
  /** Parse unchanged files too, to report their warnings (`baton import --warnings`). */
  warnings?: boolean;
}

/** The ticket files' texts by ticket id; names without an id, ids used twice and unreadable files are reported. */
function readFiles(engine: Engine, result: ImportResult): Map<string, { path: string; text: string; utf8: boolean }> {
  const index = indexTicketFiles(engine);
  const idRegex = engine.cfg.config.tickets.id_regex;
  for (const path of index.unnamed) {
    result.skipped.push({ path, message: `the file name does not match tickets.id_regex (${idRegex})` });
  }
  for (const d of index.duplicates) {
    result.duplicates.push(d);
    for (const path of d.paths) {
      const others = d.paths.filter((x) => x !== path).join(", ");
      result.skipped.push({ path, message: `ticket id ${d.id} is also used by ${others}` });
    }
  }
  const out = new Map<string, { path: string; text: string; utf8: boolean }>();
  for (const [id, path] of index.byId) {
    try {
      const read = readTicketText(engine, path);
      out.set(id, { path, text: read.text, utf8: read.utf8 });
    } catch (e) {
      result.errors.push({ path, message: `cannot read: ${(e as Error).message}`, code: "markdown_invalid" });
    }
  }
  return out;
}

/** Where the database has a ticket, as far as its file's status goes: its phases done. */
function doneInDb(t: TicketDetail): Set<string> {
  return new Set(t.phases.filter((p) => p.status === "completed").map((p) => p.name));
}

/** Groups warnings by message. */
function group(warnings: FileProblem[]): WarningGroup[] {
  const m = new Map<string, WarningGroup>();
  for (const w of warnings) {
    const g = m.get(w.message) ?? { message: w.message, count: 0, paths: [] };
    g.count++;
    if (g.paths.length < 5 && !g.paths.includes(w.path)) g.paths.push(w.path);
    m.set(w.message, g);
  }
  return [...m.values()].sort((a, b) => b.count - a.count || a.message.localeCompare(b.message));
}

interface Parsed {
  id: string;
  path: string;
  hash: string;
  ticket: ParsedTicket;
  had: boolean;
}

/** Writes one parsed ticket (its own transaction); reports where the file and the database disagree. */
function writeTicket(engine: Engine, p: Parsed, result: ImportResult): void {
  const { id, path, ticket } = p;
  if (p.had) {
    const done = doneInDb(engine.ticket(id));
    const fileAhead = ticket.status.complete
      ? engine.ticket(id).status !== "completed"
      : ticket.status.phase !== null && !done.has(ticket.status.phase);
    if (fileAhead) {
      result.warnings.push({
        path,
        message: `ticket ${id}: the markdown status says "${ticket.status.position}", ahead of the database; ` +
          "the database wins (run 'baton sync' to write it back)",
      });
    }
  }
  const s = ticket.status;
  engine.upsertTicket({
    id,
    title: ticket.title,
    metadata: ticket.metadata,
    path,
    contentHash: p.hash,
    parentId: ticket.parentId ?? undefined,
    dependencies: ticket.dependencies.filter((d) => d.type === "blocked_by").map((d) => ({ on: d.id })),
    completedPhases: p.had
      ? undefined
      : s.complete
      ? engine.cfg.workflow.phases.map((x) => x.name)
      : s.phase
      ? [s.phase]
      : undefined,
  });
}

/**
 * Imports every ticket file. One bad file never stops the import; unchanged
 * files (same content hash and path) are not even parsed; the database stays
 * authoritative for the status of tickets it already has. A new ticket is
 * placed where its status says (complete when its last label is checked);
 * a status that cannot be placed is an error for that file, never "not
 * started". A file that is not valid UTF-8 is imported read-only.
 *
 * @param engine the engine
 * @param opts progress callback, warnings of unchanged files too
 * @returns what happened to every file
 */
export function importTickets(engine: Engine, opts: ImportOptions = {}): ImportResult {
  const result: ImportResult = {
    imported: [],
    updated: [],
    unchanged: [],
    skipped: [],
    errors: [],
    warnings: [],
    warningGroups: [],
    duplicates: [],
  };
  const known = new Map(engine.ticketFiles().map((r) => [r.id, r]));
  const parsed: Parsed[] = [];
  /** Unchanged files read again for `warnings`: reported on, never written. */
  const reread: Parsed[] = [];
  for (const [id, { path, text, utf8 }] of readFiles(engine, result)) {
    const hash = contentHash(text);
    const had = known.get(id);
    const unchanged = had !== undefined && had.contentHash === hash && had.path === path;
    if (unchanged) result.unchanged.push(id);
    if (unchanged && !opts.warnings) continue;
    if (!utf8) {
      result.warnings.push({ path, message: "not valid UTF-8: imported read-only (Baton never writes it back)" });
    }
    try {
      const ticket = parseTicket(text, parseOptions(engine, path));
      for (const w of ticket.warnings) result.warnings.push({ path, line: w.line, message: w.message });
      if (unchanged) {
        reread.push({ id, path, hash, ticket, had: true });
        continue;
      }
      if (!ticket.status.mapped) {
        const line = ticket.status.labels.findLast((l) => l.checked)?.line;
        result.errors.push({
          path,
          line,
          message: `cannot place ticket ${id}: none of its checked status labels maps to a phase ` +
            `(add them to tickets.status_map; a ticket is never taken as not started for that)`,
          code: "markdown_invalid",
        });
        continue;
      }
      parsed.push({ id, path, hash, ticket, had: had !== undefined });
    } catch (e) {
      const err = e as BatonError;
      result.errors.push({ path, line: err.location?.line, message: err.message, code: err.code ?? "internal" });
    }
  }
  let done = 0;
  for (const p of parsed) {
    try {
      writeTicket(engine, p, result);
      (p.had ? result.updated : result.imported).push(p.id);
    } catch (e) {
      const err = e as BatonError;
      result.errors.push({
        path: p.path,
        line: err.location?.line,
        message: err.message,
        code: err.code ?? "internal",
      });
    }
    if (++done % 50 === 0 || done === parsed.length) opts.onProgress?.(done, parsed.length);
  }
  linkDependencies(engine, parsed, reread, result);
  result.warningGroups = group(result.warnings);
  return result;
}

/** `Blocks: X` makes X wait for the ticket; any dependency on a ticket that does not exist is reported. */
function linkDependencies(engine: Engine, parsed: Parsed[], reread: Parsed[], result: ImportResult): void {
  const exists = new Set(engine.ticketFiles().map((t) => t.id));
  const writing = new Set(parsed);
  for (const p of [...parsed, ...reread].sort((a, b) => a.path.localeCompare(b.path))) {
    for (const d of p.ticket.dependencies) {
      if (exists.has(d.id)) {
        if (d.type !== "blocks" || !writing.has(p)) continue;
        try {
          engine.addDependency(d.id, p.id);
        } catch (e) {
          result.errors.push({
            path: p.path,
            line: d.line,
            message: (e as Error).message,
            code: (e as BatonError).code,
          });
        }
      } else {
        result.warnings.push({
          path: p.path,
          line: d.line,
          message: d.type === "blocks"
            ? `ticket ${p.id} blocks ${d.id}, which is not a known ticket`
            : `ticket ${p.id} depends on ${d.id}, which is not a known ticket (it waits until one is imported)`,
        });
      }
    }
  }
}
