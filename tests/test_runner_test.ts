/**
 * `deno task test` (scripts/test.ts) leaves nothing behind: the suite makes
 * hundreds of repositories, worktrees and browser profiles (~800 MB a run),
 * all in a temporary directory of the run's own that goes when the run ends,
 * whether the tests passed or failed, and so do the processes tests leave
 * running; the exit code is the tests'.
 */
import assert from "node:assert/strict";

const RUNNER = new URL("../scripts/test.ts", import.meta.url).pathname;

/** Runs the runner on one test file whose test makes a temporary directory and says where. */
async function runOne(passes: boolean): Promise<{ code: number; dir: string; pid: number; out: string }> {
  const here = await Deno.makeTempDir({ prefix: "baton-runner-" });
  const file = `${here}/probe_test.ts`;
  await Deno.writeTextFile(
    file,
    `Deno.test("probe", async () => {
      const dir = await Deno.makeTempDir({ prefix: "probe-" });
      await Deno.writeTextFile(dir + "/junk", "x".repeat(1000));
      console.log("DIR=" + dir);
      // A process the test leaves running, as a stopped test leaves its supervisor.
      const orphan = new Deno.Command("sleep", { args: ["600"], stdout: "null", stderr: "null" }).spawn();
      orphan.unref();
      console.log("PID=" + orphan.pid);
      if (${!passes}) throw new Error("this probe fails on purpose");
    });\n`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", RUNNER, "-A", "--no-check", file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  await Deno.remove(here, { recursive: true });
  const dir = /DIR=(\S+)/.exec(text)?.[1] ?? "";
  const pid = Number(/PID=(\d+)/.exec(text)?.[1] ?? 0);
  return { code: out.code, dir, pid, out: text };
}

Deno.test("deno task test: the tests' temporary files are gone when the run ends; its exit code is the tests'", async () => {
  for (const passes of [true, false]) {
    const r = await runOne(passes);
    assert.ok(r.dir, r.out);
    // The probe's directory was made inside the run's own temporary directory, and that is gone.
    const root = r.dir.slice(0, r.dir.lastIndexOf("/"));
    assert.match(root, /\/baton-tests-[^/]+$/, r.dir);
    assert.equal(await Deno.stat(r.dir).then(() => true, () => false), false, `${r.dir} is left behind`);
    assert.equal(await Deno.stat(root).then(() => true, () => false), false, `${root} is left behind`);
    // The process the test left running was ended with the run (gone, or a zombie waiting for init to reap it).
    assert.ok(r.pid > 0, r.out);
    const state = await Deno.readTextFile(`/proc/${r.pid}/stat`).then(
      (t) => t.slice(t.lastIndexOf(")") + 2)[0],
      () => "gone",
    );
    assert.ok(state === "gone" || state === "Z", `the test's process ${r.pid} outlived the run (state ${state})`);
    if (passes) assert.equal(r.code, 0, r.out);
    else {
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /this probe fails on purpose/);
    }
  }
});
