/**
 * The shape of `.workflow/`: valibot schemas for `config.yaml` and both
 * `phases.yaml` layouts, and the typed results the engine runs on. Pure data.
 *
 * @module
 */
import * as v from "valibot";

import { DEFAULT_DEPENDENCY_KEYS, DEFAULT_ID_REGEX } from "./defaults.ts";

/**
 * Every number of `.workflow/`: finite, and at most a billion (`.inf`, `1e309` or `1e20` minutes would pass a
 * minimum and then break every time computed from them).
 */
const num: v.GenericSchema<number> = v.pipe(
  v.number(),
  v.finite("must be a finite number"),
  v.maxValue(1e9, "must be at most 1000000000"),
);
/**
 * A duration a timer waits for: JavaScript's timers fire at once past 2^31 - 1 ms (~24.8 days), so a longer limit
 * (`max_runtime_minutes: 40000`) would end what it bounds at once.
 */
const timerMinutes: v.GenericSchema<number> = v.pipe(
  num,
  v.maxValue(35_000, "must be at most 35000 minutes (24 days)"),
);
const timerSeconds: v.GenericSchema<number> = v.pipe(
  num,
  v.maxValue(2_100_000, "must be at most 2100000 seconds (24 days)"),
);
const positiveInt: v.GenericSchema<number> = v.pipe(num, v.integer(), v.minValue(1));
const nonEmpty: v.GenericSchema<string> = v.pipe(v.string(), v.minLength(1));

const TimingSchema = v.picklist(["realtime", "batch", "off"]);

const AgentTypeSchema = v.strictObject({
  command: v.optional(nonEmpty),
  args: v.optional(v.array(v.string()), []),
  max_concurrent: v.optional(positiveInt),
  prompt: v.optional(v.picklist(["stdin", "file"]), "file"),
  max_runtime_minutes: v.optional(v.pipe(timerMinutes, v.minValue(0.01))),
  env: v.optional(v.record(nonEmpty, v.string()), {}),
  fallback: v.optional(nonEmpty),
  rate_limit_patterns: v.optional(v.array(nonEmpty), []),
});

