/**
 * Tickets between their markdown files and the database: import, write-back
 * and new tickets, through the Engine API only.
 *
 * @module
 */
export { type FileProblem, listTicketFiles } from "./files.ts";
export { type ImportOptions, type ImportResult, importTickets, type WarningGroup } from "./import.ts";
export { syncAll, type SyncOptions, type SyncResult, syncTicket } from "./write_back.ts";
export { createTicketsWithFiles, newTicket, slugify, writeTicketFile } from "./new_ticket.ts";
export { realtimeWriteBack } from "./realtime.ts";
