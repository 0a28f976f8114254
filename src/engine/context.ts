/**
 * Agent context assembly: everything an agent needs to start a phase, in
 * one call, sized for a model's context window.
 *
 * Parts, most important first: the phase and what the workflow expects of
 * it (with the reviewer's notes when this is rework), why its last attempt
 * failed (when it did), the ticket's metadata,
 * open dependencies, other agents' overlapping file declarations, the
 * summaries and artifacts of earlier phases, the ticket's markdown, and the
 * always-relevant files from config. When the whole does not fit the byte
 * budget, the least important parts are trimmed first and `trimmed` says
 * what was cut.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Core } from "./core.ts";
import { overlapsFor, pathsOf } from "./declarations.ts";
import { waitingDeps } from "./sql/deps.ts";
import { lastRejectionNotes } from "./sql/gates.ts";
import { completedBefore, latestHeldBy, phaseById } from "./sql/phases.ts";
import { type R, toPhase } from "./sql/rows.ts";
import { ticketById } from "./sql/tickets.ts";
import type { Overlap } from "./types.ts";
import { readRepoTextHead } from "../repo/files.ts";

/** One file included in the context. */
export interface ContextFile {
  /** Repository-relative path. */
  path: string;
  /** Content (possibly trimmed). */
  content: string;
  /** True when the content was cut to fit. */
  truncated: boolean;
  /** The whole file's size in bytes, when only its start was read (a file larger than the budget). */
  fileBytes?: number;
}

/** The assembled context of a phase. */
export interface AgentContext {
  /** The phase: its id, name, agent type, status, attempt, what the workflow expects of it, its holder. */
  phase: {
    id: number;
    name: string;
    agentType: string | null;
    status: string;
    attempt: number;
    description: string | null;
    heldBy: string | null;
  };
  /** The ticket: id, title, priority, markdown path, metadata. */
  ticket: {
    id: string;
    title: string;
    priority: string | null;
    path: string | null;
    metadata: Record<string, unknown>;
  };
  /** The reviewer's notes when this phase is rework after a gate. */
  reworkNotes: string | null;
  /** Why the previous attempt failed (with the agent's last output, when a supervisor recorded it), if it did. */
  lastError: string | null;
  /** Earlier phases of the ticket that are done, with their results. */
  previousPhases: { name: string; status: string; summary: string | null; artifacts: string[] }[];
  /** Tickets this one still waits for. */
  openDependencies: { dependsOn: string; type: string }[];
  /** Other agents' active declarations overlapping this ticket's or phase's paths. */
  overlaps: Overlap[];
  /** The ticket's markdown. */
  markdown: ContextFile | null;
  /** Files `context.always_include` lists. */
  files: ContextFile[];
  /** What was cut to fit the budget, least important first. */
  trimmed: string[];
  /** Size of the JSON form, in bytes. */
  bytes: number;
  /** The budget it was sized for. */
  budgetBytes: number;
}

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s).length;
const size = (x: unknown) => bytes(JSON.stringify(x));

/**
 * Cuts a string to at most `max` UTF-8 bytes, on a line boundary when possible: its start, or with `end` its end.
 */
function cut(s: string, max: number, end = false): string {
  if (max <= 0) return "";
  const bytes = enc.encode(s);
  if (bytes.length <= max) return s;
  // Positions in bytes throughout: a character of CJK text or an emoji is 3-4 bytes, one UTF-16 unit or two.
  const continuation = (i: number) => (bytes[i] & 0xc0) === 0x80;
  if (end) {
    let from = bytes.length - max;
    while (from < bytes.length && continuation(from)) from++; // never start inside a character
    const nl = bytes.indexOf(10, from);
    if (nl >= 0 && nl - from < max / 2) from = nl + 1;
    return new TextDecoder().decode(bytes.subarray(from));
  }
  let to = max;
  while (to > 0 && continuation(to)) to--; // never end inside a character
  const nl = bytes.lastIndexOf(10, to - 1);
  if (nl >= 0 && nl + 1 > max / 2) to = nl + 1;
  return new TextDecoder().decode(bytes.subarray(0, to));
}

