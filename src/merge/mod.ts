/**
 * The merge queue's worker (an adapter over the engine): see `worker.ts`.
 *
 * @module
 */
export { type MergeSummary, MergeWorker, type MergeWorkerOptions } from "./worker.ts";
