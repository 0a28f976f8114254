/**
 * The merge queue and Baton's git hooks (issue 24): commits an agent made
 * after it lost its claim never land (post-commit recorded them so, or, with
 * the hooks bypassed, their trailers name an agent that did not hold the
 * phase then), and `baton audit --ticket` shows the commits and the SHA a
 * ticket landed as. Real git, real hooks, the CLI as a process.
 */
import assert from "node:assert/strict";
import { engineOf, git, mergeRepo, startMerge } from "../helpers/merge_repo.ts";
import { baton } from "../helpers/cli.ts";
import type { Claim, Engine } from "../../mod.ts";

/** The environment without any Baton claim, plus `extra`. */
function envWith(extra: Record<string, string> = {}): Record<string, string> {
  const env = Object.fromEntries(Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("BATON_")));
  return { ...env, GIT_TERMINAL_PROMPT: "0", ...extra };
}

const agentEnv = (agentId: string, c: Claim) =>
  envWith({ BATON_AGENT_ID: agentId, BATON_PHASE_ID: String(c.phase.id), BATON_CLAIM: c.token });

/** `git commit` in `wt` of a new file, as whoever `env` says; returns the new HEAD. */
function commitAs(wt: string, file: string, env: Record<string, string>, extra: string[] = []): string {
  Deno.writeTextFileSync(`${wt}/${file}`, `${file} ${crypto.randomUUID()}\n`);
  git(wt, "add", file);
  const o = new Deno.Command("git", {
    args: [...extra.slice(0, 2), "commit", "-q", "-m", `add ${file}`, ...extra.slice(2)],
    cwd: wt,
    env,
    clearEnv: true,
    stderr: "piped",
  }).outputSync();
  if (!o.success) throw new Error(`commit of ${file}: ${new TextDecoder().decode(o.stderr)}`);
  return git(wt, "rev-parse", "HEAD");
}