/**
 * The start of `s` whose JSON form takes at most `room` bytes. JSON escapes
 * (a newline is two bytes, a quote too) make that form longer than the text
 * by as much as the text has lines, which in a long log can be more than the
 * whole budget: the text is cut in proportion, then measured again.
 */
function fitText(s: string, room: number, end = false): string {
  let t = s;
  for (let n = size(t); n > room && t; n = size(t)) {
    const b = bytes(t);
    t = cut(t, Math.min(b - 1, Math.floor((b * Math.max(0, room - 2)) / n)), end);
  }
  return t;
}

/**
 * Fits a context into `budgetBytes` by trimming, least important first:
 * always-include files (last listed first), the ticket markdown, earlier
 * phases' summaries, then overlaps, then the last error (its end is kept:
 * a failure's log ends with the failure), and last of all the reviewer's
 * notes (their start kept). The phase, the metadata and dependencies are
 * never cut.
 *
 * @param ctx the full context (its `trimmed`, `bytes` are filled in)
 * @returns the same object, fitted
 */
export function fitToBudget(ctx: AgentContext): AgentContext {
  // Measured with the budget in `bytes`: the final figure is at most as long, so what fits this fits the real JSON.
  const over = () => size({ ...ctx, bytes: ctx.budgetBytes }) - ctx.budgetBytes;
  /**
   * Cuts a text so that the whole fits (its start, or with `end` its end), and says so in `trimmed`: `note(n)` for n
   * bytes kept, `${label} (removed)` for none. The note goes in first, with as many digits as it can need, so that the
   * text is fitted with the note counted; the final note is never longer.
   */
  const fitPart = (text: string, label: string, note: (n: number) => string, end = false): string => {
    const i = ctx.trimmed.push(note(Number(String(bytes(text)).replace(/./g, "9")))) - 1;
    const kept = fitText(text, size(text) - over(), end);
    ctx.trimmed[i] = kept ? note(bytes(kept)) : `${label} (removed)`;
    return kept;
  };
  /** A file's content cut to fit (`fileBytes`: a file only part of which was read says of how much). */
  const fit = (f: ContextFile, label: string): number => {
    const of = f.fileBytes === undefined ? "" : ` of ${f.fileBytes}`;
    const kept = fitPart(f.content, label, (n) => `${label} (cut to ${n}${of} bytes)`);
    if (kept !== f.content) f.truncated = true;
    f.content = kept;
    return bytes(kept);
  };
  // 1. Always-include files, from the last listed (a file only part of which was read is said to be cut too).
  for (let i = ctx.files.length - 1; i >= 0; i--) {
    const f = ctx.files[i];
    if (over() <= 0 && f.fileBytes === undefined) continue;
    if (fit(f, `file ${f.path}`) === 0) ctx.files.splice(i, 1);
  }
  // 2. The ticket's markdown.
  if (ctx.markdown && (over() > 0 || ctx.markdown.fileBytes !== undefined)) fit(ctx.markdown, "ticket markdown");
  // 3. Earlier phases: summaries of the oldest first, then the entries themselves.
  for (const p of ctx.previousPhases) {
    if (over() <= 0) break;
    if (p.summary) {
      ctx.trimmed.push(`summary of ${p.name}`);
      p.summary = fitText(p.summary, size(p.summary) - Math.max(0, over()));
    }
  }
  while (over() > 0 && ctx.previousPhases.length > 0) {
    ctx.trimmed.push(`phase ${ctx.previousPhases.shift()!.name} (removed)`);
  }
  // 4. Overlaps beyond the first few.
  while (over() > 0 && ctx.overlaps.length > 0) {
    ctx.overlaps.pop();
    if (!ctx.trimmed.includes("some file overlaps")) ctx.trimmed.push("some file overlaps");
  }
  // 5. The last error, then the reviewer's notes (each up to 64 KB, more than a small budget), as files are cut.
  const fitField = (key: "lastError" | "reworkNotes", label: string, end: boolean) => {
    const was = ctx[key];
    if (was === null || over() <= 0) return;
    const whole = bytes(was);
    // "" when nothing fits: never null, which would say there was no failure, or no review.
    ctx[key] = fitPart(
      was,
      label,
      (n) => `${label} (cut to ${n} of ${whole} bytes${end ? ", its end kept" : ""})`,
      end,
    );
  };
  fitField("lastError", "last error", true);
  fitField("reworkNotes", "rework notes", false);
  // The JSON form's exact size, its own digits included (one more digit can only be needed once).
  const rest = size({ ...ctx, bytes: 0 }) - 1;
  ctx.bytes = rest + String(rest).length;
  ctx.bytes = rest + String(ctx.bytes).length;
  return ctx;
}

