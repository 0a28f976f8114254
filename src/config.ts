/**
 * Reading and validating a repository's `.workflow/` directory:
 * `config.yaml` (every key optional, every key does something) and
 * `phases.yaml` (two layouts seen in the wild), into one typed
 * {@link WorkflowConfig} the engine runs on. Pure apart from reading files.
 *
 * Errors are `config_invalid` with the file, line and field, and what was
 * expected.
 *
 * @module
 */
import * as v from "valibot";
import { type Document, LineCounter, parseDocument } from "yaml";
import { BatonError, type ErrorLocation } from "./errors.ts";
import { findRepoRoot } from "./repo_root.ts";

export { findRepoRoot };

/**
 * Bump when parsing or validation changes what a given config produces:
 * `config_cache.ts` keys its cache on it.
 */
export const CONFIG_FORMAT = 1;

// ---------------------------------------------------------------------------
// config.yaml

const positiveInt: v.GenericSchema<number> = v.pipe(v.number(), v.integer(), v.minValue(1));
const nonNegative: v.GenericSchema<number> = v.pipe(v.number(), v.minValue(0));
const nonEmpty: v.GenericSchema<string> = v.pipe(v.string(), v.minLength(1));

const AgentTypeSchema = v.strictObject({
  command: v.optional(nonEmpty),
  args: v.optional(v.array(v.string()), []),
  max_concurrent: v.optional(positiveInt),
});

