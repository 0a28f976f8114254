/**
 * Write-back: database → markdown. Status checkboxes and workflow logs are
 * spliced into the original text; nothing else in the file changes.
 *
 * What it writes is only a fact the database has and the file lacks, from
 * work Baton itself recorded (an import is not work):
 * - a box is checked when Baton completed its phase (or the group phases
 *   replacing it); it is unchecked only when Baton itself sent the phase
 *   back (rework after a rejected gate) since it last wrote the file;
 * - a workflow-log field is filled when it is empty, or updated when it
 *   still holds what Baton wrote there last; a value a human wrote is never
 *   overwritten (a disagreement is a warning naming the ticket and field).
 * A file that is not valid UTF-8 is never rewritten.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import type { Phase, TicketDetail } from "../engine/types.ts";
import { contentHash } from "../markdown/ids.ts";
import { parseTicketWith } from "../markdown/parse_ticket.ts";
import { setChecks } from "../markdown/status.ts";
import type { StatusLabel } from "../markdown/types.ts";
import {
  headingPhase,
  logFieldText,
  logPhaseOf,
  readWorkflowLog,
  workflowLogBlocks,
  writeWorkflowLog,
} from "../markdown/workflow_log.ts";
import { unifiedDiff } from "./diff.ts";
import { type FileProblem, parseOptions, readTicketText, ticketDirFiles, unresolvedConflict } from "./files.ts";
import {
  encodeLike,
  removeStrayNewCopies,
  replaceIfUnchanged,
  restoreSetAside,
  setAsideAdvice,
  setAsideOf,
} from "../repo/replace.ts";
import { isDone } from "../engine/state_machine.ts";

/** What a write-back did. */
export interface SyncResult {
  /** Ids of tickets whose file was written (with `dryRun`: would be). */
  written: string[];
  /** Ids of tickets whose file already said it all. */
  unchanged: string[];
  /** Files that could not be written. */
  errors: FileProblem[];
  /** Why a part of a file was left alone. */
  warnings: FileProblem[];
  /** With `dryRun`: the diff of every file that would be written. */
  diffs: string[];
}

/** Which parts to write, and whether to only show what would change. */
export interface SyncOptions {
  /** Write the status checkboxes (default true). */
  status?: boolean;
  /** Write the workflow log (default true). */
  log?: boolean;
  /** Change nothing: return the diff. */
  dryRun?: boolean;
}

/** What Baton wrote into a file last (kept by the engine as the ticket's ledger). */
interface Ledger {
  /** When Baton last wrote (or imported) the file. */
  syncedAt: number;
  /** When it last wrote the status checkboxes, and the workflow log (each part has its own timing). */
  statusAt?: number;
  logAt?: number;
  /** `Phase/Field` → the value Baton wrote there. */
  fields: Record<string, string>;
  /** The hash of the file as Baton last wrote it (or found it holding all Baton had to write). */
  writtenHash?: string;
  /** What that write-back warned about (a human's value kept over Baton's): said again while the file stays so. */
  warnings?: FileProblem[];
}

function iso(ms: number | null): string | undefined {
  return ms === null ? undefined : new Date(ms).toISOString().replace(/:\d\d\.\d+Z$/, "Z");
}

/** A phase Baton handed out (claimed) or decided (a gate), as opposed to one an import found done. */
const batonWorked = (p: Phase) => p.claimedAt !== null || p.completedAt !== null;

/** When Baton last recorded work or a decision on the ticket (0: never). */
function lastWork(t: TicketDetail, engine: Engine): number {
  let at = 0;
  for (const c of engine.commits({ ticketId: t.id })) at = Math.max(at, c.at);
  for (const p of t.phases) at = Math.max(at, p.claimedAt ?? 0, p.startedAt ?? 0, p.completedAt ?? 0);
  for (const g of t.gates) at = Math.max(at, g.openedAt, g.decidedAt ?? 0);
  return at;
}