/** The schema of `config.yaml`. */
export const ConfigSchema = v.strictObject({
  database: v.optional(
    v.strictObject({
      path: v.optional(nonEmpty, ".workflow/baton.db"),
      journal_mode: v.optional(v.picklist(["wal", "truncate", "delete"]), "wal"),
      busy_timeout_ms: v.optional(positiveInt, 10_000),
      checkpoint: v.optional(v.picklist(["auto", "background", "inline"]), "auto"),
      writer_fairness_ms: v.optional(v.pipe(num, v.minValue(0), v.maxValue(60_000)), 100),
    }),
    {},
  ),
  tickets: v.optional(
    v.strictObject({
      directory: v.optional(nonEmpty, "tickets"),
      pattern: v.optional(nonEmpty, "**/*.md"),
      id_regex: v.optional(nonEmpty, DEFAULT_ID_REGEX),
      status_map: v.optional(v.record(v.string(), v.nullable(v.string())), {}),
      dependency_keys: v.optional(
        v.strictObject({
          blocked_by: v.optional(v.array(nonEmpty), DEFAULT_DEPENDENCY_KEYS.blocked_by),
          blocks: v.optional(v.array(nonEmpty), DEFAULT_DEPENDENCY_KEYS.blocks),
          parent: v.optional(v.array(nonEmpty), DEFAULT_DEPENDENCY_KEYS.parent),
        }),
        {},
      ),
    }),
    {},
  ),
  agents: v.optional(
    v.strictObject({
      stale_timeout_minutes: v.optional(v.pipe(timerMinutes, v.minValue(0.05)), 10),
      heartbeat_implicit: v.optional(v.boolean(), true),
      max_held: v.optional(positiveInt, 1),
      clock_tolerance_seconds: v.optional(v.nullable(v.pipe(timerSeconds, v.minValue(0))), null),
      registry: v.optional(v.record(nonEmpty, AgentTypeSchema), {}),
    }),
    {},
  ),
  file_conflicts: v.optional(
    v.strictObject({ mode: v.optional(v.picklist(["advisory", "blocking"]), "advisory") }),
    {},
  ),
  hooks: v.optional(
    v.strictObject({
      mode: v.optional(v.nullable(v.picklist(["advisory", "blocking"])), null),
      block_humans: v.optional(v.boolean(), false),
      server: v.optional(v.picklist(["auto", "off"]), "auto"),
      server_idle_minutes: v.optional(v.pipe(timerMinutes, v.minValue(0.01), v.maxValue(1440)), 10),
    }),
    {},
  ),
  markdown_sync: v.optional(
    v.strictObject({
      mode: v.optional(TimingSchema, "batch"),
      write_status: v.optional(v.boolean(), true),
      write_workflow_log: v.optional(v.boolean(), true),
      // The earlier Python engine's keys, each part with its own timing.
      status_update: v.optional(TimingSchema),
      workflow_log_update: v.optional(TimingSchema),
    }),
    {},
  ),
  priority_order: v.optional(v.array(nonEmpty), ["Critical", "High", "Medium", "Low"]),
  retry: v.optional(
    v.strictObject({
      max_attempts: v.optional(positiveInt, 3),
      backoff_seconds: v.optional(v.pipe(timerSeconds, v.minValue(0)), 60),
      backoff_multiplier: v.optional(v.pipe(num, v.minValue(1)), 2),
    }),
    {},
  ),
  leases: v.optional(
    v.strictObject({
      default_minutes: v.optional(v.pipe(timerMinutes, v.minValue(0.05))),
      per_phase: v.optional(v.record(nonEmpty, v.pipe(timerMinutes, v.minValue(0.05))), {}),
    }),
    {},
  ),
  gates: v.optional(
    v.strictObject({
      max_revisions: v.optional(v.pipe(num, v.integer(), v.minValue(0)), 2),
      allow_agents: v.optional(v.boolean(), false),
    }),
    {},
  ),
  dependencies: v.optional(
    v.strictObject({
      milestones: v.optional(
        v.strictObject({
          design: v.optional(v.array(nonEmpty)),
          implementation: v.optional(v.array(nonEmpty)),
        }),
        {},
      ),
    }),
    {},
  ),
  stall_timeout_minutes: v.optional(v.pipe(timerMinutes, v.minValue(0.05)), 30),
  context: v.optional(
    v.strictObject({
      always_include: v.optional(v.array(nonEmpty), []),
      budget_bytes: v.optional(positiveInt, 60_000),
    }),
    {},
  ),
  retention: v.optional(
    v.strictObject({
      idempotency_hours: v.optional(v.pipe(num, v.minValue(0.01)), 24),
      claim_misses_days: v.optional(v.pipe(num, v.minValue(1)), 30),
      agents_days: v.optional(v.pipe(num, v.minValue(1)), 90),
      declarations_days: v.optional(v.pipe(num, v.minValue(1)), 30),
    }),
    {},
  ),
  audit: v.optional(
    v.strictObject({ retain_days: v.optional(v.nullable(v.pipe(num, v.minValue(1))), null) }),
    {},
  ),
  run: v.optional(
    v.strictObject({
      worktrees: v.optional(v.picklist(["git", "none"]), "git"),
      worktree_dir: v.optional(nonEmpty, ".workflow/worktrees"),
      logs_dir: v.optional(nonEmpty, ".workflow/logs"),
      on_stall: v.optional(v.picklist(["escalate", "kill"]), "escalate"),
      grace_seconds: v.optional(v.pipe(timerSeconds, v.minValue(0)), 10),
      require_commit: v.optional(v.union([v.boolean(), v.literal("changes")]), "changes"),
      environment_retries: v.optional(v.pipe(num, v.integer(), v.minValue(0)), 3),
      breaker_failures: v.optional(positiveInt, 3),
      breaker_seconds: v.optional(v.pipe(timerSeconds, v.minValue(0)), 30),
      rate_limit_wait_seconds: v.optional(v.pipe(timerSeconds, v.minValue(0)), 300),
      linger_seconds: v.optional(v.pipe(timerSeconds, v.minValue(0)), 10),
      status_seconds: v.optional(v.pipe(timerSeconds, v.minValue(1)), 60),
    }),
    {},
  ),
  merge: v.optional(
    v.nullable(v.strictObject({
      target: v.optional(nonEmpty, "main"),
      check: v.pipe(
        v.union([nonEmpty, v.pipe(v.array(nonEmpty), v.minLength(1))]),
        v.transform((c: string | string[]) => Array.isArray(c) ? c : [c]),
      ),
      strategy: v.optional(v.picklist(["rebase", "merge", "squash"]), "rebase"),
      batch_size: v.optional(positiveInt, 4),
      batch_wait_seconds: v.optional(v.pipe(timerSeconds, v.minValue(0)), 30),
      max_runtime_minutes: v.optional(v.pipe(timerMinutes, v.minValue(0.01)), 30),
      flaky_retries: v.optional(v.pipe(num, v.integer(), v.minValue(0)), 1),
      rework_phase: v.optional(nonEmpty),
      remote: v.optional(nonEmpty),
      phase: v.optional(nonEmpty, "Merge"),
      lease_minutes: v.optional(v.pipe(timerMinutes, v.minValue(0.05)), 2),
    })),
    null,
  ),
});

