// deno-lint-ignore-file no-explicit-any
/**
 * `baton serve` in a real browser (issue 17): Debian's chromium driven by
 * playwright-core, against `baton serve` run as a process on a seeded
 * repository; state checked through the library, changes made by other
 * processes (the CLI) too.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { type Engine, importTickets, openEngine } from "../../mod.ts";
import { baton } from "../helpers/cli.ts";
import { launch } from "../helpers/browser.ts";
import { serve } from "../helpers/serve.ts";
import { skipHeavy } from "../helpers/heavy.ts";

// What the page functions below see in the browser (Deno's own types have no DOM).
declare const document: any;
declare const window: any;
type HTMLElement = any;

const EXAMPLE = new URL("../../.workflow.example/", import.meta.url).pathname;
/** Screenshots go to docs/screenshots/ only when asked (BATON_SCREENSHOTS=1), so that a test run leaves the tree clean. */
const SHOTS = Deno.env.get("BATON_SCREENSHOTS") === "1"
  ? new URL("../../docs/screenshots/", import.meta.url).pathname
  : await Deno.makeTempDir({ prefix: "baton-shots-" }) + "/";
const PRIORITIES = ["Critical", "High", "Medium", "Low"];
const COMPONENTS = ["api", "ui", "storage"];

/** A repository with 12 tickets in every state a board shows; returns what was seeded. */
async function seed(): Promise<{ repo: string; gates: { approve: number; reject: number }; completed: number }> {
  const repo = await Deno.makeTempDir({ prefix: "baton-dash-" });
  await Deno.mkdir(`${repo}/.workflow`);
  await Deno.copyFile(`${EXAMPLE}phases.yaml`, `${repo}/.workflow/phases.yaml`);
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "agents:\n  stale_timeout_minutes: 30\n");
  await Deno.mkdir(`${repo}/tickets`);
  await Deno.writeTextFile(
    `${repo}/tickets/0013_rendered_markdown.md`,
    "# Ticket 0013: Rendered markdown\n\n## Metadata\n- **Priority**: High\n\n## Summary\nA *ticket* with `code`, " +
      "a [link](https://example.com) and <script>alert(1)</script> that must stay text.\n\n- [x] first\n- [ ] second\n",
  );
  const e = await openEngine(repo);
  importTickets(e);
  for (let i = 1; i <= 12; i++) {
    const id = String(i).padStart(4, "0");
    e.upsertTicket({
      id,
      title: `Seeded ticket ${i}`,
      metadata: { priority: PRIORITIES[i % 4], components: [COMPONENTS[i % 3]], needs_docs: false },
      dependencies: i === 4 ? [{ on: "0001" }] : undefined,
    });
  }
  const design = (id: string, agent: string) => {
    const c = e.claim(e.ticket(id).phases[0].id, { agentId: agent, capabilities: ["designer"] });
    e.complete(c.phase.id, {
      agentId: agent,
      token: c.token,
      summary: `design of ${id}`,
      artifacts: [`docs/${id}.md`],
    });
  };
  design("0001", "designer-1");
  design("0002", "designer-1");
  design("0005", "designer-2");
  const running = e.claim(e.ticket("0003").phases[0].id, { agentId: "designer-2", capabilities: ["designer"] });
  e.start(running.phase.id, { agentId: "designer-2", token: running.token });
  const gateOf = (id: string) => e.gates({ ticketId: id })[0].id;
  const gates = { approve: gateOf("0001"), reject: gateOf("0002") };
  e.approveGate(gateOf("0005"), { actor: { kind: "human", name: "Seed" } });
  e.close();
  return { repo, gates, completed: 3 };
}

