/**
 * Import: markdown → database. One bad file never stops it; unchanged
 * files (same content hash and path) are not even parsed; the database
 * stays authoritative for the status of tickets it already has.
 *
 * @module
 */
import type { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import { contentHash, ticketIdFromPath } from "../markdown/ids.ts";
import { parseTicket } from "../markdown/parse_ticket.ts";
import { type FileProblem, lastDonePhase, listTicketFiles, parseOptions } from "./files.ts";

/** What an import did. */
export interface ImportResult {
  /** Ids of tickets created. */
  imported: string[];
  /** Ids of tickets whose file changed. */
  updated: string[];
  /** Ids of tickets whose file did not change (not even parsed). */
  unchanged: string[];
  /** Files not imported, with the reason (duplicates, names without an id). */
  skipped: FileProblem[];
  /** Files that could not be imported. */
  errors: FileProblem[];
  /** Content problems of files that were imported. */
  warnings: FileProblem[];
  /** Ids found in more than one file: none of those files was imported. */
  duplicates: { id: string; paths: string[] }[];
}

/**
 * Imports every ticket file. One bad file never stops the import; unchanged
 * files (same content hash and path) are not even parsed; the database stays
 * authoritative for the status of tickets it already has.
 *
 * @param engine the engine
 * @param opts progress callback `(done, total)`
 * @returns what happened to every file
 */
export function importTickets(
  engine: Engine,
  opts: { onProgress?: (done: number, total: number) => void } = {},
): ImportResult {
  const cfg = engine.cfg;
  const result: ImportResult = {
    imported: [],
    updated: [],
    unchanged: [],
    skipped: [],
    errors: [],
    warnings: [],
    duplicates: [],
  };
  const files = listTicketFiles(engine);
  const byId = new Map<string, { path: string; text: string }[]>();
  for (const path of files) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`${cfg.repoRoot}/${path}`);
    } catch (e) {
      result.errors.push({ path, message: `cannot read: ${(e as Error).message}`, code: "markdown_invalid" });
      continue;
    }
    const id = ticketIdFromPath(path, cfg.config.tickets.id_regex);
    if (!id) {
      result.skipped.push({
        path,
        message: `the file name does not match tickets.id_regex (${cfg.config.tickets.id_regex})`,
      });
      continue;
    }
    byId.set(id, [...(byId.get(id) ?? []), { path, text }]);
  }
  const unique: [string, { path: string; text: string }][] = [];
  for (const [id, list] of byId) {
    if (list.length > 1) {
      result.duplicates.push({ id, paths: list.map((l) => l.path) });
      for (const l of list) {
        result.skipped.push({
          path: l.path,
          message: `ticket id ${id} is also used by ${list.filter((x) => x !== l).map((x) => x.path).join(", ")}`,
        });
      }
    } else unique.push([id, list[0]]);
  }
  const known = new Map(engine.ticketFiles().map((r) => [r.id, r]));
  const options = parseOptions(engine, "");
  const phaseNames = options.phaseNames!;
  const blocks: { from: string; to: string; path: string; line: number }[] = [];
  const imported = new Set<string>();
  const total = unique.length;
  let done = 0;
  engine.transaction(() => {
    for (const [id, { path, text }] of unique) {
      done++;
      const hash = contentHash(text);
      const had = known.get(id);
      if (had && had.contentHash === hash && had.path === path) {
        result.unchanged.push(id);
        if (done % 50 === 0 || done === total) opts.onProgress?.(done, total);
        continue;
      }
      try {
        const parsed = parseTicket(text, { ...options, path });
        for (const w of parsed.warnings) result.warnings.push({ path, line: w.line, message: w.message });
        const deps = parsed.dependencies.filter((d) => d.type === "blocked_by").map((d) => ({ on: d.id }));
        for (const d of parsed.dependencies.filter((d) => d.type === "blocks")) {
          blocks.push({ from: d.id, to: id, path, line: d.line });
        }
        engine.transaction(() => {
          if (had) {
            const detail = engine.ticket(id);
            const dbPhase = lastDonePhase(detail, phaseNames);
            if (parsed.status.mapped && parsed.status.phase !== dbPhase) {
              result.warnings.push({
                path,
                message: `ticket ${id}: the markdown status says "${parsed.status.position}" but the database has ${
                  dbPhase ? `"${dbPhase}" done` : "no phase done"
                }; the database wins (run 'baton sync' to write it back)`,
              });
            }
          }
          engine.upsertTicket({
            id,
            title: parsed.title,
            metadata: parsed.metadata,
            path,
            contentHash: hash,
            parentId: parsed.parentId ?? undefined,
            dependencies: deps,
            completedPhases: !had && parsed.status.mapped && parsed.status.phase ? [parsed.status.phase] : undefined,
          });
        });
        (had ? result.updated : result.imported).push(id);
        imported.add(id);
      } catch (e) {
        const err = e as BatonError;
        result.errors.push({
          path,
          line: err.location?.line,
          message: err.message,
          code: err.code ?? "internal",
        });
      }
      if (done % 50 === 0 || done === total) opts.onProgress?.(done, total);
    }
    // "Blocks: X" — X waits for this ticket, once X exists.
    for (const b of blocks) {
      if (!known.has(b.from) && !imported.has(b.from)) {
        result.warnings.push({ path: b.path, line: b.line, message: `blocks ${b.from}, which is not a known ticket` });
        continue;
      }
      try {
        engine.transaction(() => engine.addDependency(b.from, b.to));
      } catch (e) {
        result.errors.push({ path: b.path, line: b.line, message: (e as Error).message, code: (e as BatonError).code });
      }
    }
  });
  return result;
}
