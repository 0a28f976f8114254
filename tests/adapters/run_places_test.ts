/**
 * `baton run`'s places with a real engine, real git and real worktrees
 * (`RunPlaces`, `Worktrees`): a parallel group's branches and what waits for
 * them, when the user has a ticket branch checked out in a tree of their own.
 */
import assert from "node:assert/strict";
import { type Engine, openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { RunPlaces } from "../../src/run/places.ts";
import { Worktrees } from "../../src/run/worktrees.ts";

const PHASES = `phases:
  - name: Build
    agent_type: builder
  - name: Final
    agent_type: final
parallel_groups:
  g:
    after: Build
    before: Final
    phases:
      - name: A
        agent_type: a
      - name: B
        agent_type: b
`;

function git(cwd: string, ...args: string[]): string {
  const r = new Deno.Command("git", {
    args: ["-c", "user.email=t@example.com", "-c", "user.name=T", ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!r.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout).trim();
}

/** Tickets whose groups are done, each member's work committed on its own branch; the places that ran them. */
async function groupsDone(ids: string[]): Promise<{ repo: string; e: Engine; places: RunPlaces; logs: string[] }> {
  const repo = await tempRepo({ phases: PHASES });
  git(repo, "init", "-q", "-b", "main");
  git(repo, "add", "-A");
  git(repo, "commit", "-qm", "init");
  const e = await openEngine(repo);
  const logs: string[] = [];
  const places = new RunPlaces(e, new Worktrees(repo, ".workflow/worktrees"), () => [], (l) => logs.push(l), "test");
  for (const id of ids) {
    e.upsertTicket({ id, title: id });
    const c = e.claimNext({ agentId: `b-${id}`, capabilities: ["builder"] })!;
    e.complete(c.phase.id, { agentId: `b-${id}`, token: c.token });
    for (const t of ["a", "b"]) {
      const member = e.claimNext({ agentId: `${t}-${id}`, capabilities: [t] })!;
      const p = places.prepare(member);
      Deno.writeTextFileSync(`${p.dir}/${id}-${t}.txt`, t);
      git(p.dir, "add", "-A");
      git(p.dir, "commit", "-qm", `${id} ${t}`);
      e.complete(member.phase.id, { agentId: `${t}-${id}`, token: member.token });
    }
  }
  return { repo, e, places, logs };
}

const final = (e: Engine, id: string) => e.ticket(id).phases.find((p) => p.name === "Final")!.status;

Deno.test("run places: what follows a group waits for its merge; one ticket that cannot merge (its branch in the user's tree) holds up no other", async () => {
  const { repo, e, places, logs } = await groupsDone(["T1", "T2"]);
  try {
    assert.deepEqual([final(e, "T1"), final(e, "T2")], ["pending", "pending"], "nothing follows before the merge");
    git(repo, "switch", "-q", "baton/T1"); // the user looks at T1's work in their own tree
    places.mergeGroups();
    assert.equal(final(e, "T2"), "available", "T2's group was merged all the same");
    assert.match(git(repo, "show", "baton/T2:T2-a.txt"), /a/);
    assert.equal(final(e, "T1"), "pending");
    assert.deepEqual(e.unmergedBranches().map((u) => u.ticketId), ["T1", "T1"]);
    assert.ok(logs.some((l) => /cannot merge T1's parallel group yet: .*checked out/.test(l)), logs.join("\n"));
    git(repo, "switch", "-q", "main");
    places.mergeGroups();
    assert.equal(final(e, "T1"), "available");
    assert.deepEqual(e.unmergedBranches(), []);
  } finally {
    e.close();
  }
});

Deno.test("run places: a ticket branch checked out in a linked worktree of the user's is never given to an agent", async () => {
  const { repo, e, places } = await groupsDone(["T1"]);
  try {
    places.mergeGroups();
    git(repo, "worktree", "remove", `${repo}/.workflow/worktrees/T1`); // between two phases, say
    const mine = `${await Deno.makeTempDir()}/my-review`;
    git(repo, "worktree", "add", "-q", mine, "baton/T1"); // the user reviews T1 in a worktree of their own
    const c = e.claimNext({ agentId: "final-1", capabilities: ["final"] })!;
    assert.throws(
      () => places.prepare(c),
      /checked out in .*my-review, a worktree of yours: an agent never works there/,
    );
  } finally {
    e.close();
  }
});
