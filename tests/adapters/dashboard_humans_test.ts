// deno-lint-ignore-file no-explicit-any
/**
 * The dashboard as human reviewers use it, in a real browser (the dashboard
 * helper's findings, stop 48): typing through live updates, a double click,
 * the server gone or restarted under an open page, a filter whose value no
 * ticket has any more, work at a phase the workflow renamed, long text, and
 * the HTTP edges (HEAD, a wrong method, a `since` out of range).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { type Engine, importTickets, openEngine } from "../../mod.ts";
import { baton } from "../helpers/cli.ts";
import { launch } from "../helpers/browser.ts";
import { serve } from "../helpers/serve.ts";
import { skipHeavy } from "../helpers/heavy.ts";

declare const document: any;
declare const window: any;

const EXAMPLE = new URL("../../.workflow.example/", import.meta.url).pathname;
const LONG = "x".repeat(3000);

/** Six tickets with designs done: five gates open (0001–0005), 0006's design running. */
async function seed(): Promise<string> {
  const repo = await Deno.makeTempDir({ prefix: "baton-dash-humans-" });
  await Deno.mkdir(`${repo}/.workflow`);
  await Deno.copyFile(`${EXAMPLE}phases.yaml`, `${repo}/.workflow/phases.yaml`);
  await Deno.mkdir(`${repo}/tickets`);
  for (let i = 1; i <= 6; i++) {
    const id = String(i).padStart(4, "0");
    await Deno.writeTextFile(
      `${repo}/tickets/${id}_t.md`,
      `# Ticket ${id}: ${i === 1 ? `A title ${"y".repeat(900)}` : `Ticket ${i}`}\n\n## Summary\n${
        i === 1 ? LONG : "Words."
      }\n`,
    );
  }
  const e = await openEngine(repo);
  importTickets(e);
  for (let i = 1; i <= 6; i++) {
    const c = e.claimNext({ agentId: `designer-${i}`, capabilities: ["designer"] })!;
    if (i === 6) e.start(c.phase.id, { agentId: "designer-6", token: c.token });
    else e.complete(c.phase.id, { agentId: `designer-${i}`, token: c.token, summary: i === 1 ? LONG : "a design" });
  }
  e.close();
  return repo;
}

const renders = (page: Page) => page.evaluate(() => Number(document.body.dataset.renders ?? "0"));