/**
 * The merge queue (`merge:` in config.yaml): finished tickets land on
 * `target`, tested by `check`, in batches; null when not configured.
 */
export interface MergeConfig {
  /** The branch work lands on. */
  target: string;
  /** Commands run in the candidate's worktree, in order; all must exit 0 (green). */
  check: string[];
  /** How a ticket's branch is applied: rebased onto the candidate, merged with `--no-ff`, or squashed. */
  strategy: "rebase" | "merge" | "squash";
  /** At most this many tickets are built and tested together. */
  batch_size: number;
  /** How long a batch may wait to fill before it is built anyway. */
  batch_wait_seconds: number;
  /** The check's time limit (a check over it is red). */
  max_runtime_minutes: number;
  /** How many times a red batch is built again before it is bisected (flaky checks). */
  flaky_retries: number;
  /** Where a ticket that breaks the check or conflicts goes back to (default: the last agent phase). */
  rework_phase?: string;
  /** A remote to fetch before building and push to after landing. */
  remote?: string;
  /** The name of the landing phase every ticket gets as its last step. */
  phase: string;
  /** The merge worker's lease: a worker silent this long is taken to be dead. */
  lease_minutes: number;
}

/** One agent type in `agents.registry`. */
export interface AgentTypeConfig {
  /** Command that starts an agent of this type (for supervisors). */
  command?: string;
  /** Its arguments. */
  args: string[];
  /** At most this many phases of this type held at once. */
  max_concurrent?: number;
  /** How `baton run` hands the prompt over: on stdin, or in a file (`{prompt_file}`). */
  prompt: "stdin" | "file";
  /** `baton run` ends an agent running longer than this (SIGTERM, then SIGKILL) and fails its phase. */
  max_runtime_minutes?: number;
  /** Extra environment for the agent process. */
  env: Record<string, string>;
  /**
   * Another registry entry whose command `baton run` uses for this type's
   * next sessions once an agent of this type exits on a usage or rate limit.
   */
  fallback?: string;
  /**
   * Regular expressions (case-insensitive) that, in the output of an agent
   * that exits without finishing, mean a usage or rate limit, in addition
   * to the known CLIs' own messages.
   */
  rate_limit_patterns: string[];
}

/** When a part of the markdown is written back. */
export type Timing = "realtime" | "batch" | "off";

/** The metadata labels that name dependencies (matched case-insensitively). */
export interface DependencyKeys {
  /** This ticket waits for the tickets named (`Depends On`, `Blocked By`, `Requires`). */
  blocked_by: string[];
  /** The tickets named wait for this one (`Blocks`). */
  blocks: string[];
  /** The parent ticket (recorded, not a blocker). */
  parent: string[];
}

