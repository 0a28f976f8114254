/**
 * Working (so a shell script can be an agent): `claim`, `start`,
 * `complete`, `fail`, `release`, `heartbeat`, `dep add|rm|list`.
 *
 * @module
 */
import type { Engine } from "../../engine/mod.ts";
import type { DependencyType } from "../../engine/types.ts";
import { type Command, type CommandContext, int, list, type OptionDef, usage } from "../command.ts";
import { localTime } from "../format.ts";
import { decider, gitUser } from "../human.ts";

const GROUP = "Working (so a shell script can be an agent)";
const PHASE = { name: "PHASE", help: "the phase's numeric id (from `baton claim` or `baton status TICKET`)" };
const HELD: Record<string, OptionDef> = {
  agent: { type: "string", value: "ID", help: "the agent holding the phase" },
  token: { type: "string", value: "TOKEN", help: "the claim token `baton claim` printed" },
};

type Held = "start" | "complete" | "fail" | "release";

/**
 * A session's call through the CLI reaches Baton as one through MCP does, refused or not (a completion refused for
 * uncommitted work is the work's failure, not a session that never called Baton): recorded when the token is one
 * the agent holds.
 */
function noteCall(e: Engine, agentId: string, token: string): void {
  try {
    if (e.holdsClaimToken(agentId, token)) e.recordAgentCall(agentId, "baton-cli");
  } catch { /* only a note: the call itself says what is wrong */ }
}

function onHeld(c: CommandContext, verb: Held): Promise<number> {
  const id = int(c.positionals[0], "PHASE", 1)!;
  const agentId = c.values.agent as string | undefined;
  const token = c.values.token as string | undefined;
  if (!agentId || !token) throw usage(`${verb} needs --agent and --token`);
  if (verb === "fail" && !c.values.error) throw usage("fail needs --error TEXT");
  return c.withEngine((e) => {
    noteCall(e, agentId, token);
    const req = { agentId, token };
    const p = verb === "start" ? e.start(id, req) : verb === "complete"
      ? e.complete(id, {
        ...req,
        summary: c.values.summary as string | undefined,
        artifacts: c.values.artifact as string[] | undefined,
      })
      : verb === "fail"
      ? e.fail(id, { ...req, error: c.values.error as string })
      : e.release(id, { ...req, reason: c.values.reason as string | undefined });
    c.emit(p, () => `phase ${p.id} "${p.name}" of ticket ${p.ticketId} is ${p.status.replace("_", " ")}`);
  });
}

function requestReview(c: CommandContext): Promise<number> {
  const id = int(c.positionals[0], "PHASE", 1)!;
  const agentId = c.values.agent as string | undefined;
  const token = c.values.token as string | undefined;
  if (!agentId || !token) throw usage("request-review needs --agent and --token");
  return c.withEngine((e) => {
    noteCall(e, agentId, token);
    const g = e.requestReview(id, {
      agentId,
      token,
      summary: c.values.summary as string | undefined,
      artifacts: c.values.artifact as string[] | undefined,
    });
    c.emit(
      g,
      () => `gate ${g.id} opened: a human reviews "${g.phaseName}" of ticket ${g.ticketId} (baton approve ${g.id})`,
    );
  });
}

function dep(c: CommandContext, sub: "add" | "rm"): Promise<number> {
  const type = (c.values.type as string | undefined) ?? "completion";
  if (!["completion", "design", "implementation"].includes(type)) {
    throw usage(`--type must be completion, design or implementation, got "${type}"`);
  }
  const [blocked, blocking] = c.positionals;
  return c.withEngine(async (e) => {
    const actor = { kind: "human" as const, name: (await gitUser()) ?? "cli" };
    if (sub === "add") {
      e.ticket(blocked); // both must exist: not_found otherwise
      e.ticket(blocking);
      e.addDependency(blocked, blocking, type as DependencyType, actor);
    } else e.removeDependency(blocked, blocking, actor);
    c.emit(
      { ticket: blocked, dependsOn: blocking, type, removed: sub === "rm" },
      () =>
        sub === "add" ? `${blocked} now waits for ${blocking} (${type})` : `${blocked} no longer waits for ${blocking}`,
    );
  });
}