/** The phases that stand for a label's phase: itself, or the group phases that replaced it on this ticket. */
function standIns(t: TicketDetail, engine: Engine, name: string): Phase[] {
  const p = t.phases.find((x) => x.name === name);
  if (!p) return [];
  if (p.status !== "skipped") return [p];
  const by = engine.graph.overriddenBy(name);
  return t.phases.filter((x) => by.includes(x.name) && x.status !== "skipped");
}

/** Whether Baton completed a label's phase (or every group phase that replaced it). */
function doneByBaton(t: TicketDetail, engine: Engine, name: string): boolean {
  const ps = standIns(t, engine, name);
  return ps.length > 0 && ps.every((x) => x.status === "completed" && x.completedAt !== null);
}

/** The checkbox changes: check what Baton did; uncheck only what Baton sent back since it last wrote. */
function statusEdit(
  text: string,
  t: TicketDetail,
  labels: StatusLabel[],
  engine: Engine,
  reworked: Set<string>,
  warn: (message: string) => void,
): string {
  const r = setChecks(text, (_task, i) => {
    const l = labels[i];
    if (!l) return null;
    if (l.terminal) return t.status === "completed" ? true : null;
    if (!l.mapped || l.phase === null) return null;
    if (doneByBaton(t, engine, l.phase)) return true;
    const open = standIns(t, engine, l.phase).filter((x) => !isDone(x.status));
    if (l.checked && open.length) {
      if (open.some((x) => reworked.has(x.name))) return false;
      const p = open[0];
      warn(`"${l.label}" is checked, but ${p.name} is ${p.status.replace("_", " ")} in the database; left as it is`);
    }
    return null;
  });
  const placeable = labels.some((l) => !l.terminal && l.mapped && l.phase !== null);
  if (labels.length && !placeable && t.phases.some((p) => p.status === "completed" && p.completedAt !== null)) {
    warn(
      "no status label matches a phase of this workflow, so no box shows the work done (add them to tickets.status_map)",
    );
  }
  return r.text;
}

/** The log entry Baton has for a phase: only for work it recorded. */
function entryFor(engine: Engine, t: TicketDetail, p: Phase) {
  const reviewer = t.gates.filter((g) =>
    g.decidedAt !== null && g.notes &&
    (g.phaseId === p.id || engine.graph.reviews(g.phaseName, p.name))
  ).map((g) => `${g.status} by ${g.decidedBy?.replace(/^human:/, "")}: ${g.notes}`);
  return {
    Started: iso(p.startedAt ?? p.claimedAt),
    Completed: p.status === "completed" ? iso(p.completedAt) : undefined,
    Notes: p.resultSummary ?? undefined,
    "Reviewer Notes": reviewer.length ? reviewer.join("\n") : undefined,
  } as Record<"Started" | "Completed" | "Notes" | "Reviewer Notes", string | undefined>;
}

/**
 * The log block a phase's entry goes into: the block named for it; else the
 * block of the sequential phase it stands in for on this ticket (a template's
 * `Implementation Phase` for `C++ Implementation`), when no other phase of
 * the ticket stands in for it too; else the one block whose name fits it
 * (`Documentation Update Phase` for `Documentation`); else a new block named
 * for it.
 */
function blockName(text: string, engine: Engine, t: TicketDetail, p: Phase): string {
  const blocks = workflowLogBlocks(text);
  const own = headingPhase(p.name);
  if (blocks.some((b) => b.phase === own)) return p.name;
  const applies = new Set(t.phases.filter((x) => x.status !== "skipped").map((x) => x.name));
  for (const flat of engine.graph.phases) {
    const by = engine.graph.overriddenBy(flat.name);
    if (!by.includes(p.name) || by.filter((x) => applies.has(x)).length !== 1) continue;
    if (blocks.some((b) => b.phase === headingPhase(flat.name))) return flat.name;
  }
  const names = engine.graph.phases.map((x) => x.name);
  return blocks.find((b) => logPhaseOf(b.phase, names) === p.name)?.heading ?? p.name;
}

