/**
 * Where a repository's tickets are (`tickets.directory` and
 * `tickets.pattern`), what a problem with one of them looks like, and how
 * the configuration asks the markdown reader to read them.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import { BatonError } from "../errors.ts";
import { LANDING_TYPE } from "../config/landing.ts";
import { globMatches } from "../globs/mod.ts";
import { contentHash, ticketIdFromPath } from "../markdown/ids.ts";
import type { ParseOptions, StatusVocabulary } from "../markdown/types.ts";
import { listRepoFiles, readRepoFile, repoDir, withoutAliases } from "../repo/files.ts";
import { batonPaths } from "../repo/ignore.ts";
import { unmergedPaths } from "../repo/git.ts";
import { conflictMarkerLine } from "../markdown/conflict.ts";

/** One problem with one file. */
export interface FileProblem {
  /** Repository-relative path. */
  path: string;
  /** 1-based line, when known. */
  line?: number;
  /** What is wrong. */
  message: string;
  /** Error code; for a warning, its kind (`status_unmapped`, `status_behind`…) when it has one. */
  code?: string;
}

/**
 * Where a ticket file is still in conflict (a merge, rebase or stash stopped on it): its markers outside examples,
 * or, markers that look like an example, a file git holds as unmerged.
 * @param engine the engine (its repository)
 * @param path the ticket file, repository-relative
 * @param text its text
 * @returns the 1-based line of the first `<<<<<<<`, or null
 */
export function unresolvedConflict(engine: Engine, path: string, text: string): number | null {
  const at = conflictMarkerLine(text);
  if (at !== null || !text.includes("<<<<<<<")) return at;
  if (!unmergedPaths(engine.cfg.repoRoot, [path]).has(path)) return null;
  return text.split("\n").findIndex((l) => l.startsWith("<<<<<<<")) + 1 || null;
}

/** Words naming a review of the phase before them: `Design Review`, `Design Approval`, `Design Sign-off`. */
const REVIEW_WORDS = /^(?:review|approval|sign[- ]?off|check)$/;

/**
 * The status vocabulary of a workflow: what comes before each phase, which
 * phase reviews each (a human gate whose `reviews` lists it; else a phase of
 * any kind named as its review, `Design Review` for `Design`, so that
 * `Design Approved` means the review is done whether a human or an agent
 * does it), and the last phase before landing.
 */
export function vocabulary(engine: Engine): StatusVocabulary {
  const phases = engine.cfg.workflow.phases;
  const order = new Map(phases.map((p) => [p.name, p.order]));
  const before: Record<string, string | null> = {};
  const approvedBy: Record<string, string> = {};
  const lower = (s: string) => s.toLowerCase().replace(/\s+/g, " ").trim();
  for (const p of phases) {
    const last = [...p.after].sort((x, y) => (order.get(x) ?? 0) - (order.get(y) ?? 0)).at(-1);
    before[p.name] = last ?? null;
    const gate = engine.graph.gatesReviewing(p.name)[0] ??
      phases.find((r) => r.order > p.order && r.reviews.includes(p.name))?.name ??
      phases.find((r) => {
        const n = lower(r.name), base = lower(p.name);
        return r.order > p.order && n.startsWith(base + " ") && REVIEW_WORDS.test(n.slice(base.length + 1));
      })?.name;
    if (gate) approvedBy[p.name] = gate;
  }
  return {
    phases: phases.map((p) => p.name),
    before,
    approvedBy,
    gates: phases.filter((p) => engine.graph.isGate(p.name)).map((p) => p.name),
    final: phases.filter((p) => p.agentType !== LANDING_TYPE).at(-1)?.name ?? null,
  };
}

/** How the engine's configuration asks `parseTicket` to read a ticket at `path`. */
export function parseOptions(engine: Engine, path: string): ParseOptions {
  const cfg = engine.cfg;
  return {
    path,
    fields: cfg.workflow.ticketMetadata,
    statusMap: cfg.config.tickets.status_map,
    phaseNames: cfg.workflow.phases.map((p) => p.name),
    vocabulary: vocabulary(engine),
    idRegex: cfg.config.tickets.id_regex,
    dependencyKeys: cfg.config.tickets.dependency_keys,
  };
}

/**
 * A ticket file's text (read through `repo/files.ts`: never outside the
 * repository), or why Baton will not rewrite it: not valid UTF-8 (decoded as
 * Latin-1 for reading).
 */
export function readTicketText(
  engine: Engine,
  rel: string,
): { text: string; utf8: boolean; bytes: Uint8Array } {
  const bytes = readRepoFile(engine.cfg.repoRoot, rel);
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), utf8: true, bytes };
  } catch {
    return { text: new TextDecoder("latin1").decode(bytes), utf8: false, bytes };
  }
}

