/**
 * Whether `.workflow/` still loads while `baton run` works: every agent's
 * own `baton-mcp` reads it when its session starts, so a file saved half
 * edited (a typo, a merge in progress) makes each agent started meanwhile
 * fail before it reaches Baton. The supervisor starts none while it does not
 * load, and does not hold such a failure against the agent type.
 *
 * @module
 */
import { workflowFilesText } from "../config/cache.ts";
import { loadWorkflowConfig } from "../config/load.ts";
import { BatonError, formatLocation } from "../errors.ts";

/** Watches a repository's `.workflow/` files (read at each look; parsed only when their text changed). */
export class WorkflowWatch {
  readonly #root: string;
  #text: string;
  #problem: string | null = null;
  /** When it last saw the files not load (ms since the epoch; 0: never). */
  #badAt = 0;

  /**
   * @param repoRoot the repository's root
   */
  constructor(repoRoot: string) {
    this.#root = repoRoot;
    this.#text = workflowFilesText(repoRoot); // as the supervisor's own engine loaded them
  }

  /**
   * Looks at the files now.
   * @returns why they do not load (with the file and line), or null when they do
   */
  problem(): string | null {
    const text = workflowFilesText(this.#root);
    if (text !== this.#text) {
      this.#text = text;
      try {
        loadWorkflowConfig(this.#root);
        this.#problem = null;
      } catch (e) {
        const where = e instanceof BatonError ? formatLocation(e.location) : "";
        this.#problem = `${where ? `${where}: ` : ""}${(e as Error).message}`;
      }
    }
    if (this.#problem !== null) this.#badAt = Date.now();
    return this.#problem;
  }

  /**
   * Whether the files did not load at some look since a moment, or do not now.
   * @param since ms since the epoch (an agent's start)
   * @returns the problem seen, or null
   */
  problemSince(since: number): string | null {
    const now = this.problem();
    return now ?? (this.#badAt >= since ? "the files did not load for a while" : null);
  }
}
