/**
 * `phases.yaml` in its two layouts, the flat list with parallel groups and
 * the language pipelines, expanded into one ordered list of phases with
 * their dependencies.
 *
 * Parallel groups, as real configurations write them:
 * - A group starts after its `after` phase; when `after` names a phase of
 *   another group, after that whole group (each member completed or skipped).
 * - `before` waits for every member of the group; without `before`, the
 *   next phase of the flat list does.
 * - Groups override sequential phases: a flat phase between the group's
 *   `after` and `before` with the agent type of one of the group's phases
 *   (or named in one's `overrides`) is replaced by the group for every
 *   ticket any of the group's phases applies to (whether or not the one of
 *   its type does), and what waited for the replaced phase waits for the
 *   group. No ticket does the same kind of work twice.
 * - `after` is a lower bound: a group that replaces phases also waits for
 *   the flat phase listed just before the first of them (and so for every
 *   applicable phase before it, human gates included), as they would have.
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
import { fieldPath, locate, type ParsedYaml, parseYaml, Problems, validate } from "./yaml.ts";

type Phase = v.InferOutput<typeof PhaseSchema>;
type Flat = v.InferOutput<typeof FlatLayoutSchema>;
type Path = (string | number)[];

/** Where each phase was written, for messages. */
type Sources = Map<string, Path>;

/** Records a problem at a place in the document. */
type Report = (message: string, path: Path) => void;

function toDef(p: Phase, after: string[], group?: string): PhaseDef {
  const d: PhaseDef = { name: p.name, order: 0, agentType: p.agent_type, after, reviews: p.reviews ?? [] };
  if (p.condition) d.condition = p.condition;
  if (group) d.group = group;
  if (p.description) d.description = p.description;
  return d;
}

/**
 * A gate with no explicit `reviews` reviews the agent phases right before
 * it; a gate right after other gates reviews what they review.
 */
function defaultReviews(phases: PhaseDef[]): void {
  const byName = new Map(phases.map((p) => [p.name, p]));
  for (const p of phases) {
    if (p.agentType !== null || p.reviews.length > 0) continue;
    const reviewed = new Set<string>();
    for (const a of p.after) {
      const d = byName.get(a);
      if (!d) continue;
      if (d.agentType !== null) reviewed.add(a);
      else for (const r of d.reviews) reviewed.add(r);
    }
    p.reviews = [...reviewed];
  }
}

/**
 * Orders phases topologically (a phase after everything it waits for),
 * ties broken by each phase's position key.
 */
function topoOrder(defs: PhaseDef[], key: (d: PhaseDef) => number[]): PhaseDef[] {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const waiting = new Map(defs.map((d) => [d.name, d.after.filter((a) => byName.has(a)).length]));
  const cmp = (a: PhaseDef, b: PhaseDef) => {
    const x = key(a), y = key(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    }
    return 0;
  };
  const ready = defs.filter((d) => waiting.get(d.name) === 0);
  const out: PhaseDef[] = [];
  while (ready.length) {
    ready.sort(cmp);
    const d = ready.shift()!;
    out.push(d);
    for (const o of defs) {
      if (!o.after.includes(d.name)) continue;
      const n = waiting.get(o.name)! - 1;
      waiting.set(o.name, n);
      if (n === 0) ready.push(o);
    }
  }
  // Leftovers wait in a circle (or share a name): kept, so the checks that follow can name them.
  return out.length === defs.length ? out : [...out, ...defs.filter((d) => !out.includes(d))];
}

interface GroupPlan {
  name: string;
  members: Phase[];
  /** What the members wait for. */
  preds: string[];
  /** Flat index the group is anchored at (its `after`, or its `after` group's anchor). */
  anchor: number;
  /** Flat index of `before` (the list's length without one). */
  end: number;
  /** Nesting: 0 when `after` is a flat phase, one more than its `after` group's otherwise. */
  depth: number;
  before?: string;
}

