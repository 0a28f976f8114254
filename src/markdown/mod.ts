/**
 * Ticket markdown as pure functions (no file or database I/O): reading a
 * ticket, and editing it by splicing the original text so that bytes outside
 * the edited lines never change.
 *
 * @module
 */
export { parseTicket } from "./read_ticket.ts";
export { checkThrough, mapLabel, positionForPhase, setChecks, vocabularyOf } from "./status.ts";
export { headingPhase, readWorkflowLog, type WorkflowLogValues, writeWorkflowLog } from "./workflow_log.ts";
export { renderTemplate } from "./template.ts";
export { contentHash, ticketIdFromPath } from "./ids.ts";
export { conflictMarkerLine } from "./conflict.ts";
export type {
  EditResult,
  MarkdownWarning,
  MetadataValue,
  ParsedTicket,
  ParseOptions,
  StatusLabel,
  StatusVocabulary,
  TicketDependency,
  TicketStatus,
  WorkflowLogEntry,
} from "./types.ts";
