/**
 * Tickets an agent (or a human) files about something found while working
 * on another: the new ticket records the one it was discovered from
 * (metadata `discovered_from`, audited as `ticket.discovered`). The link
 * does not block either ticket.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Core } from "./core.ts";
import { setDiscoveredFrom } from "./sql/sessions.ts";
import { ticketById } from "./sql/tickets.ts";
import type { Actor } from "./types.ts";

/** `Engine.linkDiscovered`. */
export function linkDiscovered(core: Core, ticketId: string, fromId: string, actor: Actor): void {
  core.tx((now) => {
    if (!ticketById(core.db, ticketId)) throw new BatonError("not_found", `Ticket ${ticketId} does not exist`);
    if (!ticketById(core.db, fromId)) throw new BatonError("not_found", `Ticket ${fromId} does not exist`);
    if (ticketId === fromId) {
      throw new BatonError("invalid_argument", `Ticket ${ticketId} cannot be discovered from itself`);
    }
    setDiscoveredFrom(core.db, ticketId, fromId, now);
    core.audit(now, actor, "ticket.discovered", { type: "ticket", id: ticketId, ticket: ticketId }, null, null, {
      from: fromId,
    });
    core.touched(ticketId);
  });
}
