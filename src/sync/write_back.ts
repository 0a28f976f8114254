/**
 * Write-back: database → markdown. Status checkboxes and workflow logs are
 * spliced into the original text; nothing else in the file changes.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import { contentHash } from "../markdown/ids.ts";
import { parseTicket } from "../markdown/parse_ticket.ts";
import { checkThrough, positionForPhase } from "../markdown/status.ts";
import { writeWorkflowLog } from "../markdown/workflow_log.ts";
import { type FileProblem, lastDonePhase, parseOptions } from "./files.ts";

/** What a write-back did. */
export interface SyncResult {
  /** Ids of tickets whose file was written. */
  written: string[];
  /** Ids of tickets whose file already said it all. */
  unchanged: string[];
  /** Files that could not be written. */
  errors: FileProblem[];
  /** Why a part of a file was left alone. */
  warnings: FileProblem[];
}

function iso(ms: number | null): string | undefined {
  return ms === null ? undefined : new Date(ms).toISOString().replace(/:\d\d\.\d+Z$/, "Z");
}

/**
 * Writes one ticket's status checkboxes and workflow log back to its file,
 * splicing only those lines. Atomic (temp file + rename); skipped when
 * nothing changed; refused when the file changed on disk meanwhile.
 *
 * @param engine the engine
 * @param ticketId the ticket
 * @returns "written", "unchanged", or a problem
 */
export function syncTicket(
  engine: Engine,
  ticketId: string,
): { state: "written" | "unchanged"; warnings: FileProblem[] } {
  const t = engine.ticket(ticketId);
  if (!t.path) throw new BatonError("not_found", `Ticket ${ticketId} has no markdown file`);
  const file = `${engine.cfg.repoRoot}/${t.path}`;
  const original = Deno.readTextFileSync(file);
  const phaseNames = engine.cfg.workflow.phases.map((p) => p.name);
  const parsed = parseTicket(original, parseOptions(engine, t.path));
  const warnings: FileProblem[] = [];
  let text = original;
  const sync = engine.cfg.config.markdown_sync;
  if (sync.write_status && parsed.status.labels.length > 0) {
    const done = lastDonePhase(t, phaseNames);
    const label = positionForPhase(parsed.status, done, phaseNames);
    if (label === null) {
      warnings.push({
        path: t.path,
        message: `no status label matches ${done ? `"${done}" done` : "the start"}; the checkboxes were left alone`,
      });
    } else {
      const r = checkThrough(text, label);
      text = r.text;
      for (const w of r.warnings) warnings.push({ path: t.path, line: w.line, message: w.message });
    }
  }
  if (sync.write_workflow_log) {
    const gates = t.gates;
    for (const p of t.phases) {
      if (p.status === "skipped" || (p.startedAt === null && p.claimedAt === null && p.completedAt === null)) continue;
      const reviewer = gates.filter((g) =>
        g.decidedAt !== null && g.notes && (g.phaseId === p.id ||
          engine.cfg.workflow.phases.find((d) => d.name === g.phaseName)?.reviews.includes(p.name))
      ).map((g) => `${g.status} by ${g.decidedBy?.replace(/^human:/, "")}: ${g.notes}`);
      const r = writeWorkflowLog(text, p.name, {
        started: iso(p.startedAt ?? p.claimedAt),
        completed: p.status === "completed" ? iso(p.completedAt) : undefined,
        artifacts: p.artifacts.length ? p.artifacts : undefined,
        notes: p.resultSummary ?? undefined,
        reviewerNotes: reviewer.length ? reviewer.join("\n") : undefined,
      });
      text = r.text;
      for (const w of r.warnings) warnings.push({ path: t.path, line: w.line, message: w.message });
    }
  }
  if (text === original) return { state: "unchanged", warnings };
  const tmp = `${file}.baton-tmp-${Deno.pid}`;
  Deno.writeTextFileSync(tmp, text);
  // Refuse to overwrite a change made on disk since we read the file.
  if (Deno.readTextFileSync(file) !== original) {
    Deno.removeSync(tmp);
    throw new BatonError("write_conflict", `${t.path} changed on disk while Baton was writing it back; try again`, {
      location: { file: t.path },
    });
  }
  Deno.renameSync(tmp, file);
  engine.setTicketFile(ticketId, { path: t.path, contentHash: contentHash(text) });
  return { state: "written", warnings };
}

/**
 * Writes every ticket with a markdown file back (batch mode; `baton sync`).
 * @param engine the engine
 * @returns what happened to each
 */
export function syncAll(engine: Engine): SyncResult {
  const out: SyncResult = { written: [], unchanged: [], errors: [], warnings: [] };
  const ids = engine.ticketFiles().filter((t) => t.path !== null).map((t) => t.id).sort();
  for (const id of ids) {
    try {
      const r = syncTicket(engine, id);
      (r.state === "written" ? out.written : out.unchanged).push(id);
      out.warnings.push(...r.warnings);
    } catch (e) {
      const err = e as BatonError;
      out.errors.push({ path: id, message: err.message, code: err.code ?? "internal" });
    }
  }
  return out;
}