/** The workflow-log edits: fill empty fields, update Baton's own, keep a human's (with a warning). */
function logEdit(
  text: string,
  engine: Engine,
  t: TicketDetail,
  ledger: Ledger,
  warn: (message: string) => void,
): string {
  // The commits agents made under their claims (post-commit), listed under each phase's Commits.
  const commits = engine.commits({ ticketId: t.id }).filter((c) => c.underClaim);
  for (const p of t.phases) {
    const decided = t.gates.some((g) => g.phaseId === p.id && g.decidedAt !== null);
    if (p.status === "skipped" || !(batonWorked(p) || decided)) continue;
    const want = entryFor(engine, t, p);
    const block = blockName(text, engine, t, p);
    const have = readWorkflowLog(text, block);
    const entry: Record<string, string | string[] | undefined> = {};
    for (const [field, value] of Object.entries(want)) {
      if (value === undefined) continue;
      const cur = have?.fields[field as keyof typeof want];
      const key = `${p.name}/${field}`;
      if (cur === undefined || cur === "" || cur === ledger.fields[key]) {
        entry[field] = value;
        ledger.fields[key] = logFieldText(value);
      } else if (cur !== logFieldText(value)) {
        warn(`${p.name} ${field}: the file says "${cur}", Baton has "${value}"; kept the file's`);
      }
    }
    if (p.artifacts.length) entry.artifacts = p.artifacts;
    const shas = commits.filter((c) => c.phaseId === p.id).map((c) => c.sha.slice(0, 12));
    if (shas.length) entry.commits = shas;
    if (Object.keys(entry).length === 0) continue;
    text = writeWorkflowLog(text, block, {
      started: entry.Started as string | undefined,
      completed: entry.Completed as string | undefined,
      artifacts: entry.artifacts as string[] | undefined,
      commits: entry.commits as string[] | undefined,
      notes: entry.Notes as string | undefined,
      reviewerNotes: entry["Reviewer Notes"] as string | undefined,
    }).text;
  }
  return text;
}

/**
 * What Baton did to a ticket since it last wrote (or imported) each part of
 * its file: the phases sent back for rework since the status was written,
 * and whether there is nothing new for the parts asked for (`quiet`).
 */
function sinceWritten(
  engine: Engine,
  t: TicketDetail,
  recorded: Ledger | null,
  opts: { status?: boolean; log?: boolean },
): { reworked: Set<string>; quiet: boolean } {
  // A part never written since the import counts from the ticket's creation.
  const statusSince = recorded?.statusAt ?? t.createdAt;
  const logSince = recorded?.logAt ?? t.createdAt;
  const reworked = new Set(
    engine.audit({ ticketId: t.id, action: "phase.rework", since: statusSince }).map((a) => String(a.details?.phase)),
  );
  const work = lastWork(t, engine);
  const quiet = (opts.status === false || (work < statusSince && reworked.size === 0)) &&
    (opts.log === false || work < logSince);
  return { reworked, quiet };
}

/**
 * A ticket's file as {@link readTicketText} reads it; a file an interrupted write-back left set aside is put back
 * first.
 * @throws {BatonError} `not_found` (with the file's location) when the file is gone
 */
