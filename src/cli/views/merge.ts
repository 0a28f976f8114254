/**
 * `baton merge status` as text.
 *
 * @module
 */
import type { MergeBatch, MergeMetrics, MergeStatus } from "../../engine/types.ts";
import { formatDuration } from "../../duration.ts";
import { localTime } from "../format.ts";

const pct = (x: number | null) => (x === null ? "–" : `${Math.round(x * 100)}%`);

function batchLine(b: MergeBatch): string {
  const tickets = b.items.map((i) => `${i.ticketId}${i.kind === "revert" ? " (revert)" : ""}: ${i.outcome}`).join(", ");
  const check = b.checkMs !== null ? `, check ${formatDuration(b.checkMs)}` : "";
  const builds = b.builds > 1 ? `, ${b.builds} builds` : "";
  const sha = b.candidateSha && b.status === "landed" ? ` → ${b.candidateSha.slice(0, 10)}` : "";
  return `  #${b.id} ${b.status}${sha} (${localTime(b.startedAt)}${check}${builds}): ${tickets}`;
}

/**
 * What a red target means, in one paragraph (`baton merge status`, `baton status`).
 * @param target the target branch
 * @param red where and when the check failed on it by itself
 * @returns the text
 */
export function targetRedText(target: string, red: NonNullable<MergeStatus["targetRed"]>): string {
  const said = (red.log ?? "").trim().split("\n").filter((l) => l.trim()).slice(-2).join(" | ");
  return `${target} is red: the check fails on ${target} itself at ${red.sha.slice(0, 10)} (batch #${red.batchId}, ` +
    `${localTime(red.since)}${said ? `: ${said}` : ""}). Nothing lands until a commit to ${target} fixes the check.`;
}

/**
 * The merge queue's status as lines.
 * @param s the status
 * @param m metrics over all time
 * @returns the text
 */
export function mergeStatusText(s: MergeStatus, m: MergeMetrics): string {
  const out: string[] = [];
  out.push(
    `Merge queue → ${s.target}: ${
      s.worker ? `worker ${s.worker.id}` : "no worker running (baton merge, or baton run)"
    }`,
  );
  if (s.targetRed) out.push(targetRedText(s.target, s.targetRed));
  out.push(
    `Queued ${s.queued.length}; waiting for their workflow ${s.waitingForWorkflow}; retrying ${s.retrying}; ` +
      `failed ${s.failed}`,
  );
  for (const q of s.queued) out.push(`  ${q.ticketId}  ${q.branch}  queued ${localTime(q.queuedAt)}  ${q.title}`);
  if (s.building) out.push("Building:", batchLine(s.building));
  const done = s.recent.filter((b) => b !== s.building);
  if (done.length) out.push("Recent batches:", ...done.map(batchLine));
  const back = s.recent.flatMap((b) =>
    b.items.filter((i) => i.outcome === "conflict" || i.outcome === "culprit" || i.outcome === "fenced")
  );
  if (back.length) {
    out.push("Sent back:");
    for (const i of back) out.push(`  ${i.ticketId}: ${i.outcome} — ${(i.notes ?? "").split("\n")[0]}`);
  }
  if (s.reverts.length) out.push(`Reverts queued: ${s.reverts.map((r) => r.ticketId).join(", ")}`);
  if (s.flaky.length) {
    out.push("Flaky checks:", ...s.flaky.map((f) => `  ${f.check}: ${f.count} time(s), last ${localTime(f.lastAt)}`));
  }
  out.push(
    `Landed ${m.landed} in ${m.batches} batch(es); conflicts ${m.conflicts}, culprits ${m.culprits}; ` +
      `red batches ${pct(m.failureRate)}, rebuilt ${pct(m.bisectRate)}; landed without a human ${pct(m.withoutHuman)}`,
  );
  return out.join("\n");
}