/** Waits (bounded) until `n` commits are recorded (post-commit records in the background). */
async function recorded(e: Engine, n: number): Promise<void> {
  for (let i = 0; i < 300 && e.audit({ action: "phase.commit" }).length < n; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(e.audit({ action: "phase.commit" }).length, n);
}

Deno.test("merge + hooks: commits made after the claim was lost are not landed; the ticket goes back; audit shows commits and landed SHA", async () => {
  const repo = await mergeRepo();
  git(repo, "config", "user.email", "dev@example.com");
  git(repo, "config", "user.name", "Dev");
  assert.equal((await baton(["hooks", "install"], { cwd: repo })).code, 0);
  const e = await engineOf(repo);
  try {
    // 0001: builder-1 commits under its claim, releases it, then commits with --no-verify (no trailers; post-commit
    // still records it, as made without the claim); builder-9 finishes the phase.
    e.upsertTicket({ id: "0001", title: "Module 0001" });
    const wt1 = `${repo}/.workflow/worktrees/0001`;
    git(repo, "worktree", "add", "-q", "-b", "baton/0001", wt1, "main");
    const c1 = e.claimNext({ agentId: "builder-1", capabilities: ["builder"] })!;
    const good = commitAs(wt1, "a.txt", agentEnv("builder-1", c1));
    // Released at once: post-commit's record (in the background) may well arrive after it.
    e.release(c1.phase.id, { agentId: "builder-1", token: c1.token, reason: "stepping away" });
    await new Promise((r) => setTimeout(r, 2500)); // past the 2 s slack for git's whole-second commit times
    const late = commitAs(wt1, "late.txt", agentEnv("builder-1", c1), ["-c", "x.y=z", "--no-verify"]);
    await recorded(e, 2);
    const c9 = e.claimNext({ agentId: "builder-9", capabilities: ["builder"] })!;
    assert.equal(c9.ticket.id, "0001");
    e.complete(c9.phase.id, { agentId: "builder-9", token: c9.token, summary: "done" });

    // 0002: clean work, under the claim.
    e.upsertTicket({ id: "0002", title: "Module 0002" });
    const wt2 = `${repo}/.workflow/worktrees/0002`;
    git(repo, "worktree", "add", "-q", "-b", "baton/0002", wt2, "main");
    const c2 = e.claimNext({ agentId: "builder-2", capabilities: ["builder"] })!;
    const clean = commitAs(wt2, "b.txt", agentEnv("builder-2", c2));
    await recorded(e, 3);
    e.complete(c2.phase.id, { agentId: "builder-2", token: c2.token, summary: "done" });

    // 0003: Baton's hooks bypassed (another hooks path), trailers written by hand, after the claim ended.
    e.upsertTicket({ id: "0003", title: "Module 0003" });
    const wt3 = `${repo}/.workflow/worktrees/0003`;
    git(repo, "worktree", "add", "-q", "-b", "baton/0003", wt3, "main");
    const c3 = e.claimNext({ agentId: "builder-3", capabilities: ["builder"] })!;
    e.complete(c3.phase.id, { agentId: "builder-3", token: c3.token, summary: "done" });
    await new Promise((r) => setTimeout(r, 2500)); // past the 2 s slack for git's whole-second commit times
    const forged = commitAs(wt3, "c.txt", envWith(), [
      "-c",
      "core.hooksPath=/dev/null",
      "--trailer",
      "Baton-Ticket: 0003",
      "--trailer",
      "Baton-Phase: Build",
      "--trailer",
      "Baton-Agent: builder-3",
    ]);
    for (const wt of [wt1, wt2, wt3]) git(repo, "worktree", "remove", "--force", wt);

    const m = startMerge(repo);
    const done = await m.done;
    assert.equal(done.code, 0, done.out + done.err);
    const mainFiles = git(repo, "ls-tree", "--name-only", "main").split("\n");
    assert.ok(mainFiles.includes("b.txt"), "0002 landed");
    assert.ok(!mainFiles.includes("a.txt") && !mainFiles.includes("late.txt"), "nothing of 0001 landed");
    assert.ok(!mainFiles.includes("c.txt"), "nothing of 0003 landed");

    const items = e.mergeStatus({ recent: 10 }).recent.flatMap((b) => b.items);
    const fenced = items.filter((i) => i.outcome === "fenced");
    assert.deepEqual(fenced.map((i) => i.ticketId).sort(), ["0001", "0003"]);
    const n1 = fenced.find((i) => i.ticketId === "0001")!.notes!;
    assert.match(
      n1,
      new RegExp(`${late.slice(0, 12)}: made by builder-1 after it lost its claim of phase Build of 0001`),
    );
    assert.doesNotMatch(n1, new RegExp(good.slice(0, 12)), "the commit made under the claim is not named");
    const n3 = fenced.find((i) => i.ticketId === "0003")!.notes!;
    assert.match(n3, new RegExp(`${forged.slice(0, 12)}: made by builder-3 at .*nobody held the claim of phase Build`));
    // Sent back: Build is to be done again, with the notes.
    const back = e.claimNext({ agentId: "builder-5", capabilities: ["builder"] })!;
    assert.ok(["0001", "0003"].includes(back.ticket.id));
    assert.match(back.reworkNotes ?? "", /no longer held its claim/);

    // audit --ticket: the commits, and the SHA the ticket landed as.
    const a2 = await baton(["audit", "--ticket", "0002"], { cwd: repo });
    assert.equal(a2.code, 0, a2.stderr);
    assert.match(a2.stdout, new RegExp(`phase\\.commit .*Build: commit ${clean.slice(0, 12)} add b\\.txt`));
    const landedSha = git(repo, "rev-parse", "main");
    assert.match(
      a2.stdout,
      new RegExp(`merge\\.landed .*landed ${landedSha.slice(0, 12)} \\(baton/0002; commits ${clean.slice(0, 12)}\\)`),
    );
    const a1 = await baton(["audit", "--ticket", "0001"], { cwd: repo });
    assert.match(a1.stdout, new RegExp(`commit ${late.slice(0, 12)} add late\\.txt \\(made without the claim\\)`));
    assert.match(a1.stdout, /merge\.fenced .*Not landed: 1 commit/);
  } finally {
    e.close();
  }
});
