/**
 * Reading a ticket file in full: {@link parseTicket}, front matter parsed as
 * YAML. The module that reads tickets without their front matter
 * (`parse_ticket.ts`, for the write-back) loads no YAML parser.
 *
 * @module
 */
import { frontMatterRecords } from "./front_matter.ts";
import { parseTicketWith } from "./parse_ticket.ts";
import type { ParsedTicket, ParseOptions } from "./types.ts";

/**
 * Parses a ticket: title, typed metadata, status checklist, dependencies.
 *
 * - Metadata is read in three styles, matching `fields[].markdown_key`
 *   case-insensitively: bullets under `## Metadata` (`- **Priority**: High`),
 *   bare bold lines in the header (`**Priority**: Medium`), and headings
 *   (`## Priority: High`); YAML front matter's top-level `key: value` pairs
 *   are read too (`status: done`), after the body's (a key in both is the body's). The header is everything before the first level-1/2
 *   heading that is not the title, `Status`, `Metadata`, `Dependencies` or a
 *   `Key: value` heading. An empty value followed by a list takes the list's
 *   items. Values are typed per field: boolean by yes/no (`Yes (educational
 *   value)` is true), list split on commas outside parentheses, enum matched
 *   case-insensitively to its canonical spelling (unknown values kept as
 *   written, with a warning), integer (a warning when not one), string
 *   trimmed. An empty value gives the default (or nothing).
 * - Status: the `## Status` checklist; `position` is the last checked label.
 *   Direction rule: a label maps to the LAST PHASE DONE when the ticket is at
 *   that label (null: before any phase), which is what the engine's
 *   `completedPhases` takes. `statusMap` is consulted first (keys matched
 *   case-insensitively, with or without the condition); failing that, the
 *   longest phase name contained in the label: the label says that phase is
 *   done (`Design Complete — Awaiting Review` → Design), unless the name
 *   follows `Ready for`/`Awaiting`/`Waiting for` (the label announces it),
 *   then the phase before it in `phaseNames` is the last done (`Ready for
 *   Design` → null when Design is first). Labels mapping to nothing are
 *   warnings.
 * - Dependencies: `Depends On`/`Dependencies`/`Blocked By` (blocked_by),
 *   `Blocks`, and `Parent Ticket` (recorded as `parentId`), in any metadata
 *   style, as links (the target's file name, else the link text) or bare ids.
 *
 * @param text the ticket's markdown
 * @param opts path, metadata fields, status map, phase names, id regex
 * @returns the parsed ticket (content problems are in `warnings`)
 * @throws {BatonError} `markdown_invalid` when the ticket has no title (no H1)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTicket } from "./read_ticket.ts";
 * const t = parseTicket(
 *   "# Ticket 0007: Add a cache\n\n## Status\n- [x] Draft\n- [x] Ready for Design\n- [ ] Design Complete\n\n" +
 *     "**Priority**: high\n**Depends On**: [0005](0005_store.md), 0006\n",
 *   {
 *     path: "tickets/0007_cache.md",
 *     fields: [{ field: "priority", type: "enum", values: ["High", "Low"], markdown_key: "Priority" }],
 *     phaseNames: ["Design", "Design Review"],
 *     statusMap: { Draft: null },
 *   },
 * );
 * assert(t.id === "0007" && t.title === "Add a cache" && t.metadata.priority === "High");
 * assert(t.status.position === "Ready for Design" && t.status.phase === null && t.status.mapped);
 * assert(t.dependencies.map((d) => d.id).join() === "0005,0006");
 * ```
 */
export function parseTicket(text: string, opts: ParseOptions): ParsedTicket {
  return parseTicketWith(text, opts, frontMatterRecords);
}
