/**
 * One clock for every process (issue 26, item 5; src/engine/clock.ts). Each
 * engine below stands for a process with its own wall clock (the engine's
 * injected clock), on one database: a process an hour ahead cannot end a
 * live claim or drag the others' time; one a day behind claims with the
 * database's time; no duration is negative. `faketime`, where installed,
 * checks the same with a real `baton sweep` process.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";
import { coreOf } from "../../src/engine/api/base.ts";

const PHASES = "phases:\n  - {name: Design, agent_type: designer}\n  - {name: Build, agent_type: builder}\n";
const HOUR = 3_600_000, DAY = 24 * HOUR;

Deno.test("clock: a process an hour ahead cannot end a live claim, nor move the database's clock an hour", async () => {
  const repo = await tempRepo({ phases: PHASES });
  const a = await openEngine(repo); // the agent's process: the right time
  a.upsertTicket({ id: "0001", title: "A" });
  const c = a.claimNext({ agentId: "agent", capabilities: ["designer"] })!;
  const ahead = await openEngine(repo, { clock: () => Date.now() + HOUR });
  assert.equal(ahead.sweepStale(), 0, "the live claim stays");
  assert.equal(ahead.sweepStale(), 0, "and stays on a second try");
  assert.equal(a.ticket("0001").phases[0].status, "claimed");
  // The right-time process goes on as before: its claim is not stale.
  const other = await openEngine(repo);
  assert.equal(other.sweepStale(), 0);
  a.complete(c.phase.id, { agentId: "agent", token: c.token });
  for (const e of [a, ahead, other]) e.close();
});

Deno.test("clock: a process a day behind claims at the database's time; its claim is not stale at once", async () => {
  const repo = await tempRepo({ phases: PHASES });
  const now = await openEngine(repo);
  now.upsertTicket({ id: "0001", title: "A" });
  now.upsertTicket({ id: "0002", title: "B" });
  const behind = await openEngine(repo, { clock: () => Date.now() - DAY });
  const c = behind.claimNext({ agentId: "late", capabilities: ["designer"] })!;
  assert.ok(c.leaseExpiresAt > Date.now(), "the lease runs from the database's time, not a day ago");
  assert.equal(now.sweepStale(), 0, "another process does not find it stale");
  assert.equal(now.ticket(c.phase.ticketId).phases[0].status, "claimed");
  behind.close();
  now.close();
});

Deno.test("clock: a completion stamped by a process behind never makes a duration negative", async () => {
  const repo = await tempRepo({ phases: PHASES });
  const a = await openEngine(repo);
  a.upsertTicket({ id: "0001", title: "A" });
  const c = a.claimNext({ agentId: "agent", capabilities: ["designer"] })!;
  const behind = await openEngine(repo, { clock: () => Date.now() - 2 * HOUR });
  const done = behind.complete(c.phase.id, { agentId: "agent", token: c.token });
  assert.ok(done.completedAt! >= done.claimedAt!, `completed ${done.completedAt} before claimed ${done.claimedAt}`);
  const m = behind.metrics();
  const design = m.phases.find((p) => p.phase === "Design")!;
  assert.ok(design.claimToComplete.max! >= 0);
  behind.close();
  a.close();
});

Deno.test("clock: an engine that watched the time pass ends a lapsed claim at once; a dead agent's claim comes back", async () => {
  const repo = await tempRepo({ phases: PHASES, config: "agents:\n  stale_timeout_minutes: 10\n" });
  let t = Date.now();
  const e = await openEngine(repo, { clock: () => t });
  e.upsertTicket({ id: "0001", title: "A" });
  e.claimNext({ agentId: "gone", capabilities: ["designer"] });
  t += HOUR; // this engine saw the hour pass
  assert.equal(e.sweepStale(), 1);
  e.close();
  // A process an hour behind claims on a new database and dies: its claim comes back a lease (of real time, by
  // the machine's boot clock) later, not an hour and a lease later, and not before.
  let up = HOUR;
  const machineClock = () => ({ boot: "host boot-1", ms: up });
  const repo2 = await tempRepo({ phases: PHASES, config: "agents:\n  stale_timeout_minutes: 10\n" });
  const first = await openEngine(repo2, { clock: () => Date.now() - HOUR, machineClock });
  first.upsertTicket({ id: "0001", title: "A" });
  first.claimNext({ agentId: "gone", capabilities: ["designer"] });
  first.close();
  const sweep = async () => {
    const fresh = await openEngine(repo2, { machineClock });
    const n = fresh.sweepStale();
    fresh.close();
    return n;
  };
  up += 9 * 60_000;
  assert.equal(await sweep(), 0, "nine minutes: not a lease yet");
  up += 2 * 60_000;
  assert.equal(await sweep(), 1, "eleven minutes: it came back");
  // Where the machine cannot tell (another host's record, no /proc), each fresh process may move the witnessed
  // time half a lease once (the tolerance): the claim comes back by the third.
  const repo3 = await tempRepo({ phases: PHASES, config: "agents:\n  stale_timeout_minutes: 10\n" });
  const blind = () => null;
  const third = await openEngine(repo3, { clock: () => Date.now() - HOUR, machineClock: blind });
  third.upsertTicket({ id: "0001", title: "A" });
  third.claimNext({ agentId: "gone", capabilities: ["designer"] });
  third.close();
  let swept = 0;
  for (let i = 0; i < 3; i++) {
    const fresh = await openEngine(repo3, { machineClock: blind });
    swept += fresh.sweepStale();
    fresh.close();
  }
  assert.equal(swept, 1);
});

Deno.test(
  "clock: after the database sat idle, a dead agent's claim comes back a lease after it was made, not a " +
    "lease plus the idle time; a live claim made then is not ended early, not by a clock an hour ahead either",
  async () => {
    const repo = await tempRepo({ phases: PHASES, config: "agents:\n  stale_timeout_minutes: 10\n" });
    let t = Date.now(), up = 3_600_000; // the real time, and this machine's boot clock
    const machineClock = () => ({ boot: "host boot-1", ms: up });
    const open = (offset = 0) => openEngine(repo, { clock: () => t + offset, machineClock });
    const first = await open(); // the last process before the quiet hours
    first.upsertTicket({ id: "0001", title: "A" });
    first.upsertTicket({ id: "0002", title: "B" });
    first.close();
    t += 8 * HOUR, up += 8 * HOUR; // nobody ran overnight
    // The morning's first agent claims and dies; another claims and lives.
    const dead = await open();
    dead.claimNext({ agentId: "dead", capabilities: ["designer"] });
    dead.close();
    const live = await open();
    const c = live.claimNext({ agentId: "live", capabilities: ["designer"] })!;
    // At once: neither an honest process nor one an hour ahead ends either claim.
    const ahead = await open(HOUR);
    assert.equal(ahead.sweepStale(), 0, "a clock an hour ahead ends no claim");
    const watcher = await open();
    assert.equal(watcher.sweepStale(), 0, "no claim is a lease old yet");
    // Six minutes on: the live agent heartbeats, as it does every quarter lease; its claim stays.
    t += 6 * 60_000, up += 6 * 60_000;
    live.heartbeat("live", { phaseIds: [c.phase.id] });
    assert.equal(watcher.sweepStale(), 0);
    // A lease after the claims: the dead agent's comes back; the live one's, renewed, stays.
    t += 5 * 60_000, up += 5 * 60_000;
    assert.equal(watcher.sweepStale(), 1, "the dead agent's claim came back a lease after it was made");
    assert.equal(live.ticket(c.phase.ticketId).phases[0].status, "claimed");
    for (const e of [live, ahead, watcher]) e.close();
  },
);

Deno.test("clock: wrong clocks cannot end a live claim however many processes share them, nor leave a mark a later one could use", async () => {
  const repo = await tempRepo({ phases: PHASES, config: "agents:\n  stale_timeout_minutes: 10\n" });
  let t = Date.now(), up = HOUR;
  const machineClock = () => ({ boot: "host boot-1", ms: up });
  const open = (offset = 0) => openEngine(repo, { clock: () => t + offset, machineClock });
  const a = await open();
  a.upsertTicket({ id: "0001", title: "A" });
  const c = a.claimNext({ agentId: "agent", capabilities: ["designer"] })!;
  // A command a day ahead, then two an hour ahead, one after the other, while the agent heartbeats.
  for (const offset of [DAY, HOUR, HOUR]) {
    t += 60_000, up += 60_000;
    a.heartbeat("agent", { phaseIds: [c.phase.id] });
    const wrong = await open(offset);
    assert.equal(wrong.sweepStale(), 0, `a process ${offset / HOUR} h ahead ended a live claim`);
    wrong.close();
  }
  assert.equal(a.ticket("0001").phases[0].status, "claimed");
  a.close();
});

Deno.test(
  "clock: a Baton from before migration 21 still running after an upgrade (it moves the clock without recording its " +
    "boot) adds nothing to what the boot clock witnessed: a clock an hour ahead ends no live claim of its agent",
  async () => {
    const repo = await tempRepo({ phases: PHASES, config: "agents:\n  stale_timeout_minutes: 10\n" });
    let t = Date.now(), up = HOUR;
    const machineClock = () => ({ boot: "host boot-1", ms: up });
    const open = (offset = 0) => openEngine(repo, { clock: () => t + offset, machineClock });
    const upgraded = await open(); // the new Baton migrates the database and records its boot
    upgraded.upsertTicket({ id: "0001", title: "A" });
    const c = upgraded.claimNext({ agentId: "agent", capabilities: ["designer"] })!;
    // The agent's session still runs the old Baton: its heartbeats renew the lease and move the clock, as that
    // version did (no boot, no time since it), every 3 minutes for 12.
    const db = coreOf(upgraded).db;
    for (let i = 0; i < 4; i++) {
      t += 3 * 60_000, up += 3 * 60_000;
      db.run("UPDATE phases SET lease_expires_at = ?1 + 600000 WHERE id = ?2", [t, c.phase.id]);
      db.run("UPDATE clock SET now = ?1, writer = 'old-baton' WHERE id = 1 AND now < ?1", [t]);
    }
    upgraded.close();
    const ahead = await open(HOUR);
    assert.equal(ahead.sweepStale(), 0, "the 12 minutes were counted twice: a live claim ended");
    ahead.close();
    // The old session dies: a lease after its last heartbeat, its claim comes back.
    t += 11 * 60_000, up += 11 * 60_000;
    const later = await open();
    assert.equal(later.sweepStale(), 1, "the dead session's claim came back");
    later.close();
  },
);

Deno.test(
  "clock: a Baton of migrations 21-23 still running after an upgrade (it records its boot clock in part) neither " +
    "counts time twice nor keeps a dead agent's claim past a lease",
  async () => {
    // Each older version's writes: boot and uptime without boot_at (21-22), with it (23); none writes the mark.
    const writes = [
      "UPDATE clock SET now = ?1, writer = 'baton-21', boot = 'host boot-1', uptime = ?2 WHERE id = 1 AND now < ?1",
      "UPDATE clock SET now = ?1, writer = 'baton-23', boot = 'host boot-1', uptime = ?2, boot_at = ?1 " +
      "WHERE id = 1 AND now < ?1",
    ];
    for (const write of writes) {
      const repo = await tempRepo({ phases: PHASES, config: "agents:\n  stale_timeout_minutes: 10\n" });
      let t = Date.now(), up = HOUR;
      const machineClock = () => ({ boot: "host boot-1", ms: up });
      const open = (offset = 0) => openEngine(repo, { clock: () => t + offset, machineClock });
      const upgraded = await open();
      upgraded.upsertTicket({ id: "0001", title: "A" });
      const c = upgraded.claimNext({ agentId: "agent", capabilities: ["designer"] })!;
      const db = coreOf(upgraded).db;
      for (let i = 0; i < 20; i++) { // an hour of the old session's heartbeats
        t += 3 * 60_000, up += 3 * 60_000;
        db.run("UPDATE phases SET lease_expires_at = ?1 + 600000 WHERE id = ?2", [t, c.phase.id]);
        db.run(write, [t, up]);
      }
      upgraded.close();
      const ahead = await open(HOUR);
      assert.equal(ahead.sweepStale(), 0, `${write.split("'")[1]}: a clock an hour ahead ended a live claim`);
      ahead.close();
      t += 11 * 60_000, up += 11 * 60_000; // the session died: a lease and a minute later
      const later = await open();
      assert.equal(later.sweepStale(), 1, `${write.split("'")[1]}: the dead session's claim came back`);
      later.close();
    }
  },
);

Deno.test("clock: after a reboot of the same host, at least the time since the boot counts; another host's boot clock does not", async () => {
  for (const [boot, ms, swept] of [["host boot-2", HOUR, 1], ["elsewhere boot-9", 9 * HOUR, 0]] as const) {
    const repo = await tempRepo({ phases: PHASES, config: "agents:\n  stale_timeout_minutes: 10\n" });
    let t = Date.now();
    const e0 = await openEngine(repo, { clock: () => t, machineClock: () => ({ boot: "host boot-1", ms: 5 * HOUR }) });
    e0.upsertTicket({ id: "0001", title: "A" });
    e0.claimNext({ agentId: "dead", capabilities: ["designer"] }); // its process dies with the machine
    e0.close();
    t += 2 * HOUR; // down for an hour, up again for an hour
    const next = await openEngine(repo, { clock: () => t, machineClock: () => ({ boot, ms }) });
    assert.equal(next.sweepStale(), swept, boot);
    next.close();
  }
});

Deno.test("clock: faketime +1h baton sweep releases no live claim", async () => {
  const which = await new Deno.Command("sh", { args: ["-c", "command -v faketime"], stdout: "piped" }).output();
  if (!which.success) {
    console.log("faketime is not installed: the engine-level tests above cover the rule");
    return;
  }
  const repo = await tempRepo({ phases: PHASES });
  const a = await openEngine(repo);
  a.upsertTicket({ id: "0001", title: "A" });
  a.claimNext({ agentId: "agent", capabilities: ["designer"] });
  const out = await baton(["sweep"], { cwd: repo, wrap: ["faketime", "-f", "+1h"] });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /released 0 stale claim/);
  assert.equal(a.ticket("0001").phases[0].status, "claimed");
  a.close();
});