const ConfigSchema = v.strictObject({
  database: v.optional(
    v.strictObject({
      path: v.optional(nonEmpty, ".workflow/baton.db"),
      journal_mode: v.optional(v.picklist(["wal", "truncate", "delete"]), "wal"),
      busy_timeout_ms: v.optional(positiveInt, 10_000),
      checkpoint: v.optional(v.picklist(["background", "inline"]), "background"),
    }),
    {},
  ),
  tickets: v.optional(
    v.strictObject({
      directory: v.optional(nonEmpty, "tickets"),
      pattern: v.optional(nonEmpty, "**/*.md"),
      id_regex: v.optional(nonEmpty, "^([A-Za-z]?\\d+[A-Za-z]?\\d*[A-Za-z]?)(?=[_\\-. ]|$)"),
      status_map: v.optional(v.record(v.string(), v.nullable(v.string())), {}),
    }),
    {},
  ),
  agents: v.optional(
    v.strictObject({
      stale_timeout_minutes: v.optional(v.pipe(v.number(), v.minValue(0.05)), 10),
      heartbeat_implicit: v.optional(v.boolean(), true),
      registry: v.optional(v.record(nonEmpty, AgentTypeSchema), {}),
    }),
    {},
  ),
  file_conflicts: v.optional(
    v.strictObject({ mode: v.optional(v.picklist(["advisory", "blocking"]), "advisory") }),
    {},
  ),
  markdown_sync: v.optional(
    v.strictObject({
      mode: v.optional(v.picklist(["realtime", "batch", "off"]), "batch"),
      write_status: v.optional(v.boolean(), true),
      write_workflow_log: v.optional(v.boolean(), true),
    }),
    {},
  ),
  priority_order: v.optional(v.array(nonEmpty), ["Critical", "High", "Medium", "Low"]),
  retry: v.optional(
    v.strictObject({
      max_attempts: v.optional(positiveInt, 3),
      backoff_seconds: v.optional(nonNegative, 60),
      backoff_multiplier: v.optional(v.pipe(v.number(), v.minValue(1)), 2),
    }),
    {},
  ),
  leases: v.optional(
    v.strictObject({
      default_minutes: v.optional(v.pipe(v.number(), v.minValue(0.05))),
      per_phase: v.optional(v.record(nonEmpty, v.pipe(v.number(), v.minValue(0.05))), {}),
    }),
    {},
  ),
  gates: v.optional(
    v.strictObject({
      max_revisions: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 2),
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
  stall_timeout_minutes: v.optional(v.pipe(v.number(), v.minValue(0.05)), 30),
  context: v.optional(
    v.strictObject({
      always_include: v.optional(v.array(nonEmpty), []),
      budget_bytes: v.optional(positiveInt, 60_000),
    }),
    {},
  ),
});

/** One agent type in `agents.registry`. */
export interface AgentTypeConfig {
  /** Command that starts an agent of this type (for supervisors). */
  command?: string;
  /** Its arguments. */
  args: string[];
  /** At most this many phases of this type held at once. */
  max_concurrent?: number;
}

/** The validated `config.yaml`, every default filled in. */
export interface BatonConfig {
  database: {
    path: string;
    journal_mode: "wal" | "truncate" | "delete";
    busy_timeout_ms: number;
    checkpoint: "background" | "inline";
  };
  tickets: { directory: string; pattern: string; id_regex: string; status_map: Record<string, string | null> };
  agents: {
    stale_timeout_minutes: number;
    heartbeat_implicit: boolean;
    registry: Record<string, AgentTypeConfig>;
  };
  file_conflicts: { mode: "advisory" | "blocking" };
  markdown_sync: { mode: "realtime" | "batch" | "off"; write_status: boolean; write_workflow_log: boolean };
  priority_order: string[];
  retry: { max_attempts: number; backoff_seconds: number; backoff_multiplier: number };
  leases: { default_minutes?: number; per_phase: Record<string, number> };
  gates: { max_revisions: number; allow_agents: boolean };
  dependencies: { milestones: { design?: string[]; implementation?: string[] } };
  stall_timeout_minutes: number;
  context: { always_include: string[]; budget_bytes: number };
}

// Compile-time proof that the schema and the interface describe the same thing.
const _configMatches: v.InferOutput<typeof ConfigSchema> extends BatonConfig
  ? BatonConfig extends v.InferOutput<typeof ConfigSchema> ? true : never
  : never = true;
void _configMatches;

// ---------------------------------------------------------------------------
// phases.yaml

const ConditionSchema = v.union([
  v.strictObject({ field: nonEmpty, value: v.union([v.string(), v.number(), v.boolean()]) }),
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

const PhaseSchema = v.strictObject({
  name: nonEmpty,
  agent_type: v.nullable(nonEmpty),
  condition: v.optional(ConditionSchema),
  description: v.optional(v.string()),
  reviews: v.optional(v.array(nonEmpty)),
});

const MetadataFieldSchema = v.strictObject({
  field: nonEmpty,
  type: v.picklist(["boolean", "list", "enum", "integer", "string"]),
  default: v.optional(v.union([v.string(), v.number(), v.boolean(), v.array(v.string())])),
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

const FlatLayoutSchema = v.strictObject({
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

const PipelineLayoutSchema = v.strictObject({
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
}

// ---------------------------------------------------------------------------
// Loading

function invalid(file: string, message: string, loc: Omit<ErrorLocation, "file"> = {}): BatonError {
  const where = `${file}${loc.line ? `:${loc.line}` : ""}${loc.field ? ` (${loc.field})` : ""}`;
  return new BatonError("config_invalid", `${where}: ${message}`, { location: { file, ...loc } });
}

function parseYaml(text: string, file: string): { doc: Document; lc: LineCounter; value: unknown } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lc.linePos(e.pos[0]);
    throw invalid(file, `not valid YAML: ${e.message.split("\n")[0]}`, { line: pos.line, column: pos.col });
  }
  const value = doc.toJS() ?? {};
  return { doc, lc, value };
}

function locate(doc: Document, lc: LineCounter, path: (string | number)[]): { line?: number; column?: number } {
  for (let n = path.length; n >= 0; n--) {
    // deno-lint-ignore no-explicit-any
    const node = doc.getIn(path.slice(0, n), true) as any;
    if (node && Array.isArray(node.range)) {
      const pos = lc.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
    if (n === path.length && n > 0) {
      // A missing key: point at its parent mapping.
      continue;
    }
  }
  return {};
}

function validate<S extends v.GenericSchema>(
  schema: S,
  parsed: { doc: Document; lc: LineCounter; value: unknown },
  file: string,
): v.InferOutput<S> {
  const r = v.safeParse(schema, parsed.value, { abortPipeEarly: true });
  if (r.success) return r.output;
  const issue = r.issues[0];
  // deno-lint-ignore no-explicit-any
  const path = (issue.path ?? []).map((p: any) => p.key as string | number);
  const field = path.join(".");
  const loc = locate(parsed.doc, parsed.lc, path);
  let message = issue.message;
  if (issue.type === "strict_object" && issue.input !== undefined) {
    message = `unknown key "${path.at(-1)}"`;
  } else if (issue.type === "union" && issue.issues?.length) {
    message = `${issue.message}; expected one of the documented forms`;
  }
  return (() => {
    throw invalid(file, message, { ...loc, field });
  })();
}

/**
 * Validates `config.yaml` text.
 *
 * @param text the YAML (empty means all defaults)
 * @param file path for messages
 * @returns the config with defaults filled in
 * @throws {BatonError} `config_invalid` with file, line and field
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config.ts";
 * const c = parseConfig("agents:\n  stale_timeout_minutes: 5\n", ".workflow/config.yaml");
 * assert(c.agents.stale_timeout_minutes === 5 && c.database.journal_mode === "wal");
 * ```
 */
export function parseConfig(text: string, file: string): BatonConfig {
  const parsed = parseYaml(text, file);
  if (parsed.value === null || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
    throw invalid(file, "expected a mapping of settings at the top level", { line: 1 });
  }
  const config = validate(ConfigSchema, parsed, file);
  try {
    new RegExp(config.tickets.id_regex);
  } catch (e) {
    const loc = locate(parsed.doc, parsed.lc, ["tickets", "id_regex"]);
    throw invalid(file, `not a valid regular expression: ${(e as Error).message}`, {
      ...loc,
      field: "tickets.id_regex",
    });
  }
  return config;
}

/**
 * Validates `phases.yaml` text (flat layout with parallel groups, or the
 * language-pipeline layout) and expands it into ordered phases.
 *
 * @param text the YAML
 * @param file path for messages
 * @returns the workflow
 * @throws {BatonError} `config_invalid` with file, line and field
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePhases } from "./config.ts";
 * const wf = parsePhases(
 *   "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Review, agent_type: null}\n",
 *   "phases.yaml",
 * );
 * assert(wf.phases[1].agentType === null && wf.phases[1].after[0] === "Design");
 * ```
 */
export function parsePhases(text: string, file: string): Workflow {
  const parsed = parseYaml(text, file);
  const value = parsed.value as Record<string, unknown>;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalid(file, "expected a mapping with `phases:` or `language_pipelines:`", { line: 1 });
  }
  let phases: PhaseDef[];
  let ticketMetadata: MetadataField[];
  if ("language_pipelines" in value) {
    const p = validate(PipelineLayoutSchema, parsed, file);
    ticketMetadata = p.ticket_metadata;
    phases = expandPipelines(p, file, parsed);
  } else if ("phases" in value) {
    const p = validate(FlatLayoutSchema, parsed, file);
    ticketMetadata = p.ticket_metadata;
    phases = expandFlat(p, file, parsed);
  } else {
    throw invalid(file, "expected `phases:` (flat layout) or `language_pipelines:` (pipeline layout)", { line: 1 });
  }
  const names = new Set<string>();
  for (const ph of phases) {
    if (names.has(ph.name)) throw invalid(file, `phase "${ph.name}" is defined twice`, { field: "phases" });
    names.add(ph.name);
  }
  for (const ph of phases) {
    for (const r of ph.reviews) {
      if (!names.has(r)) throw invalid(file, `phase "${ph.name}" reviews unknown phase "${r}"`, { field: "reviews" });
    }
  }
  const fields = new Set<string>();
  for (const f of ticketMetadata) {
    if (fields.has(f.field)) {
      throw invalid(file, `metadata field "${f.field}" is declared twice`, { field: "ticket_metadata" });
    }
    fields.add(f.field);
    if (f.type === "enum" && !f.values?.length) {
      throw invalid(file, `enum field "${f.field}" needs \`values\``, { field: "ticket_metadata" });
    }
  }
  return { phases, ticketMetadata };
}

type Phase = v.InferOutput<typeof PhaseSchema>;

function toDef(p: Phase, after: string[], group?: string): PhaseDef {
  const d: PhaseDef = { name: p.name, order: 0, agentType: p.agent_type, after, reviews: p.reviews ?? [] };
  if (p.condition) d.condition = p.condition;
  if (group) d.group = group;
  if (p.description) d.description = p.description;
  return d;
}

/** A gate with no explicit `reviews` reviews the agent phases right before it. */
function defaultReviews(phases: PhaseDef[]): void {
  const byName = new Map(phases.map((p) => [p.name, p]));
  for (const p of phases) {
    if (p.agentType === null && p.reviews.length === 0) {
      p.reviews = p.after.filter((a) => byName.get(a)?.agentType !== null);
    }
  }
}

function expandFlat(
  p: v.InferOutput<typeof FlatLayoutSchema>,
  file: string,
  parsed: { doc: Document; lc: LineCounter },
): PhaseDef[] {
  const flat = p.phases.map((x) => x.name);
  const index = new Map(flat.map((n, i) => [n, i]));
  const grouped = new Map<string, string>();
  for (const [g, grp] of Object.entries(p.parallel_groups)) {
    const loc = locate(parsed.doc, parsed.lc, ["parallel_groups", g]);
    const a = index.get(grp.after);
    if (a === undefined) {
      throw invalid(file, `group "${g}": \`after\` names unknown phase "${grp.after}"`, {
        ...loc,
        field: `parallel_groups.${g}.after`,
      });
    }
    const b = grp.before === undefined ? flat.length : index.get(grp.before);
    if (b === undefined) {
      throw invalid(file, `group "${g}": \`before\` names unknown phase "${grp.before}"`, {
        ...loc,
        field: `parallel_groups.${g}.before`,
      });
    }
    if (b <= a) {
      throw invalid(file, `group "${g}": "${grp.before}" must come after "${grp.after}"`, {
        ...loc,
        field: `parallel_groups.${g}`,
      });
    }
    for (const ph of grp.phases) {
      const prev = grouped.get(ph.name);
      if (prev) {
        throw invalid(file, `phase "${ph.name}" is in two parallel groups ("${prev}" and "${g}")`, {
          ...loc,
          field: `parallel_groups.${g}.phases`,
        });
      }
      grouped.set(ph.name, g);
      const at = index.get(ph.name);
      // A grouped phase may also be listed in the flat list (it is then replaced,
      // never duplicated) but only between `after` and `before`.
      if (at !== undefined && (at <= a || at >= b)) {
        throw invalid(
          file,
          `group "${g}": phase "${ph.name}" is listed outside its group's place (between "${grp.after}" and "${
            grp.before ?? "the end"
          }")`,
          { ...loc, field: `parallel_groups.${g}.phases` },
        );
      }
    }
  }
  // Build the order: walk the flat list; right after a group's `after`, emit the group.
  const out: PhaseDef[] = [];
  const groupAt = new Map<string, [string, v.InferOutput<typeof FlatLayoutSchema>["parallel_groups"][string]][]>();
  for (const [g, grp] of Object.entries(p.parallel_groups)) {
    const list = groupAt.get(grp.after) ?? [];
    list.push([g, grp]);
    groupAt.set(grp.after, list);
  }
  // `before` phases wait for every phase of the groups that end at them.
  const joins = new Map<string, string[]>();
  for (const grp of Object.values(p.parallel_groups)) {
    if (grp.before) joins.set(grp.before, [...(joins.get(grp.before) ?? []), ...grp.phases.map((x) => x.name)]);
  }
  let prev: string[] = [];
  for (const ph of p.phases) {
    if (grouped.has(ph.name)) continue; // emitted with its group
    const after = [...new Set([...prev, ...(joins.get(ph.name) ?? [])])];
    out.push(toDef(ph, after));
    prev = [ph.name];
    for (const [g, grp] of groupAt.get(ph.name) ?? []) {
      for (const gp of grp.phases) out.push(toDef(gp, [ph.name], g));
      if (!grp.before) prev = [...prev, ...grp.phases.map((x) => x.name)];
    }
  }
  out.forEach((d, i) => (d.order = i));
  defaultReviews(out);
  return out;
}

function expandPipelines(
  p: v.InferOutput<typeof PipelineLayoutSchema>,
  _file: string,
  _parsed: { doc: Document; lc: LineCounter },
): PhaseDef[] {
  const out: PhaseDef[] = [];
  let prev: string[] = [];
  for (const ph of p.preamble) {
    out.push(toDef(ph, prev));
    prev = [ph.name];
  }
  const lp = p.language_pipelines;
  const ends: string[] = [];
  for (const lang of lp.languages) {
    let last = prev;
    for (const s of lp.steps) {
      const name = `${lang.name} ${s.step}`;
      const d: PhaseDef = {
        name,
        order: 0,
        agentType: s.role === null ? null : `${lang.slug}-${s.role}`,
        condition: { field: lp.condition_field, contains: lang.name },
        group: lang.name,
        after: last,
        reviews: [],
      };
      if (s.description) d.description = s.description;
      out.push(d);
      last = [name];
    }
    ends.push(...last);
  }
  prev = ends;
  for (const ph of [...p.integration, ...p.postamble]) {
    out.push(toDef(ph, prev));
    prev = [ph.name];
  }
  out.forEach((d, i) => (d.order = i));
  defaultReviews(out);
  return out;
}

/**
 * Loads and validates `.workflow/config.yaml` (optional) and
 * `.workflow/phases.yaml` (required) for the repository containing `start`.
 *
 * @param start the repository or any directory inside it
 * @returns the validated configuration
 * @throws {BatonError} `config_not_found`, `config_invalid`
 */
export function loadWorkflowConfig(start: string): WorkflowConfig {
  const repoRoot = findRepoRoot(start);
  const workflowDir = `${repoRoot}/.workflow`;
  const rel = (name: string) => `.workflow/${name}`;
  let configText = "";
  try {
    configText = Deno.readTextFileSync(`${workflowDir}/config.yaml`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const config = parseConfig(configText, rel("config.yaml"));
  let phasesText: string;
  try {
    phasesText = Deno.readTextFileSync(`${workflowDir}/phases.yaml`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new BatonError("config_invalid", `${rel("phases.yaml")}: missing: the workflow's phases are required`, {
        location: { file: rel("phases.yaml") },
      });
    }
    throw e;
  }
  const workflow = parsePhases(phasesText, rel("phases.yaml"));
  for (const name of Object.keys(config.leases.per_phase)) {
    if (!workflow.phases.some((p) => p.name === name)) {
      throw invalid(rel("config.yaml"), `lease for unknown phase "${name}"`, { field: `leases.per_phase.${name}` });
    }
  }
  return { repoRoot, workflowDir, config, workflow };
}
