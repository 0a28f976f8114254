/**
 * Import: markdown → database. One bad file never stops it; unchanged
 * files (same content hash and path, read with the same status vocabulary)
 * are not even parsed. A ticket is placed at the furthest point its file
 * proves: its checked status labels (a label that cannot be placed is a
 * warning and counts as far as the labels before it), its `Current Phase`
 * line, its workflow log's `Completed` fields. A ticket Baton has already
 * only moves forward, and never over work Baton itself recorded.
 *
 * Every file is read and parsed first, outside any transaction; then each
 * ticket is written in a transaction of its own, so agents' claims go on
 * while a large import runs.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import type { SeededPhase } from "../engine/types.ts";
import { contentHash, ticketIdFromPath } from "../markdown/ids.ts";
import { parseTicket } from "../markdown/read_ticket.ts";
import type { ParsedTicket } from "../markdown/types.ts";
import {
  type FileProblem,
  indexTicketFiles,
  parseOptions,
  placementKey,
  readTicketText,
  ticketDirListing,
  type TicketFileIndex,
  unresolvedConflict,
} from "./files.ts";
import { repoFileExists } from "../repo/files.ts";
import { blockedBy, DeclaredBlocks, dependenciesToWrite, endUndeclaredBlocks } from "./blocks.ts";
import {
  isWriteBackCopy,
  removeStrayNewCopies,
  restoreAllSetAside,
  setAsideAdvice,
  setAsideOf,
} from "../repo/replace.ts";

/** Warnings with the same message, and where they were (the first few files). */
export interface WarningGroup {
  /** The message. */
  message: string;
  /** The warnings' code, when they have one (`status_unmapped`…). */
  code?: string;
  /** How many times it was found. */
  count: number;
  /** The first files it was found in (at most 5). */
  paths: string[];
  /** The first places it was found, `path:line` (at most 5). */
  locations: string[];
}

/** What an import did. */
export interface ImportResult {
  /** Ids of tickets created. */
  imported: string[];
  /** Ids of tickets whose file changed. */
  updated: string[];
  /** Ids of tickets whose file did not change (not even parsed, unless warnings were asked for or `.workflow/` changed how files are placed). */
  unchanged: string[];
  /** Tickets Baton had already that this import moved forward to where their files say they are, with the phases completed. */
  advanced: { id: string; phases: string[] }[];
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
  /** How open tickets followed edits of the workflow: phases added, retired, retyped (`Engine.seedNewPhases`). */
  newPhases: SeededPhase[];
}

/** Options of {@link importTickets}. */
export interface ImportOptions {
  /** Called as files are written: `(done, total)`. */
  onProgress?: (done: number, total: number) => void;
  /** Parse unchanged files too, to report their warnings (`baton import --warnings`). */
  warnings?: boolean;
}

/** What the database knows of each ticket's file (`Engine.ticketFiles`), read once per import. */
type TicketFileRow = ReturnType<Engine["ticketFiles"]>[number];

/**
 * The open tickets whose file import no longer reads: still there but not
 * chosen by `tickets.directory` and `tickets.pattern` (moved, renamed to
 * another extension, the settings changed), or gone. Baton keeps each
 * ticket, and offers its work.
 */
function reportUntracked(
  engine: Engine,
  result: ImportResult,
  index: TicketFileIndex,
  files: string[],
  tracked: TicketFileRow[],
): void {
  const root = engine.cfg.repoRoot;
  const { directory, pattern, id_regex: idRegex } = engine.cfg.config.tickets;
  const chosen = new Set([...index.byId.values(), ...index.unnamed, ...index.duplicates.flatMap((d) => d.paths)]);
  const open = new Set(engine.listTickets({ status: "active" }).map((t) => t.id));
  const offered = "Baton no longer reads it, and still offers the ticket's work";
  for (const t of tracked) {
    if (!t.path || !open.has(t.id) || index.byId.has(t.id)) continue;
    if (repoFileExists(root, t.path)) {
      // Chosen under another id (tickets.id_regex changed) or with a twin: reported as such where it is read.
      if (chosen.has(t.path)) continue;
      result.warnings.push({
        path: t.path,
        code: "ticket_file_unmatched",
        message: `${t.path}, ticket ${t.id}'s file, is not among the ticket files (tickets.directory "${directory}", ` +
          `tickets.pattern "${pattern}"): ${offered}; move it there, or fix tickets.directory or tickets.pattern`,
      });
      continue;
    }
    const elsewhere = files.find((f) => !chosen.has(f) && ticketIdFromPath(f, idRegex) === t.id);
    if (elsewhere) {
      result.warnings.push({
        path: elsewhere,
        code: "ticket_file_unmatched",
        message: `${elsewhere} has ticket ${t.id}'s id, but tickets.pattern ("${pattern}") does not choose it: ` +
          `${offered}; rename it so that the pattern chooses it, or fix tickets.pattern`,
      });
      continue;
    }
    result.warnings.push({
      path: t.path,
      code: "ticket_file_missing",
      message: `ticket ${t.id}'s file is gone; Baton keeps the ticket and still offers its work: restore the ` +
        "file, or give a renamed one its id back" + setAsideAdvice(t.path, setAsideOf(root, t.path)),
    });
  }
}

