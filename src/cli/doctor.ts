/**
 * `baton doctor`: the configuration, whether git ignores what Baton creates,
 * then the database's own checks. It creates nothing (no database where
 * there is none).
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import type { Engine } from "../engine/mod.ts";
import type { HealthCheck } from "../engine/types.ts";
import type { WorkflowConfig } from "../config/schema.ts";

/**
 * Runs every check; never throws for a failed check.
 * @param repoDir the repository
 * @returns the checks, in order
 */
export async function doctor(repoDir: string): Promise<{ checks: HealthCheck[] }> {
  const checks: HealthCheck[] = [];
  const { loadWorkflowConfig } = await import("../config/load.ts");
  let cfg;
  try {
    cfg = loadWorkflowConfig(repoDir);
    checks.push({ name: "config", ok: true, detail: `${cfg.workflow.phases.length} phases, .workflow/ is valid` });
    if (cfg.foreignSections.length) {
      checks.push({
        name: "config sections",
        ok: true,
        detail: `not Baton's (other tools' settings, ignored): ${cfg.foreignSections.join(", ")}`,
      });
    }
  } catch (e) {
    checks.push({ name: "config", ok: false, detail: (e as Error).message });
    return { checks };
  }
  const { databasePath } = await import("../config/repo_root.ts");
  const { databaseFileExists } = await import("../engine/database.ts");
  checks.push(await ignoreCheck(cfg));
  const hooks = await hooksCheck(repoDir);
  if (hooks) checks.push(hooks);
  checks.push(...(await import("./doctor_agents.ts")).registryChecks(cfg));
  if (!databaseFileExists(databasePath(cfg))) {
    // Doctor creates nothing: no database is no problem, the first import makes one.
    checks.push({
      name: "database",
      ok: true,
      detail: `none yet at ${cfg.config.database.path} ('baton import' creates it; doctor creates nothing)`,
    });
    // The ticket-file rules read only the configuration.
    checks.push(await ticketFileCheck({ cfg } as unknown as Engine));
    return { checks };
  }
  const { openEngineWithoutWriteBackLate } = await import("../open/late.ts");
  let engine;
  try {
    engine = await openEngineWithoutWriteBackLate(repoDir);
  } catch (e) {
    checks.push({
      name: "database",
      ok: false,
      detail: e instanceof BatonError ? `${e.code}: ${e.message}` : String(e),
    });
    return { checks };
  }
  try {
    checks.push(...engine.healthChecks());
    checks.push(await ticketFileCheck(engine, engine.ticketFiles()));
    const reading = groupReading(engine);
    if (reading) checks.push(reading);
  } finally {
    engine.close();
  }
  return { checks };
}

/** Whether git runs Baton's hooks when they are installed (a tool that owns core.hooksPath may have taken it back). */
async function hooksCheck(repoDir: string): Promise<HealthCheck | null> {
  const { hooksStatus } = await import("./hooks.ts");
  let r;
  try {
    r = hooksStatus(repoDir);
  } catch {
    return null; // not a git repository
  }
  const outdated = r.outdated?.length ? r.notes.at(-1)! : null;
  const detail = {
    installed: outdated ? `installed, but ${outdated}` : `installed; the hooks of ${r.chain} run first`,
    bypassed: `installed, but git does not run them: ${r.notes.join("; ")}`,
    "not-installed": "not installed ('baton hooks install' fences agents' commits to their claims)",
  }[r.state as "installed" | "bypassed" | "not-installed"];
  return { name: "git hooks", ok: r.state !== "bypassed" && !outdated, detail };
}

/**
 * How Baton reads a workflow with parallel groups, phase by phase, for a
 * sample of tickets (one per distinct set of phases that apply): which
 * phases run, in order, which gates they pass, and what the groups stand in
 * for. Null without groups or tickets.
 */
function groupReading(engine: Engine): HealthCheck | null {
  const graph = engine.graph;
  if (!graph.phases.some((p) => p.group)) return null;
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const t of engine.listTickets({ status: "active" })) {
    const d = engine.ticket(t.id);
    const skipped = d.phases.filter((p) => p.status === "skipped").map((p) => p.name);
    const key = skipped.join("|");
    if (seen.has(key)) continue;
    seen.add(key);
    const runs = d.phases.filter((p) => p.status !== "skipped").map((p) =>
      `${p.name}${p.agentType === null ? " (human)" : ""}${
        graph.def(p.name)?.group
          ? ` [group ${graph.def(p.name)!.group}, after ${graph.def(p.name)!.after.join(" + ")}]`
          : ""
      }`
    );
    const over = skipped.filter((n) => graph.overriddenBy(n).length).map((n) => `${n} (by group)`);
    lines.push(`${t.id}: ${runs.join(" → ")}${over.length ? `; stood in for: ${over.join(", ")}` : ""}`);
    if (lines.length === 3) break;
  }
  if (!lines.length) return null;
  return { name: "workflow as read", ok: true, detail: lines.join("\n    ") };
}

