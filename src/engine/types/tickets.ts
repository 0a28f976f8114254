/**
 * Tickets: what creating, updating and reading them takes and returns, their dependencies, their markdown files.
 *
 * @module
 */
import type { Metadata } from "../../config/conditions.ts";
import type { Gate } from "./gates.ts";
import type { Phase } from "./work.ts";
import type { PhaseStatus } from "../state_machine.ts";

/** Kinds of ticket dependency. */
export type DependencyType = "completion" | "design" | "implementation";

/** One dependency of a ticket being created or updated. */
export interface DependencyInput {
  /** The ticket waited for (or, in a batch, another item's `ref`). */
  on: string;
  /** The milestone waited for (default `completion`). */
  type?: DependencyType;
}

/** Input of `Engine.upsertTicket`. */
export interface TicketInput {
  /** Ticket id, e.g. `0083` or `D0001`. */
  id: string;
  /** Title. */
  title: string;
  /** Typed metadata (field → value). */
  metadata?: Metadata;
  /** Priority label (else `metadata.priority`). */
  priority?: string;
  /** Markdown path relative to the repository root. */
  path?: string;
  /** Hash of the markdown content (import idempotency). */
  contentHash?: string;
  /** Parent ticket (recorded, not a blocker). */
  parentId?: string;
  /** Dependencies; when given, they replace the ticket's current set. */
  dependencies?: DependencyInput[];
  /**
   * Phases already done (e.g. from the markdown status): marked completed at
   * seeding, and every phase before them too, so an imported ticket never
   * reopens work it is past. On an existing ticket they move it forward,
   * never back: each such phase still open that Baton never worked on (no
   * claim, completion, decision or rework recorded) and no agent holds is
   * completed (an undecided open gate is withdrawn).
   */
  completedPhases?: string[];
}

/** One item of `Engine.createTickets`: a ticket whose id may be generated, named by `ref` in the batch. */
export interface NewTicketInput extends Omit<TicketInput, "id"> {
  /** The id; the next free number when omitted. */
  id?: string;
  /** A name the batch's other items use in their dependencies. */
  ref?: string;
}

/** A ticket dependency. */
export interface Dependency {
  /** The waiting ticket. */
  ticketId: string;
  /** The ticket waited for. */
  dependsOn: string;
  /** The milestone waited for. */
  type: DependencyType;
  /** When the milestone was reached (null: still waiting). */
  satisfiedAt: number | null;
}

/** A ticket with everything about it. */
export interface TicketDetail {
  /** Ticket id. */
  id: string;
  /** Title. */
  title: string;
  /** Markdown path, repository-relative. */
  path: string | null;
  /** Priority label. */
  priority: string | null;
  /** Typed metadata. */
  metadata: Metadata;
  /** Hash of the markdown when last imported or written. */
  contentHash: string | null;
  /** Completed once every phase is completed or skipped. */
  status: "active" | "completed";
  /** Parent ticket, if any. */
  parentId: string | null;
  /** When it was created. */
  createdAt: number;
  /** When it last changed. */
  updatedAt: number;
  /** Its phases in workflow order. */
  phases: Phase[];
  /** Its gates, oldest first. */
  gates: Gate[];
  /** What it waits for. */
  dependencies: Dependency[];
  /** What waits for it. */
  dependents: Dependency[];
}

/** `Engine.listTickets`: filters, all optional. */
export interface TicketFilter {
  /** active or completed. */
  status?: "active" | "completed";
  /** A priority label (case-insensitive). */
  priority?: string;
  /** Part of a `components`/`component` metadata value. */
  component?: string;
  /** An agent holding a phase of the ticket. */
  agent?: string;
  /** Only tickets waiting (or not) on a dependency. */
  blocked?: boolean;
}

/** One row of `Engine.listTickets`. */
export interface TicketSummary {
  /** Ticket id. */
  id: string;
  /** Title. */
  title: string;
  /** active or completed. */
  status: string;
  /** Priority label. */
  priority: string | null;
  /** The first phase not done yet. */
  phase: string | null;
  /** Waits on a dependency. */
  blocked: boolean;
}

/** One card of `Engine.board`: a ticket with its phases. */
export interface BoardTicket {
  /** Ticket id. */
  id: string;
  /** Title. */
  title: string;
  /** active or completed. */
  status: string;
  /** Priority label. */
  priority: string | null;
  /** Typed metadata (components, and the rest). */
  metadata: Metadata;
  /** Waits on a dependency. */
  blocked: boolean;
  /** Its phases in workflow order. */
  phases: Phase[];
}

/** A ticket's markdown file as the engine records it (`Engine.ticketFiles`). */
export interface TicketFile {
  /** The ticket. */
  id: string;
  /** Repository-relative path (null: no file). */
  path: string | null;
  /** Hash of the content when last imported or written. */
  contentHash: string | null;
  /** What the write-back last wrote into it (opaque to the engine; null: nothing yet). */
  ledger: unknown;
}

/** What `Engine.setTicketFile` records. */
export interface TicketFileUpdate {
  /** Repository-relative path. */
  path: string;
  /** Hash of the content now. */
  contentHash: string;
  /** What the write-back wrote (unchanged when omitted). */
  ledger?: unknown;
}

/** What `Engine.seedNewPhases` did to one open ticket's phase, following an edit of the workflow. */
export interface SeededPhase {
  /** The ticket. */
  ticketId: string;
  /** The phase. */
  phase: string;
  /** Its status after. */
  status: PhaseStatus;
  /** Skipped, not started: the workflow no longer has it, or a new parallel group replaces it. */
  retired?: boolean;
  /** Not started, and now for this agent type (the workflow changed it). */
  retypedTo?: string;
  /** Skipped by an earlier edit, and to be done again: the workflow has it back (an edit undone). */
  reopened?: boolean;
}
