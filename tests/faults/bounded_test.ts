/**
 * Memory and disk stay bounded (issue 14, part 2): the statement cache is an
 * LRU and every value is bound, `watch` leaves no listener behind, the
 * retention policy prunes what would grow for ever (in `sweep` and lazily),
 * an empty idempotent claim is not remembered, and stored values have caps.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { STATEMENT_CACHE_SIZE } from "../../src/storage/sqlite.ts";
import { Database } from "../../storage.ts";
import { engineFor, tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";

const PHASES = "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Build, agent_type: builder}\n";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

Deno.test("statement cache: at most STATEMENT_CACHE_SIZE statements; an evicted one still works", async () => {
  const dir = await Deno.makeTempDir();
  const db = await Database.open(`${dir}/c.db`);
  db.exec("CREATE TABLE t(x)");
  const held = db.prepare("SELECT count(*) AS n FROM t");
  for (let i = 0; i < 3 * STATEMENT_CACHE_SIZE; i++) db.get(`SELECT ${i} AS v`);
  assert.equal(db.cachedStatements, STATEMENT_CACHE_SIZE);
  assert.deepEqual(held.get(), { n: 0 }, "a statement evicted while held is compiled again");
  db.close();
});

Deno.test("metrics: thousands of calls with different windows do not grow the heap or the cache", async () => {
  const { engine, clock } = await engineFor({ phases: PHASES });
  engine.upsertTicket({ id: "0001", title: "A" });
  for (let i = 0; i < 200; i++) engine.metrics({ since: clock.t - i * 1000 }); // warm-up
  const before = heap(engine);
  for (let i = 0; i < 3000; i++) engine.metrics({ since: clock.t - 1_000_000 - i * 997 });
  const grown = heap(engine) - before;
  assert.ok(grown < 2 << 20, `the WASM heap grew ${grown} bytes over 3,000 metrics calls`);
  assert.ok(engine.storageInfo().cachedStatements <= 256);
  engine.close();
});

/** The WASM heap in use by the engine's connection. */
function heap(engine: { storageInfo(): { heapBytes: number } }): number {
  return engine.storageInfo().heapBytes;
}

Deno.test("watch: each poll's abort listener is removed again", async () => {
  const { engine } = await engineFor({ phases: PHASES });
  const ac = new AbortController();
  let live = 0;
  const add = ac.signal.addEventListener.bind(ac.signal);
  const remove = ac.signal.removeEventListener.bind(ac.signal);
  ac.signal.addEventListener = ((type: string, fn: EventListener, o?: AddEventListenerOptions) => {
    if (type === "abort") live++;
    add(type, fn, o);
  }) as typeof ac.signal.addEventListener;
  ac.signal.removeEventListener = ((type: string, fn: EventListener) => {
    if (type === "abort") live--;
    remove(type, fn);
  }) as typeof ac.signal.removeEventListener;
  let polls = 0;
  const it = engine.watch({ signal: ac.signal, pollMs: 5 });
  const reader = (async () => {
    for await (const _ of it) polls++;
  })();
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(live <= 1, `${live} abort listeners alive after ~60 polls`);
  ac.abort();
  await reader;
  void polls;
  engine.close();
});

