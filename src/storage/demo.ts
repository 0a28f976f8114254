/**
 * `baton demo --storage`: several agent processes claim work from one database file at
 * the same time, through Baton's storage engine, and the demo proves that no
 * item was claimed twice. Runs in a temporary directory; touches nothing else.
 *
 * @module
 */
import { Database } from "./sqlite.ts";
import type { JournalMode } from "./sqlite.ts";

const SETUP = `
CREATE TABLE IF NOT EXISTS demo_work(id INTEGER PRIMARY KEY, title TEXT NOT NULL, claimed_by TEXT, claimed_at INTEGER);
CREATE INDEX IF NOT EXISTS demo_work_free ON demo_work(claimed_by, id);
CREATE TABLE IF NOT EXISTS demo_claims(id INTEGER PRIMARY KEY, item INTEGER NOT NULL, agent TEXT NOT NULL);
`;

/**
 * One demo agent: claims items until none is left, printing each claim.
 * @param path database file
 * @param agent agent name
 * @param mode journal mode
 * @returns the number of items this agent claimed
 */
export async function demoAgent(path: string, agent: string, mode: JournalMode): Promise<number> {
  const db = await Database.open(path, { journalMode: mode });
  let n = 0;
  for (;;) {
    const row = db.transaction(() => {
      const r = db.get<{ id: number; title: string }>(
        "UPDATE demo_work SET claimed_by = ?, claimed_at = ? WHERE id = (SELECT id FROM demo_work WHERE claimed_by IS NULL ORDER BY id LIMIT 1) AND claimed_by IS NULL RETURNING id, title",
        [agent, Date.now()],
      );
      // Every claim is also logged: two agents believing they won one item would show here.
      if (r) db.run("INSERT INTO demo_claims(item, agent) VALUES (?, ?)", [r.id, agent]);
      return r;
    });
    if (!row) break;
    n++;
  }
  db.close();
  return n;
}

/**
 * Runs the demo: creates a database with `items` work items and starts
 * `agents` processes claiming them concurrently.
 * @param opts agents, items, journal mode, and how to start an agent process
 * @returns a report (also printed)
 */
export async function runStorageDemo(opts: {
  agents: number;
  items: number;
  mode: JournalMode;
  spawnAgent: (path: string, agent: string) => Deno.Command;
  print?: (line: string) => void;
}): Promise<{ perAgent: Record<string, number>; duplicates: number; unclaimed: number; integrity: string }> {
  const print = opts.print ?? console.log;
  const dir = await Deno.makeTempDir({ prefix: "baton-demo-" });
  const path = `${dir}/baton.db`;
  const db = await Database.open(path, { journalMode: opts.mode });
  db.exec(SETUP);
  db.transaction(() => {
    for (let i = 1; i <= opts.items; i++) db.run("INSERT INTO demo_work(title) VALUES (?)", [`work item ${i}`]);
  });
  print(
    `demo: ${opts.items} work items in ${path} (journal_mode=${opts.mode}); starting ${opts.agents} agent processes`,
  );
  const t0 = performance.now();
  const outs = await Promise.all(
    Array.from({ length: opts.agents }, (_, i) => opts.spawnAgent(path, `agent-${i + 1}`).output()),
  );
  for (const o of outs) {
    if (o.code !== 0) throw new Error(`a demo agent failed: ${new TextDecoder().decode(o.stderr)}`);
  }
  const ms = performance.now() - t0;
  const perAgent: Record<string, number> = {};
  for (
    const r of db.all<{ agent: string; n: number }>(
      "SELECT agent, count(*) AS n FROM demo_claims GROUP BY agent ORDER BY agent",
    )
  ) {
    perAgent[r.agent] = r.n;
  }
  const unclaimed = db.get<{ n: number }>("SELECT count(*) AS n FROM demo_work WHERE claimed_by IS NULL")!.n;
  const claims = db.get<{ n: number }>("SELECT count(*) AS n FROM demo_claims")!.n;
  const duplicates = db.get<{ n: number }>(
    "SELECT count(*) AS n FROM (SELECT item FROM demo_claims GROUP BY item HAVING count(*) > 1)",
  )!.n;
  const integrity = db.integrityCheck();
  db.close();
  for (const [agent, n] of Object.entries(perAgent)) print(`  ${agent.padEnd(10)} claimed ${n}`);
  print(
    `demo: ${claims} claims in ${
      ms.toFixed(0)
    } ms across ${opts.agents} processes; duplicates ${duplicates}; unclaimed ${unclaimed}; integrity ${integrity}`,
  );
  await Deno.remove(dir, { recursive: true });
  return { perAgent, duplicates, unclaimed, integrity };
}