/** Whether git ignores what Baton creates where the configuration puts it (database, logs, worktrees). */
async function ignoreCheck(cfg: WorkflowConfig): Promise<HealthCheck> {
  const { batonPaths, notIgnored } = await import("../repo/ignore.ts");
  const missing = notIgnored(cfg.repoRoot, batonPaths(cfg));
  return {
    name: "git ignore",
    ok: missing.length === 0,
    detail: missing.length
      ? `git does not ignore ${missing.join(", ")} (logs hold claim tokens): add them to .gitignore or ` +
        ".git/info/exclude ('baton init' does)"
      : "the database, agent logs and worktrees are ignored (or this is not a git repository)",
  };
}

/**
 * The ticket files: two with one id (neither is imported, the import's own
 * rule, `indexTicketFiles`), empty ones, and what an interrupted write left
 * behind (`*.baton-new-*`, `*.baton-old-*`; `*.baton-conflict-*` keeps a
 * human's edit that crossed a write-back), and the tickets Baton has (`recorded`) whose file is gone.
 */
async function ticketFileCheck(
  engine: Engine,
  recorded: { id: string; path: string | null }[] = [],
): Promise<HealthCheck> {
  const { indexTicketFiles, ticketDirListing } = await import("../sync/files.ts");
  const { readRepoFile, repoFileExists } = await import("../repo/files.ts");
  const { setAsideAdvice, setAsideOf } = await import("../repo/replace.ts");
  const root = engine.cfg.repoRoot;
  const dir = engine.cfg.config.tickets.directory;
  let index: ReturnType<typeof indexTicketFiles>, files: string[];
  try {
    const listing = ticketDirListing(engine);
    index = indexTicketFiles(engine, listing);
    files = listing.files;
  } catch (e) {
    return { name: "ticket files", ok: false, detail: (e as Error).message };
  }
  const { byId, duplicates } = index;
  const problems = duplicates.map((d) => `id ${d.id} is used by ${d.paths.join(" and ")} (neither is imported)`);
  // No directory: a new repository's (no ticket yet), or a misspelt tickets.directory once Baton has tickets.
  const noDir = !repoFileExists(root, dir);
  if (noDir && recorded.some((t) => t.path)) {
    problems.push(
      `tickets.directory "${dir}" does not exist, though Baton has tickets from files: fix tickets.directory`,
    );
  }
  for (const path of files) {
    const name = path.slice(path.lastIndexOf("/") + 1);
    const aside = /^(.+)\.baton-old-\d+$/.exec(path);
    if (aside && !files.includes(aside[1])) {
      const state = setAsideOf(root, aside[1]);
      problems.push(
        `${path} holds ${aside[1]}, set aside by an interrupted write, and ${aside[1]} is missing (do not remove it)` +
          setAsideAdvice(aside[1], state),
      );
    } else if (/\.baton-(?:new|old)-\d+/.test(name)) {
      problems.push(`${path} was left by an interrupted write: remove it`);
    } else if (/\.baton-conflict-\d+$/.test(name)) {
      problems.push(`${path} keeps an edit made while Baton wrote the file back: merge it, then remove it`);
    } else if (name.endsWith(".md")) {
      try {
        if (readRepoFile(root, path).length === 0) problems.push(`${path} is empty: a ticket needs at least its title`);
      } catch { /* unreadable: import reports it */ }
    }
  }
  // A ticket whose file is gone (deleted, or renamed and not imported since): its work is still offered. A finished
  // ticket's file can go (archived, deleted): its record stays in Baton.
  const gone = (noDir ? [] : recorded).filter((t) =>
    t.path && !files.includes(t.path) && !byId.has(t.id) && !repoFileExists(root, t.path)
  );
  if (gone.length) {
    const open = new Set(engine.listTickets({ status: "active" }).map((t) => t.id));
    for (const t of gone) {
      if (open.has(t.id)) {
        problems.push(`ticket ${t.id}'s file ${t.path} is gone: restore it, or, if it was renamed, run baton import`);
      }
    }
  }
  return {
    name: "ticket files",
    ok: problems.length === 0,
    detail: problems.length ? problems.join("; ") : `${byId.size} ticket file(s), every id used once`,
  };
}
