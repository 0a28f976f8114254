/**
 * New tickets: a markdown file from `.workflow/templates/ticket.md` (never
 * overwriting one), imported at once; and a planner's batch with a file
 * for each ticket, all or nothing.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { checkLine, checkTitle } from "../lines.ts";
import type { Engine } from "../engine/mod.ts";
import type { Actor, NewTicketInput, TicketDetail } from "../engine/types.ts";
import { contentHash } from "../markdown/ids.ts";
import { parseTicket } from "../markdown/read_ticket.ts";
import { renderTemplate } from "../markdown/template.ts";
import { parseOptions, placementKey, ticketFilesById } from "./files.ts";
import {
  createRepoFile,
  readRepoText,
  readRepoTextIfAny,
  removeRepoFile,
  repoDir,
  underRepoDir,
} from "../repo/files.ts";

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
  fields: {
    id: string;
    title: string;
    priority?: string;
    summary?: string;
    components?: string;
    languages?: string;
    discoveredFrom?: string;
  },
): string {
  const root = engine.cfg.repoRoot;
  const template = readRepoTextIfAny(root, ".workflow/templates/ticket.md") ?? FALLBACK_TEMPLATE;
  for (const [k, v] of Object.entries(fields)) checkLine(v, `The ${k} of a new ticket`);
  const rel = underRepoDir(repoDir(engine.cfg.config.tickets.directory), `${fields.id}_${slugify(fields.title)}.md`);
  const rendered = renderTemplate(template, {
    id: fields.id,
    title: fields.title,
    date: new Date(engine.now()).toISOString().slice(0, 10),
    priority: fields.priority ?? "Medium",
    summary: fields.summary ?? "",
    components: fields.components ?? "",
    languages: fields.languages ?? "",
    discovered_from: fields.discoveredFrom ?? "",
  });
  const text = fields.discoveredFrom && !template.includes("{{discovered_from}}")
    ? withMetadataLine(rendered, `- **Discovered From**: ${fields.discoveredFrom}`)
    : rendered;
  try {
    // Written aside and linked into place: a full disk leaves no empty or partial ticket file behind.
    createRepoFile(root, rel, text);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new BatonError("invalid_argument", `${rel} already exists; Baton never overwrites a ticket file`);
    }
    throw e;
  }
  return rel;
}

/** Adds a line at the end of the first list under `## Metadata` (or, without one, after the title). */
function withMetadataLine(text: string, line: string): string {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => /^##\s+metadata\s*$/i.test(l));
  if (at < 0) {
    const h1 = lines.findIndex((l) => /^#\s/.test(l));
    lines.splice(h1 + 1, 0, "", line);
    return lines.join("\n");
  }
  let end = at + 1;
  while (end < lines.length && !/^(#|---)/.test(lines[end])) end++;
  while (end > at + 1 && lines[end - 1].trim() === "") end--;
  lines.splice(end, 0, line);
  return lines.join("\n");
}

/**
 * `baton new`: the next ticket id, a file from the template, imported.
 * With `discoveredFrom` (an agent's `report_issue`, `baton new --from`), the
 * file's metadata says which ticket it was found while working on, and the
 * engine records the link.
 * @param engine the engine
 * @param input title and optional priority/summary, the ticket it was discovered from, who files it
 * @returns the ticket
 * @throws {BatonError} `invalid_argument` (no title, a bad line), `not_found` (an unknown `discoveredFrom`)
 */
export function newTicket(
  engine: Engine,
  input: { title: string; priority?: string; summary?: string; discoveredFrom?: string; actor?: Actor },
): TicketDetail {
  if (!input.title?.trim()) throw new BatonError("invalid_argument", "A new ticket needs a title");
  checkTitle(input.title, "The title of a new ticket");
  const from = input.discoveredFrom;
  if (from !== undefined) engine.ticket(from); // not_found before anything is written
  // One transaction allocates the id, creates the ticket (never updating one) and writes its file: two
  // `baton new` at once get two ids; a file that cannot be written leaves no ticket behind.
  let written: string | undefined;
  let id: string;
  try {
    id = engine.transaction(() => {
      const [created] = engine.createTickets([{ title: input.title.trim() }], input.actor, ticketFilesById(engine));
      const id = created.id;
      const path = written = writeTicketFile(engine, {
        id: created.id,
        title: input.title,
        priority: input.priority,
        summary: input.summary,
        discoveredFrom: from,
      });
      const text = readRepoText(engine.cfg.repoRoot, path);
      const parsed = parseTicket(text, parseOptions(engine, path));
      engine.upsertTicket({
        id,
        title: parsed.title,
        metadata: { ...parsed.metadata, ...(input.priority ? { priority: input.priority } : {}) },
        path,
        contentHash: contentHash(text),
      });
      engine.setTicketFile(id, { path, contentHash: contentHash(text), ledger: { placedWith: placementKey(engine) } });
      if (from !== undefined) engine.linkDiscovered(id, from, input.actor ?? "system");
      return id;
    });
  } catch (e) {
    if (written) removeRepoFile(engine.cfg.repoRoot, written);
    throw e;
  }
  return engine.ticket(id);
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
  items: NewTicketInput[],
  actor: Actor = "system",
): TicketDetail[] {
  const written: string[] = [];
  try {
    return engine.transaction(() => {
      const created = engine.createTickets(items, actor, ticketFilesById(engine));
      return created.map((t) => {
        const priority = typeof t.metadata.priority === "string" ? t.metadata.priority : t.priority ?? undefined;
        const path = writeTicketFile(engine, { id: t.id, title: t.title, priority });
        written.push(path);
        const text = readRepoText(engine.cfg.repoRoot, path);
        engine.setTicketFile(
          t.id,
          { path, contentHash: contentHash(text), ledger: { placedWith: placementKey(engine) } },
          actor,
        );
        return { ...t, path, contentHash: contentHash(text) };
      });
    });
  } catch (e) {
    for (const p of written) {
      try {
        removeRepoFile(engine.cfg.repoRoot, p);
      } catch { /* the error that matters is the one rethrown below */ }
    }
    throw e;
  }
}
