/**
 * SIGBUS (issue 26, item 8): a process that has the wal-index (`-shm`)
 * mapped dies with SIGBUS when it touches a page of a file that was
 * truncated under it, made immutable (`chattr +i`), or whose file system went
 * read-only, losing the request in flight. Baton checks before touching the
 * mapping and falls back to file I/O: the write succeeds or fails with a
 * coded error, and the process lives on.
 */
import assert from "node:assert/strict";
import { openEngine } from "../../mod.ts";
import { tempRepo } from "../helpers/repo.ts";

const WORKER = new URL("../helpers/shm_unsafe_worker.ts", import.meta.url).pathname;
const PHASES = "phases:\n  - {name: Design, agent_type: designer}\n";

/** Runs the worker; `harm` spoils the `-shm` between its first and second write, `heal` undoes it before the third. */
async function run(harm: (shm: string) => Promise<void>, heal: (shm: string) => Promise<void>) {
  const repo = await tempRepo({ phases: PHASES });
  const e = await openEngine(repo);
  const shm = `${e.storageInfo().path}-shm`;
  e.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKER, repo],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const w = child.stdin.getWriter();
  let buf = "";
  const line = async () => {
    while (!buf.includes("\n")) {
      const r = await out.read();
      if (r.done) return null;
      buf += r.value;
    }
    const i = buf.indexOf("\n");
    const l = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return JSON.parse(l);
  };
  const first = await line();
  assert.equal(first?.ok, true, JSON.stringify(first));
  await harm(shm);
  await w.write(new TextEncoder().encode("go\n"));
  const second = await line();
  await heal(shm);
  await w.write(new TextEncoder().encode("go\n"));
  const third = await line();
  await w.close();
  const status = await child.status;
  const stderr = await new Response(child.stderr).text();
  if (Deno.env.get("SHOW")) {
    console.log(JSON.stringify({ first, second, third, code: status.code, signal: status.signal }));
  }
  return { first, second, third, status, stderr };
}

const chattr = async (flag: string, path: string) =>
  (await new Deno.Command("chattr", { args: [flag, path], stderr: "null" }).output().catch(() => ({ success: false })))
    .success;

Deno.test("shm: a -shm made immutable under a live process gives a coded error, not SIGBUS; writes resume after", async () => {
  const probe = `${await Deno.makeTempDir()}/probe`;
  await Deno.writeTextFile(probe, "x");
  if (!(await chattr("+i", probe))) {
    console.log("chattr +i is not available here (not root, or a file system without it): skipped");
    return;
  }
  await chattr("-i", probe);
  const r = await run((shm) => chattr("+i", shm).then(() => {}), (shm) => chattr("-i", shm).then(() => {}));
  assert.equal(r.status.signal, null, `killed by ${r.status.signal}: ${r.stderr}`);
  assert.equal(r.status.code, 0, r.stderr);
  if (r.first.mapped > 0) {
    assert.ok(
      r.second.ok === true || typeof r.second.code === "string" && r.second.code !== "uncoded",
      JSON.stringify(r.second),
    );
  }
  assert.equal(r.third.ok, true, JSON.stringify(r.third));
});

Deno.test("shm: a -shm truncated under a live process is not touched past its end; the write succeeds", async () => {
  const r = await run((shm) => Deno.truncate(shm, 0), async () => {});
  assert.equal(r.status.signal, null, `killed by ${r.status.signal}: ${r.stderr}`);
  assert.equal(r.status.code, 0, r.stderr);
  assert.equal(r.second.ok, true, JSON.stringify(r.second));
  assert.equal(r.third.ok, true, JSON.stringify(r.third));
});

Deno.test("writer mutex: its file truncated under a live process is not touched; writes go on", async () => {
  const mutexOf = (shm: string) => `${shm.replace(/-shm$/, "")}-lock/writer-mutex`;
  let existed = false;
  const r = await run(async (shm) => {
    existed = (await Deno.stat(mutexOf(shm)).catch(() => null)) !== null;
    await Deno.truncate(mutexOf(shm), 0);
  }, async () => {});
  assert.ok(existed, "the writer mutex file was never created: nothing was tested");
  assert.equal(r.status.signal, null, `killed by ${r.status.signal}: ${r.stderr}`);
  assert.equal(r.second.ok, true, JSON.stringify(r.second));
  assert.equal(r.third.ok, true, JSON.stringify(r.third));
});