/**
 * Lists ticket files: `tickets.directory` + `tickets.pattern`,
 * repository-relative, sorted. Links are followed only while they stay in
 * the repository; a `tickets.directory` that leads out is refused.
 */
export function listTicketFiles(engine: Engine): string[] {
  return ticketFilesOf(engine, ticketDirListing(engine));
}

/** The ticket files of a listing of `tickets.directory`: those `tickets.pattern` chooses, aliases left out. */
function ticketFilesOf(engine: Engine, listing: TicketDirListing): string[] {
  const { directory, pattern } = engine.cfg.config.tickets;
  const base = repoDir(directory);
  // A link to another ticket file (an alias) is not a second ticket: each file once, once the pattern chose them.
  return withoutAliases(
    engine.cfg.repoRoot,
    listing.files.filter((p) => globMatches(pattern, base ? p.slice(base.length + 1) : p)),
    listing.links,
  );
}

/** A listing of `tickets.directory`: every file, and which of them are links. */
export interface TicketDirListing {
  /** Repository-relative paths, sorted. */
  files: string[];
  /** Those of them that are links. */
  links: Set<string>;
}

/**
 * Every file under `tickets.directory`, ticket or not, repository-relative.
 * @throws {BatonError} `config_invalid` when `tickets.directory` names a file
 */
export function ticketDirFiles(engine: Engine): string[] {
  return ticketDirListing(engine).files;
}

/**
 * Lists `tickets.directory` once, for {@link indexTicketFiles} and the caller both.
 * @throws {BatonError} `config_invalid` when `tickets.directory` names a file
 */
export function ticketDirListing(engine: Engine): TicketDirListing {
  const { directory } = engine.cfg.config.tickets;
  const links = new Set<string>();
  // What Baton itself writes (agents' worktrees, their prompts and logs) is never a ticket, wherever tickets are.
  const { worktreeDir, logsDir } = batonPaths(engine.cfg);
  const skip = new Set([repoDir(worktreeDir), repoDir(logsDir)].filter((d) => d && !d.startsWith("..")));
  try {
    return { files: listRepoFiles(engine.cfg.repoRoot, directory, links, skip), links };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotADirectory)) throw e;
    throw new BatonError("config_invalid", `tickets.directory "${directory}" is a file, not a directory`, {
      location: { file: ".workflow/config.yaml", field: "tickets.directory" },
    });
  }
}

/** Ticket files grouped by the id in their names, with the files whose names carry none and the ids used twice. */
export interface TicketFileIndex {
  /** Repository-relative paths by ticket id, for ids used by exactly one file. */
  byId: Map<string, string>;
  /** Files whose names do not match `tickets.id_regex`. */
  unnamed: string[];
  /** Ids used by more than one file: none of those files is imported. */
  duplicates: { id: string; paths: string[] }[];
}

/**
 * Lists the ticket files and groups them by id: the one rule for which file
 * is a ticket's, shared by import and `baton doctor`.
 * @param engine the engine (its configuration says where tickets are)
 * @param listing the directory's listing, when the caller has it already
 * @returns the index
 */
export function indexTicketFiles(engine: Engine, listing = ticketDirListing(engine)): TicketFileIndex {
  const idRegex = engine.cfg.config.tickets.id_regex;
  const all = new Map<string, string[]>();
  const unnamed: string[] = [];
  for (const path of ticketFilesOf(engine, listing)) {
    const id = ticketIdFromPath(path, idRegex);
    if (id) all.set(id, [...(all.get(id) ?? []), path]);
    else unnamed.push(path);
  }
  const byId = new Map<string, string>();
  const duplicates: { id: string; paths: string[] }[] = [];
  for (const [id, paths] of all) {
    if (paths.length === 1) byId.set(id, paths[0]);
    else duplicates.push({ id, paths });
  }
  return { byId, unnamed, duplicates };
}

/**
 * The ticket files by the id their names carry, imported or not (a file of
 * an id used twice is named once): what new tickets' ids must not collide with.
 * @param engine the engine (its configuration says where tickets are)
 * @returns file paths by id
 */
export function ticketFilesById(engine: Engine): Map<string, string> {
  const index = indexTicketFiles(engine);
  const byId = new Map(index.byId);
  for (const d of index.duplicates) byId.set(d.id, d.paths[0]);
  return byId;
}

/**
 * What decides where a file places its ticket, besides the file: the
 * status vocabulary, `tickets.status_map` and the workflow's graph. When it
 * changes, unchanged files are placed again.
 */
export function placementKey(engine: Engine): string {
  const vocab = parseOptions(engine, "").vocabulary;
  return contentHash(JSON.stringify({
    v: 1,
    vocab,
    map: engine.cfg.config.tickets.status_map,
    graph: engine.cfg.workflow.phases.map((p) => [p.name, p.after, p.overriddenBy ?? [], p.reviews]),
  }));
}
