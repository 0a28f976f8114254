/**
 * A full disk during `baton new` or `baton sync` (issue 26, item 12): the
 * command fails with a coded error, and leaves no empty ticket file, no
 * temporary file and no ticket row behind; `baton doctor` reports what an
 * older, interrupted write left. The tickets directory is a tiny tmpfs
 * mounted inside the repository (root only), filled to the brim.
 */
import assert from "node:assert/strict";
import { EXAMPLE_PHASES, tempRepo } from "../helpers/repo.ts";
import { baton } from "../helpers/cli.ts";

const root = Deno.uid() === 0;

async function mountFull(dir: string, kb: number): Promise<() => Promise<void>> {
  await Deno.mkdir(dir, { recursive: true });
  const m = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", `size=${kb}k`, "tmpfs", dir] }).output();
  assert(m.success, `mount: ${new TextDecoder().decode(m.stderr)}`);
  return async () => {
    await new Deno.Command("umount", { args: [dir] }).output();
  };
}

/** Fills a filesystem until a write fails. */
async function fill(dir: string): Promise<void> {
  const f = await Deno.open(`${dir}/.filler`, { write: true, create: true });
  const block = new Uint8Array(4096);
  try {
    for (;;) await f.write(block);
  } catch {
    /* full */
  } finally {
    f.close();
  }
}

Deno.test({
  name: "full disk: baton new fails cleanly, leaving no empty ticket, no temporary file, no ticket",
  ignore: !root,
  async fn() {
    const repo = await tempRepo({ phases: EXAMPLE_PHASES });
    const unmount = await mountFull(`${repo}/tickets`, 64);
    try {
      await fill(`${repo}/tickets`);
      const out = await baton(["new", "A ticket on a full disk", "--summary", "x".repeat(20_000)], { cwd: repo });
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, /^error: .*(No space left|disk)/im);
      assert.deepEqual([...Deno.readDirSync(`${repo}/tickets`)].map((e) => e.name), [".filler"]);
      const list = await baton(["list", "--json"], { cwd: repo });
      assert.deepEqual(JSON.parse(list.stdout), [], "no ticket row either");
      const doctor = await baton(["doctor"], { cwd: repo });
      assert.doesNotMatch(doctor.stdout, /FAIL\s+ticket files/);
    } finally {
      await unmount();
    }
  },
});

Deno.test({
  name: "full disk: a write-back that cannot be written leaves the ticket file as it was, and no leftover",
  ignore: !root,
  async fn() {
    const repo = await tempRepo({ phases: EXAMPLE_PHASES, config: "markdown_sync:\n  mode: batch\n" });
    const unmount = await mountFull(`${repo}/tickets`, 64);
    try {
      const text = "# Ticket 0001: Full\n\n## Status\n- [ ] Draft\n- [ ] Design Complete\n\n## Workflow Log\n";
      await Deno.writeTextFile(`${repo}/tickets/0001_full.md`, text);
      assert.equal((await baton(["import"], { cwd: repo })).code, 0);
      const claim = await baton(["claim", "--agent", "a", "--capabilities", "designer", "--json"], { cwd: repo });
      const c = JSON.parse(claim.stdout);
      const done = await baton(["complete", String(c.phase.id), "--agent", "a", "--token", c.token, "--summary", "s"], {
        cwd: repo,
      });
      assert.equal(done.code, 0, done.stderr);
      await fill(`${repo}/tickets`);
      const sync = await baton(["sync"], { cwd: repo });
      assert.notEqual(sync.code, 0);
      assert.equal(await Deno.readTextFile(`${repo}/tickets/0001_full.md`), text);
      assert.deepEqual([...Deno.readDirSync(`${repo}/tickets`)].map((e) => e.name).sort(), [".filler", "0001_full.md"]);
    } finally {
      await unmount();
    }
  },
});

Deno.test("doctor reports an empty ticket file and what an interrupted write left behind", async () => {
  const repo = await tempRepo({
    phases: EXAMPLE_PHASES,
    files: {
      "tickets/0001_ok.md": "# Ticket 0001: Ok\n",
      "tickets/0002_empty.md": "",
      "tickets/0001_ok.md.baton-new-4242": "# half",
    },
  });
  const out = await baton(["doctor"], { cwd: repo });
  assert.equal(out.code, 1);
  assert.match(out.stdout, /tickets\/0002_empty\.md is empty/);
  assert.match(out.stdout, /tickets\/0001_ok\.md\.baton-new-4242 was left by an interrupted write/);
});
