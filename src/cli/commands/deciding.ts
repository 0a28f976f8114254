/**
 * Deciding (humans): `gates`, `approve`, `reject`.
 *
 * @module
 */
import { formatDuration as duration } from "../../duration.ts";
import { type Command, type CommandContext, int, usage } from "../command.ts";
import { localTime } from "../format.ts";
import { gitUser } from "../human.ts";

const GROUP = "Deciding (humans)";
const GATE = { name: "GATE", help: "a gate's numeric id (see `baton gates`)" };
const BY = { type: "string" as const, value: "NAME", help: "who decides (default: the git user)" };

async function decide(c: CommandContext, verb: "approve" | "reject"): Promise<number> {
  const id = int(c.positionals[0], "GATE", 1)!;
  const notes = c.values.notes as string | undefined;
  if (verb === "reject" && !notes) throw usage("reject needs --notes saying what to change");
  const by = (c.values.by as string | undefined) ?? await gitUser();
  return c.withEngine((e) => {
    const actor = { kind: "human" as const, name: by };
    const g = verb === "approve" ? e.approveGate(id, { actor, notes }) : e.rejectGate(id, { actor, notes: notes! });
    c.emit(g, () => `gate ${g.id} (${g.phaseName} of ticket ${g.ticketId}) ${g.status} by ${by}`);
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
    run(c) {
      return c.withEngine((e) =>
        c.emitTable(
          e.gates({ status: c.values.all ? "all" : "open" }),
          ["GATE", "TICKET", "PHASE", "KIND", "STATUS", "OPENED", "WAITING", "SUMMARY"],
          (g) => [
            g.id,
            g.ticketId,
            g.phaseName,
            g.kind,
            g.status,
            localTime(g.openedAt),
            g.status === "open" ? duration(e.now() - g.openedAt) : "",
            g.summary,
          ],
        )
      );
    },
  },
  {
    name: "approve",
    group: GROUP,
    usage: "approve GATE [--notes TEXT] [--by NAME]",
    summary: [],
    description: "Approves a gate: the gated phase completes and the phases after it open.",
    args: [GATE],
    positionals: [1, 1],
    options: { notes: { type: "string", value: "TEXT", help: "why, for the record" }, by: BY },
    examples: ['approve 12 --notes "the design covers the failure cases"'],
    run: (c) => decide(c, "approve"),
  },
  {
    name: "reject",
    group: GROUP,
    usage: "reject GATE --notes TEXT [--changes] [--by NAME]",
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
    examples: ['reject 12 --notes "handle the empty config file"'],
    run: (c) => decide(c, "reject"),
  },
];
