/**
 * `deno task test` (scripts/test.ts) leaves nothing behind: the suite makes
 * hundreds of repositories, worktrees and browser profiles (~800 MB a run),
 * all in a temporary directory of the run's own that goes when the run ends,
 * whether the tests passed or failed; the exit code is the tests'.
 */
import assert from "node:assert/strict";

const RUNNER = new URL("../scripts/test.ts", import.meta.url).pathname;

/** Runs the runner on one test file whose test makes a temporary directory and says where. */
async function runOne(passes: boolean): Promise<{ code: number; dir: string; out: string }> {
  const here = await Deno.makeTempDir({ prefix: "baton-runner-" });
  const file = `${here}/probe_test.ts`;
  await Deno.writeTextFile(
    file,
    `Deno.test("probe", async () => {
      const dir = await Deno.makeTempDir({ prefix: "probe-" });
      await Deno.writeTextFile(dir + "/junk", "x".repeat(1000));
      console.log("DIR=" + dir);
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
  return { code: out.code, dir, out: text };
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
    if (passes) assert.equal(r.code, 0, r.out);
    else {
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /this probe fails on purpose/);
    }
  }
});