/** The ticket files' texts by ticket id; names without an id, ids used twice and unreadable files are reported. */
function readFiles(
  engine: Engine,
  result: ImportResult,
  tracked: TicketFileRow[],
): Map<string, { path: string; text: string; utf8: boolean }> {
  const root = engine.cfg.repoRoot;
  // A ticket file an interrupted write-back (kill -9) left set aside is put back before anything reads the directory.
  // Not a name whose ticket's file has another name now (renamed since): that would be a second file with its id.
  const listing = ticketDirListing(engine);
  const files = listing.files;
  const idRegex = engine.cfg.config.tickets.id_regex;
  const ids = new Set(
    files.filter((f) => !isWriteBackCopy(f)).map((f) => ticketIdFromPath(f, idRegex)).filter((id) => id !== null),
  );
  const keep = (name: string) => {
    const id = ticketIdFromPath(name, idRegex);
    return id === null || !ids.has(id);
  };
  const restored = restoreAllSetAside(root, files, keep);
  for (const path of restored) {
    result.warnings.push({ path, message: "put back: an interrupted write-back had left it set aside" });
  }
  const stray = removeStrayNewCopies(root, files);
  for (const path of stray) {
    result.warnings.push({ path, message: "removed: the text an interrupted write-back had not linked in yet" });
  }
  // Listed again only when changed.
  const index = indexTicketFiles(engine, restored.length || stray.length ? undefined : listing);
  const dir = engine.cfg.config.tickets.directory;
  if (!repoFileExists(root, dir)) {
    result.warnings.push({
      path: ".workflow/config.yaml",
      message:
        `tickets.directory "${dir}" does not exist: no ticket file was read (create it, or fix tickets.directory)`,
    });
  } else {
    reportUntracked(engine, result, index, files, tracked);
  }
  for (const path of index.unnamed) {
    result.skipped.push({ path, message: `the file name does not match tickets.id_regex (${idRegex})` });
  }
  for (const d of index.duplicates) {
    result.duplicates.push(d);
    for (const path of d.paths) {
      const others = d.paths.filter((x) => x !== path).join(", ");
      result.skipped.push({ path, code: "duplicate_id", message: `ticket id ${d.id} is also used by ${others}` });
    }
  }
  const out = new Map<string, { path: string; text: string; utf8: boolean }>();
  const idByPath = new Map(tracked.flatMap((t) => t.path ? [[t.path, t.id] as const] : []));
  for (const [id, path] of index.byId) {
    const was = idByPath.get(path);
    if (was !== undefined && was !== id) {
      // The same file read as another ticket: tickets.id_regex changed. A second ticket for it would double the work.
      result.errors.push({
        path,
        code: "config_invalid",
        message: `${path} is ticket ${was}'s file, but tickets.id_regex (${idRegex}) now reads the id ${id} from its ` +
          `name: not imported as another ticket; restore tickets.id_regex, or rename the file so that its id reads ${was}`,
      });
      continue;
    }
    try {
      const read = readTicketText(engine, path);
      out.set(id, { path, text: read.text, utf8: read.utf8 });
    } catch (e) {
      result.errors.push({ path, message: `cannot read: ${(e as Error).message}`, code: "markdown_invalid" });
    }
  }
  return out;
}

/** Groups warnings by message. */
function group(warnings: FileProblem[]): WarningGroup[] {
  const m = new Map<string, WarningGroup>();
  for (const w of warnings) {
    const key = `${w.code ?? ""}\u0000${w.message}`;
    const g = m.get(key) ?? { message: w.message, count: 0, paths: [], locations: [] };
    if (w.code) g.code = w.code;
    g.count++;
    if (g.paths.length < 5 && !g.paths.includes(w.path)) g.paths.push(w.path);
    if (g.locations.length < 5) g.locations.push(w.line ? `${w.path}:${w.line}` : w.path);
    m.set(key, g);
  }
  return [...m.values()].sort((a, b) => b.count - a.count || a.message.localeCompare(b.message));
}

