/**
 * The engine's public types: what its calls take and return, one file per
 * area of the API under `types/`, all re-exported here.
 *
 * @module
 */
import type { JournalMode } from "../storage/sqlite.ts";

/** Who acts: a human (by name) or an agent (by id). A bare string is an agent id. */
export type Actor = { kind: "human"; name: string } | { kind: "agent"; id: string } | string;

/** Options of `openEngine`. */
export interface EngineOptions {
  /** Clock in ms since the epoch (tests inject one). */
  clock?: () => number;
  /**
   * This machine's boot (`HOST BOOT-ID`) and the time since it in ms, or null where not known: time that passed on
   * it is trusted by every process of that boot when leases end (tests inject one; default: the kernel's, from
   * `/proc`).
   */
  machineClock?: () => { boot: string; ms: number } | null;
  /** Override `database.journal_mode` from config.yaml. */
  journalMode?: JournalMode;
  /**
   * Called after the outermost commit of a request that changed phases,
   * with the tickets concerned (realtime markdown write-back uses it).
   * Errors it throws are reported on stderr, never to the caller.
   */
  afterCommit?: (ticketIds: string[]) => void;
}

export type * from "./types/tickets.ts";
export type * from "./types/work.ts";
export type * from "./types/gates.ts";
export type * from "./types/observe.ts";
export type * from "./types/merge.ts";