/** `claim`: the best phase for the agent's types (or one given phase); `nothing_to_claim` (exit 3) says why not. */
function claim(c: CommandContext): Promise<number> {
  const agentId = c.values.agent as string | undefined;
  if (!agentId) throw usage("claim needs --agent ID");
  const caps = list(c.values.capabilities);
  const key = c.values.key as string | undefined;
  const phase = int(c.values.phase, "--phase", 1);
  if (phase === undefined && !caps.length) throw usage("claim needs --capabilities (or --phase)");
  return c.withEngine((e) => {
    const claim = phase !== undefined
      ? e.claim(phase, { agentId, capabilities: caps.length ? caps : undefined, idempotencyKey: key })
      : e.claimNextOrThrow({ agentId, capabilities: caps, idempotencyKey: key });
    c.emit(claim, () =>
      [
        `claimed phase ${claim.phase.id}: "${claim.phase.name}" of ticket ${claim.ticket.id} (${claim.ticket.title})`,
        `token ${claim.token}`,
        `lease until ${localTime(claim.leaseExpiresAt)}`,
        claim.reworkNotes ? `reviewer notes: ${claim.reworkNotes}` : "",
        claim.overlaps.length
          ? `warning: overlaps ${claim.overlaps.map((o) => `${o.otherPattern} (${o.agentId})`).join(", ")}`
          : "",
      ].filter(Boolean).join("\n"));
  });
}

/** `release`: by the holder (with its token), or by a human taking another agent's claim back (`--by`). */
async function release(c: CommandContext): Promise<number> {
  if (c.values.agent || c.values.token || c.values.by === undefined) return await onHeld(c, "release");
  const id = int(c.positionals[0], "PHASE", 1)!;
  const by = await decider(c.values.by, "Releasing another agent's claim");
  return c.withEngine((e) => {
    const p = e.forceRelease(id, { actor: { kind: "human", name: by }, notes: c.values.reason as string | undefined });
    c.emit(p, () => `phase ${p.id} "${p.name}" of ticket ${p.ticketId} is available again (released by ${by})`);
  });
}

/** `heartbeat AGENT`. */
function heartbeat(c: CommandContext): Promise<number> {
  const agent = c.positionals[0];
  return c.withEngine((e) => {
    e.heartbeat(agent, { progress: c.values.progress as string | undefined });
    c.emit({ agent, at: e.now() }, () => `heartbeat recorded for ${agent}`);
  });
}

/** `dep list [TICKET]`. */
function depList(c: CommandContext): Promise<number> {
  return c.withEngine((e) =>
    c.emitTable(
      e.dependencies(c.positionals[0]),
      ["TICKET", "DEPENDS ON", "TYPE", "STATE"],
      (d) => [d.ticketId, d.dependsOn, d.type, d.satisfiedAt ? "satisfied" : "waiting"],
    )
  );
}

const DEP_ARGS = [
  { name: "BLOCKED", help: "the ticket that waits" },
  { name: "BLOCKING", help: "the ticket it waits for" },
];

