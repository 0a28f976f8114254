/**
 * Deciding (humans): `gates`, `approve`, `reject`.
 *
 * @module
 */
import { BatonError } from "../../errors.ts";
import { formatDuration as duration } from "../../duration.ts";
import { type Command, type CommandContext, int, usage } from "../command.ts";
import { localTime } from "../format.ts";
import { decider } from "../human.ts";

const GROUP = "Deciding (humans)";
const GATE = {
  name: "GATE",
  help: "a gate's numeric id (see `baton gates`), or TICKET or TICKET/PHASE when exactly one gate is open there",
};
const BY = {
  type: "string" as const,
  value: "NAME",
  help: "who decides (default: the git user; refused when neither is known)",
};

/** `approve` and `reject`: a human's decision on a gate. */
async function decide(c: CommandContext, verb: "approve" | "reject"): Promise<number> {
  const ref = c.positionals[0];
  const notes = c.values.notes as string | undefined;
  if (verb === "reject" && !notes) throw usage("reject needs --notes saying what to change");
  const by = await decider(c.values.by, `${verb === "approve" ? "Approving" : "Rejecting"} a gate`);
  return c.withEngine((e) => {
    const id = e.findGate(ref).id;
    const actor = { kind: "human" as const, name: by };
    const g = verb === "approve" ? e.approveGate(id, { actor, notes }) : e.rejectGate(id, { actor, notes: notes! });
    c.emit(g, () => `gate ${g.id} (${g.phaseName} of ticket ${g.ticketId}) ${g.status} by ${by}`);
  });
}

/** `gates`. */
function gates(c: CommandContext): Promise<number> {
  const all = c.values.all === true;
  return c.withEngine((e) =>
    c.emitTable(
      e.gates({ status: all ? "all" : "open" }),
      [
        "GATE",
        "TICKET",
        "PHASE",
        "KIND",
        "STATUS",
        "OPENED",
        "WAITING",
        "REVIEWS",
        ...(all ? ["DECIDED BY", "NOTES"] : []),
      ],
      (g) => [
        g.id,
        g.ticketId,
        g.phaseName,
        g.kind,
        g.status,
        localTime(g.openedAt),
        g.status === "open" ? duration(e.now() - g.openedAt) : "",
        // What the reviewer decides on: the agent's summary for a review it asked for, else the reviewed phases'.
        g.summary ??
          e.reviewedBy(g.id).map((p) => `${p.name} by ${p.claimedBy ?? "–"}: ${p.resultSummary ?? "(no summary)"}`)
            .join(
              "; ",
            ),
        ...(all ? [g.decidedBy ?? "", g.notes ?? ""] : []),
      ],
    )
  );
}

/** `retry`. */
async function retry(c: CommandContext): Promise<number | void> {
  const bulk = c.values.type !== undefined || c.values.error !== undefined || c.values["all-failed"] === true;
  if (bulk === (c.positionals[0] !== undefined)) {
    throw new BatonError(
      "invalid_argument",
      "Name one phase (baton retry PHASE) or which failed phases to retry (--type T, --error TEXT, --all-failed)",
    );
  }
  if (bulk) return await retryMany(c);
  const id = int(c.positionals[0], "PHASE", 1)!;
  const by = await decider(c.values.by, "Retrying a phase");
  return c.withEngine((e) => {
    const p = e.retryPhase(id, { actor: { kind: "human", name: by }, notes: c.values.notes as string | undefined });
    c.emit(
      p,
      () =>
        `phase ${p.id} "${p.name}" of ticket ${p.ticketId} is ${p.status.replace("_", " ")} again (retried by ${by})`,
    );
  });
}

/** `retry --type T | --error TEXT | --all-failed`. */
async function retryMany(c: CommandContext): Promise<number | void> {
  const by = await decider(c.values.by, "Retrying failed phases");
  return c.withEngine((e) => {
    const phases = e.retryFailed(
      {
        agentType: c.values.type as string | undefined,
        error: c.values.error as string | undefined,
        all: c.values["all-failed"] === true,
      },
      { actor: { kind: "human", name: by }, notes: c.values.notes as string | undefined },
    );
    c.emit(
      { retried: phases },
      () =>
        phases.length
          ? phases.map((p) =>
            `phase ${p.id} "${p.name}" of ticket ${p.ticketId} is ${p.status.replace("_", " ")} again`
          )
            .join("\n") + `\n${phases.length} phase(s) retried by ${by}`
          : "no failed phase matches",
    );
  });
}

/** The commands of this group. */
export const DECIDING: Command[] = [
  {
    name: "gates",
    group: GROUP,
    usage: "gates [--all]",
    summary: ["open gates, oldest first"],
    positionals: [0, 0],
    options: { all: { type: "boolean", help: "decided gates too" } },
    run: gates,
  },
  {
    name: "approve",
    group: GROUP,
    usage: "approve GATE|TICKET[/PHASE] [--notes TEXT] [--by NAME]",
    summary: [],
    description: "Approves a gate: the gated phase completes and the phases after it open.",
    args: [GATE],
    positionals: [1, 1],
    options: { notes: { type: "string", value: "TEXT", help: "why, for the record" }, by: BY },
    examples: [
      'approve 12 --notes "the design covers the failure cases"',
      "approve 0083",
      'approve "0083/Design Review" --by dana',
    ],
    run: (c) => decide(c, "approve"),
  },
  {
    name: "reject",
    group: GROUP,
    usage: "reject GATE|TICKET[/PHASE] --notes TEXT [--changes] [--by NAME]",
    summary: [],
    description:
      "Rejects a gate: the reviewed work goes back to the agents with your notes (after gates.max_revisions rejections it escalates to a human instead).",
    args: [GATE],
    positionals: [1, 1],
    options: {
      notes: { type: "string", value: "TEXT", help: "what to change (required): the next agent reads it" },
      changes: { type: "boolean", help: "say that changes are requested (the same as rejecting)" },
      by: BY,
    },
    examples: [
      'reject 12 --notes "handle the empty config file"',
      'reject 0083 --notes "cover the CRLF case" --by dana',
    ],
    run: (c) => decide(c, "reject"),
  },
  {
    name: "retry",
    group: GROUP,
    usage: "retry PHASE | --type T | --error TEXT | --all-failed [--notes TEXT] [--by NAME]",
    summary: [],
    description:
      "Reopens a phase that failed its last attempt (or a gate that escalated): it becomes available again with fresh attempts, and the notes reach the next claimant like a reviewer's. After a mass failure, --type, --error and --all-failed reopen every failed phase that matches (those given must all hold).",
    args: [{ name: "PHASE", help: "the failed phase's numeric id (see `baton blocked`)" }],
    positionals: [0, 1],
    options: {
      notes: { type: "string", value: "TEXT", help: "what the next attempt should do differently" },
      type: { type: "string", value: "T", help: "every failed phase of this agent type" },
      error: { type: "string", value: "TEXT", help: "every failed phase whose last error contains TEXT" },
      "all-failed": { type: "boolean", help: "every failed phase" },
      by: BY,
    },
    examples: [
      'retry 31 --notes "the flaky test is fixed on main; rebase first"',
      "retry --type implementer --by dana",
      'retry --error "invalid x-api-key" --by dana',
      "retry --all-failed --by dana",
    ],
    run: retry,
  },
];