/** Resolves each group's anchor, predecessors and span; reports unknown names, bad spans and cycles. */
function planGroups(p: Flat, report: Report): { plans: GroupPlan[]; grouped: Map<string, string> } {
  const flatIndex = new Map(p.phases.map((x, i) => [x.name, i]));
  const grouped = new Map<string, string>();
  for (const [g, grp] of Object.entries(p.parallel_groups)) {
    grp.phases.forEach((ph, j) => {
      const prev = grouped.get(ph.name);
      if (prev) {
        report(`phase "${ph.name}" is in two parallel groups ("${prev}" and "${g}")`, [
          "parallel_groups",
          g,
          "phases",
          j,
          "name",
        ]);
      } else grouped.set(ph.name, g);
    });
  }
  const plans = new Map<string, GroupPlan>();
  const resolving = new Set<string>();
  const plan = (g: string): GroupPlan | null => {
    const done = plans.get(g);
    if (done) return done;
    const grp = p.parallel_groups[g];
    if (resolving.has(g)) {
      report(`groups wait for each other in a circle (${[...resolving, g].join(" → ")})`, [
        "parallel_groups",
        g,
        "after",
      ]);
      return null;
    }
    resolving.add(g);
    let anchor = -1, depth = 0, preds: string[] = [];
    const ownerOfAfter = grouped.get(grp.after);
    if (ownerOfAfter === g) {
      report(`group "${g}": \`after\` names its own phase "${grp.after}"`, ["parallel_groups", g, "after"]);
    } else if (ownerOfAfter) {
      const h = plan(ownerOfAfter);
      if (h) [anchor, depth, preds] = [h.anchor, h.depth + 1, h.members.map((m) => m.name)];
    } else if (flatIndex.has(grp.after)) {
      [anchor, preds] = [flatIndex.get(grp.after)!, [grp.after]];
    } else {
      report(`group "${g}": \`after\` names unknown phase "${grp.after}"`, ["parallel_groups", g, "after"]);
    }
    let end = p.phases.length;
    if (grp.before !== undefined) {
      if (!flatIndex.has(grp.before) && !grouped.has(grp.before)) {
        report(`group "${g}": \`before\` names unknown phase "${grp.before}"`, ["parallel_groups", g, "before"]);
      } else if (!grouped.has(grp.before)) end = flatIndex.get(grp.before)!;
      if (anchor >= 0 && end <= anchor) {
        report(`group "${g}": "${grp.before}" must come after "${grp.after}"`, ["parallel_groups", g, "before"]);
      }
    }
    resolving.delete(g);
    const out: GroupPlan = { name: g, members: grp.phases, preds, anchor, end, depth, before: grp.before };
    plans.set(g, out);
    return out;
  };
  for (const g of Object.keys(p.parallel_groups)) plan(g);
  // A grouped phase may also be listed in the flat list (it is then replaced, never duplicated), but only
  // within its group's place.
  for (const pl of plans.values()) {
    pl.members.forEach((m, j) => {
      const at = flatIndex.get(m.name);
      if (at !== undefined && pl.anchor >= 0 && (at <= pl.anchor || at >= pl.end)) {
        report(
          `group "${pl.name}": phase "${m.name}" is listed outside its group's place (between "${
            p.phases[pl.anchor].name
          }" and "${pl.before ?? "the end"}")`,
          ["parallel_groups", pl.name, "phases", j, "name"],
        );
      }
    });
  }
  return { plans: [...plans.values()].filter((pl) => pl.anchor >= 0), grouped };
}