/**
 * The phases a parsed ticket's file records as done: its checked status
 * labels (a `Current Phase` line included), its workflow log's completions;
 * every phase when its last label is checked.
 */
export function recordedDone(engine: Engine, ticket: ParsedTicket): string[] {
  if (ticket.status.complete) return engine.cfg.workflow.phases.map((x) => x.name);
  const names = new Set<string>();
  for (const p of ticket.status.done) if (engine.graph.def(p)) names.add(p);
  for (const l of ticket.logCompleted) names.add(l.phase);
  return [...names];
}

interface Parsed {
  id: string;
  path: string;
  hash: string;
  ticket: ParsedTicket;
  had: boolean;
  /** The placement key the file is placed with. */
  placedWith: string;
}

/**
 * Writes one parsed ticket (its own transaction); reports what the file says is done that Baton keeps
 * open. Returns whether it moved a ticket Baton had forward.
 */
function writeTicket(engine: Engine, p: Parsed, result: ImportResult, blocks: DeclaredBlocks): boolean {
  const { id, path, ticket } = p;
  const recorded = recordedDone(engine, ticket);
  const before = p.had ? engine.ticket(id) : null;
  if (before && !before.path && before.status !== "active") {
    // A planner's ticket made without a file, and finished: a file that takes its id now is another ticket.
    throw new BatonError(
      "invalid_argument",
      `ticket ${id} ("${before.title}") was made without a file and is ${before.status}: ${path} is another ` +
        "ticket with its id; give the file another id (baton new picks a free one)",
      { location: { file: path } },
    );
  }
  const file = engine.ticketFiles([id])[0];
  const ledger = (file?.ledger ?? {}) as Record<string, unknown>;
  if (before && file?.contentHash === p.hash && file.path === path) {
    // Only `.workflow/` changed: nothing to write unless the file now places the ticket further.
    const want = engine.graph.doneThrough(recorded);
    if (!before.phases.some((x) => want.has(x.name) && x.status !== "completed" && x.status !== "skipped")) {
      engine.setTicketFile(id, { path, contentHash: p.hash, ledger: { ...ledger, placedWith: p.placedWith } });
      return false;
    }
  }
  if (before && !before.path) {
    // A ticket made without a file (a planner's, through MCP or the library) gets this one: said, for a file a human
    // wrote for another ticket that happens to take its id.
    result.warnings.push({
      path,
      code: "ticket_file_attached",
      message: `ticket ${id} had no file; ${path} is its file now` +
        (before.title !== ticket.title ? ` (its title "${before.title}" is now the file's)` : ""),
    });
  }
  // A file that says `Blocks: X` is not done until X waits for it (linked once every file is written): its content
  // hash, which makes the next import skip the file, is recorded then. Killed before, the next import reads it again.
  const provisional = blocksOthers(ticket);
  const after = engine.upsertTicket({
    id,
    title: ticket.title,
    metadata: ticket.metadata,
    path,
    contentHash: provisional ? undefined : p.hash,
    parentId: ticket.parentId ?? undefined,
    dependencies: dependenciesToWrite(
      engine,
      id,
      ticket.dependencies.filter((d) => d.type === "blocked_by").map((d) => ({ on: d.id })),
      blocks,
    ),
    completedPhases: recorded.length ? recorded : undefined,
  });
  if (before) {
    const was = new Map(before.phases.map((x) => [x.name, x.status]));
    const moved = after.phases.filter((x) => x.status === "completed" && was.get(x.name) !== "completed");
    if (moved.length) result.advanced.push({ id, phases: moved.map((x) => x.name) });
    const want = engine.graph.doneThrough(recorded);
    const kept = after.phases.filter((x) => want.has(x.name) && x.status !== "completed" && x.status !== "skipped");
    const under = after.phases.filter((x) =>
      !["pending", "blocked", "available", "completed", "skipped"].includes(x.status)
    );
    if (kept.length) {
      result.warnings.push({
        path,
        line: ticket.status.labels.findLast((l) => l.checked)?.line ?? ticket.logCompleted.at(-1)?.line,
        code: "status_behind",
        message: `ticket ${id}: the file records ${kept.map((x) => x.name).join(", ")} as done, but Baton has ` +
          `work recorded there (${
            // The phases Baton has work on (a held one before later phases the file records keeps those open too).
            (under.length ? under : kept).map((x) => `${x.name}: ${x.status.replace("_", " ")}`).join(
              ", ",
            )}); Baton's record stands`,
      });
    }
  }
  if (ledger.placedWith !== p.placedWith && !provisional) {
    engine.setTicketFile(id, { path, contentHash: p.hash, ledger: { ...ledger, placedWith: p.placedWith } });
  }
  return before !== null && result.advanced.at(-1)?.id === id;
}

