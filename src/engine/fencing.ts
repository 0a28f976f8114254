/**
 * Fencing: every call on a held phase names its holder and presents the
 * claim's token; a call by anyone else, or with an old token (the claim
 * expired and was taken again), is refused before anything changes.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { type Core, what } from "./core.ts";
import { phaseWithToken } from "./sql/phases.ts";
import type { R } from "./sql/rows.ts";
import { isHeld } from "./state_machine.ts";

/**
 * Loads a held phase, checking holder and fencing token (`row`: the phase
 * read with its token already in this transaction).
 */
export function held(core: Core, phaseId: number, agentId: string, token: string, action: string, row?: R): R {
  row ??= phaseWithToken(core.db, phaseId);
  if (!row) throw new BatonError("not_found", `Phase ${phaseId} does not exist`);
  if (!isHeld(row.status)) {
    throw new BatonError(
      "invalid_transition",
      `Cannot ${action} ${what(row.name, row.ticket_id)}: it is ${row.status.replace("_", " ")}`,
      { details: { status: row.status } },
    );
  }
  if (row.claimed_by !== agentId) {
    throw new BatonError(
      "claim_conflict",
      `Cannot ${action} ${what(row.name, row.ticket_id)}: held by ${row.claimed_by}`,
      {
        details: { holder: row.claimed_by },
      },
    );
  }
  if (row.claim_token !== token) {
    throw new BatonError(
      "stale_token",
      `Cannot ${action} ${what(row.name, row.ticket_id)}: the claim token is not the current one`,
    );
  }
  return row;
}