function expandFlat(p: Flat, report: Report, sources: Sources): PhaseDef[] {
  p.phases.forEach((x, i) => sources.set(x.name, ["phases", i]));
  const { plans, grouped } = planGroups(p, report);
  for (const pl of plans) pl.members.forEach((m, j) => sources.set(m.name, ["parallel_groups", pl.name, "phases", j]));
  const flat = p.phases.map((x, i) => ({ ph: x, i })).filter(({ ph }) => !grouped.has(ph.name));
  const defs: PhaseDef[] = [];
  const pos = new Map<string, number[]>();
  flat.forEach(({ ph, i }, k) => {
    const after = k > 0 ? [flat[k - 1].ph.name] : [];
    for (const pl of plans) {
      // `before` waits for the group; without `before`, the first flat phase after the group's anchor does.
      if (pl.before === ph.name) after.push(...pl.members.map((m) => m.name));
      else if (pl.before === undefined && pl.anchor < i && (k === 0 || flat[k - 1].i <= pl.anchor)) {
        after.push(...pl.members.map((m) => m.name));
      }
    }
    defs.push(toDef(ph, [...new Set(after)]));
    pos.set(ph.name, [i, 0]);
  });
  for (const pl of plans) {
    // The group stands in for every flat phase within its span of one of its members' agent types (or that a
    // member names in `overrides`), whichever members apply to a ticket: when any applies, the group replaces
    // them all (a Python-only ticket does no C++ test writing through the sequential phase either).
    const types = new Set(pl.members.map((m) => m.agent_type).filter((t): t is string => t !== null));
    const named = new Set(pl.members.flatMap((m) => m.overrides ?? []));
    const replaced = flat.filter(({ ph, i }) =>
      i > pl.anchor && i < pl.end && (named.has(ph.name) || (ph.agent_type !== null && types.has(ph.agent_type)))
    );
    // Its `after` is a lower bound: it also starts after every flat phase listed before the first phase it
    // replaces (human gates included), as the phases it stands for would have.
    const first = replaced[0];
    const k = first === undefined ? -1 : flat.indexOf(first);
    const lower = k > 0 && flat[k - 1].i > pl.anchor ? [flat[k - 1].ph.name] : [];
    for (const [j, m] of pl.members.entries()) {
      const d = toDef(m, [...new Set([...pl.preds, ...lower])], pl.name);
      for (const name of m.overrides ?? []) {
        if (!flat.some(({ ph }) => ph.name === name)) {
          report(`phase "${m.name}" overrides "${name}", which is not a phase of the flat list`, [
            ...sources.get(m.name)!,
            "overrides",
          ]);
        }
      }
      // Placed just before what it replaces, else right after its group's anchor.
      pos.set(m.name, first !== undefined ? [first.i, -1, pl.depth, j] : [pl.anchor, 1 + pl.depth, j]);
      defs.push(d);
    }
    for (const { ph } of replaced) {
      const r = defs.find((x) => x.name === ph.name)!;
      r.overriddenBy = [...new Set([...(r.overriddenBy ?? []), ...pl.members.map((m) => m.name)])];
    }
  }
  // What waited for a replaced phase waits for its replacements too.
  for (const r of defs.filter((x) => x.overriddenBy)) {
    for (const d of defs) {
      if (d.after.includes(r.name)) d.after = [...new Set([...d.after, ...r.overriddenBy!])];
    }
  }
  const out = topoOrder(defs, (d) => pos.get(d.name) ?? [Infinity]);
  out.forEach((d, i) => (d.order = i));
  defaultReviews(out);
  reduceAfter(out);
  return out;
}

/** Drops each `after` entry that another entry already implies (A after B after C: A need not name C). */
function reduceAfter(defs: PhaseDef[]): void {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const reach = new Map<string, Set<string>>();
  const above = (name: string): Set<string> => {
    let r = reach.get(name);
    if (r) return r;
    r = new Set();
    reach.set(name, r); // a circle (reported elsewhere) ends here
    for (const a of byName.get(name)?.after ?? []) {
      r.add(a);
      for (const x of above(a)) r.add(x);
    }
    return r;
  };
  for (const d of defs) {
    const implied = new Set(d.after.flatMap((a) => [...above(a)]));
    d.after = d.after.filter((a) => !implied.has(a));
  }
}

function expandPipelines(p: v.InferOutput<typeof PipelineLayoutSchema>, sources: Sources): PhaseDef[] {
  const out: PhaseDef[] = [];
  let prev: string[] = [];
  p.preamble.forEach((ph, i) => {
    out.push(toDef(ph, prev));
    sources.set(ph.name, ["preamble", i]);
    prev = [ph.name];
  });
  const lp = p.language_pipelines;
  const ends: string[] = [];
  lp.languages.forEach((lang, li) => {
    let last = prev;
    lp.steps.forEach((s) => {
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
      sources.set(name, ["language_pipelines", "languages", li]);
      last = [name];
    });
    ends.push(...last);
  });
  prev = ends;
  [
    ...p.integration.map((ph, i) => [ph, "integration", i] as const),
    ...p.postamble.map((ph, i) => [ph, "postamble", i] as const),
  ].forEach(([ph, where, i]) => {
    out.push(toDef(ph, prev));
    sources.set(ph.name, [where, i]);
    prev = [ph.name];
  });
  out.forEach((d, i) => (d.order = i));
  defaultReviews(out);
  return out;
}