/**
 * `Blocks: X` for an X not imported yet: the file's ticket keeps X in its ledger (`pendingBlocks`), and each import
 * makes X wait once X exists, though the file, unchanged, is not read again.
 */
function linkPendingBlocks(engine: Engine, written: Parsed[], result: ImportResult): void {
  const files = engine.ticketFiles();
  const exists = new Set(files.map((t) => t.id));
  const fresh = new Map(written.map((p) => [p.id, p]));
  for (const t of files) {
    const ledger = (t.ledger ?? {}) as Record<string, unknown>;
    const p = fresh.get(t.id);
    // A file written now says what it blocks; one not read again keeps what it said.
    const wanted = p
      ? p.ticket.dependencies.filter((d) => d.type === "blocks" && !exists.has(d.id)).map((d) => d.id)
      : Array.isArray(ledger.pendingBlocks)
      ? (ledger.pendingBlocks as string[])
      : [];
    const pending: string[] = [];
    for (const id of wanted) {
      if (!exists.has(id)) {
        pending.push(id);
        continue;
      }
      try {
        engine.addDependency(id, t.id);
      } catch (e) {
        result.errors.push({ path: t.path ?? t.id, message: (e as Error).message, code: (e as BatonError).code });
      }
    }
    const had = Array.isArray(ledger.pendingBlocks) ? ledger.pendingBlocks as string[] : [];
    if (pending.join() === had.join() || !t.path || !t.contentHash) continue;
    const { pendingBlocks: _, ...rest } = ledger;
    engine.setTicketFile(t.id, {
      path: t.path,
      contentHash: t.contentHash,
      ledger: pending.length ? { ...rest, pendingBlocks: pending } : rest,
    });
  }
}

/** Whether a ticket's file makes other tickets wait for it (`Blocks: X`). */
function blocksOthers(ticket: ParsedTicket): boolean {
  return ticket.dependencies.some((d) => d.type === "blocks");
}

/** Records the content hash of the files written provisionally (see `writeTicket`) whose links were all made. */
function finishProvisional(engine: Engine, written: Parsed[], failed: Set<Parsed>, blocks: DeclaredBlocks): void {
  for (const p of written) {
    const now = blockedBy(p.ticket);
    // What the file blocks is remembered (`blocks`), so that another ticket's import keeps the waits it declares.
    if ((!now.length && !blocks.before(p.id)?.length) || failed.has(p)) continue;
    const { blocks: _, ...ledger } = (engine.ticketFiles([p.id])[0]?.ledger ?? {}) as Record<string, unknown>;
    engine.setTicketFile(p.id, {
      path: p.path,
      contentHash: p.hash,
      ledger: { ...ledger, placedWith: p.placedWith, ...(now.length ? { blocks: now } : {}) },
    });
  }
}