/** A raw HTTP request, so that the Host header is exactly what the test says. */
async function rawRequest(url: string, host: string): Promise<string> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  await conn.write(new TextEncoder().encode(`GET /api/board HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
  let text = "";
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  conn.close();
  return text;
}

async function renders(page: Page): Promise<number> {
  return Number(await page.evaluate(() => document.body.dataset.renders ?? "0"));
}

Deno.test({
  name: "dashboard: board, gates, live updates, metrics and refusals in a real browser",
  ignore: skipHeavy,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const { repo, gates, completed } = await seed();
    const server = await serve(repo);
    const browser = await launch();
    const engine: Engine = await openEngine(repo);
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));

      await t.step("the board of a seeded repository shows every ticket", async () => {
        await page.goto(server.url);
        await page.waitForSelector("#board .card");
        const shown = await page.$$eval("#board .card", (cs) => cs.map((c) => (c as HTMLElement).dataset.ticket));
        assert.deepEqual([...shown].sort(), engine.listTickets().map((x) => x.id).sort());
        assert.equal(await page.getAttribute('[data-ticket="0003"]', "data-state"), "running");
        assert.match(await page.textContent('[data-ticket="0003"]') ?? "", /designer-2/);
        assert.ok(await page.$('[data-ticket="0004"] .marker.blocked'), "0004 waits on 0001: marked blocked");
        assert.ok(await page.$('[data-ticket="0001"] .marker.gated'), "0001 waits for its design review");
        await page.screenshot({ path: `${SHOTS}board.png` });
        // Filters and the other column layout.
        await page.selectOption("#filter-priority", "Critical");
        const critical = engine.listTickets().filter((x) => x.priority === "Critical").map((x) => x.id).sort();
        assert.deepEqual(
          [...await page.$$eval("#board .card", (cs) => cs.map((c) => (c as HTMLElement).dataset.ticket))].sort(),
          critical,
        );
        await page.selectOption("#filter-priority", "");
        await page.selectOption("#group-by", "state");
        assert.ok(await page.$('[data-column="running"] [data-ticket="0003"]'));
        await page.selectOption("#group-by", "phase");
      });

      await t.step("keyboard: Tab reaches the cards, Enter opens a ticket with its markdown rendered", async () => {
        await page.goto(server.url);
        await page.waitForSelector("#board .card");
        await page.focus('[data-ticket="0013"] a');
        await page.keyboard.press("Enter");
        await page.waitForURL(/\/ticket\/0013$/);
        await page.waitForSelector(".markdown");
        assert.equal(await page.textContent(".markdown em"), "ticket");
        assert.match(await page.textContent(".markdown") ?? "", /<script>alert\(1\)<\/script>/, "raw HTML stays text");
        assert.equal(await page.$(".markdown script"), null);
        await page.goto(`${server.url}ticket/0001`);
        await page.waitForSelector("table");
        assert.match(await page.textContent("main") ?? "", /design of 0001/);
        await page.screenshot({ path: `${SHOTS}ticket.png`, fullPage: true });
      });

      await t.step(
        "a ticket file grown to hundreds of KB: the page shows its head and says where the rest is",
        async () => {
          const file = `${repo}/tickets/0013_rendered_markdown.md`;
          const before = await Deno.readTextFile(file);
          const log = Array.from({ length: 6000 }, (_, i) => `- build ${i}: \`npm test\` passed\n`).join("");
          await Deno.writeTextFile(file, `${before}\n## Log\n${log}TAIL-MARKER\n`);
          try {
            await page.goto(`${server.url}ticket/0013`);
            await page.waitForSelector("#markdown-cut");
            const size = (await Deno.stat(file)).size;
            assert.equal(
              (await page.textContent("#markdown-cut"))?.trim(),
              `The first 64 KB of ${Math.round(size / 1024)} KB; the rest is in tickets/0013_rendered_markdown.md.`,
            );
            assert.equal(await page.textContent(".markdown em"), "ticket", "the head is rendered");
            assert.doesNotMatch(await page.textContent(".markdown") ?? "", /TAIL-MARKER/);
          } finally {
            await Deno.writeTextFile(file, before);
          }
        },
      );

      await t.step(
        "a gate approved from the Gates page is approved in the engine, in the reviewer's name; another " +
          "reviewer's open tab loses it live",
        async () => {
          // A second reviewer's tab, open on the same gates; no other process writes meanwhile.
          const other = await browser.context.newPage();
          await other.goto(`${server.url}gates`);
          await other.waitForSelector(`[data-gate="${gates.approve}"]`);
          await page.goto(`${server.url}gates`);
          await page.waitForSelector(`[data-gate="${gates.approve}"]`);
          assert.match(await page.textContent(`[data-gate="${gates.approve}"]`) ?? "", /design of 0001/);
          assert.match(await page.textContent(`[data-gate="${gates.approve}"]`) ?? "", /docs\/0001\.md/);
          await page.fill("#reviewer", "Ana Reviewer");
          await page.screenshot({ path: `${SHOTS}gates.png`, fullPage: true });
          await page.click(`[data-gate="${gates.approve}"] button.approve`);
          await page.waitForFunction((id) => !document.querySelector(`[data-gate="${id}"]`), gates.approve);
          const g = engine.gate(gates.approve);
          assert.equal(g.status, "approved");
          assert.equal(g.decidedBy, "human:Ana Reviewer");
          // The server's own write reaches the other tab's live updates (before: only once another process wrote).
          await other.waitForFunction((id) => !document.querySelector(`[data-gate="${id}"]`), gates.approve, {
            timeout: 15_000,
          });
          await other.close();
        },
      );

      await t.step("a rejection with notes reaches the next claimant", async () => {
        const notes = "Cover the failure path: what happens when the lock is held?";
        await page.fill(`#notes-${gates.reject}`, notes);
        await page.click(`[data-gate="${gates.reject}"] button.reject`);
        await page.waitForFunction((id) => !document.querySelector(`[data-gate="${id}"]`), gates.reject);
        assert.equal(engine.gate(gates.reject).status, "rejected");
        const design = engine.ticket("0002").phases.find((p) => p.name === "Design")!;
        const c = engine.claim(design.id, { agentId: "designer-9", capabilities: ["designer"] });
        assert.equal(c.phase.reworkNotes, notes);
        assert.match(JSON.stringify(engine.context({ phaseId: c.phase.id })), /Cover the failure path/);
        engine.release(c.phase.id, { agentId: "designer-9", token: c.token, reason: "test" });
      });

      await t.step("a claim by another process moves its card within a second, without a reload", async () => {
        await page.goto(server.url);
        await page.waitForSelector('[data-ticket="0007"]');
        await page.waitForFunction(() => document.getElementById("live")?.textContent?.startsWith("live"));
        await page.evaluate(() => (window as unknown as { stayed: boolean }).stayed = true);
        assert.equal(await page.getAttribute('[data-ticket="0007"]', "data-state"), "available");
        const before = await renders(page);
        const phase = engine.ticket("0007").phases[0].id;
        const out = await baton([
          "claim",
          "--agent",
          "cli-agent",
          "--capabilities",
          "designer",
          "--phase",
          String(phase),
        ], {
          cwd: repo,
        });
        assert.equal(out.code, 0, out.stderr);
        const t0 = performance.now();
        await page.waitForFunction(
          () => document.querySelector('[data-ticket="0007"]')?.getAttribute("data-state") === "claimed",
          undefined,
          { timeout: 1000 },
        );
        const ms = performance.now() - t0;
        assert.ok(await renders(page) > before);
        assert.equal(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed), true, "no reload");
        assert.match(await page.textContent('[data-ticket="0007"]') ?? "", /cli-agent/);
        console.log(`card moved ${ms.toFixed(0)} ms after the CLI's claim returned`);
      });

      await t.step("the metrics page draws its charts from the seeded data", async () => {
        await page.goto(`${server.url}metrics`);
        await page.waitForFunction(() =>
          Object.keys((window as unknown as { baton: { charts: object } }).baton.charts).length >= 6
        );
        const charts = await page.evaluate(() => {
          const c =
            (window as unknown as { baton: { charts: Record<string, { data: (number | null)[][] }> } }).baton.charts;
          return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.data]));
        });
        assert.deepEqual(Object.keys(charts).sort(), ["contention", "durations", "rates", "throughput", "wait", "wip"]);
        const m = engine.metrics();
        const done = m.throughput.reduce((n, d) => n + d.phases, 0);
        assert.ok(done >= completed + 1, `${done} phases completed (3 designs, 1 approved review)`);
        assert.equal((charts.throughput[1] as number[]).reduce((a, b) => a + b, 0), done);
        const design = m.phases.findIndex((p) => p.phase === "Design");
        assert.equal(charts.durations[1][design], m.phases[design].claimToComplete.p50! / 1000);
        assert.deepEqual(
          charts.contention[1],
          m.contention.byType.length ? m.contention.byType.map((x) => x.lost) : [0],
        );
        assert.equal(await page.$$eval(".chart", (cs) => cs.length), 6, "six charts drawn");
        assert.equal(await page.$$eval(".chart canvas", (cs) => cs.length), 2, "the time series on canvases");
        assert.equal(await page.$$eval(".hchart", (cs) => cs.length), 4, "per-phase figures as horizontal bars");
        await page.screenshot({ path: `${SHOTS}metrics.png`, fullPage: true });
        // The range picker asks metrics({since}).
        await page.selectOption("#range", "1");
        await page.waitForURL(/since=\d+/);
      });

      await t.step("usable on a narrow window: the board stacks, nothing overflows sideways", async () => {
        await page.setViewportSize({ width: 420, height: 800 });
        await page.goto(server.url);
        await page.waitForSelector("#board .card");
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `${overflow} px wider than the window`);
        await page.setViewportSize({ width: 1280, height: 800 });
      });

      await t.step("a POST without the token or CSRF token is refused, and nothing changes", async () => {
        const open = engine.gates()[0];
        const noCsrf = await page.evaluate(async (id) => {
          const r = await fetch(`/api/gates/${id}/approve`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ by: "Mallory" }),
          });
          return { status: r.status, body: await r.json() };
        }, open?.id ?? 1);
        assert.equal(noCsrf.status, 403);
        assert.equal(noCsrf.body.code, "csrf");
        const fromScript = await fetch(`${server.url}api/gates/${open?.id ?? 1}/approve`, {
          method: "POST",
          body: JSON.stringify({ by: "Mallory" }),
        });
        assert.equal(fromScript.status, 403);
        await fromScript.body?.cancel();
        if (open) assert.equal(engine.gate(open.id).status, "open");
      });

      await t.step("a request with a foreign Host is refused", async () => {
        const foreign = await rawRequest(server.url, "attacker.example:80");
        assert.match(foreign, /^HTTP\/1\.1 403/);
        assert.match(foreign, /is not this machine/);
        const local = await rawRequest(server.url, new URL(server.url).host);
        assert.match(local, /^HTTP\/1\.1 200/);
      });
      assert.deepEqual(errors, [], "no script error in any page");
    } finally {
      engine.close();
      await browser.close();
      await server.stop();
    }
  },
});

