/**
 * A repository the size of a real backlog, for the dashboard and status
 * views (issue 25, "150 tickets read well"): a `.workflow/` of 21 phases
 * (sequential phases, human gates, conditional phases that most tickets
 * skip, and parallel groups per language standing in for the sequential
 * test-writing and implementation phases, for one, two or three languages)
 * and 150 tickets in every state: 45 imported from files that record them
 * finished, 15 imported part-way, 5 finished by agents under Baton, 20 held
 * by 20 agents (claimed or running), open human gates, tickets blocked on
 * dependencies, failed and waiting for a retry, and a queue of available
 * work whose busiest column is Triage.
 *
 * Built as a user's repository is: ticket files read by `importTickets`,
 * the rest through the Engine API (as agents, humans and planners do).
 */
import { type Engine, importTickets, openEngine } from "../../mod.ts";

/** The workflow: 16 sequential phases and 5 in two parallel groups (21 phase names). */
export const BOARD_PHASES = `# A three-language project's workflow, written by its owners.
phases:
  - { name: Triage, agent_type: triager }
  - { name: Design, agent_type: cpp-architect }
  - { name: Design Review, agent_type: null }
  - { name: Math Design, agent_type: math-designer, condition: { field: requires_math_design, value: true } }
  - { name: Math Review, agent_type: null, condition: { field: requires_math_design, value: true } }
  - { name: Integration Review, agent_type: null }
  - { name: Python Design, agent_type: python-architect, condition: { field: languages, contains: Python } }
  - { name: Python Design Review, agent_type: null, condition: { field: languages, contains: Python } }
  - { name: Frontend Design, agent_type: frontend-architect, condition: { field: languages, contains: Frontend } }
  - { name: Frontend Design Review, agent_type: null, condition: { field: languages, contains: Frontend } }
  - { name: Test Writing, agent_type: cpp-test-writer }
  - { name: Implementation, agent_type: cpp-implementer }
  - { name: Quality Gate, agent_type: null }
  - { name: Security Review, agent_type: security-reviewer, condition: { field: security_sensitive, value: true } }
  - { name: Implementation Review, agent_type: null }
  - { name: Documentation, agent_type: docs-updater, condition: { field: needs_docs, value: true } }

# These override the sequential phases above for tickets in those languages.
parallel_groups:
  tests:
    after: "Integration Review"
    before: "Quality Gate"
    phases:
      - { name: C++ Test Writing, agent_type: cpp-test-writer, condition: { field: languages, contains: C++ } }
      - { name: Python Test Writing, agent_type: python-test-writer, condition: { field: languages, contains: Python } }
  impl:
    after: "C++ Test Writing"
    before: "Quality Gate"
    phases:
      - { name: C++ Implementation, agent_type: cpp-implementer, condition: { field: languages, contains: C++ } }
      - { name: Python Implementation, agent_type: python-implementer, condition: { field: languages, contains: Python } }
      - { name: Frontend Implementation, agent_type: frontend-implementer, condition: { field: languages, contains: Frontend } }

ticket_metadata:
  - { field: priority, type: enum, values: [Critical, High, Medium, Low], default: Medium, markdown_key: Priority }
  - { field: components, type: list, markdown_key: "Target Component(s)" }
  - { field: languages, type: list, markdown_key: Languages }
  - { field: requires_math_design, type: boolean, default: false, markdown_key: Requires Math Design }
  - { field: security_sensitive, type: boolean, default: false, markdown_key: Security Sensitive }
  - { field: needs_docs, type: boolean, default: true, markdown_key: Needs Docs }
`;

const CONFIG = `agents:
  stale_timeout_minutes: 240
retry:
  max_attempts: 2
  backoff_seconds: 1
  backoff_multiplier: 1
`;

const PRIORITIES = ["Critical", "High", "Medium", "Low"];
const COMPONENTS = ["solver", "collision", "bindings", "ui", "build"];
const LANGUAGES = [["C++"], ["C++", "Python"], ["C++", "Python", "Frontend"], ["Python"], ["C++"]];
const TOPICS = [
  "Broadphase",
  "Contact cache",
  "Joint limits",
  "Friction cone",
  "Sleep thresholds",
  "Scene export",
  "Inspector panel",
  "Solver warm start",
  "Island splitting",
  "Capsule support",
];

