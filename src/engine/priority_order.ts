/**
 * Tickets follow an edited `priority_order`: each ticket (and its phases,
 * whose copy makes the claim order one index scan) keeps the rank of its
 * priority label in the order it was written under, so an edit of the order
 * re-ranks the tickets of every label that moved. Run wherever open tickets
 * follow the workflow (`seedNewPhases`) and when a running process follows
 * an edit (`followConfigEdits`).
 *
 * @module
 */
import type { Actor } from "./types.ts";
import type { Core } from "./core.ts";
import { priorityRanks, rerankPriority } from "./sql/tickets.ts";

/**
 * Re-ranks the tickets whose priority label has another place in `priority_order` now; one audit record
 * (`tickets.reranked`) per label moved. Reads only, when nothing moved (one read of each label's rank).
 * @returns how many tickets moved
 */
export function followPriorityOrder(core: Core, actor: Actor): number {
  const due = () => priorityRanks(core.db).filter((r) => core.graph.rank(r.priority) !== r.priority_rank);
  if (!due().length) return 0;
  return core.tx((now) => {
    let moved = 0;
    for (const r of due()) { // read again in the write transaction: another process may have done it
      const to = core.graph.rank(r.priority);
      const tickets = rerankPriority(core.db, r.priority, r.priority_rank, to);
      moved += tickets;
      core.audit(
        now,
        actor,
        "tickets.reranked",
        { type: "database", id: "priority_order" },
        String(r.priority_rank),
        String(to),
        { priority: r.priority, tickets },
      );
    }
    return moved;
  });
}
