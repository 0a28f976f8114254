/**
 * Baton's schema as numbered, append-only migrations. Never edit a released
 * migration: add the next number. `schema.sql` at the repository root is the
 * readable snapshot of all of them applied; a test proves the two agree.
 *
 * @module
 */
import m001 from "./001_meta.ts";
import m002 from "./002_engine.ts";
import m003 from "./003_coordination.ts";
import m004 from "./004_held_index.ts";
import m005 from "./005_drop_meta.ts";
import m006 from "./006_markdown_ledger.ts";
import m007 from "./007_gate_withdrawn.ts";
import m008 from "./008_escalations.ts";
import m009 from "./009_clock_and_principals.ts";
import m010 from "./010_agent_processes.ts";
import m011 from "./011_merge_queue.ts";
import m012 from "./012_merge_fenced.ts";
import m013 from "./013_tickets_parent_index.ts";
import m014 from "./014_write_lean_indexes.ts";
import m015 from "./015_retention_indexes.ts";
import m016 from "./016_gates_ticket_index.ts";
import m017 from "./017_merge_item_ranges.ts";
import m018 from "./018_merge_check_process.ts";
import m019 from "./019_phase_unmerged_branch.ts";
import m020 from "./020_merge_item_tip.ts";
import m021 from "./021_clock_boot.ts";
import m022 from "./022_merge_target_red.ts";
import m023 from "./023_clock_boot_at.ts";
import m024 from "./024_clock_mark.ts";

import type { Migration } from "../../storage/migrate.ts";

export type { Migration };

/** Every migration, in order. */
export const migrations: readonly Migration[] = [
  m001,
  m002,
  m003,
  m004,
  m005,
  m006,
  m007,
  m008,
  m009,
  m010,
  m011,
  m012,
  m013,
  m014,
  m015,
  m016,
  m017,
  m018,
  m019,
  m020,
  m021,
  m022,
  m023,
  m024,
];

/** The schema version a fully migrated database has. */
export const latestVersion: number = migrations.at(-1)!.version;