/** What the fixture holds, for the tests' expectations. */
export interface BoardRepo {
  /** The repository. */
  repo: string;
  /** Tickets imported as finished (their files record every phase done). */
  importedDone: string[];
  /** Tickets imported part-way (Triage to Integration Review done before Baton). */
  importedPartway: string[];
  /** Tickets finished by agents and humans under Baton. */
  workedDone: string[];
  /** Phases held now: agent, ticket, phase. */
  held: { agentId: string; ticketId: string; phase: string }[];
  /** Open gates: ticket and phase. */
  gates: { ticketId: string; phase: string; id: number }[];
  /** Tickets waiting on a dependency. */
  blocked: string[];
  /** Tickets with a phase failed for good. */
  failed: string[];
  /** The phase with the most cards on the board. */
  busiest: string;
}

const id = (n: number) => String(n).padStart(4, "0");

function meta(n: number): Record<string, unknown> {
  return {
    priority: PRIORITIES[n % 4],
    components: [COMPONENTS[n % 5]],
    languages: LANGUAGES[n % LANGUAGES.length],
    requires_math_design: n % 9 === 0,
    security_sensitive: n % 11 === 0,
    needs_docs: n % 3 !== 0,
  };
}

const title = (n: number) => `${TOPICS[n % TOPICS.length]} ${Math.ceil(n / TOPICS.length)}`;

/** A ticket file in the format the owners' template writes; `log` names the phases whose Completed is filled. */
function ticketFile(n: number, log: string[]): string {
  const m = meta(n);
  const section = (name: string) =>
    `### ${name} Phase\n- **Started**: 2026-01-1${n % 9} 09:00\n- **Completed**: 2026-01-2${
      n % 9
    } 17:00\n- **Notes**:\n`;
  return `# Ticket ${id(n)}: ${title(n)}

## Status
- [x] Draft

## Metadata
- **Created**: 2026-01-05
- **Priority**: ${m.priority}
- **Target Component(s)**: ${(m.components as string[]).join(", ")}
- **Languages**: ${(m.languages as string[]).join(", ")}
- **Requires Math Design**: ${m.requires_math_design ? "Yes" : "No"}
- **Security Sensitive**: ${m.security_sensitive ? "Yes" : "No"}
- **Needs Docs**: ${m.needs_docs ? "Yes" : "No"}

---

## Summary
${title(n)}: work on the ${(m.components as string[])[0]} component.

---

## Workflow Log

${log.map(section).join("\n")}`;
}

const human = { kind: "human" as const, name: "Rosa Reviewer" };

/**
 * Moves a ticket forward through the engine until `stop` (a phase name) is
 * reached (available or awaiting review), or to its end: agents claim and
 * complete each available phase, a human approves each gate.
 */
function advance(e: Engine, ticketId: string, stop?: string): void {
  for (let step = 0; step < 60; step++) {
    const t = e.ticket(ticketId);
    if (t.status === "completed") return;
    const open = t.phases.filter((p) => p.status === "available" || p.status === "awaiting_review");
    if (!open.length) throw new Error(`ticket ${ticketId} cannot advance: ${t.phases.map((p) => p.status)}`);
    if (stop && open.some((p) => p.name === stop)) return;
    for (const p of open) {
      if (p.status === "awaiting_review") {
        const g = e.gates({ ticketId }).find((x) => x.phaseId === p.id)!;
        e.approveGate(g.id, { actor: human, notes: "fine" });
      } else {
        const agentId = `${p.agentType}-w`;
        const c = e.claim(p.id, { agentId, capabilities: [p.agentType!] });
        e.start(p.id, { agentId, token: c.token });
        e.complete(p.id, { agentId, token: c.token, summary: `${p.name} of ${ticketId} done`, artifacts: [] });
      }
    }
  }
  throw new Error(`ticket ${ticketId} did not reach ${stop ?? "its end"}`);
}

/**
 * Builds the 150-ticket repository (a few seconds).
 * @returns its path and what it holds
 */
