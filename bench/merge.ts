/**
 * The merge queue's throughput: 8 finished tickets (one module each) land on
 * `main` through `baton merge --until-idle`, with a check that takes 1 s,
 * at `batch_size` 1 and 4, with no culprit and with 1 culprit in 8.
 *
 * The baseline, measured in the same run, is what a careful human does by
 * hand for the same 8 branches: for each, rebase it on main, run the check,
 * fast-forward main when green (8 checks, no batching). Ratios are against
 * it. Tickets landed per minute count from the worker's start to its exit
 * (process start included, as a user sees it).
 *
 * Invariants checked on every run: every ticket but the culprit lands
 * exactly once, in queue order; the culprit goes back to its rework phase
 * with the check's output in its notes; the check passes on main at the end.
 *
 * `deno task bench:merge [rounds]` (default 3 rounds of each setting)
 */
import { openEngine } from "../mod.ts";
import { CHECK_SH, finishedTicket, git, history, mergeRepo, startMerge } from "../tests/helpers/merge_repo.ts";

const ROUNDS = Number(Deno.args[0] ?? 3);
const TICKETS = 8;
const CHECK = "sleep 1 && sh check.sh";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const ids = Array.from({ length: TICKETS }, (_, i) => String(i + 1).padStart(4, "0"));
const CULPRIT = "0003";

/** A repository with 8 finished tickets; with `culprit`, ticket 0003 breaks the check. */
async function backlog(batchSize: number, culprit: boolean): Promise<string> {
  const repo = await mergeRepo(`  batch_size: ${batchSize}\n`, { check: CHECK });
  const e = await openEngine(repo);
  for (const id of ids) {
    finishedTicket(e, repo, id, {
      [`src/m${id}.txt`]: culprit && id === CULPRIT ? "BROKEN module\n" : `module ${id}\n`,
    });
  }
  e.close();
  return repo;
}

/** Checks the invariants; returns how many landed. */
async function verify(repo: string, culprit: boolean): Promise<number> {
  const want = ids.filter((id) => !(culprit && id === CULPRIT));
  const landed = history(repo).filter((s) => / Build: module /.test(s)).map((s) => s.slice(0, 4));
  if (JSON.stringify(landed) !== JSON.stringify(want)) {
    throw new Error(`landed ${landed.join(",")}, want ${want.join(",")} (each once, in queue order)`);
  }
  const check = new Deno.Command("sh", { args: ["check.sh"], cwd: repo, stdout: "null", stderr: "null" });
  git(repo, "checkout", "-q", "main");
  if (!(await check.output()).success) throw new Error("the check fails on main after landing");
  if (culprit) {
    const e = await openEngine(repo);
    const build = e.ticket(CULPRIT).phases.find((p) => p.name === "Build")!;
    e.close();
    if (!/broken/.test(build.reworkNotes ?? "")) {
      throw new Error(`the culprit's rework notes lack the check's output: ${build.reworkNotes}`);
    }
  }
  return landed.length;
}

/** The human baseline: rebase each branch on main, check, fast-forward; minutes for the landed ones. */
async function byHand(culprit: boolean): Promise<{ perMin: number; landed: number }> {
  const repo = await backlog(1, culprit);
  const t0 = performance.now();
  let landed = 0;
  for (const id of ids) {
    const wt = `${repo}/.hand-${id}`;
    git(repo, "worktree", "add", "-q", "--detach", wt, `baton/${id}`);
    git(wt, "rebase", "-q", "main");
    const ok = (await new Deno.Command("sh", { args: ["-c", CHECK], cwd: wt, stdout: "null", stderr: "null" }).output())
      .success;
    if (ok) {
      git(repo, "update-ref", "refs/heads/main", git(wt, "rev-parse", "HEAD"));
      landed++;
    }
    git(repo, "worktree", "remove", "--force", wt);
  }
  const min = (performance.now() - t0) / 60_000;
  await Deno.remove(repo, { recursive: true });
  return { perMin: landed / min, landed };
}

/** The queue: `baton merge --until-idle` as a process. */
async function queued(batchSize: number, culprit: boolean): Promise<{ perMin: number; landed: number }> {
  const repo = await backlog(batchSize, culprit);
  const t0 = performance.now();
  const run = startMerge(repo);
  const done = await run.done;
  const min = (performance.now() - t0) / 60_000;
  if (done.code !== 0) throw new Error(`baton merge exited ${done.code}:\n${done.out}\n${done.err}`);
  const landed = await verify(repo, culprit);
  await Deno.remove(repo, { recursive: true });
  return { perMin: landed / min, landed };
}

if (!CHECK_SH.includes("BROKEN")) throw new Error("the check script no longer looks for BROKEN");
for (const culprit of [false, true]) {
  const label = culprit ? "1 culprit in 8" : "no culprit";
  const hand: number[] = [];
  const q1: number[] = [];
  const q4: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    hand.push((await byHand(culprit)).perMin);
    q1.push((await queued(1, culprit)).perMin);
    q4.push((await queued(4, culprit)).perMin);
  }
  const h = median(hand);
  console.log(`${label}: by hand (rebase, check, fast-forward each) ${h.toFixed(1)} landed/min (median of ${ROUNDS})`);
  for (const [size, xs] of [[1, q1], [4, q4]] as const) {
    const m = median(xs);
    console.log(
      `${label}: baton merge, batch_size ${size}: ${m.toFixed(1)} landed/min (median of ${ROUNDS}; runs ${
        xs.map((x) => x.toFixed(1)).join(", ")
      }); ${(m / h).toFixed(2)}× by hand`,
    );
  }
}
