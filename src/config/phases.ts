/**
 * `phases.yaml` in its two layouts, the flat list with parallel groups and
 * the language pipelines, expanded into one ordered list of phases with
 * their dependencies.
 *
 * @module
 */
import type * as v from "valibot";
import {
  FlatLayoutSchema,
  type MetadataField,
  type PhaseDef,
  type PhaseSchema,
  PipelineLayoutSchema,
  type Workflow,
} from "./schema.ts";
import { invalid, locate, type ParsedYaml, parseYaml, validate } from "./yaml.ts";

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
 * import { parsePhases } from "./phases.ts";
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
    phases = expandPipelines(p);
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
  parsed: ParsedYaml,
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

function expandPipelines(p: v.InferOutput<typeof PipelineLayoutSchema>): PhaseDef[] {
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