/**
 * Imports every ticket file. One bad file never stops the import; unchanged
 * files (same content hash and path) are not even parsed, unless `.workflow/`
 * changed how files are placed (the status vocabulary, `tickets.status_map`,
 * the phases). Each ticket is placed at the furthest point its file proves
 * (see {@link recordedDone}; complete when its last label is checked); a
 * checked label that cannot be placed is a `status_unmapped` warning and
 * never moves the ticket back. A ticket Baton already has only moves
 * forward, and never over work Baton recorded (`status_behind` says where
 * the file and Baton disagree). A file that is not valid UTF-8 is imported
 * read-only.
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
    advanced: [],
    skipped: [],
    errors: [],
    warnings: [],
    warningGroups: [],
    duplicates: [],
    newPhases: [],
  };
  // Phases the workflow gained since the open tickets were seeded (a merge: section added: the landing phase).
  result.newPhases = engine.seedNewPhases();
  const tracked = engine.ticketFiles();
  const known = new Map(tracked.map((r) => [r.id, r]));
  const placedWith = placementKey(engine);
  const parsed: Parsed[] = [];
  /** Unchanged files read again for `warnings`: reported on, never written. */
  const reread: Parsed[] = [];
  for (const [id, { path, text, utf8 }] of readFiles(engine, result, tracked)) {
    const hash = contentHash(text);
    const had = known.get(id);
    const unchanged = had !== undefined && had.contentHash === hash && had.path === path;
    // The same file read with another status vocabulary may place its ticket further: read again.
    const replace = unchanged && (had.ledger as { placedWith?: string } | null)?.placedWith !== placedWith;
    if (unchanged && !replace) result.unchanged.push(id);
    if (unchanged && !replace && !opts.warnings) continue;
    const conflict = unresolvedConflict(engine, path, text);
    if (conflict !== null) {
      // Both sides of a conflict at once: a box checked on one side only (a gate) would count as done. An unchanged
      // file (read again for --warnings) is not imported anyway: a warning, not a second listing as an error.
      const said = "unresolved merge conflict (git's <<<<<<< ======= >>>>>>> lines): not imported until it is resolved";
      if (unchanged && !replace) result.warnings.push({ path, line: conflict, code: "merge_conflict", message: said });
      else result.errors.push({ path, line: conflict, code: "markdown_invalid", message: said });
      continue;
    }
    if (!utf8) {
      result.warnings.push({ path, message: "not valid UTF-8: imported read-only (Baton never writes it back)" });
    }
    try {
      const ticket = parseTicket(text, parseOptions(engine, path));
      for (const w of ticket.warnings) {
        result.warnings.push({ path, line: w.line, message: w.message, ...(w.code ? { code: w.code } : {}) });
      }
      if (unchanged && !replace) {
        reread.push({ id, path, hash, ticket, had: true, placedWith });
        continue;
      }
      parsed.push({ id, path, hash, ticket, had: had !== undefined, placedWith });
    } catch (e) {
      const err = e as BatonError;
      result.errors.push({ path, line: err.location?.line, message: err.message, code: err.code ?? "internal" });
    }
  }
  const blocks = new DeclaredBlocks(engine, tracked, parsed.map((p) => [p.id, blockedBy(p.ticket)]));
  let done = 0;
  const written: Parsed[] = [];
  for (const p of parsed) {
    try {
      const moved = writeTicket(engine, p, result, blocks);
      written.push(p);
      const sameFile = p.had && known.get(p.id)?.contentHash === p.hash && known.get(p.id)?.path === p.path;
      // A file read again only because `.workflow/` changed is unchanged unless it moved its ticket.
      (sameFile && !moved ? result.unchanged : p.had ? result.updated : result.imported).push(p.id);
    } catch (e) {
      const err = e as BatonError;
      // A cycle is said at the line of the file's dependency that closes it.
      const on = err.code === "dependency_cycle" ? (err.details?.cycle as string[] | undefined)?.[1] : undefined;
      const line = err.location?.line ?? p.ticket.dependencies.find((d) => d.id === on)?.line;
      result.errors.push({ path: p.path, line, message: err.message, code: err.code ?? "internal" });
    }
    if (++done % 50 === 0 || done === parsed.length) opts.onProgress?.(done, parsed.length);
  }
  finishProvisional(engine, written, linkDependencies(engine, parsed, reread, result), blocks);
  const ended = endUndeclaredBlocks(
    engine,
    written.map((p) => ({ id: p.id, blocks: blockedBy(p.ticket) })),
    blocks,
    new Set(written.map((p) => p.id)),
  );
  for (const [y, b] of ended) {
    const path = written.find((p) => p.id === b)!.path;
    result.warnings.push({
      path,
      code: "dependency_ended",
      message: `${y} no longer waits for ${b}: ${path} no longer says it blocks ${y}`,
    });
  }
  linkPendingBlocks(engine, written, result);
  result.warningGroups = group(result.warnings);
  return result;
}

/**
 * `Blocks: X` makes X wait for the ticket; any dependency on a ticket that does not exist is reported.
 * @returns the files a link of which failed
 */
function linkDependencies(engine: Engine, parsed: Parsed[], reread: Parsed[], result: ImportResult): Set<Parsed> {
  const failed = new Set<Parsed>();
  const exists = new Set(engine.ticketFiles().map((t) => t.id));
  const writing = new Set(parsed);
  for (const p of [...parsed, ...reread].sort((a, b) => a.path.localeCompare(b.path))) {
    for (const d of p.ticket.dependencies) {
      if (exists.has(d.id)) {
        if (d.type !== "blocks" || !writing.has(p)) continue;
        try {
          engine.addDependency(d.id, p.id);
        } catch (e) {
          failed.add(p);
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
            ? `ticket ${p.id} blocks ${d.id}, which is not a known ticket (${d.id} waits once it is imported)`
            : `ticket ${p.id} depends on ${d.id}, which is not a known ticket (it waits until one is imported)`,
        });
      }
    }
  }
  return failed;
}
