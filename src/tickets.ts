/**
 * Markdown tickets and the database: import (markdown → database), write-back
 * of status checkboxes and workflow logs (database → markdown, splicing the
 * original text), and new tickets from a template. The markdown stays the
 * content store; the database is authoritative for status.
 *
 * @module
 */
import { BatonError } from "./errors.ts";
import type { Engine, TicketDetail } from "./engine.ts";
import { globMatches } from "./globs.ts";
import {
  checkThrough,
  contentHash,
  type ParseOptions,
  parseTicket,
  positionForPhase,
  renderTemplate,
  ticketIdFromPath,
  writeWorkflowLog,
} from "./markdown.ts";

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

/** What an import did. */
export interface ImportResult {
  imported: string[];
  updated: string[];
  unchanged: string[];
  /** Files not imported, with the reason (duplicates, names without an id). */
  skipped: FileProblem[];
  errors: FileProblem[];
  warnings: FileProblem[];
  /** Ids found in more than one file: none of those files was imported. */
  duplicates: { id: string; paths: string[] }[];
}

/** How the engine's configuration asks `parseTicket` to read a ticket at `path`. */
function parseOptions(engine: Engine, path: string): ParseOptions {
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
  const known = new Map(
    engine.db.all<{ id: string; path: string | null; content_hash: string | null }>(
      "SELECT id, path, content_hash FROM tickets",
    ).map((r) => [r.id, r]),
  );
  const options = parseOptions(engine, "");
  const phaseNames = options.phaseNames!;
  const blocks: { from: string; to: string; path: string; line: number }[] = [];
  const total = unique.length;
  let done = 0;
  engine.db.transaction(() => {
    for (const [id, { path, text }] of unique) {
      done++;
      const hash = contentHash(text);
      const had = known.get(id);
      if (had && had.content_hash === hash && had.path === path) {
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
        engine.db.transaction(() => {
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
      if (!engine.db.get("SELECT 1 AS x FROM tickets WHERE id = ?", [b.from])) {
        result.warnings.push({ path: b.path, line: b.line, message: `blocks ${b.from}, which is not a known ticket` });
        continue;
      }
      try {
        engine.db.transaction(() => engine.addDependency(b.from, b.to));
      } catch (e) {
        result.errors.push({ path: b.path, line: b.line, message: (e as Error).message, code: (e as BatonError).code });
      }
    }
  });
  return result;
}

/** The last phase of a contiguous done prefix (completed or skipped), or null. */
function lastDonePhase(t: TicketDetail, phaseNames: string[]): string | null {
  const status = new Map(t.phases.map((p) => [p.name, p.status]));
  let last: string | null = null;
  for (const name of phaseNames) {
    const s = status.get(name);
    if (s !== "completed" && s !== "skipped") break;
    if (s === "completed") last = name;
  }
  return last;
}

/** What a write-back did. */
export interface SyncResult {
  written: string[];
  unchanged: string[];
  errors: FileProblem[];
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
  engine.db.transaction(() =>
    engine.db.run("UPDATE tickets SET content_hash = ? WHERE id = ?", [contentHash(text), ticketId])
  );
  return { state: "written", warnings };
}

/**
 * Writes every ticket with a markdown file back (batch mode; `baton sync`).
 * @param engine the engine
 * @returns what happened to each
 */
export function syncAll(engine: Engine): SyncResult {
  const out: SyncResult = { written: [], unchanged: [], errors: [], warnings: [] };
  for (const { id } of engine.db.all<{ id: string }>("SELECT id FROM tickets WHERE path IS NOT NULL ORDER BY id")) {
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

const FALLBACK_TEMPLATE = `# Ticket {{id}}: {{title}}

## Status
- [ ] Draft

## Metadata
- **Created**: {{date}}
- **Priority**: {{priority}}

---

## Summary
{{summary}}

---

## Workflow Log

---

## Human Feedback
`;

/** A file name slug: lowercase words joined by underscores. */
export function slugify(title: string): string {
  return title.toLowerCase().normalize("NFKD").replace(/[^\p{L}\p{N}]+/gu, "_").replace(/^_+|_+$/g, "").slice(0, 60) ||
    "ticket";
}

/**
 * Writes a ticket's markdown from `.workflow/templates/ticket.md` (never
 * overwriting an existing file) and returns its repository-relative path.
 * @param engine the engine
 * @param fields id, title and template values
 * @returns the path written
 * @throws {BatonError} `invalid_argument` when the file exists
 */
export function writeTicketFile(
  engine: Engine,
  fields: { id: string; title: string; priority?: string; summary?: string; components?: string; languages?: string },
): string {
  let template = FALLBACK_TEMPLATE;
  try {
    template = Deno.readTextFileSync(`${engine.cfg.workflowDir}/templates/ticket.md`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const dir = engine.cfg.config.tickets.directory.replace(/\/+$/, "");
  const rel = `${dir}/${fields.id}_${slugify(fields.title)}.md`;
  const text = renderTemplate(template, {
    id: fields.id,
    title: fields.title,
    date: new Date(engine.now()).toISOString().slice(0, 10),
    priority: fields.priority ?? "Medium",
    summary: fields.summary ?? "",
    components: fields.components ?? "",
    languages: fields.languages ?? "",
  });
  Deno.mkdirSync(`${engine.cfg.repoRoot}/${dir}`, { recursive: true });
  try {
    Deno.writeTextFileSync(`${engine.cfg.repoRoot}/${rel}`, text, { createNew: true });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new BatonError("invalid_argument", `${rel} already exists; Baton never overwrites a ticket file`);
    }
    throw e;
  }
  return rel;
}

/**
 * `baton new`: the next ticket id, a file from the template, imported.
 * @param engine the engine
 * @param input title and optional priority/summary
 * @returns the ticket
 */
export function newTicket(engine: Engine, input: { title: string; priority?: string; summary?: string }): TicketDetail {
  if (!input.title?.trim()) throw new BatonError("invalid_argument", "A new ticket needs a title");
  const ids = engine.db.all<{ id: string }>("SELECT id FROM tickets").map((r) => r.id);
  const files = listTicketFiles(engine).map((p) => ticketIdFromPath(p, engine.cfg.config.tickets.id_regex) ?? "");
  const numeric = [...ids, ...files].filter((x) => /^\d+$/.test(x)).map(Number);
  const id = String((numeric.length ? Math.max(...numeric) : 0) + 1).padStart(4, "0");
  const path = writeTicketFile(engine, { id, ...input });
  const text = Deno.readTextFileSync(`${engine.cfg.repoRoot}/${path}`);
  const parsed = parseTicket(text, parseOptions(engine, path));
  return engine.upsertTicket({
    id,
    title: parsed.title,
    metadata: { ...parsed.metadata, ...(input.priority ? { priority: input.priority } : {}) },
    path,
    contentHash: contentHash(text),
  });
}

/**
 * A planner's batch with markdown: creates the tickets atomically (see
 * `Engine.createTickets`) and writes a file for each from the template,
 * never overwriting one. Either everything is created (rows and files) or
 * nothing is: files written before a failure are removed again.
 *
 * @param engine the engine
 * @param items the tickets (as for `createTickets`)
 * @param actor who plans
 * @returns the created tickets, with their paths
 * @throws {BatonError} as `createTickets`, and `invalid_argument` when a file exists
 */
export function createTicketsWithFiles(
  engine: Engine,
  items: Parameters<Engine["createTickets"]>[0],
  actor: Parameters<Engine["createTickets"]>[1] = "system",
): TicketDetail[] {
  const written: string[] = [];
  try {
    return engine.db.transaction(() => {
      const created = engine.createTickets(items, actor);
      return created.map((t) => {
        const priority = typeof t.metadata.priority === "string" ? t.metadata.priority : t.priority ?? undefined;
        const path = writeTicketFile(engine, { id: t.id, title: t.title, priority });
        written.push(path);
        const text = Deno.readTextFileSync(`${engine.cfg.repoRoot}/${path}`);
        engine.db.run("UPDATE tickets SET path = ?, content_hash = ? WHERE id = ?", [path, contentHash(text), t.id]);
        return { ...t, path, contentHash: contentHash(text) };
      });
    });
  } catch (e) {
    for (const p of written) {
      try {
        Deno.removeSync(`${engine.cfg.repoRoot}/${p}`);
      } catch { /* already gone */ }
    }
    throw e;
  }
}