Deno.test("retention: sweep prunes old idempotency keys, claim misses, agents, declarations; the audit only when asked", async () => {
  const { engine, clock, repo } = await engineFor({ phases: PHASES });
  engine.upsertTicket({ id: "0001", title: "A" });
  engine.upsertTicket({ id: "0002", title: "B" });
  const c = engine.claimNext({ agentId: "old", capabilities: ["designer"], idempotencyKey: "k-old" })!;
  engine.declareFiles(c.phase.id, { agentId: "old", token: c.token, paths: ["src/a.ts"] });
  // A claim miss: a race lost (another agent holds the phase; a poll that finds nothing is not one, issue 25).
  assert.throws(() => engine.claim(c.phase.id, { agentId: "old", capabilities: ["designer"] }));
  assert.throws(() => engine.claim(c.phase.id, { agentId: "rival", capabilities: ["designer"] }));
  engine.complete(c.phase.id, { agentId: "old", token: c.token });
  const auditBefore = engine.audit({ limit: 100_000 }).length;
  clock.advance(100 * DAY);
  const r = engine.prune();
  engine.registerAgent("fresh", ["designer"]);
  assert.deepEqual(r, { idempotencyKeys: 1, claimMissDays: 1, agents: 1, declarations: 1, auditRows: 0 });
  assert.ok(engine.audit({ limit: 100_000 }).length > auditBefore, "the audit is kept by default");
  assert.deepEqual(engine.agents().map((a) => a.id), ["fresh"], "agents gone for months, holding nothing");
  engine.close();
  // With audit.retain_days, old audit rows go too.
  await Deno.writeTextFile(`${repo}/.workflow/config.yaml`, "audit:\n  retain_days: 30\n");
  const later = await openEngine(repo, { clock: () => clock.t });
  assert.ok(later.prune().auditRows > 0);
  assert.ok(later.audit({ limit: 100_000 }).every((a) => a.at >= clock.t - 30 * DAY));
  later.close();
  // `baton sweep` reports what it pruned.
  const out = await baton(["sweep"], { cwd: repo });
  assert.equal(out.code, 0, out.stderr);
  assert.match(
    out.stdout,
    /^pruned \d+ idempotency key\(s\), \d+ claim-miss counter\(s\), \d+ agent\(s\), \d+ declaration\(s\), \d+ audit row\(s\)$/m,
  );
});

Deno.test("retention runs lazily from any writer, at most once an hour", async () => {
  const { engine, clock } = await engineFor({ phases: PHASES });
  engine.upsertTicket({ id: "0001", title: "A" });
  engine.upsertTicket({ id: "0002", title: "B" });
  engine.claimNext({ agentId: "a", capabilities: ["designer"], idempotencyKey: "k1" });
  const runs = () => engine.audit({ limit: 100_000 }).filter((a) => a.action === "maintenance.pruned").length;
  assert.equal(runs(), 0, "a run that deletes nothing leaves no trace");
  clock.advance(25 * HOUR); // k1 is older than a day: the next write's hourly run prunes it
  engine.heartbeat("a");
  assert.equal(runs(), 1);
  engine.claimNext({ agentId: "c", capabilities: ["designer"], idempotencyKey: "k2" });
  clock.advance(30 * 60_000);
  engine.heartbeat("a");
  assert.equal(runs(), 1, "not again within the hour");
  clock.advance(25 * HOUR);
  engine.heartbeat("a");
  assert.equal(runs(), 2);
  engine.close();
});

Deno.test("retention: a writer's hourly check with nothing to prune takes no write lock", async () => {
  const { engine, clock } = await engineFor({ phases: PHASES });
  engine.upsertTicket({ id: "0001", title: "A" });
  engine.claimNext({ agentId: "a", capabilities: ["designer"], idempotencyKey: "k1" });
  clock.advance(2 * HOUR); // the hourly check is due, but nothing is old enough to go
  const before = engine.storageInfo().writes.transactions;
  engine.heartbeat("a");
  assert.equal(engine.storageInfo().writes.transactions - before, 1, "the heartbeat's transaction, and no other");
  clock.advance(25 * HOUR); // now k1 is: the check after the next write prunes it, in a transaction of its own
  const due = engine.storageInfo().writes.transactions;
  engine.heartbeat("a");
  assert.equal(engine.storageInfo().writes.transactions - due, 2);
  assert.equal(engine.audit({ limit: 100 }).filter((a) => a.action === "maintenance.pruned").length, 1);
  engine.close();
});

