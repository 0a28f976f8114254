/**
 * What reading a ticket gives, and what editing one takes and returns.
 *
 * @module
 */
import type { MetadataField } from "../config/schema.ts";

/** A problem found in a ticket's content; parsing goes on. */
export interface MarkdownWarning {
  /** What is wrong, for a human. */
  message: string;
  /** 1-based line number in the ticket. */
  line: number;
  /** The Baton metadata field concerned, when there is one. */
  field?: string;
  /** A stable code for the kind of problem (`status_unmapped`…), when there is one. */
  code?: string;
}

/** One checkbox of the `## Status` checklist. */
export interface StatusLabel {
  /** The label without its condition, e.g. `Ready for Python Design`. */
  label: string;
  /** Whether the box is checked (`[x]` or `[X]`). */
  checked: boolean;
  /** 1-based line number. */
  line: number;
  /** A trailing parenthesised condition, without the parentheses, e.g. `if Python in Languages`. */
  condition?: string;
  /** Whether the label maps to a phase (or explicitly to "before any phase"). */
  mapped: boolean;
  /** The last phase done once the ticket is at this label; null: before any phase (or not mapped). */
  phase: string | null;
  /** The last label of the list: checked there, the ticket is complete. */
  terminal?: boolean;
}

/** Where a ticket's status says it is. */
export interface TicketStatus {
  /** Every checkbox of the `## Status` section, in order (empty when there is no checklist). */
  labels: StatusLabel[];
  /**
   * The last checked label; without a checklist, the value of a `Status`
   * metadata entry (`## Status: Complete`, `**Status**: Planning`); null when neither.
   */
  position: string | null;
  /**
   * The furthest phase any checked label says is done (see {@link parseTicket});
   * null: before any phase, or nothing placed.
   */
  phase: string | null;
  /**
   * Whether the status places the ticket: nothing checked (not started), a
   * checked label that maps, or the terminal label checked. False when boxes
   * are checked but none of them maps: such a ticket cannot be placed.
   */
  mapped: boolean;
  /** The terminal (last) label is checked: the ticket is complete. */
  complete: boolean;
  /**
   * Checked labels that map to no phase. They never move the ticket back: it is placed at least as far
   * as every label listed before them (and its other signals), and each is a warning (`status_unmapped`).
   */
  unplaced: StatusLabel[];
  /**
   * Every phase the status proves done, each with what it waits for: the phases of the checked labels,
   * of the labels before a checked one that cannot be placed, and of the `Current Phase` line. (`phase`
   * is only the furthest of them in workflow order: phases of parallel branches are each in here.)
   */
  done: string[];
  /** A `Current Phase: X` line (the phase before X is done). */
  currentPhase?: { value: string; line: number; phase: string };
}

/** What the workflow tells the status reader about its phases (built from the configuration). */
export interface StatusVocabulary {
  /** Phase names, in workflow order. */
  phases: string[];
  /** For each phase, the phase done just before it (`Ready for X` means that one is done; null: none). */
  before: Record<string, string | null>;
  /** For each agent phase, the gate that reviews it (`X Approved` means that gate is done). */
  approvedBy: Record<string, string>;
  /** The gate phases. */
  gates: string[];
  /**
   * The last phase before landing the work (the merge queue's landing phase, when there is one; else
   * the workflow's last phase): what a label naming something after the workflow (`Ready to Merge`,
   * a bare `Approved`) says is done. Default: the last phase.
   */
  final?: string | null;
}

/** A dependency found in the ticket. */
export interface TicketDependency {
  /** The other ticket's id. */
  id: string;
  /** `blocked_by`: this ticket waits for `id`; `blocks`: `id` waits for this ticket. */
  type: "blocked_by" | "blocks";
  /** 1-based line number where it was written. */
  line: number;
}

/** Typed metadata value. */
export type MetadataValue = string | number | boolean | string[];

/** Everything {@link parseTicket} reads from a ticket. */
export interface ParsedTicket {
  /** Id from the file name (null when the name does not match the id regex). */
  id: string | null;
  /** Title from the first H1, prefixes like `Ticket 0056k:` or `Bug Ticket:` removed. */
  title: string;
  /** 1-based line of the title. */
  titleLine: number;
  /** Typed metadata per the configured fields, keyed by field name. */
  metadata: Record<string, MetadataValue>;
  /** Every `label → raw value` found in the metadata areas, labels as written. */
  rawMetadata: Record<string, string>;
  /** The status checklist and where it puts the ticket. */
  status: TicketStatus;
  /** `Depends On` / `Blocked By` / `Blocks` entries. */
  dependencies: TicketDependency[];
  /** `Parent Ticket` (recorded, not a blocker). */
  parentId: string | null;
  /**
   * The phases whose `## Workflow Log` block has a filled `Completed` field (and no `Status` saying the
   * work was sent back): done, as far as the file says. The block is the phase's by name, or the one
   * block that fits it (`Documentation Update Phase` for `Documentation`).
   */
  logCompleted: { phase: string; line: number; completed: string }[];
  /** Content problems, with line numbers. */
  warnings: MarkdownWarning[];
  /** SHA-256 (hex) of the UTF-8 text, exactly as given. */
  contentHash: string;
}

/** Options of {@link parseTicket}. */
export interface ParseOptions {
  /** The ticket's path (for the id and for messages). */
  path: string;
  /** The metadata fields to read (phases.yaml `ticket_metadata`). */
  fields: MetadataField[];
  /** `tickets.status_map`: status label → the last phase done at that label (null: before any phase). */
  statusMap?: Record<string, string | null>;
  /** The workflow's phase names in order (for mapping status labels; `vocabulary` says more). */
  phaseNames?: string[];
  /** The workflow's phases for mapping status labels: what comes before each, which gate approves each. */
  vocabulary?: StatusVocabulary;
  /** `tickets.id_regex` (default {@link DEFAULT_ID_REGEX}). */
  idRegex?: string;
  /** `tickets.dependency_keys`: the labels that name dependencies (default: the built-in ones). */
  dependencyKeys?: { blocked_by: string[]; blocks: string[]; parent: string[] };
}

/** The result of an edit: the new text and whether it differs. */
export interface EditResult {
  /** The text after the edit (the input itself when nothing changed). */
  text: string;
  /** Whether `text` differs from the input. */
  changed: boolean;
  /** Why nothing (or less than asked) was changed. */
  warnings: MarkdownWarning[];
}

/** What {@link writeWorkflowLog} writes into a phase's block (undefined fields are left alone). */
export interface WorkflowLogEntry {
  /** `- **Started**:` value. */
  started?: string;
  /** `- **Completed**:` value. */
  completed?: string;
  /** Paths merged into `- **Artifacts**:` (a nested list of backticked paths). */
  artifacts?: string[];
  /** Commits (short SHAs) merged into `- **Commits**:`, like artifacts. */
  commits?: string[];
  /** `- **Notes**:` value (may span lines). */
  notes?: string;
  /** `- **Reviewer Notes**:` value (may span lines). */
  reviewerNotes?: string;
}
