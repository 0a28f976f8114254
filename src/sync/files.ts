/**
 * Where a repository's tickets are (`tickets.directory` and
 * `tickets.pattern`), what a problem with one of them looks like, and how
 * the configuration asks the markdown reader to read them.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import type { TicketDetail } from "../engine/types.ts";
import { globMatches } from "../globs/mod.ts";
import type { ParseOptions } from "../markdown/types.ts";

/** One problem with one file. */
export interface FileProblem {
  /** Repository-relative path. */
  path: string;
  /** 1-based line, when known. */
  line?: number;
  /** What is wrong. */
  message: string;
  /** Error code (errors only). */
  code?: string;
}

/** How the engine's configuration asks `parseTicket` to read a ticket at `path`. */
export function parseOptions(engine: Engine, path: string): ParseOptions {
  const cfg = engine.cfg;
  return {
    path,
    fields: cfg.workflow.ticketMetadata,
    statusMap: cfg.config.tickets.status_map,
    phaseNames: cfg.workflow.phases.map((p) => p.name),
    idRegex: cfg.config.tickets.id_regex,
  };
}

/** Lists ticket files: `tickets.directory` + `tickets.pattern`, repository-relative, sorted. */
export function listTicketFiles(engine: Engine): string[] {
  const { directory, pattern } = engine.cfg.config.tickets;
  const root = engine.cfg.repoRoot;
  const base = directory.replace(/\/+$/, "");
  const out: string[] = [];
  const walk = (rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(`${root}/${base}${rel ? `/${rel}` : ""}`)];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) walk(r);
      else if (e.isFile && globMatches(pattern, r)) out.push(`${base}/${r}`);
    }
  };
  walk("");
  return out.sort();
}

/** The last phase of a contiguous done prefix (completed or skipped) of a ticket, or null. */
export function lastDonePhase(t: TicketDetail, phaseNames: string[]): string | null {
  const status = new Map(t.phases.map((p) => [p.name, p.status]));
  let last: string | null = null;
  for (const name of phaseNames) {
    const s = status.get(name);
    if (s !== "completed" && s !== "skipped") break;
    if (s === "completed") last = name;
  }
  return last;
}