/**
 * Reads a repository file for the context, never outside the repository.
 * @param repoRoot absolute repository root
 * @param rel repository-relative path
 * @param maxBytes the most of it read: nothing past the context's budget can fit
 * @returns the file (`fileBytes` set when only its start was read), or null when it cannot be read
 */
export function contextFile(repoRoot: string, rel: string, maxBytes: number): ContextFile | null {
  try {
    // Through repo/files.ts: links are followed only while they stay inside the repository (a link to
    // /etc/passwd, or a directory link pointing out of it, never reads the host's files).
    // A ticket of megabytes (a pasted CI log) is not read whole for the few kilobytes that fit.
    const head = readRepoTextHead(repoRoot, rel, maxBytes);
    return head.whole
      ? { path: rel, content: head.text, truncated: false }
      : { path: rel, content: head.text, truncated: true, fileBytes: head.size };
  } catch {
    return null;
  }
}

/** Which phase's context: a phase, or the one an agent holds (the latest it claimed). */
export type ContextTarget = { phaseId: number } | { agentId: string };

/** `Engine.context`. */
export function assembleContext(core: Core, target: ContextTarget, opts: { budgetBytes?: number } = {}): AgentContext {
  let row: R | undefined;
  if ("phaseId" in target) {
    row = phaseById(core.db, target.phaseId);
    if (!row) throw new BatonError("not_found", `Phase ${target.phaseId} does not exist`);
  } else {
    row = latestHeldBy(core.db, target.agentId);
    if (!row) throw new BatonError("not_found", `Agent ${target.agentId} holds no phase`);
  }
  const t = ticketById(core.db, row.ticket_id)!;
  const def = core.graph.def(row.name);
  const meta = JSON.parse(t.metadata) as Record<string, unknown>;
  // The reviewer's notes: the phase's own rework notes, else the last rejection of a gate reviewing it.
  const notes = row.rework_notes ??
    lastRejectionNotes(core.db, row.ticket_id, row.id, core.graph.gatesReviewing(row.name));
  const root = core.cfg.repoRoot;
  const budget = opts.budgetBytes ?? core.cfg.config.context.budget_bytes;
  const ctx: AgentContext = {
    phase: {
      id: row.id,
      name: row.name,
      agentType: row.agent_type,
      status: row.status,
      attempt: row.attempts,
      description: def?.description ?? null,
      heldBy: row.claimed_by,
    },
    ticket: { id: t.id, title: t.title, priority: t.priority, path: t.path, metadata: meta },
    reworkNotes: notes,
    lastError: row.error ?? null,
    previousPhases: completedBefore(core.db, row.ticket_id, row.seq).map(toPhase).map((p) => ({
      name: p.name,
      status: p.status,
      summary: p.resultSummary,
      artifacts: p.artifacts,
    })),
    openDependencies: waitingDeps(core.db, t.id).map((d) => ({
      dependsOn: d.depends_on,
      type: d.type,
    })),
    overlaps: overlapsFor(core, row.id, pathsOf(core, row.id, meta)),
    markdown: t.path ? contextFile(root, t.path, budget) : null,
    files: core.cfg.config.context.always_include.map((f) => contextFile(root, f, budget)).filter((
      f,
    ): f is ContextFile => f !== null),
    trimmed: [],
    bytes: 0,
    budgetBytes: budget,
  };
  return fitToBudget(ctx);
}