Deno.test({
  name: "dashboard: with a token, every request needs it; POST with the bearer token works",
  ignore: skipHeavy,
  fn: async () => {
    const { repo, gates } = await seed();
    const server = await serve(repo, ["--token", "s3cret-token"]);
    try {
      const anon = await fetch(`${server.url}api/board`);
      assert.equal(anon.status, 401);
      await anon.body?.cancel();
      // Bad input: a clear coded error, and the gate stays as it was.
      const post = (body: string) =>
        fetch(`${server.url}api/gates/${gates.approve}/approve`, {
          method: "POST",
          headers: { authorization: "Bearer s3cret-token", "content-type": "application/json" },
          body,
        });
      for (
        const [body, message] of [
          ["{not json", /must be JSON/],
          ['{"notes":"ok"}', /needs the deciding human's name/],
          // A name that would forge a line of the audit, or show nothing (dashboard helper r7); notes not text.
          [JSON.stringify({ by: "mallory\n999 human:dana" }), /one line/],
          [JSON.stringify({ by: "\u200b\u200b" }), /shows nothing/],
          [JSON.stringify({ by: "dana\u001b[2J" }), /control characters/],
          [JSON.stringify({ by: "Bo", notes: { text: "x" } }), /notes must be a string/],
        ]
      ) {
        const bad = await post(body as string);
        assert.equal(bad.status, 400);
        const err = await bad.json();
        assert.equal(err.code, "invalid_argument");
        assert.match(err.message, message as RegExp);
      }
      const unknown = await fetch(`${server.url}api/gates/99999/approve`, {
        method: "POST",
        headers: { authorization: "Bearer s3cret-token" },
        body: JSON.stringify({ by: "Bo" }),
      });
      assert.equal(unknown.status, 404);
      assert.equal((await unknown.json()).code, "not_found");
      const e = await openEngine(repo);
      assert.equal(e.gate(gates.approve).status, "open");
      e.close();
      const r = await fetch(`${server.url}api/gates/${gates.approve}/approve`, {
        method: "POST",
        headers: { authorization: "Bearer s3cret-token", "content-type": "application/json" },
        body: JSON.stringify({ by: "Bo", notes: "fine" }),
      });
      assert.equal(r.status, 200, await r.clone().text());
      assert.equal((await r.json()).decidedBy, "human:Bo");
      const visit = await fetch(`${server.url}?token=s3cret-token`, { redirect: "manual" });
      assert.equal(visit.status, 303);
      assert.match(
        visit.headers.get("set-cookie") ?? "",
        /baton_token=s3cret-token; Path=\/; HttpOnly; SameSite=Strict/,
      );
      await visit.body?.cancel();
    } finally {
      await server.stop();
    }
    const refused = await baton(["serve", "--host", "0.0.0.0", "--port", "0"], { cwd: repo });
    assert.equal(refused.code === 0, false);
    assert.match(refused.stderr, /needs a token/);
  },
});

Deno.test({
  name: "dashboard: a gate decided elsewhere keeps its place, disabled, so a click never lands on the next gate; " +
    "what a decision said stays through live updates",
  ignore: skipHeavy,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { repo, gates } = await seed();
    const server = await serve(repo);
    const browser = await launch();
    const engine: Engine = await openEngine(repo);
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}gates`);
      await page.waitForSelector(`[data-gate="${gates.approve}"]`);
      await page.fill("#reviewer", "");
      // A refusal the page says (no name yet) stays through the next live update.
      await page.click(`[data-gate="${gates.reject}"] button.approve`);
      const said = `[data-gate="${gates.reject}"] output`;
      assert.match(await page.textContent(said) ?? "", /Enter your name first/);
      await page.fill("#reviewer", "Alice");
      // Alice points at the first gate's Approve; meanwhile Bob approves that gate from the CLI.
      const button = (await page.locator(`[data-gate="${gates.approve}"] button.approve`).boundingBox())!;
      const renders = Number(await page.getAttribute("body", "data-renders"));
      const bob = await baton(["approve", String(gates.approve), "--by", "bob"], { cwd: repo });
      assert.equal(bob.code, 0, bob.stderr);
      await page.waitForFunction((n) => Number(document.body.dataset.renders) > n, renders);
      await page.waitForFunction((id) => !document.querySelector(`[data-gate="${id}"]`), gates.approve);
      // Her click lands where the button was: on the decided gate's disabled button, not on the next gate's.
      const posts: string[] = [];
      page.on("request", (r) => r.method() === "POST" && posts.push(r.url()));
      await page.mouse.click(button.x + button.width / 2, button.y + button.height / 2);
      // A click on an enabled Approve says "Sending…" in its row at once (before its request): none did.
      assert.match(await page.textContent(said) ?? "", /Enter your name first/, "the click reached the next gate");
      assert.deepEqual(posts, []);
      assert.equal(engine.gate(gates.reject).status, "open", "the click decided a gate Alice never looked at");
      assert.match(await page.textContent(said) ?? "", /Enter your name first/, "the message vanished");
      assert.equal(engine.gate(gates.approve).decidedBy, "human:bob");
      assert.match(
        await page.textContent(`[data-decided-gate="${gates.approve}"] output`) ?? "",
        /No longer open/,
      );
    } finally {
      engine.close();
      await browser.close();
      await server.stop();
    }
  },
});