Deno.test("retention: a process whose clock is behind judges age by the database's clock in its hourly check", async () => {
  const repo = await tempRepo({ phases: PHASES });
  // A key recorded two days ago (by a process whose clock said so then).
  const early = await openEngine(repo, { clock: () => Date.now() - 2 * DAY });
  early.upsertTicket({ id: "0001", title: "A" });
  early.upsertTicket({ id: "0002", title: "B" });
  early.claimNext({ agentId: "a", capabilities: ["designer"], idempotencyKey: "k-old" });
  const path = early.storageInfo().path;
  early.close();
  // Since then the processes' shared clock (clock.ts) has reached now.
  const db = await Database.open(path);
  db.run("UPDATE clock SET now = ? WHERE id = 1", [Date.now()]);
  db.close();
  const keys = async () => {
    const d = await Database.open(path);
    const n = d.all<{ key: string }>("SELECT key FROM idempotency ORDER BY key").map((r) => r.key);
    d.close();
    return n;
  };
  // A process a day and a half behind writes: by the database's clock the key is two days old, past its day.
  let elapsed = 0;
  const behind = await openEngine(repo, { clock: () => Date.now() - 1.5 * DAY + elapsed });
  behind.claimNext({ agentId: "b", capabilities: ["designer"], idempotencyKey: "k-new" });
  assert.deepEqual(await keys(), ["k-new"], "the old key went");
  // A day and an hour later (its own clock, and the database's, moved on by processes with the right time), the key
  // it recorded has aged out too: the check after its next write is not put off because this process's clock is
  // still behind the last run's time.
  elapsed = DAY + HOUR;
  const later = await Database.open(path);
  later.run("UPDATE clock SET now = ? WHERE id = 1", [Date.now() + DAY + HOUR]);
  later.close();
  behind.heartbeat("b");
  assert.deepEqual(await keys(), [], "the new key went");
  behind.close();
});

Deno.test("idempotency: a key whose first claim found nothing looks again next time", async () => {
  const { engine } = await engineFor({ phases: PHASES });
  assert.equal(engine.claimNext({ agentId: "a", capabilities: ["designer"], idempotencyKey: "k" }), null);
  engine.upsertTicket({ id: "0001", title: "Now there is work" });
  const c = engine.claimNext({ agentId: "a", capabilities: ["designer"], idempotencyKey: "k" });
  assert.equal(c?.ticket.id, "0001");
  assert.equal(engine.claimNext({ agentId: "a", capabilities: ["designer"], idempotencyKey: "k" })?.token, c!.token);
  engine.close();
});

Deno.test("size caps: metadata, titles, summaries and notes over their limits are refused, nothing is stored", async () => {
  const { engine, repo } = await engineFor({ phases: PHASES });
  const size = () => Deno.statSync(engine.storageInfo().path).size + (engine.storageInfo().walBytes ?? 0);
  const before = size();
  assert.throws(() => engine.registerAgent("big", ["designer"], { blob: "x".repeat(9 << 20) }), {
    code: "invalid_argument",
    message: /The metadata of agent big is 94\d{5} bytes; the limit is 65536 bytes/,
  });
  assert.throws(() => engine.upsertTicket({ id: "0001", title: "t".repeat(3 << 20) }), {
    code: "invalid_argument",
    message: /The title of ticket 0001 is 3145728 bytes; the limit is 1024 bytes/,
  });
  assert.throws(() => engine.upsertTicket({ id: "0001", title: "ok", metadata: { notes: "é".repeat(40_000) } }), {
    code: "invalid_argument",
  });
  engine.upsertTicket({ id: "0001", title: "ok" });
  const c = engine.claimNext({ agentId: "a", capabilities: ["designer"] })!;
  assert.throws(() => engine.complete(c.phase.id, { agentId: "a", token: c.token, summary: "s".repeat(70_000) }), {
    code: "invalid_argument",
    message: /The summary is 70000 bytes; the limit is 65536 bytes/,
  });
  assert.throws(() => engine.heartbeat("a", { progress: "p".repeat(5000) }), { code: "invalid_argument" });
  assert.equal(engine.ticket("0001").phases[0].status, "claimed", "the refused completion changed nothing");
  assert.ok(size() - before < 1 << 20, "the database did not grow by the refused values");
  engine.close();
  void repo;
});

Deno.test("audit --limit reads only that many rows", async () => {
  const { engine, repo } = await engineFor({ phases: PHASES });
  for (let i = 1; i <= 300; i++) engine.upsertTicket({ id: String(i).padStart(4, "0"), title: `T${i}` });
  engine.close();
  const out = await baton(["audit", "--limit", "5", "--json"], { cwd: repo });
  assert.equal(out.code, 0, out.stderr);
  const rows = JSON.parse(out.stdout);
  assert.equal(rows.length, 5);
  const e = await openEngine(repo);
  const all = e.audit({ limit: 100_000 });
  assert.deepEqual(rows.map((r: { id: number }) => r.id), all.slice(-5).map((r) => r.id), "the newest five");
  e.close();
});