/** The validated `config.yaml`, every default filled in. */
export interface BatonConfig {
  /**
   * The database: where, journal mode, how long to wait for a lock, how
   * checkpoints run, and how long a waiting writer lets writers that find
   * the lock free go first before it claims its turn (0: strict turns).
   */
  database: {
    path: string;
    journal_mode: "wal" | "truncate" | "delete";
    busy_timeout_ms: number;
    checkpoint: "auto" | "background" | "inline";
    writer_fairness_ms: number;
  };
  /** Where the ticket files are, how their ids are read, status labels mapped by hand, dependency keys. */
  tickets: {
    directory: string;
    pattern: string;
    id_regex: string;
    status_map: Record<string, string | null>;
    dependency_keys: DependencyKeys;
  };
  /**
   * Stale-claim timeout, implicit heartbeats, phases held at once, how far a
   * process that has just started may judge expiry past the database's clock
   * (null: half the shortest lease; see `engine/clock.ts`), and the agent
   * types a supervisor starts.
   */
  agents: {
    stale_timeout_minutes: number;
    heartbeat_implicit: boolean;
    max_held: number;
    clock_tolerance_seconds: number | null;
    registry: Record<string, AgentTypeConfig>;
  };
  /** Overlapping file declarations: reported (advisory) or refused (blocking). */
  file_conflicts: { mode: "advisory" | "blocking" };
  /**
   * The git hooks (`baton hooks install`): whether an agent's commit of files
   * another live claim declared is refused (`blocking`) or warned about
   * (`advisory`; null: as `file_conflicts.mode`), and whether a human's is
   * refused too (`block_humans`; by default a human only gets warnings).
   * `server: auto` (the default): when no `baton run` answers the hooks, the
   * first hook that starts `baton guard` also starts `baton guard serve`, which
   * answers the next ones and stops after `server_idle_minutes` without a
   * request; `off`: every hook starts `baton guard`.
   */
  hooks: {
    mode: "advisory" | "blocking" | null;
    block_humans: boolean;
    server: "auto" | "off";
    server_idle_minutes: number;
  };
  /**
   * When the status checkboxes and the workflow log are written back to the
   * markdown: after every commit (`realtime`), by `baton sync` (`batch`),
   * or never (`off`). `mode` sets both; `status_update` and
   * `workflow_log_update` (the earlier engine's keys) set one part each.
   */
  markdown_sync: { mode: Timing; status_update: Timing; workflow_log_update: Timing };
  /** Priority labels, most urgent first (claims take them in this order). */
  priority_order: string[];
  /** Attempts per phase, and the backoff between them. */
  retry: { max_attempts: number; backoff_seconds: number; backoff_multiplier: number };
  /** How long a claim lasts without a heartbeat, overall and per phase. */
  leases: { default_minutes?: number; per_phase: Record<string, number> };
  /** Rejections before a gate escalates, and whether agents may decide gates. */
  gates: { max_revisions: number; allow_agents: boolean };
  /** Which phases make up the design and implementation milestones of a dependency. */
  dependencies: { milestones: { design?: string[]; implementation?: string[] } };
  /** A held phase without progress for longer than this is stalled. */
  stall_timeout_minutes: number;
  /** Files every agent's context includes, and the context's size. */
  context: { always_include: string[]; budget_bytes: number };
  /**
   * How long bookkeeping is kept: idempotency keys, daily claim-miss
   * counters, agents not seen (holding nothing), released file declarations.
   * Pruned by `baton sweep` and, at most once an hour, by any writer.
   */
  retention: { idempotency_hours: number; claim_misses_days: number; agents_days: number; declarations_days: number };
  /** The audit trail: kept forever unless `retain_days` is set. */
  audit: { retain_days: number | null };
  /**
   * `baton run`: one git worktree per running agent (`git`) or all in the
   * repository (`none`), where worktrees and agent logs go, what a stall
   * does (an escalation for a human, or also end the agent), and how long a
   * terminated agent gets before SIGKILL. `require_commit`: `changes` (the
   * default) refuses to complete a phase while the agent's own worktree
   * holds uncommitted changes (they would not land); `true` also wants a
   * commit made in the session; `false` checks nothing.
   * `environment_retries`: how many sessions of one phase may end without a
   * single call to Baton (a failure of the environment: no attempt counted)
   * before the next such one counts. `breaker_failures` sessions of one type
   * in a row ending so within `breaker_seconds` stop that type for the run
   * (an escalation says why). An agent out of quota waits
   * `rate_limit_wait_seconds` before its type runs again (unless its entry
   * names a `fallback`). An agent still running `linger_seconds` after its
   * phase ended is terminated (its slot is free at once). A run with agents
   * running (or the merge queue busy) that has logged nothing for
   * `status_seconds` logs what it waits for.
   */
  run: {
    worktrees: "git" | "none";
    worktree_dir: string;
    logs_dir: string;
    on_stall: "escalate" | "kill";
    grace_seconds: number;
    require_commit: boolean | "changes";
    environment_retries: number;
    breaker_failures: number;
    breaker_seconds: number;
    rate_limit_wait_seconds: number;
    linger_seconds: number;
    status_seconds: number;
  };
  /** The merge queue, when configured (see {@link MergeConfig}). */
  merge: MergeConfig | null;
}

// Compile-time proof that the schema and the interface describe the same thing (markdown_sync is resolved
// from its input keys by parseConfig).
type ConfigOutput = Omit<v.InferOutput<typeof ConfigSchema>, "markdown_sync">;
const _configMatches: ConfigOutput extends Omit<BatonConfig, "markdown_sync">
  ? Omit<BatonConfig, "markdown_sync"> extends ConfigOutput ? true : never
  : never = true;
void _configMatches;

const ConditionSchema = v.union([
  v.strictObject({ field: nonEmpty, value: v.union([v.string(), num, v.boolean()]) }),
  v.strictObject({ field: nonEmpty, contains: nonEmpty }),
  v.strictObject({ field: nonEmpty, has_multiple: v.boolean() }),
]);

/** A condition on ticket metadata deciding whether a phase applies. */
export type Condition =
  | { field: string; value: string | number | boolean }
  | { field: string; contains: string }
  | { field: string; has_multiple: boolean };