/** Checks across phases and metadata: duplicates, reviews, conditions on declared fields, enum defaults. */
function checkWorkflow(phases: PhaseDef[], fields: MetadataField[], report: Report, sources: Sources): void {
  const seen = new Set<string>();
  const names = new Set(phases.map((p) => p.name));
  for (const ph of phases) {
    if (seen.has(ph.name)) report(`phase "${ph.name}" is defined twice`, [...(sources.get(ph.name) ?? []), "name"]);
    seen.add(ph.name);
  }
  const declared = new Map(fields.map((f) => [f.field, f]));
  const unknownFields = new Set<string>();
  for (const ph of phases) {
    const at = sources.get(ph.name) ?? [];
    for (const r of ph.reviews) {
      if (r === ph.name) report(`gate "${ph.name}" reviews itself`, [...at, "reviews"]);
      else if (!names.has(r)) report(`phase "${ph.name}" reviews unknown phase "${r}"`, [...at, "reviews"]);
    }
    // Free-form metadata (no ticket_metadata at all) is allowed; a declared list makes a miss a typo.
    if (ph.condition && fields.length && !declared.has(ph.condition.field) && !unknownFields.has(ph.condition.field)) {
      unknownFields.add(ph.condition.field);
      report(
        `phase "${ph.name}": its condition reads metadata field "${ph.condition.field}", which ticket_metadata does not declare (declared: ${
          fields.map((f) => f.field).join(", ")
        })`,
        [...at, "condition"],
      );
    }
  }
  const fieldNames = new Set<string>();
  fields.forEach((f, i) => {
    const at: Path = ["ticket_metadata", i];
    if (fieldNames.has(f.field)) report(`metadata field "${f.field}" is declared twice`, [...at, "field"]);
    fieldNames.add(f.field);
    if (f.type === "enum" && !f.values?.length) report(`enum field "${f.field}" needs \`values\``, at);
    if (f.type === "enum" && f.values?.length && f.default !== undefined && !f.values.includes(String(f.default))) {
      report(`enum field "${f.field}": default "${f.default}" is not one of ${f.values.join(", ")}`, [
        ...at,
        "default",
      ]);
    }
  });
}

/**
 * Reads `phases.yaml` text, recording every problem.
 * @param text the YAML
 * @param file path for messages
 * @param problems where problems go
 * @returns the workflow, or null when there were problems
 */
export function readPhases(text: string, file: string, problems: Problems): Workflow | null {
  const parsed = parseYaml(text, file, problems);
  if (!parsed) return null;
  const value = parsed.value as Record<string, unknown>;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.add(file, "expected a mapping with `phases:` or `language_pipelines:`", { line: 1 });
    return null;
  }
  const report: Report = (message, path) =>
    problems.add(file, message, { ...locate(parsed.doc, parsed.lc, path), field: fieldPath(path) });
  const sources: Sources = new Map();
  const before = problems.list.length;
  let phases: PhaseDef[];
  let ticketMetadata: MetadataField[];
  if ("language_pipelines" in value) {
    const p = validate(PipelineLayoutSchema, parsed as ParsedYaml, file, problems);
    if (!p) return null;
    ticketMetadata = p.ticket_metadata;
    phases = expandPipelines(p, sources);
  } else if ("phases" in value) {
    const p = validate(FlatLayoutSchema, parsed as ParsedYaml, file, problems);
    if (!p) return null;
    ticketMetadata = p.ticket_metadata;
    phases = expandFlat(p, report, sources);
  } else {
    problems.add(file, "expected `phases:` (flat layout) or `language_pipelines:` (pipeline layout)", { line: 1 });
    return null;
  }
  checkWorkflow(phases, ticketMetadata, report, sources);
  return problems.list.length > before ? null : { phases, ticketMetadata };
}

/**
 * Validates `phases.yaml` text (flat layout with parallel groups, or the
 * language-pipeline layout) and expands it into ordered phases.
 *
 * @param text the YAML
 * @param file path for messages
 * @returns the workflow
 * @throws {BatonError} `config_invalid` listing every problem, each with file, line and field
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePhases } from "@baton/baton";
 * const wf = parsePhases(
 *   "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Review, agent_type: null}\n",
 *   "phases.yaml",
 * );
 * assert(wf.phases[1].agentType === null && wf.phases[1].after[0] === "Design");
 * ```
 */
export function parsePhases(text: string, file: string): Workflow {
  const problems = new Problems();
  const wf = readPhases(text, file, problems);
  problems.throwIfAny();
  return wf!;
}
