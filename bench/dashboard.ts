/**
 * The dashboard at scale: the board's first paint with 1,000 tickets in a
 * real browser (Debian's chromium), against a baseline of 10 tickets served
 * the same way in the same run; and the latency of the live stream (another
 * connection commits, every SSE client hears of it) with 20 clients against
 * a baseline of 1.
 *
 * `deno task bench:dashboard [rounds]` (default 5 page loads, 20 events)
 */
import { openEngine } from "../mod.ts";
import { launch } from "../tests/helpers/browser.ts";
import { CLI } from "../tests/helpers/cli.ts";

// What the page function below sees in the browser (Deno's own types have no DOM).
// deno-lint-ignore no-explicit-any
declare const document: any;

const ROUNDS = Number(Deno.args[0] ?? 5);
const EXAMPLE = new URL("../.workflow.example/", import.meta.url).pathname;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function repoWith(n: number): Promise<string> {
  const repo = await Deno.makeTempDir({ prefix: "baton-bench-dash-" });
  await Deno.mkdir(`${repo}/.workflow`);
  await Deno.copyFile(`${EXAMPLE}phases.yaml`, `${repo}/.workflow/phases.yaml`);
  const e = await openEngine(repo);
  const prio = ["Critical", "High", "Medium", "Low"];
  for (let i = 1; i <= n; i++) {
    e.upsertTicket({
      id: String(i).padStart(4, "0"),
      title: `Ticket ${i}: a title of realistic length for a card`,
      metadata: { priority: prio[i % 4], components: [["api", "ui", "storage", "cli"][i % 4]] },
    });
  }
  // A tenth of them worked on: designs done, some claimed.
  for (let i = 0; i < n / 10; i++) {
    const c = e.claimNext({ agentId: `designer-${i}`, capabilities: ["designer"] });
    if (!c) break;
    if (i % 2) e.complete(c.phase.id, { agentId: `designer-${i}`, token: c.token, summary: "done" });
  }
  e.close();
  return repo;
}

async function serve(repo: string): Promise<{ url: string; child: Deno.ChildProcess }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "serve", "--port", "0"],
    cwd: repo,
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/on (http:\S+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(out);
    out += value;
  }
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return { url: /on (http:\S+)/.exec(out)![1], child };
}

async function firstPaint(url: string): Promise<{ fcp: number; rendered: number; cards: number }[]> {
  const b = await launch();
  const out = [];
  try {
    for (let i = 0; i < ROUNDS + 1; i++) {
      const page = await b.context.newPage();
      await page.goto(url, { waitUntil: "load" });
      await page.waitForSelector("#board .card");
      const r = await page.evaluate(() => ({
        fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN,
        rendered: performance.getEntriesByName("baton:first-render")[0]?.startTime ?? NaN,
        cards: document.querySelectorAll("#board .card").length,
      }));
      await page.close();
      if (i > 0) out.push(r); // the first load warms the server and the browser's caches
    }
  } finally {
    await b.close();
  }
  return out;
}

/** SSE clients on the server; a separate connection commits `events` tickets; returns every client's delay. */
async function sseLatency(repo: string, url: string, clients: number, events: number): Promise<number[]> {
  const seen = new Map<string, number[]>();
  const aborts: AbortController[] = [];
  const ready: Promise<void>[] = [];
  for (let c = 0; c < clients; c++) {
    const ac = new AbortController();
    aborts.push(ac);
    const res = await fetch(`${url}api/events`, { signal: ac.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let hello!: () => void;
    ready.push(new Promise((r) => hello = r));
    void (async () => {
      let buf = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const msg = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (msg.includes("event: hello")) hello();
            const data = /^data: (.*)$/m.exec(msg)?.[1];
            if (msg.includes("event: audit") && data) {
              const a = JSON.parse(data);
              if (a.action === "ticket.created") {
                seen.set(a.ticketId, [...(seen.get(a.ticketId) ?? []), performance.timeOrigin + performance.now()]);
              }
            }
          }
        }
      } catch { /* aborted */ }
    })();
  }
  await Promise.all(ready);
  const e = await openEngine(repo);
  const written = new Map<string, number>();
  for (let i = 0; i < events; i++) {
    const id = `S${clients}-${i}`;
    e.upsertTicket({ id, title: `live ${i}` });
    written.set(id, performance.timeOrigin + performance.now());
    await new Promise((r) => setTimeout(r, 150));
  }
  await new Promise((r) => setTimeout(r, 500));
  e.close();
  for (const a of aborts) a.abort();
  const delays: number[] = [];
  for (const [id, at] of written) {
    const got = seen.get(id) ?? [];
    if (got.length !== clients) throw new Error(`${id}: ${got.length} of ${clients} clients heard of it`);
    delays.push(...got.map((t) => t - at));
  }
  return delays;
}

const results: Record<number, { fcp: number; rendered: number }> = {};
for (const n of [10, 1000]) {
  const repo = await repoWith(n);
  const { url, child } = await serve(repo);
  const loads = await firstPaint(url);
  results[n] = { fcp: median(loads.map((l) => l.fcp)), rendered: median(loads.map((l) => l.rendered)) };
  console.log(
    `board, ${n} tickets (${loads[0].cards} cards): first contentful paint p50 ${results[n].fcp.toFixed(0)} ms, ` +
      `board rendered p50 ${results[n].rendered.toFixed(0)} ms (${ROUNDS} loads)`,
  );
  if (n === 1000) {
    console.log(
      `  ${(results[1000].rendered / results[10].rendered).toFixed(2)}× the 10-ticket board (target: under 300 ms)`,
    );
    const one = await sseLatency(repo, url, 1, 20);
    const twenty = await sseLatency(repo, url, 20, 20);
    console.log(
      `live stream, commit by another connection → SSE client: 1 client p50 ${median(one).toFixed(1)} ms p99 ${
        pct(one, 0.99).toFixed(1)
      } ms; 20 clients p50 ${median(twenty).toFixed(1)} ms p99 ${pct(twenty, 0.99).toFixed(1)} ms (${
        (median(twenty) / median(one)).toFixed(2)
      }×)`,
    );
  }
  child.kill("SIGINT");
  await child.status;
  await Deno.remove(repo, { recursive: true });
}
