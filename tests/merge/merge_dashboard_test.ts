// deno-lint-ignore-file no-explicit-any
/**
 * The dashboard's Merge page in a real browser (issue 23): the queue, the
 * candidate being checked with its check's output as it runs, the history
 * with a culprit sent back and the others landed, and no claim token in
 * what the page gets.
 */
import assert from "node:assert/strict";
import { launch } from "../helpers/browser.ts";
import { skipHeavy } from "../helpers/heavy.ts";
import { engineOf, finishedTicket, git, mergeRepo, startMerge } from "../helpers/merge_repo.ts";
import { serve } from "../helpers/serve.ts";

declare const document: any;

Deno.test({
  name: "merge page: queue, the running candidate's output, history with a culprit, in a real browser",
  ignore: skipHeavy,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const gate = await Deno.makeTempDir({ prefix: "baton-merge-gate-" });
    // The check says what it does, then waits for the test to let it go on (bounded), then runs the project's check.
    const script = `${gate}/check.sh`;
    await Deno.writeTextFile(
      script,
      `#!/bin/sh\necho "running the module tests on $BATON_MERGE_CANDIDATE"\n` +
        `i=0; while [ ! -e ${gate}/go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\nexec sh check.sh\n`,
    );
    const repo = await mergeRepo("  batch_size: 4\n", { check: `sh ${script}` });
    const e = await engineOf(repo);
    finishedTicket(e, repo, "0001", { "src/a.txt": "module a\n" });
    finishedTicket(e, repo, "0002", { "src/b.txt": "BROKEN module b\n" });
    finishedTicket(e, repo, "0003", { "src/c.txt": "module c\n" });
    e.close();
    const server = await serve(repo);
    const browser = await launch();
    const merge = startMerge(repo);
    try {
      const page = await browser.context.newPage();
      await page.goto(new URL("/merge", server.url).href);
      await page.getByRole("heading", { name: "Merge into main" }).waitFor();
      // The candidate is being checked: its tickets and the check's output so far are on the page.
      const candidate = page.locator(".candidate");
      await candidate.waitFor({ timeout: 60_000 });
      await page.locator("pre.log", { hasText: "running the module tests on" }).waitFor({ timeout: 60_000 });
      for (const id of ["0001", "0002", "0003"]) assert.ok(await candidate.getByRole("link", { name: id }).count());
      const api = await (await fetch(new URL("/api/merge", server.url))).text();
      assert.doesNotMatch(api, /"token"/, "no claim token reaches the page");
      await Deno.writeTextFile(`${gate}/go`, "");
      const done = await merge.done;
      assert.equal(done.code, 0, done.out + done.err);
      // History: the culprit sent back with the check's output, the others landed; the figures count them.
      const history = page.getByRole("region", { name: "History" });
      await history.locator(".outcome.culprit").first().waitFor({ timeout: 30_000 });
      const item = (id: string) =>
        history.locator("li").filter({ has: page.getByRole("link", { name: id, exact: true }) });
      const culprit = item("0002").filter({ has: page.locator(".outcome.culprit") });
      await culprit.locator("summary").first().click();
      assert.match(await culprit.locator("pre").first().innerText(), /src\/b\.txt is broken/);
      for (const id of ["0001", "0003"]) {
        assert.equal(await item(id).filter({ has: page.locator(".outcome.landed") }).count(), 1, `${id} landed once`);
      }
      await page.getByRole("region", { name: "Current candidate" }).getByText("no batch being built").waitFor();
      const figures = page.getByRole("region", { name: "Last 30 days" });
      assert.match(await figures.locator("tbody tr").innerText(), /^2\t/);
      assert.equal(
        await page.evaluate(() => document.querySelector('nav a[aria-current="page"]')?.textContent),
        "Merge",
      );
      assert.equal(await page.locator(".target-red").count(), 0, "main is green: no alert");
      // Someone breaks main itself: the queue blames no ticket, and the page says main is red and why.
      await Deno.writeTextFile(`${repo}/src/z.txt`, "BROKEN by hand\n");
      git(repo, "add", "src/z.txt");
      git(repo, "commit", "-qm", "a direct commit to main");
      const e2 = await engineOf(repo); // 0002 is finished again (its rework) and queued: the batch finds main red
      const rework = e2.claimNext({ agentId: "builder-0002", capabilities: ["builder"] })!;
      assert.equal(rework.ticket.id, "0002");
      e2.complete(rework.phase.id, { agentId: "builder-0002", token: rework.token, summary: "module b again" });
      e2.close();
      const red = await startMerge(repo).doneWithin(60_000);
      assert.equal(red.code, 1, red.out + red.err);
      await page.reload();
      const alert = page.getByRole("alert");
      await alert.waitFor({ timeout: 30_000 });
      assert.match(
        await alert.innerText(),
        new RegExp(`^main is red: the check fails on main itself at ${git(repo, "rev-parse", "--short=10", "main")}`),
      );
      await alert.locator("summary").click();
      assert.match(await alert.locator("pre").innerText(), /src\/z\.txt is broken/);
    } finally {
      await Deno.writeTextFile(`${gate}/go`, "");
      try {
        merge.child.kill("SIGKILL");
      } catch { /* it has exited */ }
      await merge.done;
      await browser.close();
      await server.stop();
    }
  },
});