function readTicketFile(engine: Engine, ticketId: string, path: string): ReturnType<typeof readTicketText> {
  try {
    return readTicketText(engine, path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const root = engine.cfg.repoRoot;
  if (restoreSetAside(root, path)) return readTicketText(engine, path);
  const aside = setAsideOf(root, path);
  throw new BatonError(
    "not_found",
    `${path}, the file of ticket ${ticketId}, is gone` +
      (aside.state === "none" ? ": restore it, or, if it was renamed, run baton import" : setAsideAdvice(path, aside)),
    { location: { file: path } },
  );
}

/**
 * Writes one ticket's status checkboxes and workflow log back to its file,
 * splicing only those lines, and only what Baton did that the file lacks.
 * The file is replaced atomically and only if nobody changed it meanwhile.
 *
 * @param engine the engine
 * @param ticketId the ticket
 * @param opts which parts, or a dry run
 * @returns written or unchanged, the warnings, and with `dryRun` the diff
 * @throws {BatonError} `not_found` (no file), `markdown_invalid` (not UTF-8: never rewritten), `write_conflict`
 */
export function syncTicket(
  engine: Engine,
  ticketId: string,
  opts: SyncOptions = {},
): { state: "written" | "unchanged"; warnings: FileProblem[]; diff?: string } {
  const t = engine.ticket(ticketId);
  if (!t.path) throw new BatonError("not_found", `Ticket ${ticketId} has no markdown file`);
  const path = t.path;
  const file0 = engine.ticketFiles([ticketId])[0];
  const recorded = file0?.ledger as Ledger | null;
  const ledger: Ledger = { ...recorded, syncedAt: recorded?.syncedAt ?? t.createdAt, fields: { ...recorded?.fields } };
  const { reworked, quiet } = sinceWritten(engine, t, recorded, opts);
  let read: ReturnType<typeof readTicketFile>;
  try {
    read = readTicketFile(engine, ticketId, path);
  } catch (e) {
    if (!(e instanceof BatonError && e.code === "not_found")) throw e;
    // A file gone (a finished ticket archived, say) that would get nothing new: there is nothing to write.
    if (quiet) return { state: "unchanged", warnings: [] };
    // A finished ticket's file archived before its last record was written: the record stays in Baton; said, and
    // not an error at every sync for good.
    if (t.status !== "active") {
      return {
        state: "unchanged",
        warnings: [{
          path,
          code: "ticket_file_missing",
          message: `ticket ${ticketId} is ${t.status} and its file is gone: Baton's last record of it was not ` +
            "written there (it stays in Baton: baton status " + ticketId + "); restore the file and run baton sync " +
            "to write it",
        }],
      };
    }
    throw e;
  }
  const { text: original, utf8, bytes } = read;
  const warnings: FileProblem[] = [];
  const warn = (message: string) => warnings.push({ path, message: `ticket ${ticketId}: ${message}` });
  const conflict = unresolvedConflict(engine, path, original);
  if (conflict !== null) {
    // A merge, rebase or stash stopped on a conflict in it: a human is resolving it. Written once it is resolved.
    warnings.push({
      path,
      line: conflict,
      code: "merge_conflict",
      message: `ticket ${ticketId}: not written: the file has an unresolved merge conflict; Baton writes its ` +
        "record once it is resolved (baton sync)",
    });
    return { state: "unchanged", warnings };
  }
  // Nothing Baton did since it last wrote (or imported) each part asked for, and the file is as Baton left it then:
  // nothing to write, without parsing it. Not a file changed since (a human who discarded Baton's lines, by hand or
  // with git, and imported the file): what it lacks of Baton's record is written again.
  const hash = contentHash(original);
  // The file as Baton last left it with both parts checked; a ticket Baton never wrote: as imported. One Baton wrote
  // before this hash was kept (or with one part only) is read again.
  const wrote = recorded?.statusAt !== undefined || recorded?.logAt !== undefined;
  const trusted = ledger.writtenHash ?? (wrote ? undefined : file0?.contentHash);
  if (quiet && trusted === hash) return { state: "unchanged", warnings: recorded?.warnings ?? [] };
  const both = opts.status !== false && opts.log !== false;
  let text = original;
  if (opts.status !== false) {
    // Only the status checklist is needed: the front matter is not read (nor its YAML parser loaded).
    const parsed = parseTicketWith(original, parseOptions(engine, path), null);
    if (parsed.status.labels.length > 0) text = statusEdit(text, t, parsed.status.labels, engine, reworked, warn);
  }
  if (opts.log !== false) text = logEdit(text, engine, t, ledger, warn);
  if (text === original) {
    // It holds all of Baton's record (both parts looked at): the next write-back may trust it unread while it stays so.
    const said = warnings.length ? warnings : undefined;
    if (
      !opts.dryRun && both && wrote && file0 &&
      (recorded?.writtenHash !== hash || JSON.stringify(recorded?.warnings) !== JSON.stringify(said))
    ) {
      engine.setTicketFile(ticketId, {
        path,
        contentHash: file0.contentHash ?? "",
        ledger: { ...recorded, writtenHash: hash, warnings: said },
      });
    }
    return { state: "unchanged", warnings };
  }
  // Only refused when there is something to write: its text was read as Latin-1, and writing it back
  // would re-encode every byte of the file.
  if (!utf8) {
    throw new BatonError("markdown_invalid", "not valid UTF-8: Baton reads this file but never rewrites it", {
      location: { file: path },
    });
  }
  if (opts.dryRun) return { state: "written", warnings, diff: unifiedDiff(original, text, path) };
  replaceIfUnchanged(engine.cfg.repoRoot, path, bytes, encodeLike(bytes, text));
  const now = engine.now();
  const written = contentHash(text);
  engine.setTicketFile(ticketId, {
    path,
    // A human's edit not imported yet stays to be imported: the file's hash is recorded as imported only when the
    // file Baton read was the one last imported (else the next import would find it "unchanged" and skip the edit).
    contentHash: file0?.contentHash === hash ? written : file0?.contentHash ?? "",
    ledger: {
      ...ledger,
      writtenHash: both ? written : undefined, // a part not looked at is looked at next time
      warnings: warnings.length ? warnings : undefined,
      syncedAt: now,
      ...(opts.status !== false ? { statusAt: now } : {}),
      ...(opts.log !== false ? { logAt: now } : {}),
    },
  });
  return { state: "written", warnings };
}

/**
 * Writes every ticket with a markdown file back (`baton sync`), or the
 * given ones.
 * @param engine the engine
 * @param opts which tickets (default: all), which parts, or a dry run
 * @returns what happened to each
 */
export function syncAll(engine: Engine, opts: SyncOptions & { ticketIds?: string[] } = {}): SyncResult {
  const out: SyncResult = { written: [], unchanged: [], errors: [], warnings: [], diffs: [] };
  if (!opts.dryRun && !opts.ticketIds) {
    // What a write-back killed before it finished left of its own: gone once its writer is.
    try {
      for (const path of removeStrayNewCopies(engine.cfg.repoRoot, ticketDirFiles(engine))) {
        out.warnings.push({ path, message: "removed: the text an interrupted write-back had not linked in yet" });
      }
    } catch { /* the ticket directory's problems are said by each ticket's write */ }
  }
  const ids = opts.ticketIds ?? engine.ticketFiles().filter((t) => t.path !== null).map((t) => t.id);
  for (const id of ids) {
    try {
      const r = syncTicket(engine, id, opts);
      (r.state === "written" ? out.written : out.unchanged).push(id);
      out.warnings.push(...r.warnings);
      if (r.diff) out.diffs.push(r.diff);
    } catch (e) {
      if (e instanceof BatonError) {
        out.errors.push({ path: e.location?.file ?? id, message: e.message, code: e.code });
        continue;
      }
      // The file system refused (a directory where the file was, no permission): said at the file, as import says it.
      const path = engine.ticketFiles([id])[0]?.path ?? id;
      const why = (e as Error).message.replaceAll(`${engine.cfg.repoRoot}/`, "");
      out.errors.push({ path, message: `cannot read or write it: ${why}`, code: "markdown_invalid" });
    }
  }
  return out;
}