/** Something an agent does elsewhere (an audit entry), and the page's redraw after it. */
async function liveUpdate(page: Page, engine: Engine, agent: string): Promise<void> {
  const n = await renders(page);
  engine.registerAgent(agent, ["implementer"]);
  await page.waitForFunction((k: number) => Number(document.body.dataset.renders) > k, n);
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "dashboard for reviewers: typing survives live updates, a double click decides once, the server gone or " +
    "restarted under an open page, a stale filter, renamed phases, long text, HTTP edges (dashboard helper)",
  ignore: skipHeavy,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const repo = await seed();
    const port = freePort();
    let server = await serve(repo, ["--port", String(port)]);
    const browser = await launch();
    const engine = await openEngine(repo);
    const gateOf = (id: string) => engine.gates({ ticketId: id })[0].id;
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`${server.url}gates`);
      await page.waitForSelector(`[data-gate="${gateOf("0002")}"]`);
      await page.waitForFunction(() => document.getElementById("live").textContent.startsWith("live"));

      await t.step("r4: what a reviewer types, and where the cursor is, survive a live update", async () => {
        await page.fill("#reviewer", "");
        await page.click("#reviewer");
        await page.keyboard.type("Alice ");
        await liveUpdate(page, engine, "impl-1");
        await page.keyboard.type("Smith");
        assert.equal(await page.inputValue("#reviewer"), "Alice Smith");
        const notes = `#notes-${gateOf("0003")}`;
        await page.click(notes);
        await page.keyboard.type("hello world");
        await page.evaluate((sel: string) => document.querySelector(sel).setSelectionRange(5, 5), notes);
        await liveUpdate(page, engine, "impl-2");
        await page.keyboard.type(",");
        assert.equal(await page.inputValue(notes), "hello, world");
      });

      await t.step("r3: a double click on Approve sends one decision and says it was approved", async () => {
        const gate = gateOf("0002");
        const posts: string[] = [];
        const count = (r: any) => r.method() === "POST" && posts.push(r.url());
        page.on("request", count);
        await page.dblclick(`[data-gate="${gate}"] button.approve`);
        await page.waitForFunction(
          (id: number) => /approved by|error/.test(document.querySelector(`output[for="notes-${id}"]`).textContent),
          gate,
        );
        page.off("request", count);
        assert.equal(posts.length, 1, JSON.stringify(posts));
        assert.match(await page.textContent(`output[for="notes-${gate}"]`) ?? "", /^approved by Alice Smith$/);
        assert.equal(engine.gate(gate).decidedBy, "human:Alice Smith");
      });

      await t.step("r2: the server gone, a decision says so and the buttons work again", async () => {
        await server.stop();
        const gate = gateOf("0004");
        await page.click(`[data-gate="${gate}"] button.approve`);
        await page.waitForFunction(
          (id: number) => /cannot be reached/.test(document.querySelector(`output[for="notes-${id}"]`).textContent),
          gate,
        );
        assert.equal(await page.isEnabled(`[data-gate="${gate}"] button.approve`), true);
        assert.equal(engine.gate(gate).status, "open");
      });

      await t.step("r1: after a restart, the open page decides with the new server's token", async () => {
        server = await serve(repo, ["--port", String(port)]);
        await page.waitForFunction(() => document.getElementById("live").textContent.startsWith("live"));
        const gate = gateOf("0004");
        await page.click(`[data-gate="${gate}"] button.approve`);
        await page.waitForFunction(
          (id: number) => /approved by|error/.test(document.querySelector(`output[for="notes-${id}"]`).textContent),
          gate,
        );
        assert.match(await page.textContent(`output[for="notes-${gate}"]`) ?? "", /^approved by Alice Smith$/);
        assert.equal(engine.gate(gate).status, "approved");
      });

      await t.step("r10: long text wraps: no page is wider than the window", async () => {
        for (const path of ["gates", "ticket/0001", ""]) {
          await page.goto(`${server.url}${path}`);
          await page.waitForFunction(() => Number(document.body.dataset.renders) > 0);
          const [wide, window_] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
          assert.ok(wide <= window_, `/${path} is ${wide} px wide in a ${window_} px window`);
        }
      });

      await t.step("r5: a filter whose value no ticket has any more still shows in its select", async () => {
        await page.goto(server.url);
        await page.waitForSelector("#board .card");
        await page.selectOption("#filter-state", "running");
        assert.match(await page.textContent("#board-count") ?? "", /^1 of 6 tickets$/);
        const n = await renders(page);
        const held = engine.ticket("0006").phases[0];
        const done = await baton(["release", String(held.id), "--by", "dana"], { cwd: repo });
        assert.equal(done.code, 0, done.stderr);
        await page.waitForFunction((k: number) => Number(document.body.dataset.renders) > k, n);
        assert.match(await page.textContent("#board-count") ?? "", /^0 of 6 tickets$/);
        assert.equal(await page.inputValue("#filter-state"), "running", "the select says what filters the board");
        await page.selectOption("#filter-state", "");
      });

      await t.step(
        "r6: work at a phase the workflow renamed is still on the board, in a column of its own",
        async () => {
          const phases = await Deno.readTextFile(`${repo}/.workflow/phases.yaml`);
          await Deno.writeTextFile(
            `${repo}/.workflow/phases.yaml`,
            phases.replaceAll("Design Review", "Design Approval"),
          );
          assert.equal((await baton(["import"], { cwd: repo })).code, 0);
          await server.stop();
          server = await serve(repo, ["--port", String(port)]);
          await page.goto(server.url);
          await page.waitForSelector("#board .card");
          assert.equal(await page.locator("#board .card").count(), 6);
          assert.ok(await page.$('[data-column="gone:Design Review"] [data-ticket="0003"]'), "0003 waits at its gate");
        },
      );

      await t.step(
        "r8, r9: HEAD answers as GET without a body; a wrong method is 405; since out of range is 400",
        async () => {
          for (const path of ["", "api/board", "assets/app.js"]) {
            const r = await fetch(`${server.url}${path}`, { method: "HEAD" });
            assert.equal(r.status, 200, path);
            assert.equal(await r.text(), "");
          }
          const wrong = await fetch(`${server.url}api/gates/1/approve`);
          assert.equal(wrong.status, 405);
          assert.equal(wrong.headers.get("allow"), "POST");
          assert.equal((await wrong.json()).code, "method_not_allowed");
          for (const since of ["8640000000000001", "1e300"]) {
            const r = await fetch(`${server.url}api/metrics?since=${since}`);
            assert.equal(r.status, 400, since);
            assert.equal((await r.json()).code, "invalid_argument");
          }
        },
      );
      assert.deepEqual(errors, [], "no uncaught error on the page");
    } finally {
      engine.close();
      await browser.close();
      await server.stop().catch(() => {});
    }
  },
});
