/**
 * File declarations: the paths or globs a held phase will touch, checked
 * exactly against other active phases' declarations (advisory: reported;
 * blocking: refused), and the sets of available phases that can run side by
 * side without overlapping.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { capList, LIMITS } from "./limits.ts";
import { globsOverlap, normalizeRepoPath } from "../globs/mod.ts";
import { type Core, what } from "./core.ts";
import { held } from "./fencing.ts";
import { implicitHeartbeat } from "./leases.ts";
import { activeDeclarations, declaredBy, heldDeclarations, insertDeclaration } from "./sql/coordination.ts";
import { availableWithMetadata, markPhaseProgress } from "./sql/phases.ts";
import { toPhase } from "./sql/rows.ts";
import type { Declaration, DeclareRequest, DeclareResult, Overlap, ReadyPhase } from "./types.ts";

/** A ticket's expected paths, from its metadata (`paths`, a list or comma-separated text). */
export function expectedPaths(meta: Record<string, unknown>): string[] {
  const raw = meta.paths;
  const list = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? raw.split(",") : [];
  const out: string[] = [];
  for (const p of list.map((x) => x.trim()).filter((x) => x)) {
    try {
      out.push(normalizeRepoPath(p));
    } catch { /* a bad expected path is ignored here; the import reports it */ }
  }
  return out;
}

/** The paths a phase is known to touch: its active declarations and its ticket's expected paths. */
export function pathsOf(core: Core, phaseId: number, meta: Record<string, unknown>): string[] {
  return [...new Set([...declaredBy(core.db, phaseId), ...expectedPaths(meta)])];
}

/** Other held phases' declarations that overlap `paths`. */
export function overlapsFor(core: Core, phaseId: number | null, paths: string[]): Overlap[] {
  if (paths.length === 0) return [];
  const out: Overlap[] = [];
  for (const a of heldDeclarations(core.db, phaseId)) {
    for (const mine of paths) {
      if (globsOverlap(mine, a.pattern)) {
        out.push({
          pattern: mine,
          otherPattern: a.pattern,
          phaseId: a.phase_id,
          ticketId: a.ticket_id,
          phase: a.name,
          agentId: a.agent_id,
        });
      }
    }
  }
  return out;
}

/** The `file_conflict` error of blocking mode, naming the first overlap's holder. */
export function conflictError(action: string, overlaps: Overlap[]): BatonError {
  const o = overlaps[0];
  const more = overlaps.length > 1 ? ` (and ${overlaps.length - 1} more)` : "";
  return new BatonError(
    "file_conflict",
    `Cannot ${action}: ${o.pattern} overlaps ${o.otherPattern} declared by ${o.agentId} for phase "${o.phase}" of ticket ${o.ticketId}${more}`,
    { details: { overlaps } },
  );
}

/** `Engine.declareFiles`. */
export function declareFiles(core: Core, phaseId: number, req: DeclareRequest): DeclareResult {
  if (!Array.isArray(req.paths) || req.paths.length === 0) {
    throw new BatonError("invalid_argument", "declareFiles needs at least one path");
  }
  capList(req.paths, LIMITS.items, LIMITS.path, "The declared paths");
  const paths = [...new Set(req.paths.map((p) => normalizeRepoPath(p)))];
  return core.tx((now) => {
    const row = held(core, phaseId, req.agentId, req.token, "declare files for");
    implicitHeartbeat(core, now, req.agentId, phaseId);
    const overlaps = overlapsFor(core, phaseId, paths);
    if (overlaps.length && core.cfg.config.file_conflicts.mode === "blocking") {
      throw conflictError(`declare files for ${what(row.name, row.ticket_id)}`, overlaps);
    }
    const have = new Set(declaredBy(core.db, phaseId));
    for (const p of paths) if (!have.has(p)) insertDeclaration(core.db, phaseId, req.agentId, p, now);
    markPhaseProgress(core.db, phaseId, now);
    core.audit(now, req.agentId, "files.declared", { type: "phase", id: phaseId, ticket: row.ticket_id }, null, null, {
      phase: row.name,
      paths,
      overlaps: overlaps.length,
    });
    return { declared: paths, overlaps };
  });
}

/** `Engine.checkConflicts`. */
export function checkConflicts(core: Core, paths: string[], phaseId?: number): Overlap[] {
  return overlapsFor(core, phaseId ?? null, paths.map((p) => normalizeRepoPath(p)));
}

/** `Engine.declarations`. */
export function declarations(core: Core): Declaration[] {
  return activeDeclarations(core.db).map((r) => ({
    phaseId: r.phase_id,
    ticketId: r.ticket_id,
    phase: r.name,
    agentId: r.agent_id,
    pattern: r.pattern,
    declaredAt: r.declared_at,
  }));
}

/** `Engine.readyParallel`. */
export function readyParallel(core: Core, n: number, capabilities?: string[]): ReadyPhase[] {
  const chosen: ReadyPhase[] = [];
  const taken: string[] = [];
  for (const r of availableWithMetadata(core.db, capabilities)) {
    if (chosen.length >= n) break;
    const paths = expectedPaths(JSON.parse(r.t_metadata));
    if (paths.length) {
      if (overlapsFor(core, null, paths).length) continue;
      if (paths.some((a) => taken.some((b) => globsOverlap(a, b)))) continue;
      taken.push(...paths);
    }
    chosen.push({ ...toPhase(r), paths, pathsKnown: paths.length > 0 });
  }
  return chosen;
}