export async function boardRepo(): Promise<BoardRepo> {
  const repo = await Deno.makeTempDir({ prefix: "baton-board-" });
  await Deno.mkdir(`${repo}/.workflow`);
  await Deno.writeTextFile(`${repo}/.workflow/phases.yaml`, BOARD_PHASES);
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, CONFIG);
  await Deno.mkdir(`${repo}/tickets`);
  // 1-45: finished before Baton (the log records Documentation or, without docs, Implementation Review, done).
  // 46-60: Triage to Integration Review done before Baton.
  const importedDone: string[] = [], importedPartway: string[] = [];
  for (let n = 1; n <= 60; n++) {
    const done = n <= 45;
    const last = done ? (meta(n).needs_docs ? "Documentation" : "Implementation Review") : "Integration Review";
    const slug = title(n).toLowerCase().replace(/\W+/g, "_");
    await Deno.writeTextFile(`${repo}/tickets/${id(n)}_${slug}.md`, ticketFile(n, ["Triage", last]));
    (done ? importedDone : importedPartway).push(id(n));
  }
  const e = await openEngine(repo);
  try {
    const r = importTickets(e);
    if (r.errors.length) throw new Error(`import: ${JSON.stringify(r.errors)}`);
    for (const t of importedDone) {
      if (e.ticket(t).status !== "completed") throw new Error(`ticket ${t} was not imported as finished`);
    }
    // 61-150: created by a planner through the API.
    for (let n = 61; n <= 150; n++) {
      e.upsertTicket({
        id: id(n),
        title: title(n),
        metadata: meta(n),
        dependencies: n >= 141 ? [{ on: id(n - 40) }] : undefined, // 141-150 wait for 101-110
      });
    }
    // 61-65: finished by agents and humans under Baton.
    const workedDone = [61, 62, 63, 64, 65].map(id);
    for (const t of workedDone) advance(e, t);
    // 66-77: a human gate open (Design Review, Integration Review, Quality Gate, Implementation Review).
    const gateAt = ["Design Review", "Integration Review", "Quality Gate", "Implementation Review"];
    for (let n = 66; n <= 77; n++) advance(e, id(n), gateAt[n % 4]);
    // 78-97: held by 20 agents, at Design, the test-writing and implementation groups, Documentation.
    const holdAt = ["Design", "C++ Test Writing", "C++ Implementation", "Documentation", "Triage"];
    const held: BoardRepo["held"] = [];
    for (let n = 78; n <= 97; n++) {
      const t = id(n);
      const stop = holdAt[n % holdAt.length];
      const ok = stop !== "Documentation" || meta(n).needs_docs;
      const m = meta(n);
      const at = ok && (!stop.startsWith("C++") || (m.languages as string[]).includes("C++")) ? stop : "Design";
      advance(e, t, at);
      const p = e.ticket(t).phases.find((x) => x.name === at)!;
      const agentId = `${p.agentType}-${String(n - 77).padStart(2, "0")}`;
      const c = e.claim(p.id, { agentId, capabilities: [p.agentType!] });
      if (n % 2) e.start(p.id, { agentId, token: c.token });
      held.push({ agentId, ticketId: t, phase: at });
    }
    // 98-100: failed for good (two attempts); 101-103: failed once, waiting for a retry.
    const failed = [98, 99, 100].map(id);
    for (const t of [...failed, ...[101, 102, 103].map(id)]) {
      advance(e, t, "Design");
      const p = e.ticket(t).phases.find((x) => x.name === "Design")!;
      const c = e.claim(p.id, { agentId: "cpp-architect-f", capabilities: ["cpp-architect"] });
      e.fail(p.id, { agentId: "cpp-architect-f", token: c.token, error: "the build image lacks Eigen" });
    }
    await new Promise((r) => setTimeout(r, 1100)); // the backoff (1 s) passes
    for (const t of failed) {
      const p = e.ticket(t).phases.find((x) => x.name === "Design")!;
      const c = e.claim(p.id, { agentId: "cpp-architect-f", capabilities: ["cpp-architect"] });
      e.fail(p.id, { agentId: "cpp-architect-f", token: c.token, error: "the build image still lacks Eigen" });
    }
    // 104-140: waiting at Triage (the busiest column), some at Design; 141-150: blocked on 101-110.
    for (let n = 120; n <= 127; n++) advance(e, id(n), "Design");
    const gates = e.gates().map((g) => ({ ticketId: g.ticketId, phase: g.phaseName, id: g.id }));
    const blocked = e.board().filter((t) => t.blocked && t.status !== "completed").map((t) => t.id);
    const failedNow = e.board().filter((t) => t.phases.some((p) => p.status === "failed")).map((t) => t.id);
    return {
      repo,
      importedDone,
      importedPartway,
      workedDone,
      held,
      gates,
      blocked,
      failed: failedNow,
      busiest: "Triage",
    };
  } finally {
    e.close();
  }
}
