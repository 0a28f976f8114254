/**
 * The merge queue: `merge` (the worker), `merge status`, `merge add`,
 * `merge revert`.
 *
 * @module
 */
import type { Command, CommandContext } from "../command.ts";
import { onStopSignals } from "../../signals.ts";
import { decider } from "../human.ts";
import { mergeStatusText } from "../views/merge.ts";
import { importLate } from "../../late_import.ts";
import { BatonError } from "../../errors.ts";

const GROUP = "Landing work";

/** `merge`: runs the worker. */
async function runWorker(c: CommandContext): Promise<number | void> {
  return await c.withEngine(async (e) => {
    const { MergeWorker } = await importLate<typeof import("../../merge/mod.ts")>(
      new URL("../../merge/mod.ts", import.meta.url),
    );
    const stop = new AbortController();
    const w = new MergeWorker(e, {
      idleWhen: c.values["until-idle"] === true ? () => true : undefined,
      signal: stop.signal,
      log: (l) => c.io.out(`${new Date().toISOString().slice(11, 19)} ${l}`),
    });
    const unlisten = onStopSignals(() => {
      c.io.err("stopping: a check in progress is stopped, and its batch goes back to the queue");
      stop.abort();
    });
    try {
      const s = await w.run();
      c.io.out(
        `${s.batches} batch(es); ${s.landed} ticket(s) landed; ${s.conflicts} conflict(s) and ${s.culprits} ` +
          `check failure(s) sent back; ${s.fenced} sent back for commits made without the claim; ${s.flaky} flaky check(s)`,
      );
      if (s.targetRed) {
        c.io.err(
          `${e.cfg.config.merge?.target} is red at ${s.targetRed.slice(0, 10)}: the check fails on it without any ` +
            "ticket, so nothing lands until a commit fixes it (or the check command is fixed)",
        );
        return 1;
      }
    } finally {
      unlisten();
    }
  });
}

/** `merge status`. */
function status(c: CommandContext): Promise<number> {
  return c.withEngine((e) => {
    const s = e.mergeStatus();
    c.emit({ ...s, metrics: e.mergeMetrics(0) }, () => mergeStatusText(s, e.mergeMetrics(0)));
  });
}

/** `merge add`. */
async function add(c: CommandContext): Promise<number | void> {
  const by = await decider(c.values.by, "Adding to the merge queue");
  const branch = c.values.branch as string | undefined;
  if (branch !== undefined) {
    // A branch that is not there would only fail at landing, long after the human who named it left.
    const { gitTry } = await import("../../repo/git.ts");
    if (!gitTry(c.repo, "rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`).ok) {
      throw new BatonError("not_found", `No branch "${branch}" in this repository (git branch --list shows them)`);
    }
  }
  return await c.withEngine((e) => {
    const ticket = c.positionals[0];
    const q = e.addToMergeQueue(ticket, {
      branch,
      actor: { kind: "human", name: by },
    });
    c.emit(
      q,
      () =>
        q
          ? `${ticket} is queued to land ${q.branch} (position ${
            e.mergeQueue().findIndex((x) => x.ticketId === ticket) + 1
          })`
          : `${ticket} will enter the queue when its workflow is done`,
    );
  });
}

/** `merge revert`. */
async function revert(c: CommandContext): Promise<number | void> {
  const by = await decider(c.values.by, "Reverting a landed ticket");
  return await c.withEngine((e) => {
    const ticket = c.positionals[0];
    const id = e.revertMerge(ticket, {
      actor: { kind: "human", name: by },
      notes: c.values.notes as string | undefined,
    });
    c.emit(
      { revert: id, ticket },
      () => `revert ${id} of ${ticket} queued: it lands through the queue; ${ticket} is reopened for rework`,
    );
  });
}

/** The commands of this group. */
export const MERGING: Command[] = [
  {
    name: "merge",
    group: GROUP,
    usage: "merge [--until-idle]",
    summary: ["run the merge queue: finished tickets land on the target branch, tested, in batches"],
    description:
      "The merge queue's worker (one per repository at a time; `baton run` runs one too). It builds each batch of " +
      "finished tickets on the target's tip in a scratch worktree, runs merge.check there, and moves the target to " +
      "the tested candidate with a compare-and-swap. A ticket that conflicts, or that breaks the check (found by " +
      "bisecting the batch), goes back to merge.rework_phase with the conflicting files or the check's output as " +
      "its rework notes; the others land. Configure it with a merge: section in .workflow/config.yaml.",
    positionals: [0, 0],
    options: {
      "until-idle": { type: "boolean", help: "exit once nothing is queued (batches do not wait to fill)" },
    },
    examples: ["merge", "merge --until-idle"],
    run: runWorker,
  },
  {
    name: "merge status",
    group: GROUP,
    usage: "merge status [--json]",
    summary: ["what is queued, building, landed and sent back, with check times and flaky checks"],
    positionals: [0, 0],
    run: status,
  },
  {
    name: "merge add",
    group: GROUP,
    usage: "merge add TICKET [--branch B] [--by NAME]",
    summary: ["land a branch made some other way for a ticket (or ask again for a ticket's landing)"],
    args: [{ name: "TICKET", help: "the ticket" }],
    positionals: [1, 1],
    options: {
      branch: { type: "string", value: "B", help: "the branch to land (default: baton/TICKET)" },
      by: { type: "string", value: "NAME", help: "who asks (default: the git user)" },
    },
    examples: ["merge add 0083 --branch feature/cache"],
    run: add,
  },
  {
    name: "merge revert",
    group: GROUP,
    usage: "merge revert TICKET [--notes TEXT] [--by NAME]",
    summary: ["revert a landed ticket through the queue and reopen it for rework"],
    args: [{ name: "TICKET", help: "the landed ticket" }],
    positionals: [1, 1],
    options: {
      notes: { type: "string", value: "TEXT", help: "why: the rework notes of the next agent" },
      by: { type: "string", value: "NAME", help: "who decides (default: the git user)" },
    },
    examples: ['merge revert 0083 --notes "breaks the nightly export"'],
    run: revert,
  },
];