const _conditionMatches: v.InferOutput<typeof ConditionSchema> extends Condition ? true : never = true;
void _conditionMatches;

/** One phase as written in `phases.yaml`. */
export const PhaseSchema = v.strictObject({
  name: nonEmpty,
  agent_type: v.nullable(nonEmpty),
  condition: v.optional(ConditionSchema),
  description: v.optional(v.string()),
  reviews: v.optional(v.array(nonEmpty)),
  overrides: v.optional(v.array(nonEmpty)),
});

const MetadataFieldSchema = v.strictObject({
  field: nonEmpty,
  type: v.picklist(["boolean", "list", "enum", "integer", "string"]),
  default: v.optional(v.union([v.string(), num, v.boolean(), v.array(v.string())])),
  values: v.optional(v.array(nonEmpty)),
  markdown_key: v.optional(nonEmpty),
});

/** How one metadata field is extracted and typed. */
export interface MetadataField {
  /** Field name in Baton (e.g. `priority`). */
  field: string;
  /** How its value is typed. */
  type: "boolean" | "list" | "enum" | "integer" | "string";
  /** Value when the ticket says nothing. */
  default?: string | number | boolean | string[];
  /** Allowed values of an enum. */
  values?: string[];
  /** The label in the markdown (e.g. `Priority`). */
  markdown_key?: string;
}

const _fieldMatches: v.InferOutput<typeof MetadataFieldSchema> extends MetadataField ? true : never = true;
void _fieldMatches;

/** The flat `phases:` layout (with `parallel_groups`). */
export const FlatLayoutSchema = v.strictObject({
  phases: v.pipe(v.array(PhaseSchema), v.minLength(1)),
  parallel_groups: v.optional(
    v.record(
      nonEmpty,
      v.strictObject({
        after: nonEmpty,
        before: v.optional(nonEmpty),
        phases: v.pipe(v.array(PhaseSchema), v.minLength(1)),
      }),
    ),
    {},
  ),
  ticket_metadata: v.optional(v.array(MetadataFieldSchema), []),
});

/** The `language_pipelines:` layout. */
export const PipelineLayoutSchema = v.strictObject({
  preamble: v.optional(v.array(PhaseSchema), []),
  language_pipelines: v.strictObject({
    condition_field: nonEmpty,
    steps: v.pipe(
      v.array(v.strictObject({ step: nonEmpty, role: v.nullable(nonEmpty), description: v.optional(v.string()) })),
      v.minLength(1),
    ),
    languages: v.pipe(v.array(v.strictObject({ name: nonEmpty, slug: nonEmpty })), v.minLength(1)),
  }),
  integration: v.optional(v.array(PhaseSchema), []),
  postamble: v.optional(v.array(PhaseSchema), []),
  ticket_metadata: v.optional(v.array(MetadataFieldSchema), []),
});

/** One phase of the workflow, after expansion of groups and pipelines. */
export interface PhaseDef {
  /** Unique phase name, e.g. `Design` or `Python Implementation`. */
  name: string;
  /** Position in the workflow (0-based, topological). */
  order: number;
  /** Agent type that may claim it; null for a human gate. */
  agentType: string | null;
  /** When the phase applies; absent means always. */
  condition?: Condition;
  /** Parallel group or language pipeline it belongs to. */
  group?: string;
  /** Names of the phases that must be done (completed or skipped) first. */
  after: string[];
  /** For a gate: the phases it reviews (reopened on rejection). */
  reviews: string[];
  /**
   * Parallel-group phases that replace this one: when one of them applies to
   * a ticket (its condition holds), this phase is skipped for it ("overridden
   * by …"), so no ticket does the same kind of work twice.
   */
  overriddenBy?: string[];
  /** What the workflow expects of the phase (for agents' context). */
  description?: string;
}

/** A validated workflow: phases in order with their dependencies. */
export interface Workflow {
  /** Every phase, in order. */
  phases: PhaseDef[];
  /** Metadata fields to extract from tickets. */
  ticketMetadata: MetadataField[];
}

/** Everything loaded from `.workflow/`. */
export interface WorkflowConfig {
  /** Absolute path of the repository root (the directory holding `.workflow/`). */
  repoRoot: string;
  /** Absolute path of `.workflow/`. */
  workflowDir: string;
  /** The validated config.yaml. */
  config: BatonConfig;
  /** The expanded workflow from phases.yaml. */
  workflow: Workflow;
  /** Top-level sections of config.yaml that are not Baton's (other tools' settings), ignored. */
  foreignSections: string[];
}
