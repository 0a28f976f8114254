/**
 * `Blocks: X` lines across ticket files. A wait one file declares for
 * another ticket is kept when that other ticket's own file is imported again
 * (its `Depends On` lines say nothing of it), and it ends when the declaring
 * file no longer says so. Each ticket's ledger remembers what its file
 * blocks (`blocks`); a file imported before that was kept is read again when
 * it is asked about.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import { parseTicket } from "../markdown/read_ticket.ts";
import type { ParsedTicket } from "../markdown/types.ts";
import { parseOptions, readTicketText } from "./files.ts";

type TicketFileRow = ReturnType<Engine["ticketFiles"]>[number];

/** The ids a parsed file says wait for its ticket (`Blocks:` lines). */
export function blockedBy(ticket: ParsedTicket): string[] {
  return [...new Set(ticket.dependencies.filter((d) => d.type === "blocks").map((d) => d.id))];
}

/** What each ticket's file says it blocks: files read in this import, else their ledgers, else the file read again. */
export class DeclaredBlocks {
  readonly #engine: Engine;
  readonly #tracked: Map<string, TicketFileRow>;
  readonly #fresh: Map<string, string[]>;
  readonly #reread = new Map<string, string[]>();

  /**
   * @param engine the engine
   * @param tracked the ticket files Baton knew before this import
   * @param fresh the files read in this import: ticket id and what its file blocks
   */
  constructor(engine: Engine, tracked: TicketFileRow[], fresh: [string, string[]][]) {
    this.#engine = engine;
    this.#tracked = new Map(tracked.map((t) => [t.id, t]));
    this.#fresh = new Map(fresh);
  }

  /** What the ticket's file said it blocks before this import (null: not known, kept from before the ledger said). */
  before(id: string): string[] | null {
    const blocks = (this.#tracked.get(id)?.ledger as { blocks?: unknown } | null)?.blocks;
    return Array.isArray(blocks) ? blocks as string[] : null;
  }

  /**
   * Whether `blocker`'s file says `Blocks: id`.
   * @param blocker the ticket whose file is asked
   * @param id the ticket that would wait
   * @returns what its file says (false for a ticket without a file, or one that cannot be read)
   */
  says(blocker: string, id: string): boolean {
    return this.#of(blocker).includes(id);
  }

  #of(id: string): string[] {
    const fresh = this.#fresh.get(id);
    if (fresh) return fresh;
    const known = this.before(id);
    if (known) return known;
    let read = this.#reread.get(id);
    if (!read) {
      read = [];
      const path = this.#tracked.get(id)?.path;
      if (path) {
        try {
          read = blockedBy(parseTicket(readTicketText(this.#engine, path).text, parseOptions(this.#engine, path)));
        } catch { /* gone or unreadable: it declares nothing now (import reports the file itself) */ }
      }
      this.#reread.set(id, read);
    }
    return read;
  }
}

/**
 * The dependencies a ticket's file gives it when it is written: its own `Depends On` lines, and the waits it has now
 * that another file's `Blocks:` line still declares.
 * @param engine the engine
 * @param id the ticket
 * @param own its file's own dependencies
 * @param blocks what the files say they block
 * @returns the dependencies to write
 */
export function dependenciesToWrite(
  engine: Engine,
  id: string,
  own: { on: string }[],
  blocks: DeclaredBlocks,
): { on: string }[] {
  const ids = new Set(own.map((d) => d.on));
  const kept = engine.dependencies(id).map((d) => d.dependsOn).filter((b) => !ids.has(b) && blocks.says(b, id));
  return [...own, ...kept.map((on) => ({ on }))];
}

/**
 * Ends the waits a file declared with `Blocks:` lines it no longer has, for tickets not written in this import (those
 * written got theirs from {@link dependenciesToWrite}), unless the waiting ticket's own file declares the wait too.
 * @param engine the engine
 * @param written the files written in this import: ticket id, path, what the file blocks now
 * @param blocks what the files said before
 * @param writtenIds the tickets written in this import
 * @returns the waits ended, as [waiting ticket, blocker]
 */
export function endUndeclaredBlocks(
  engine: Engine,
  written: { id: string; blocks: string[] }[],
  blocks: DeclaredBlocks,
  writtenIds: Set<string>,
): [string, string][] {
  const ended: [string, string][] = [];
  for (const w of written) {
    for (const y of blocks.before(w.id) ?? []) {
      if (w.blocks.includes(y) || writtenIds.has(y)) continue;
      if (!engine.dependencies(y).some((d) => d.dependsOn === w.id)) continue;
      const path = engine.ticketFiles([y])[0]?.path;
      if (path && ownDependencies(engine, path).includes(w.id)) continue;
      engine.removeDependency(y, w.id);
      ended.push([y, w.id]);
    }
  }
  return ended;
}

/** The ids a ticket's file says it waits for (`Depends On`, `Blocked By`), read from the file now. */
function ownDependencies(engine: Engine, path: string): string[] {
  try {
    const t = parseTicket(readTicketText(engine, path).text, parseOptions(engine, path));
    return t.dependencies.filter((d) => d.type === "blocked_by").map((d) => d.id);
  } catch {
    return []; // gone or unreadable: it declares nothing now
  }
}