/** The commands of this group. */
export const WORKING: Command[] = [
  {
    name: "claim",
    group: GROUP,
    usage: "claim --agent ID --capabilities T[,T…] [--phase ID] [--key IDEMPOTENCY_KEY]",
    summary: [],
    description:
      "Claims the best available phase for the agent's types (or one given phase) and prints its id and claim token. Exits 3 when there is nothing to claim.",
    positionals: [0, 0],
    options: {
      agent: { type: "string", value: "ID", help: "the agent's id (registered on first use)" },
      capabilities: { type: "string", value: "T[,T…]", help: "agent types it can do, comma-separated" },
      phase: { type: "string", value: "ID", help: "claim this phase (a numeric id) instead of the best one" },
      key: {
        type: "string",
        value: "IDEMPOTENCY_KEY",
        help: "retry-safe: running again with the same key gives the same claim",
      },
    },
    examples: ["claim --agent sh-1 --capabilities implementer --key run-42", "claim --agent sh-1 --phase 12 --json"],
    run: claim,
  },
  {
    name: "start",
    group: GROUP,
    usage: "start PHASE --agent ID --token TOKEN",
    summary: [],
    description: "Marks a claimed phase as started.",
    args: [PHASE],
    positionals: [1, 1],
    options: HELD,
    examples: ["start 12 --agent sh-1 --token 6f1c…"],
    run: (c) => onHeld(c, "start"),
  },
  {
    name: "complete",
    group: GROUP,
    usage: "complete PHASE --agent ID --token TOKEN [--summary TEXT] [--artifact PATH]…",
    summary: [],
    description: "Completes a phase; the phases after it open.",
    args: [PHASE],
    positionals: [1, 1],
    options: {
      ...HELD,
      summary: { type: "string", value: "TEXT", help: "what was done, for the next agents" },
      artifact: { type: "string", value: "PATH", multiple: true, help: "a file produced" },
    },
    examples: ['complete 12 --agent sh-1 --token 6f1c… --summary "design written" --artifact docs/design.md'],
    run: (c) => onHeld(c, "complete"),
  },
  {
    name: "fail",
    group: GROUP,
    usage: "fail PHASE --agent ID --token TOKEN --error TEXT",
    summary: [],
    description: "Reports a failed attempt: retried after a backoff while attempts remain, then failed for a human.",
    args: [PHASE],
    positionals: [1, 1],
    options: { ...HELD, error: { type: "string", value: "TEXT", help: "what went wrong (the next attempt sees it)" } },
    examples: ['fail 12 --agent sh-1 --token 6f1c… --error "tests time out on CI"'],
    run: (c) => onHeld(c, "fail"),
  },
  {
    name: "release",
    group: GROUP,
    usage: "release PHASE (--agent ID --token TOKEN | --by NAME) [--reason TEXT]",
    summary: [],
    description:
      "Gives a claimed phase back without counting the attempt. With --by instead of the claim, a human takes another agent's claim back (its token stops working; an escalation of the phase is resolved).",
    args: [PHASE],
    positionals: [1, 1],
    options: {
      ...HELD,
      reason: { type: "string", value: "TEXT", help: "why, for the record (and for the next claimant, with --by)" },
      by: { type: "string", value: "NAME", help: "a human releasing someone else's claim" },
    },
    examples: ["release 12 --agent sh-1 --token 6f1c…", 'release 12 --by dana --reason "the agent is stuck"'],
    run: release,
  },
  {
    name: "request-review",
    group: GROUP,
    usage: "request-review PHASE --agent ID --token TOKEN [--summary TEXT] [--artifact PATH]…",
    summary: [],
    description:
      "Finishes a phase but asks a human to review it first: the phases after it wait until the review is approved.",
    args: [PHASE],
    positionals: [1, 1],
    options: {
      ...HELD,
      summary: { type: "string", value: "TEXT", help: "what was done, and what the reviewer should look at" },
      artifact: { type: "string", value: "PATH", multiple: true, help: "a file produced" },
    },
    examples: ['request-review 12 --agent sh-1 --token 6f1c… --summary "unsure about the lock order"'],
    run: requestReview,
  },
  {
    name: "heartbeat",
    group: GROUP,
    usage: "heartbeat AGENT [--progress TEXT]",
    summary: [],
    description: "Says the agent is alive and extends its leases.",
    args: [{ name: "AGENT", help: "the agent's id" }],
    positionals: [1, 1],
    options: { progress: { type: "string", value: "TEXT", help: "what it did since the last heartbeat" } },
    examples: ['heartbeat sh-1 --progress "tests pass locally"'],
    run: heartbeat,
  },
  {
    name: "dep add",
    group: GROUP,
    usage: "dep add BLOCKED BLOCKING [--type completion|design|implementation]",
    summary: [],
    description: "Makes BLOCKED wait until BLOCKING reaches a milestone (default: completion).",
    args: DEP_ARGS,
    positionals: [2, 2],
    options: { type: { type: "string", value: "T", help: "completion, design or implementation" } },
    examples: ["dep add 0084 0083 --type design"],
    run: (c) => dep(c, "add"),
  },
  {
    name: "dep rm",
    group: GROUP,
    usage: "dep rm BLOCKED BLOCKING",
    summary: [],
    description: "Removes a dependency.",
    args: DEP_ARGS,
    positionals: [2, 2],
    options: { type: { type: "string", value: "T", help: "(ignored)" } },
    examples: ["dep rm 0084 0083"],
    run: (c) => dep(c, "rm"),
  },
  {
    name: "dep list",
    group: GROUP,
    usage: "dep list [TICKET]",
    summary: [],
    description: "Dependencies, all or those of one ticket (both directions).",
    args: [{ name: "TICKET", help: "a ticket id" }],
    positionals: [0, 1],
    run: depList,
  },
];
